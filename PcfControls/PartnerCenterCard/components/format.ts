// Small pure helpers the view's parts share.
import { HowCanMicrosoftHelpOptions, PartnerCenterSyncStatusOptions, ReferralStatusOptions, ReferralSubstatusOptions, SyncDirectionOptions, SyncOutcomeOptions } from "../../../Core/generated/schema.ts";
import type { Language } from "../../../Core/messages.ts";

/** Fills `{0}`, `{1}`… in a resx text. */
export function format(template: string, ...values: Array<string | number>): string {
  return template.replace(/\{(\d+)\}/g, (match, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? match : String(value);
  });
}

type Options = ReadonlyArray<{ value: number; label: { "1033": string; "1043": string } }>;

function labelIn(options: Options, value: number | null | undefined, language: Language): string | null {
  if (value === null || value === undefined) return null;
  return options.find((o) => o.value === value)?.label[String(language) as "1033" | "1043"] ?? null;
}

export const syncStatusLabel = (value: number | null, language: Language): string | null => labelIn(PartnerCenterSyncStatusOptions, value, language);
export const referralStatusLabel = (value: number | null, language: Language): string | null => labelIn(ReferralStatusOptions, value, language);
export const referralSubstatusLabel = (value: number | null, language: Language): string | null => labelIn(ReferralSubstatusOptions, value, language);
export const directionLabel = (value: number | null, language: Language): string | null => labelIn(SyncDirectionOptions, value, language);
export const helpLabel = (value: number | null, language: Language): string | null => labelIn(HowCanMicrosoftHelpOptions, value, language);
export const outcomeLabel = (value: number | null, language: Language): string | null => labelIn(SyncOutcomeOptions, value, language);

/** Only an https link (or http on this machine) may be opened from the card. */
export function safeLink(value: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim());
    const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
    return url.protocol === "https:" || (url.protocol === "http:" && local) ? url.toString() : null;
  } catch {
    return null;
  }
}

// The "last sync failed" notification: the reason in plain words (from Last sync error, read the way
// the card reads it) and what the seller can do about it.
import { PartnerCenterSyncStatus } from "../../Core/generated/schema.ts";
import { READINESS_PROBLEMS, type Language } from "../../Core/messages.ts";
import { explainSyncError } from "../../PcfControls/PartnerCenterCard/services/syncError.ts";
import { NotificationId } from "./names.ts";
import { say, SyncErrorTexts } from "./texts.ts";
import { attributeOf, columnsOf, notify, userLanguage, type FormContext } from "./xrm.ts";

/** The notification text for a failed sync with this Last sync error. */
export function describeFailure(lastSyncError: string | null, language: Language): string {
  const explanation = explainSyncError(lastSyncError);
  if (!explanation) return say("lastSyncFailed", language, say("noDetails", language), SyncErrorTexts.other.action[language]);
  if (explanation.kind === "readiness") {
    const reason = explanation.problems.map((problem) => READINESS_PROBLEMS[problem][language]).join(" ");
    return say("lastSyncFailed", language, reason, say("readinessAction", language));
  }
  const texts = SyncErrorTexts[explanation.kind];
  return say("lastSyncFailed", language, `${texts.reason[language]} ${say("relayWords", language, explanation.detail)}`, texts.action[language]);
}

/** Shows (or clears) the notification from the status columns on the form. */
export function showLastSyncFailure(form: FormContext): void {
  const columns = columnsOf(form);
  const status = attributeOf<Xrm.Attributes.OptionSetAttribute>(form, columns.syncStatus);
  const error = attributeOf<Xrm.Attributes.StringAttribute>(form, columns.lastSyncError)?.getValue() ?? null;
  // The status says whether the last sync failed; a form without it falls back on the error column.
  const failed = status ? status.getValue() === PartnerCenterSyncStatus.Failed : Boolean(error?.trim());
  notify(form, NotificationId.lastSyncFailed, "ERROR", failed ? describeFailure(error, userLanguage()) : null);
}

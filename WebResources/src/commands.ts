// The two command bar commands and their enable rules. The ribbon passes the form as PrimaryControl.
//   Open in Partner Center: opens Referral Link; enabled when there is a link.
//   Sync now: asks the relay to sync this opportunity (POST {relayUrl}/api/opportunities/{id}/sync),
//     follows the run (GET {relayUrl}/api/runs/{runId}) with a progress indicator, and shows the result
//     as a form notification; enabled when Sync = Yes on a saved opportunity.
// Enable rules stay synchronous and never call the server: they read the form only.
import { RelayPolling } from "../../PcfControls/PartnerCenterCard/constants.ts";
import { createRelayClient, RelayError, runAndFollow, validRelayUrl, type RunStatus } from "../../PcfControls/PartnerCenterCard/services/relay.ts";
import type { Language } from "../../Core/messages.ts";
import { NotificationId } from "./names.ts";
import { relayServices } from "./relaySignIn.ts";
import { loadSettings } from "./settings.ts";
import { showLastSyncFailure } from "./syncFailure.ts";
import { say } from "./texts.ts";
import { attributeOf, columnsOf, isOpportunity, notify, savedRecordId, settle, userLanguage, type FormContext } from "./xrm.ts";

/** The link if it is one a browser may open from here: https only (never javascript: or data:). */
export function safeReferralLink(value: string | null | undefined): string | null {
  const raw = (value ?? "").trim();
  if (!raw) return null;
  try {
    const url = new URL(raw);
    return url.protocol === "https:" ? url.toString() : null;
  } catch {
    return null;
  }
}

function referralLink(form: FormContext): string | null {
  return safeReferralLink(attributeOf<Xrm.Attributes.StringAttribute>(form, columnsOf(form).referralLink)?.getValue());
}

export function isOpenInPartnerCenterEnabled(primaryControl: FormContext): boolean {
  return referralLink(primaryControl) !== null;
}

export function openInPartnerCenter(primaryControl: FormContext): void {
  const link = referralLink(primaryControl);
  if (!link) {
    notify(primaryControl, NotificationId.command, "INFO", say("openNoLink", userLanguage()));
    return;
  }
  Xrm.Navigation.openUrl(link);
}

function syncOn(form: FormContext): boolean {
  return attributeOf<Xrm.Attributes.BooleanAttribute>(form, columnsOf(form).syncWithPartnerCenter)?.getValue() === true;
}

export function isSyncNowEnabled(primaryControl: FormContext): boolean {
  return isOpportunity(primaryControl) && savedRecordId(primaryControl) !== null && syncOn(primaryControl);
}

/** The progress text while the run is under way; null once it has ended (the notification says how). */
function progressText(status: RunStatus, language: Language): string | null {
  if (status.state === "queued") return say("runQueued", language);
  if (status.state === "running") return say("runRunning", language);
  return null;
}

function failureText(error: unknown, relayUrl: string, language: Language): { level: Xrm.FormNotificationLevel; message: string } {
  if (error instanceof RelayError) {
    const failure = error.failure;
    switch (failure.kind) {
      case "signIn": return { level: "ERROR", message: say("runSignIn", language, failure.message) };
      case "unreachable": return { level: "ERROR", message: say("runUnreachable", language, relayUrl) };
      case "http": return { level: "ERROR", message: say("runHttp", language, failure.status, failure.message) };
      case "badAnswer": return { level: "ERROR", message: say("runBadAnswer", language) };
      case "timeout": case "aborted": return { level: "WARNING", message: say("runTimeout", language) };
    }
  }
  return { level: "ERROR", message: say("runFailed", language, error instanceof Error ? error.message : String(error)) };
}

/**
 * Sync now. Saves pending changes first (the save runs the readiness rules and may be refused: then
 * nothing is sent). Resolves when the run ends or the wait times out; never rejects.
 */
export async function syncNow(primaryControl: FormContext): Promise<void> {
  const form = primaryControl;
  const language = userLanguage();
  const tell = (level: Xrm.FormNotificationLevel, message: string): void => notify(form, NotificationId.command, level, message);
  const opportunityId = savedRecordId(form);
  if (!isOpportunity(form) || !opportunityId) return tell("WARNING", say("syncNeedsSave", language));
  if (!syncOn(form)) return tell("WARNING", say("syncNeedsToggle", language));
  const { signIn, fetch: fetchImpl, sleep } = relayServices();

  let relayUrl: string | null;
  let configured: string;
  try {
    configured = (await loadSettings()).relayUrl;
    relayUrl = validRelayUrl(configured);
  } catch (error) {
    return tell("ERROR", say("settingsUnreadable", language, error instanceof Error ? error.message : String(error)));
  }
  if (!configured) return tell("WARNING", say("noRelayUrl", language));
  if (!relayUrl) return tell("WARNING", say("badRelayUrl", language, configured));

  if (form.data.entity.getIsDirty()) {
    try {
      await settle(form.data.save());
    } catch {
      return; // the save handler (or the platform) has said why
    }
  }

  form.ui.clearFormNotification(NotificationId.command);
  Xrm.Utility.showProgressIndicator(say("runStarting", language));
  let outcome: { level: Xrm.FormNotificationLevel; message: string };
  let succeeded = false;
  try {
    const client = createRelayClient(relayUrl, signIn(relayUrl), fetchImpl);
    const status = await runAndFollow(client, "sync", opportunityId, {
      ...RelayPolling,
      ...(sleep ? { sleep } : {}),
      onProgress: (progress) => {
        const message = progressText(progress, language);
        if (message) Xrm.Utility.showProgressIndicator(message);
      },
    });
    succeeded = status.state === "succeeded";
    outcome = succeeded
      ? { level: "INFO", message: say("runSucceeded", language) }
      : { level: "ERROR", message: say(status.state === "dead" ? "runDead" : "runFailed", language, status.error ?? say("noDetails", language)) };
  } catch (error) {
    outcome = failureText(error, relayUrl, language);
  } finally {
    Xrm.Utility.closeProgressIndicator();
  }
  tell(outcome.level, outcome.message);
  if (succeeded) {
    // Show what the relay wrote back (status, link, Microsoft's side); the data load refreshes the rest.
    try {
      await settle(form.data.refresh(false));
    } catch {
      // the notification already says it synced; the columns catch up on the next load
    }
    showLastSyncFailure(form);
  }
}

// The Partner Center side of `relay init` (partner-center-webhooks.md §1.5, §5): one registration per
// tenant, one URL for all events. None: create it for the four referral events and test-created. Ours
// (same URL): unchanged, or widened to the events it lacks. Someone else's (Microsoft's co-sell flow,
// another tool): shown, and replaced only when the admin confirms (a flag or an interactive yes),
// because PUT is a full replace that stops their deliveries. Then a test event, and whether it arrived.
import { REFERRAL_WEBHOOK_EVENTS, type PartnerCenterClient, type TestEventStatus, type WebhookRegistration } from "../clients/partner-center.ts";
import { WEBHOOK_PATH } from "../routes/partner-center-webhook.ts";

export type WebhookOutcome =
  | { change: "created" | "unchanged" | "widened" | "replaced"; registration: WebhookRegistration; previous?: WebhookRegistration }
  | { change: "kept-foreign"; registration: WebhookRegistration };

export function webhookUrl(publicUrl: string): string {
  return `${publicUrl}${WEBHOOK_PATH}`;
}

function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host.toLowerCase() === y.host.toLowerCase() && x.pathname.replace(/\/+$/, "") === y.pathname.replace(/\/+$/, "") && x.search === y.search;
  } catch {
    return a === b;
  }
}

export async function ensureWebhookRegistration(
  partnerCenter: PartnerCenterClient,
  options: { publicUrl: string; confirmReplace: (current: WebhookRegistration) => Promise<boolean> },
): Promise<WebhookOutcome> {
  const url = webhookUrl(options.publicUrl);
  const wanted = [...REFERRAL_WEBHOOK_EVENTS];
  const current = await partnerCenter.getRegistration();
  if (!current) {
    const registration = await partnerCenter.createRegistration({ webhookUrl: url, webhookEvents: wanted });
    return { change: "created", registration };
  }
  if (!current.webhookUrl) {
    // A registration without a URL delivers nowhere: nobody's deliveries stop when it is replaced.
    const registration = await partnerCenter.replaceRegistration({ webhookUrl: url, webhookEvents: wanted });
    return { change: "created", registration, previous: current };
  }
  if (sameUrl(current.webhookUrl, url)) {
    const have = new Set(current.webhookEvents.map((e) => e.toLowerCase()));
    if (wanted.every((e) => have.has(e))) return { change: "unchanged", registration: current };
    const events = [...current.webhookEvents, ...wanted.filter((e) => !have.has(e))];
    const registration = await partnerCenter.replaceRegistration({ webhookUrl: url, webhookEvents: events, ...(current.signatureTokenToMsSignatureHeader !== undefined ? { signatureTokenToMsSignatureHeader: current.signatureTokenToMsSignatureHeader } : {}) });
    return { change: "widened", registration, previous: current };
  }
  if (!(await options.confirmReplace(current))) return { change: "kept-foreign", registration: current };
  const registration = await partnerCenter.replaceRegistration({ webhookUrl: url, webhookEvents: wanted });
  return { change: "replaced", registration, previous: current };
}

export interface TestEventOutcome {
  arrived: boolean;
  correlationId: string;
  /** Partner Center's record of the attempts (responseCode is an HTTP status name, e.g. OK). */
  status?: TestEventStatus;
  detail: string;
}

const SUCCESS_CODES = new Set(["ok", "accepted", "created", "nocontent", "200", "201", "202", "204"]);

/** Asks Partner Center for a test delivery and waits (up to `timeoutMs`) for its first attempt's result. */
export async function sendTestEvent(partnerCenter: PartnerCenterClient, options: { timeoutMs?: number; pollMs?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<TestEventOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { correlationId } = await partnerCenter.sendTestEvent();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let status: TestEventStatus | undefined;
  while (Date.now() < deadline) {
    status = await partnerCenter.getTestEventStatus(correlationId);
    const ok = status.results.find((r) => r.responseCode !== null && SUCCESS_CODES.has(r.responseCode.toLowerCase()));
    if (ok) return { arrived: true, correlationId, status, detail: `answered ${ok.responseCode}` };
    const last = status.results.at(-1);
    if (last && (status.status === "completed" || status.results.length > 0)) {
      const why = last.systemError ? `not reachable (${last.responseMessage || "network error or timeout"})` : `answered ${last.responseCode ?? "nothing"}${last.responseMessage ? `: ${last.responseMessage}` : ""}`;
      if (status.status === "completed") return { arrived: false, correlationId, status, detail: why };
      // Partner Center retries; the first failed attempt already says what is wrong.
      return { arrived: false, correlationId, status, detail: `${why} (Partner Center will retry)` };
    }
    await sleep(options.pollMs ?? 1000);
  }
  return { arrived: false, correlationId, ...(status ? { status } : {}), detail: "no delivery attempt was reported in time" };
}

// Partner Center's errors as one typed error: the HTTP status, Partner Center's code, its message and
// target, the request ids to quote to Microsoft, whether trying again later can help, and what an admin
// should do about it in plain words (partner-center-referrals.md §8). Both documented body shapes are read:
// Shape A `{"error":{"code","message","target","innerError"}}` (the referrals host) and Shape B
// `{"code","description","data","source"}` (the main Partner Center API, the webhooks host).

/** Which Partner Center host a call went to: the Referrals API or the webhook registration API. */
export type PartnerCenterTarget = "referrals" | "webhooks";

/** Why a call ended without an answer from Partner Center. */
export type NetworkFailure = "connect" | "timeout" | "tls" | "aborted" | "other";

export interface PartnerCenterErrorDetails {
  target: PartnerCenterTarget;
  method: string;
  /** The route template (`GET /referrals/{id}`), never a URL with customer data in its query. */
  route: string;
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  status: number;
  /** Partner Center's code (`preconditionFailed`, `900421`, `conflict`…), or "" when it sent none. */
  code: string;
  /** Partner Center's message, or a description of the network failure. */
  serverMessage: string;
  /** Shape A `error.target` / Shape B `source`, when sent. */
  errorTarget?: string;
  /** The `request-id` (referrals) or `MS-RequestId` (webhooks) answer header. */
  requestId?: string;
  /** The `client-request-id` the relay sent (the same on every attempt of one call). */
  clientRequestId: string;
  attempts: number;
  /** What Retry-After asked for on the last answer, in ms. */
  retryAfterMs?: number;
  /** The first 2 KB of the error body as received. */
  rawBody?: string;
  network?: NetworkFailure;
  /** A write that may have reached Partner Center although no answer came back (not retried blindly). */
  outcomeUnknown?: boolean;
  cause?: unknown;
}

export class PartnerCenterError extends Error {
  override name = "PartnerCenterError";
  readonly target: PartnerCenterTarget;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly code: string;
  readonly errorTarget: string | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string;
  readonly attempts: number;
  readonly retryAfterMs: number | undefined;
  readonly rawBody: string | undefined;
  readonly network: NetworkFailure | undefined;
  readonly outcomeUnknown: boolean;
  /** True when the same call may succeed later (throttling, server trouble, network): the queue retries. */
  readonly retryable: boolean;
  /** What to do about it, in plain words, for the admin. */
  readonly whatToDo: string;

  constructor(details: PartnerCenterErrorDetails) {
    const what = details.status ? `${details.status}${details.code ? ` ${details.code}` : ""}` : `no answer (${details.network ?? "network"})`;
    super(`Partner Center ${details.route}: ${what}: ${details.serverMessage}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.target = details.target;
    this.method = details.method;
    this.route = details.route;
    this.status = details.status;
    this.code = details.code;
    this.errorTarget = details.errorTarget;
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.attempts = details.attempts;
    this.retryAfterMs = details.retryAfterMs;
    this.rawBody = details.rawBody;
    this.network = details.network;
    this.outcomeUnknown = details.outcomeUnknown ?? false;
    this.retryable = isRetryableFailure(details.status, details.network);
    this.whatToDo = whatToDo(details);
  }
}

/**
 * 412: the referral changed since the eTag sent in If-Match was read. Never overwrite: re-read the
 * referral, diff again against what the relay last synced, and apply only what still differs.
 */
export class PreconditionFailed extends PartnerCenterError {
  override name = "PreconditionFailed";
}

/** The code Partner Center (through Entra ID) answers when an App+User token carries no MFA claim. */
export const MFA_REQUIRED_CODE = "900421";

function isRetryableFailure(status: number, network: NetworkFailure | undefined): boolean {
  if (status === 0) return network !== "tls" && network !== "aborted";
  return status === 408 || status === 429 || status >= 500;
}

export interface ParsedErrorBody {
  code: string;
  message: string;
  target?: string;
}

/** Reads Shape A, then Shape B; anything else keeps its text as the message. */
export function parseErrorBody(text: string): ParsedErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { code: "", message: text.trim().slice(0, 300) };
  }
  if (typeof body !== "object" || body === null) return { code: "", message: String(body).slice(0, 300) };
  const record = body as Record<string, unknown>;
  const str = (value: unknown): string | undefined => (typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined);
  const error = record.error;
  if (typeof error === "object" && error !== null) {
    const a = error as Record<string, unknown>;
    const inner = typeof a.innerError === "object" && a.innerError !== null ? (a.innerError as Record<string, unknown>) : undefined;
    const message = [str(a.message), inner ? str(inner.message) : undefined].filter(Boolean).join(" — ");
    return { code: str(a.code) ?? "", message, ...(str(a.target) ? { target: str(a.target)! } : {}) };
  }
  if (typeof error === "string") {
    // An Entra-style body ({error, error_description}) from a gateway in front of the API.
    return { code: str(record.error_codes instanceof Array ? record.error_codes[0] : undefined) ?? error, message: str(record.error_description) ?? error };
  }
  if ("code" in record || "description" in record) {
    return { code: str(record.code) ?? "", message: str(record.description) ?? str(record.message) ?? "", ...(str(record.source) ? { target: str(record.source)! } : {}) };
  }
  return { code: "", message: text.trim().slice(0, 300) };
}

/** What an admin does about a failed call, in plain words. */
export function whatToDo(details: Pick<PartnerCenterErrorDetails, "target" | "method" | "status" | "code" | "network" | "outcomeUnknown">): string {
  const { target, status, code } = details;
  const referrals = target === "referrals";
  if (details.outcomeUnknown) {
    return "Partner Center may or may not have made this change (no clear answer came back): do not repeat it blindly; read first (for a create, list referrals by externalReferenceId) and repeat only what is not there.";
  }
  if (status === 0) {
    switch (details.network) {
      case "tls":
        return "The TLS certificate of the Partner Center endpoint was not trusted: check the configured base URLs and, for the sandbox only, the extra CA setting.";
      case "timeout":
        return "Partner Center did not answer in time: the relay will try again later; if this persists, check the network path (proxy, firewall) to Partner Center.";
      default:
        return "Partner Center could not be reached: check DNS, proxy and firewall settings toward the configured Partner Center base URLs; the relay will try again later.";
    }
  }
  if (status === 401) {
    if (code === MFA_REQUIRED_CODE) {
      return "The service account's sign-in lacks MFA: run relay login again and complete the sign-in with multi-factor authentication.";
    }
    return referrals
      ? "Partner Center refused the service account's token: run relay login again; if it persists, check the tenant and the Partner Center app registration in the relay's configuration."
      : "Partner Center refused the relay app's token for webhook registration: check the Partner Center app's client id, secret and tenant in the relay's configuration.";
  }
  if (status === 403) {
    return referrals
      ? "The service account needs the Referrals admin or Referrals user role in Partner Center (Microsoft's own referrals can be read but never changed)."
      : "The account or app is not allowed to manage webhook registrations: in Partner Center, give the relay's service account an admin role (Referrals admin for co-sell events).";
  }
  if (status === 404) {
    return referrals
      ? "The referral does not exist or is not visible to the service account: check the referral id and that the service account's role covers its location."
      : "There is no webhook registration for this tenant: run relay init to register the relay's webhook.";
  }
  if (status === 409) {
    return "A webhook registration already exists for this tenant: read it, and replace it only when the admin confirms (it may belong to Microsoft's connector or another tool).";
  }
  if (status === 412) {
    return "The referral changed in Partner Center since it was read: re-read it, diff again against the last synced values, and apply only what still differs.";
  }
  if (status === 415) return "Partner Center refused the request's content type: this is a relay bug; please report it.";
  if (status === 429) {
    return "Partner Center is throttling the relay: it waited as asked and gave up for now; the job will be retried later. Lower the relay's concurrency if this keeps happening.";
  }
  if (status >= 500) return "Partner Center is having trouble: the relay retried and will try again later; nothing needs to change on your side.";
  if (status === 400 || status === 422) {
    return referrals
      ? "Partner Center refused the referral as invalid: see the message, fix the opportunity's mapped fields (or the referral's status move), then sync again."
      : "Partner Center refused the webhook registration as invalid: check the webhook URL (https, reachable) and the event names.";
  }
  return "Partner Center refused the request: see the message and the request id.";
}

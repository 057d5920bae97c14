// The partner's webhook registration (one per tenant, one URL for every event) and its test
// ("validation") events, as the webhooks API keeps them (partner-center-webhooks.md §1). Pure.
import { ApiError, invalid } from "./errors.ts";
import { newId, resultDate } from "./format.ts";

export const REFERRAL_EVENTS = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated"] as const;
export const TEST_EVENT = "test-created";

/** Every event name GET /registration/events lists (docs §2.1). */
export const ALL_EVENTS = [
  TEST_EVENT,
  ...REFERRAL_EVENTS,
  "subscription-updated",
  "usagerecords-thresholdExceeded",
  "invoice-ready",
  "azure-fraud-event-detected",
  "dap-admin-relationship-approved",
  "dap-admin-relationship-terminated",
  "dap-admin-relationship-terminated-by-microsoft",
  "reseller-relationship-accepted-by-customer",
  "indirect-reseller-relationship-accepted-by-customer",
  "granular-admin-relationship-approved",
  "granular-admin-relationship-activated",
  "granular-admin-relationship-terminated",
  "granular-admin-relationship-expired",
  "granular-admin-access-assignment-created",
  "granular-admin-access-assignment-activated",
  "granular-admin-access-assignment-updated",
  "granular-admin-access-assignment-deleted",
  "new-commerce-migration-created",
  "new-commerce-migration-completed",
  "new-commerce-migration-failed",
  "new-commerce-migration-schedule-failed",
] as const;

export interface Registration {
  subscriberId: string;
  webhookUrl: string;
  webhookEvents: string[];
  signatureTokenToMsSignatureHeader: boolean;
  lastModified: number;
}

export interface AttemptResult {
  /** .NET HttpStatusCode name (`OK`, `NotFound`, …); null when no HTTP answer came back. */
  responseCode: string | null;
  responseMessage: string;
  systemError: boolean;
  dateTimeUtc: string;
}

export interface ValidationEvent {
  correlationId: string;
  partnerId: string;
  status: "pending" | "completed";
  callbackUrl: string;
  results: AttemptResult[];
  createdAt: number;
}

const STATUS_NAMES: Record<number, string> = {
  200: "OK", 201: "Created", 202: "Accepted", 203: "NonAuthoritativeInformation", 204: "NoContent", 205: "ResetContent",
  301: "MovedPermanently", 302: "Redirect", 303: "RedirectMethod", 304: "NotModified", 307: "TemporaryRedirect", 308: "PermanentRedirect",
  400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
  408: "RequestTimeout", 409: "Conflict", 410: "Gone", 411: "LengthRequired", 412: "PreconditionFailed", 413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType", 422: "UnprocessableEntity", 429: "TooManyRequests",
  500: "InternalServerError", 501: "NotImplemented", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? String(status);
}

/** Reads a registration body: `WebhookUrl`, `WebhookEvents`, `SignatureTokenToMsSignatureHeader`, any casing. */
export function readRegistration(body: unknown): Pick<Registration, "webhookUrl" | "webhookEvents" | "signatureTokenToMsSignatureHeader"> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("the body must be a registration object");
  const entries = Object.entries(body as Record<string, unknown>);
  const get = (name: string) => entries.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const url = get("WebhookUrl");
  if (typeof url !== "string" || url === "") throw invalid("WebhookUrl is required", "WebhookUrl");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("WebhookUrl must be an absolute URL", "WebhookUrl");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw invalid("WebhookUrl must be an http or https URL", "WebhookUrl");
  const events = get("WebhookEvents");
  if (!Array.isArray(events) || events.length === 0) throw invalid("WebhookEvents must list at least one event", "WebhookEvents");
  const known: readonly string[] = ALL_EVENTS;
  const webhookEvents: string[] = [];
  for (const event of events) {
    const name = typeof event === "string" ? known.find((k) => k.toLowerCase() === event.toLowerCase()) : undefined;
    if (!name) throw invalid(`'${String(event)}' is not a webhook event (GET /webhooks/v1/registration/events lists them)`, "WebhookEvents");
    if (!webhookEvents.includes(name)) webhookEvents.push(name);
  }
  const flag = get("SignatureTokenToMsSignatureHeader");
  if (flag !== undefined && flag !== null && typeof flag !== "boolean") throw invalid("SignatureTokenToMsSignatureHeader must be a boolean", "SignatureTokenToMsSignatureHeader");
  return { webhookUrl: url, webhookEvents, signatureTokenToMsSignatureHeader: flag === true };
}

export interface WebhookBookOptions {
  now: () => number;
  partnerId: string;
  /** POST validationEvents allowed per rolling minute (docs: 2). */
  validationEventsPerMinute?: number;
  /** How long validation-event results are kept (docs: 7 days). */
  validationRetentionMs?: number;
}

export class WebhookBook {
  private registration: Registration | undefined;
  private readonly validations = new Map<string, ValidationEvent>();
  private validationRequests: number[] = [];
  private readonly options: Required<WebhookBookOptions>;

  constructor(options: WebhookBookOptions) {
    this.options = { validationEventsPerMinute: 2, validationRetentionMs: 7 * 24 * 60 * 60 * 1000, ...options };
  }

  reset(): void {
    this.registration = undefined;
    this.validations.clear();
    this.validationRequests = [];
  }

  current(): Registration | undefined {
    return this.registration && { ...this.registration, webhookEvents: [...this.registration.webhookEvents] };
  }

  get(): Registration {
    const registration = this.current();
    if (!registration) throw new ApiError(404, "itemNotFound", "no webhook registration exists for this partner", { target: "registration" });
    return registration;
  }

  create(body: unknown): Registration {
    if (this.registration) throw new ApiError(409, "conflict", "Registration already exists, use the PUT method to update the registration", { target: "registration" });
    this.registration = { subscriberId: newId(), ...readRegistration(body), lastModified: this.options.now() };
    return this.get();
  }

  /** Full replace; without a registration to replace it answers 404 unless `upsert` (unverified either way). */
  replace(body: unknown, upsert: boolean): Registration {
    const input = readRegistration(body);
    if (!this.registration && !upsert) throw new ApiError(404, "itemNotFound", "no webhook registration exists for this partner; create it with POST", { target: "registration" });
    this.registration = { subscriberId: this.registration?.subscriberId ?? newId(), ...input, lastModified: this.options.now() };
    return this.get();
  }

  /** Sandbox control only: the API has no DELETE. */
  remove(): boolean {
    const had = this.registration !== undefined;
    this.registration = undefined;
    return had;
  }

  /** POST validationEvents: throttled, requires `test-created` in the registration. */
  startValidation(): ValidationEvent {
    const registration = this.get();
    if (!registration.webhookEvents.includes(TEST_EVENT)) throw invalid(`register '${TEST_EVENT}' before sending a test event`, "WebhookEvents");
    const now = this.options.now();
    this.validationRequests = this.validationRequests.filter((at) => now - at < 60_000);
    if (this.validationRequests.length >= this.options.validationEventsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((this.validationRequests[0]! + 60_000 - now) / 1000));
      throw new ApiError(429, "tooManyRequests", `at most ${this.options.validationEventsPerMinute} test events a minute`, { headers: { "Retry-After": String(retryAfter) } });
    }
    this.validationRequests.push(now);
    const event: ValidationEvent = { correlationId: newId(), partnerId: this.options.partnerId, status: "pending", callbackUrl: registration.webhookUrl, results: [], createdAt: now };
    this.validations.set(event.correlationId, event);
    return { ...event };
  }

  recordAttempt(correlationId: string, result: Omit<AttemptResult, "dateTimeUtc">, at: number, final: boolean): void {
    const event = this.validations.get(correlationId);
    if (!event) return;
    event.results.push({ ...result, dateTimeUtc: resultDate(at) });
    if (final) event.status = "completed";
  }

  validation(correlationId: string): ValidationEvent {
    const now = this.options.now();
    for (const [id, event] of this.validations) if (now - event.createdAt > this.options.validationRetentionMs) this.validations.delete(id);
    const event = this.validations.get(correlationId.toLowerCase()) ?? this.validations.get(correlationId);
    if (!event) throw new ApiError(404, "itemNotFound", `no validation event '${correlationId}' (results are kept for 7 days)`, { target: "correlationId" });
    return { ...event, results: event.results.map((r) => ({ ...r })) };
  }
}

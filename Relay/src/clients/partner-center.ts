// The relay's Partner Center client: the Referrals API (App+User token) and the webhook registration API
// (app-only token), over one undici connection pool (partner-center-referrals.md §3, §4, §8, §10.2;
// partner-center-webhooks.md §1).
//
// Every call carries a fresh `client-request-id` and `MS-CorrelationId` (plus `MS-RequestId` on the
// webhooks host); they stay the same across the attempts of one call, so Microsoft can see that retries
// belong together, and MS-RequestId is the documented idempotency key to reuse when retrying.
//
// Retries. Each attempt has its own timeout. Reads and replaces (GET, PUT, and PATCHes that only replace
// values) are retried on 408/429/5xx and on network errors, waiting Retry-After when sent, otherwise
// jittered exponential backoff (../http/retry.ts). Writes that are not idempotent (POST: create a
// referral, create the registration, send a test event; PATCH that appends with `/-`) are retried only
// when Partner Center certainly did not act: 429 or 503 that carry Retry-After (the service refused
// before doing anything) or a connection that could not be opened (nothing was sent). A 500, a timeout or
// a dropped connection after sending may come after the referral was created: retrying blindly would
// create it twice, so the error says `outcomeUnknown` and the caller looks it up by externalReferenceId.
// A retried PATCH with If-Match whose first attempt did land answers 412: the caller re-reads, re-diffs
// and finds nothing left to do, which is the safe outcome.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { request, type Dispatcher } from "undici";
import type { Referral } from "../../../Core/referral.ts";
import type { PatchOperation } from "../../../Core/mapping.ts";
import { DEFAULT_BACKOFF, isRetryableStatus, nextDelay, parseRetryAfter, type BackoffPolicy } from "../http/retry.ts";
import { PartnerCenterError, PreconditionFailed, parseErrorBody, type NetworkFailure, type PartnerCenterTarget } from "./partner-center-errors.ts";

export { PartnerCenterError, PreconditionFailed, MFA_REQUIRED_CODE, type PartnerCenterTarget } from "./partner-center-errors.ts";

export const DEFAULT_REFERRALS_BASE_URL = "https://api.partner.microsoft.com/v1.0/engagements/referrals";
export const DEFAULT_WEBHOOKS_BASE_URL = "https://api.partnercenter.microsoft.com/webhooks/v1/registration";
/** Token audiences (resources) of the two hosts; the v2 scope is `${resource}/.default`. */
export const REFERRALS_RESOURCE = "https://api.partner.microsoft.com";
export const WEBHOOKS_RESOURCE = "https://api.partnercenter.microsoft.com";

/** The co-sell events the relay subscribes to, plus the test event. */
export const REFERRAL_WEBHOOK_EVENTS = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated", "test-created"] as const;

/** One HTTP attempt, for metrics: counted by target, route and status. */
export interface PartnerCenterRequestEvent {
  target: PartnerCenterTarget;
  method: string;
  /** Route template, e.g. `GET /referrals/{id}`: low cardinality, no ids or query values. */
  route: string;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  ms: number;
  attempt: number;
  clientRequestId: string;
  requestId?: string;
  /** Set when no answer came. */
  network?: NetworkFailure;
}

export interface PartnerCenterClientOptions {
  /** Default DEFAULT_REFERRALS_BASE_URL; the sandbox's is `${partnerCenter}/v1.0/engagements/referrals`. */
  referralsBaseUrl?: string;
  /** Default DEFAULT_WEBHOOKS_BASE_URL; the sandbox's is `${partnerCenter}/webhooks/v1/registration`. */
  webhooksBaseUrl?: string;
  referralsResource?: string;
  webhooksResource?: string;
  /** An access token for a resource: App+User for the referrals resource, app-only for the webhooks one. */
  getToken: (resource: string) => Promise<string>;
  /** The connection pool (../http/agent.ts createAgent, with the sandbox CA only when configured). */
  agent: Dispatcher;
  /** Per attempt: connect, send, headers and body. Default 30 s. */
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Longest Retry-After or backoff the client waits inside one call; beyond it the call fails retryable. Default 1 h. */
  maxRetryWaitMs?: number;
  onRequest?: (event: PartnerCenterRequestEvent) => void;
  /** For tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReferralWithETag<T = Referral> {
  referral: T;
  /** Exactly as received, quotes included: send it back unchanged in If-Match. */
  eTag: string;
}

/** A create body: what the partner supplies; Partner Center fills in ids, status, eTag and links. */
export type NewReferral = Partial<Omit<Referral, "id" | "eTag" | "direction" | "createdDateTime" | "updatedDateTime" | "status" | "substatus">>
  & Pick<Referral, "name" | "type" | "customerProfile" | "consent" | "details">;

export interface ListReferralsQuery {
  filter?: string;
  /** `createdDateTime` / `updatedDateTime`, with `asc` or `desc`. */
  orderby?: string;
  top?: number;
  select?: string[] | string;
}

export interface ReferralPage<T> {
  value: T[];
  /** `@odata.count` when sent: all matches, not just this page. */
  count: number | undefined;
  nextLink: string | undefined;
}

export interface UpdateReferralOptions {
  /** The eTag the change was computed from; a stale one fails with PreconditionFailed. */
  ifMatch?: string;
  /** Ask for the updated referral (and its new eTag) instead of 204. */
  returnRepresentation?: boolean;
}

export interface UpdateReferralResult<T = Referral> {
  /** The updated referral when returnRepresentation was asked and sent. */
  referral: T | undefined;
  /** The new eTag, when Partner Center told it (body or ETag header); otherwise re-read. */
  eTag: string | undefined;
}

export interface WebhookRegistration {
  webhookUrl: string;
  webhookEvents: string[];
  signatureTokenToMsSignatureHeader?: boolean;
  subscriberId?: string;
}

export interface WebhookRegistrationInput {
  webhookUrl: string;
  webhookEvents: readonly string[];
  /** Move the signature from `Authorization` to `x-ms-signature`. Default false. */
  signatureTokenToMsSignatureHeader?: boolean;
}

export interface TestEventResult {
  responseCode: string | null;
  responseMessage: string;
  systemError: boolean;
  dateTimeUtc: string;
}

export interface TestEventStatus {
  correlationId: string;
  partnerId?: string;
  status: string;
  callbackUrl?: string;
  results: TestEventResult[];
}

type Method = "GET" | "POST" | "PATCH" | "PUT";

interface CallSpec {
  target: PartnerCenterTarget;
  method: Method;
  route: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Whether repeating the call cannot change the outcome (see the header comment). */
  idempotent: boolean;
  /** Statuses the caller handles itself (e.g. 404 meaning "none"). */
  expect?: number[];
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT"]);

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown }; errors?: Array<{ code?: unknown }> } | undefined;
  const code = e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code;
  return typeof code === "string" ? code : "";
}

/** What kind of failure an undici error is; only "connect" means nothing reached the server. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  const name = (error as Error | undefined)?.name;
  const code = errorCode(error);
  if (name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "timeout";
  if (CONNECT_CODES.has(code)) return "connect";
  if (/CERT|TLS|SSL|SELF_SIGNED|VERIFY/i.test(code)) return "tls";
  if (name === "AbortError") return "aborted";
  return "other";
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}

/** A member of a JSON object matched case-insensitively (the webhooks host answers PascalCase, the swagger says camelCase). */
function member(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function readRegistration(body: unknown): WebhookRegistration {
  const record = asRecord(body);
  const events = member(record, "WebhookEvents");
  const flag = member(record, "SignatureTokenToMsSignatureHeader");
  const subscriberId = member(record, "SubscriberId");
  return {
    webhookUrl: String(member(record, "WebhookUrl") ?? ""),
    webhookEvents: Array.isArray(events) ? events.map(String) : [],
    ...(typeof flag === "boolean" ? { signatureTokenToMsSignatureHeader: flag } : {}),
    ...(typeof subscriberId === "string" ? { subscriberId } : {}),
  };
}

/** The body of a successful answer as JSON; an answer that is not JSON is a contract break worth naming. */
function readJson(answer: Answer, route: string): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw new Error(`Partner Center ${route} answered ${answer.status} with a body that is not JSON (${answer.headers["content-type"] ?? "no content type"})`);
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export class PartnerCenterClient {
  readonly referralsBaseUrl: string;
  readonly webhooksBaseUrl: string;
  readonly #referralsResource: string;
  readonly #webhooksResource: string;
  readonly #getToken: (resource: string) => Promise<string>;
  readonly #agent: Dispatcher;
  readonly #timeoutMs: number;
  readonly #backoff: BackoffPolicy;
  readonly #maxRetryWaitMs: number;
  readonly #onRequest: ((event: PartnerCenterRequestEvent) => void) | undefined;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: PartnerCenterClientOptions) {
    this.referralsBaseUrl = trimSlash(options.referralsBaseUrl ?? DEFAULT_REFERRALS_BASE_URL);
    this.webhooksBaseUrl = trimSlash(options.webhooksBaseUrl ?? DEFAULT_WEBHOOKS_BASE_URL);
    for (const base of [this.referralsBaseUrl, this.webhooksBaseUrl]) {
      if (new URL(base).protocol !== "https:") throw new Error(`Partner Center base URLs must use https: ${base}`);
    }
    this.#referralsResource = options.referralsResource ?? REFERRALS_RESOURCE;
    this.#webhooksResource = options.webhooksResource ?? WEBHOOKS_RESOURCE;
    this.#getToken = options.getToken;
    this.#agent = options.agent;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? 3_600_000;
    this.#onRequest = options.onRequest;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  // ---- Referrals API (App+User) ----

  /** GET /referrals/{id}. A missing referral is a PartnerCenterError with status 404. */
  async getReferral<T extends { eTag?: string } = Referral>(id: string): Promise<ReferralWithETag<T>> {
    const answer = await this.#call({ target: "referrals", method: "GET", route: "GET /referrals/{id}", url: this.#referralUrl(id), idempotent: true });
    return this.#withETag<T>(answer);
  }

  /** Every referral matching the query, one at a time, following `@odata.nextLink` as given. */
  async *listReferrals<T = Referral>(query: ListReferralsQuery = {}): AsyncGenerator<T> {
    for await (const page of this.listReferralPages<T>(query)) yield* page.value;
  }

  /** The pages of a list: 100 referrals a page on the real service, `@odata.nextLink` followed verbatim. */
  async *listReferralPages<T = Referral>(query: ListReferralsQuery = {}): AsyncGenerator<ReferralPage<T>> {
    const parts: string[] = [];
    if (query.filter) parts.push(`$filter=${encodeURIComponent(query.filter)}`);
    if (query.orderby) parts.push(`$orderby=${encodeURIComponent(query.orderby)}`);
    if (query.top !== undefined) parts.push(`$top=${Math.trunc(query.top)}`);
    if (query.select) parts.push(`$select=${encodeURIComponent(Array.isArray(query.select) ? query.select.join(",") : query.select)}`);
    let url: string | undefined = parts.length ? `${this.referralsBaseUrl}?${parts.join("&")}` : this.referralsBaseUrl;
    const origin = new URL(this.referralsBaseUrl).origin;
    while (url) {
      const answer = await this.#call({ target: "referrals", method: "GET", route: "GET /referrals", url, idempotent: true });
      const body = asRecord(readJson(answer, "GET /referrals"));
      const value = Array.isArray(body.value) ? (body.value as T[]) : [];
      const next = typeof body["@odata.nextLink"] === "string" ? body["@odata.nextLink"] : undefined;
      const count = typeof body["@odata.count"] === "number" ? body["@odata.count"] : undefined;
      yield { value, count, nextLink: next };
      // The link is opaque and followed unchanged, but the bearer token goes to the configured host only.
      if (next !== undefined && new URL(next, url).origin !== origin) {
        throw new Error(`Partner Center's @odata.nextLink points to another host (${new URL(next, url).origin}); the relay sends its token to ${origin} only`);
      }
      url = next === undefined ? undefined : new URL(next, url).toString();
    }
  }

  /** POST /referrals. Not retried blindly: see the header comment. */
  async createReferral<T extends { eTag?: string } = Referral>(referral: NewReferral | Record<string, unknown>): Promise<ReferralWithETag<T>> {
    const answer = await this.#call({ target: "referrals", method: "POST", route: "POST /referrals", url: this.referralsBaseUrl, body: referral, idempotent: false });
    return this.#withETag<T>(answer);
  }

  /**
   * PATCH /referrals/{id} with a JSON Patch document (`add`/`replace` only). With `ifMatch`, a referral
   * changed since then fails with PreconditionFailed: re-read and re-diff, never overwrite.
   */
  async updateReferral<T extends { eTag?: string } = Referral>(id: string, operations: readonly PatchOperation[], options: UpdateReferralOptions = {}): Promise<UpdateReferralResult<T>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers["If-Match"] = options.ifMatch;
    if (options.returnRepresentation) headers.Prefer = "return=representation";
    // Appending (`/-`) twice appends twice; replacing twice leaves the same state.
    const idempotent = operations.every((operation) => !operation.path.endsWith("/-"));
    const answer = await this.#call({ target: "referrals", method: "PATCH", route: "PATCH /referrals/{id}", url: this.#referralUrl(id), body: operations, headers, idempotent });
    if (answer.status === 204 || answer.text.trim() === "") return { referral: undefined, eTag: answer.headers.etag };
    const { referral, eTag } = this.#withETag<T>(answer);
    return { referral, eTag };
  }

  // ---- Webhook registration API (app-only) ----

  /** The tenant's registration, or null when there is none (404). */
  async getRegistration(): Promise<WebhookRegistration | null> {
    const answer = await this.#call({ target: "webhooks", method: "GET", route: "GET /registration", url: this.webhooksBaseUrl, idempotent: true, expect: [404] });
    return answer.status === 404 ? null : readRegistration(readJson(answer, "GET /registration"));
  }

  /** POST /registration: 409 (PartnerCenterError, code `conflict`) when the tenant has one already. */
  async createRegistration(registration: WebhookRegistrationInput): Promise<WebhookRegistration> {
    const answer = await this.#call({ target: "webhooks", method: "POST", route: "POST /registration", url: this.webhooksBaseUrl, body: this.#registrationBody(registration), idempotent: false });
    return readRegistration(readJson(answer, "POST /registration"));
  }

  /** PUT /registration: a full replace of URL and events. Only when the admin confirmed (it may be someone else's). */
  async replaceRegistration(registration: WebhookRegistrationInput): Promise<WebhookRegistration> {
    const answer = await this.#call({ target: "webhooks", method: "PUT", route: "PUT /registration", url: this.webhooksBaseUrl, body: this.#registrationBody(registration), idempotent: true });
    return readRegistration(readJson(answer, "PUT /registration"));
  }

  /** GET /registration/events: every event name Partner Center offers. */
  async listEvents(): Promise<string[]> {
    const answer = await this.#call({ target: "webhooks", method: "GET", route: "GET /registration/events", url: `${this.webhooksBaseUrl}/events`, idempotent: true });
    const body = readJson(answer, "GET /registration/events");
    return Array.isArray(body) ? body.map(String) : [];
  }

  /** POST /registration/validationEvents: Partner Center sends `test-created` (2 a minute at most). */
  async sendTestEvent(): Promise<{ correlationId: string }> {
    const answer = await this.#call({ target: "webhooks", method: "POST", route: "POST /registration/validationEvents", url: `${this.webhooksBaseUrl}/validationEvents`, idempotent: false });
    const body = readJson(answer, "POST /registration/validationEvents");
    // The doc answers {"correlationId"}; the swagger types the answer as the bare id.
    const correlationId = typeof body === "string" ? body : String(member(asRecord(body), "correlationId") ?? "");
    return { correlationId };
  }

  /** GET /registration/validationEvents/{correlationId}: one result per delivery attempt. */
  async getTestEventStatus(correlationId: string): Promise<TestEventStatus> {
    const answer = await this.#call({
      target: "webhooks", method: "GET", route: "GET /registration/validationEvents/{correlationId}",
      url: `${this.webhooksBaseUrl}/validationEvents/${encodeURIComponent(correlationId)}`, idempotent: true,
    });
    const body = asRecord(readJson(answer, "GET /registration/validationEvents/{correlationId}"));
    const results = member(body, "results");
    const partnerId = member(body, "partnerId");
    const callbackUrl = member(body, "callbackUrl");
    return {
      correlationId: String(member(body, "correlationId") ?? correlationId),
      ...(typeof partnerId === "string" ? { partnerId } : {}),
      status: String(member(body, "status") ?? ""),
      ...(typeof callbackUrl === "string" ? { callbackUrl } : {}),
      results: (Array.isArray(results) ? results : []).map((entry) => {
        const result = asRecord(entry);
        const code = member(result, "responseCode");
        return {
          responseCode: code === null || code === undefined ? null : String(code),
          responseMessage: String(member(result, "responseMessage") ?? ""),
          systemError: member(result, "systemError") === true,
          dateTimeUtc: String(member(result, "dateTimeUtc") ?? ""),
        };
      }),
    };
  }

  // ---- plumbing ----

  #referralUrl(id: string): string {
    if (!id) throw new Error("a referral id is required");
    return `${this.referralsBaseUrl}/${encodeURIComponent(id)}`;
  }

  #registrationBody(registration: WebhookRegistrationInput): Record<string, unknown> {
    return {
      WebhookUrl: registration.webhookUrl,
      WebhookEvents: [...registration.webhookEvents],
      SignatureTokenToMsSignatureHeader: registration.signatureTokenToMsSignatureHeader ?? false,
    };
  }

  #withETag<T extends { eTag?: string }>(answer: Answer): ReferralWithETag<T> {
    const referral = readJson(answer, "referral") as T;
    const eTag = typeof referral.eTag === "string" ? referral.eTag : answer.headers.etag;
    if (!eTag) throw new Error("Partner Center answered a referral without an eTag");
    return { referral, eTag };
  }

  async #call(spec: CallSpec): Promise<Answer> {
    const clientRequestId = randomUUID();
    const correlationId = randomUUID();
    const msRequestId = randomUUID();
    const resource = spec.target === "referrals" ? this.#referralsResource : this.#webhooksResource;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    for (let attempt = 1; ; attempt++) {
      // A token per attempt: after a long Retry-After the previous one may have expired (MSAL's cache makes this cheap).
      const token = await this.#getToken(resource);
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
        "client-request-id": clientRequestId,
        "MS-CorrelationId": correlationId,
        ...(spec.target === "webhooks" ? { "MS-RequestId": msRequestId } : {}),
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...spec.headers,
      };
      const started = performance.now();
      let answer: Answer;
      try {
        const response = await request(spec.url, {
          method: spec.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          dispatcher: this.#agent,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        answer = { status: response.statusCode, headers: flatHeaders(response.headers), text: await response.body.text() };
      } catch (error) {
        const network = classifyNetworkError(error);
        this.#emit(spec, { status: 0, ms: performance.now() - started, attempt, clientRequestId, network });
        // Nothing was sent when the connection could not be opened: safe to repeat even a create.
        const safe = network !== "tls" && network !== "aborted" && (spec.idempotent || network === "connect");
        const wait = safe ? nextDelay(this.#backoff, attempt, undefined, this.#random) : undefined;
        if (wait !== undefined && wait <= this.#maxRetryWaitMs) {
          await this.#sleep(wait);
          continue;
        }
        throw new PartnerCenterError({
          target: spec.target, method: spec.method, route: spec.route, status: 0, code: "", clientRequestId, attempts: attempt, network,
          serverMessage: `${(error as Error).message ?? String(error)}${errorCode(error) ? ` (${errorCode(error)})` : ""}`,
          outcomeUnknown: !spec.idempotent && network !== "connect" && network !== "tls",
          cause: error,
        });
      }
      const requestId = answer.headers["request-id"] ?? answer.headers["ms-requestid"];
      this.#emit(spec, { status: answer.status, ms: performance.now() - started, attempt, clientRequestId, ...(requestId ? { requestId } : {}) });
      if (answer.status < 400 || spec.expect?.includes(answer.status)) return answer;

      const retryAfterMs = parseRetryAfter(answer.headers["retry-after"]);
      const retryable = spec.idempotent
        ? isRetryableStatus(answer.status)
        : (answer.status === 429 || answer.status === 503) && retryAfterMs !== undefined;
      const wait = retryable ? nextDelay(this.#backoff, attempt, retryAfterMs, this.#random) : undefined;
      if (wait !== undefined && wait <= this.#maxRetryWaitMs) {
        await this.#sleep(wait);
        continue;
      }
      const parsed = parseErrorBody(answer.text);
      const details = {
        target: spec.target, method: spec.method, route: spec.route, status: answer.status, code: parsed.code,
        serverMessage: parsed.message || `HTTP ${answer.status}`,
        ...(parsed.target ? { errorTarget: parsed.target } : {}),
        ...(requestId ? { requestId } : {}),
        clientRequestId, attempts: attempt,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        rawBody: answer.text.slice(0, 2048),
        // A 500 on a create may come after the referral was made: the caller must look before repeating.
        outcomeUnknown: !spec.idempotent && answer.status >= 500 && !(answer.status === 503 && retryAfterMs !== undefined),
      };
      throw answer.status === 412 ? new PreconditionFailed(details) : new PartnerCenterError(details);
    }
  }

  #emit(spec: CallSpec, event: Omit<PartnerCenterRequestEvent, "target" | "method" | "route">): void {
    if (!this.#onRequest) return;
    try {
      this.#onRequest({ target: spec.target, method: spec.method, route: spec.route, ...event, ms: Math.round(event.ms) });
    } catch {
      // Metrics must never break a call.
    }
  }
}

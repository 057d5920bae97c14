// The wire under the Dataverse client: standard headers and the bearer token, a semaphore that keeps
// the relay far below Dataverse's 52 concurrent requests per user, the pacer that keeps the whole client
// to the service protection limits as Dataverse reports them (./dataverse-pacer.ts: the budget headers,
// 429 pauses every request, x-ms-dop-hint), and retries: 429 always (Dataverse did not run the request)
// after Retry-After, 5xx and lost connections only for idempotent requests, with jittered exponential
// backoff (Relay/src/http/retry.ts). One 401 gets a fresh token and one more try.
import { request as undiciRequest, type Dispatcher } from "undici";
import { DEFAULT_BACKOFF, isRetryableStatus, nextDelay, parseRetryAfter, type BackoffPolicy } from "../http/retry.ts";
import { createAgent } from "../http/agent.ts";
import { DataverseError, normalizeCode } from "./dataverse-errors.ts";
import { DataversePacer, type PacerState } from "./dataverse-pacer.ts";
import type { HttpMethod, RawResponse } from "./dataverse-request.ts";

export const WEB_API_PATH = "/api/data/v9.2";
/** Dataverse refuses a user's 53rd concurrent request (§9); the relay stays well below. */
export const DATAVERSE_CONCURRENCY_LIMIT = 52;
export const DEFAULT_MAX_CONCURRENCY = 8;

export type TokenSource = (options?: { forceRefresh?: boolean }) => Promise<string>;

/** What happened to one attempt: for logs, metrics and tests. */
export interface DataverseRequestEvent {
  method: HttpMethod;
  /** Without the query string. */
  url: string;
  attempt: number;
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  status: number;
  /** The error code Dataverse sent with a failure, if any (hex, lower case). */
  code?: string;
  durationMs: number;
  /** Requests on the wire when this one was sent, itself included. */
  inFlight: number;
  /** When set, the client tries again after this many ms. */
  retryInMs?: number;
  /** A network failure's message. */
  error?: string;
}

export interface DataverseHttpOptions {
  /** The environment's URL, e.g. https://contoso.crm4.dynamics.com. */
  orgUrl: string;
  getToken: TokenSource;
  /** Connection pool (createAgent). Without one the client makes its own, sized to maxConcurrency. */
  agent?: Dispatcher;
  /** Requests on the wire at once (default 8; at most 52, Dataverse's per-user limit). */
  maxConcurrency?: number;
  backoff?: BackoffPolicy;
  onRequest?: (event: DataverseRequestEvent) => void;
  /** Whole-request timeout (default 120 s, Dataverse's own request limit is 2 minutes). */
  timeoutMs?: number;
  /** Clock and randomness, for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface WireRequest {
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  idempotent: boolean;
}

/** A FIFO counting semaphore. */
export class Semaphore {
  readonly #waiting: Array<() => void> = [];
  #available: number;

  constructor(permits: number) {
    this.#available = permits;
  }

  async acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#available += 1;
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function parseJson(text: string, contentType: string | undefined): unknown {
  if (!text || !/json/i.test(contentType ?? "")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class DataverseHttp {
  readonly orgUrl: string;
  readonly apiRoot: string;
  readonly maxConcurrency: number;
  readonly #getToken: TokenSource;
  readonly #agent: Dispatcher;
  readonly #ownsAgent: boolean;
  readonly #slots: Semaphore;
  readonly #backoff: BackoffPolicy;
  readonly #onRequest: ((event: DataverseRequestEvent) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #pacer: DataversePacer;
  #inFlight = 0;

  constructor(options: DataverseHttpOptions) {
    const url = new URL(options.orgUrl);
    if (url.protocol !== "https:") throw new Error(`The Dataverse org URL must use https: ${options.orgUrl}`);
    this.orgUrl = url.origin;
    this.apiRoot = `${this.orgUrl}${WEB_API_PATH}`;
    const max = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    if (!Number.isInteger(max) || max < 1 || max >= DATAVERSE_CONCURRENCY_LIMIT) {
      throw new RangeError(`maxConcurrency must be between 1 and ${DATAVERSE_CONCURRENCY_LIMIT - 1} (Dataverse allows ${DATAVERSE_CONCURRENCY_LIMIT} per user), got ${max}`);
    }
    this.maxConcurrency = max;
    this.#getToken = options.getToken;
    this.#ownsAgent = !options.agent;
    this.#agent = options.agent ?? createAgent({ connections: max });
    this.#slots = new Semaphore(max);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#onRequest = options.onRequest;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#pacer = new DataversePacer({ maxConcurrency: max, now: this.#now, sleep: this.#sleep });
  }

  /** What the client knows of its service protection budget and pace. */
  get pace(): PacerState {
    return this.#pacer.state;
  }

  /** Requests on the wire now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The absolute URL of a path relative to the Web API root; absolute URLs must be on the org. */
  url(path: string): string {
    if (/^https?:\/\//i.test(path)) {
      const target = new URL(path);
      // A nextLink is followed unchanged, but the token only ever goes to the org.
      if (target.origin !== this.orgUrl) throw new Error(`Refusing to send the Dataverse token to ${target.origin}`);
      return path;
    }
    return `${this.apiRoot}/${path.replace(/^\//, "")}`;
  }

  /**
   * Sends a request with retries; answers the final response whatever its status (the request kind
   * decides what a 404 or 412 means). Throws a DataverseError with status 0 when no answer came.
   */
  async send(request: WireRequest): Promise<RawResponse> {
    const url = this.url(request.path);
    const shownUrl = url.split("?")[0]!;
    const body = request.body === undefined ? undefined : typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    await this.#slots.acquire();
    try {
      let forceRefresh = false;
      let refreshed = false;
      let lastRetryAfter: number | undefined;
      for (let attempt = 1; ; attempt++) {
        // The pacer's gate first: after a long pause the token is asked for afresh (MSAL's cache makes this cheap).
        const permit = await this.#pacer.acquire();
        let token: string;
        try {
          token = await this.#getToken(forceRefresh ? { forceRefresh: true } : undefined);
        } catch (error) {
          permit.failed();
          throw error;
        }
        forceRefresh = false;
        const headers: Record<string, string> = {
          accept: "application/json",
          "odata-maxversion": "4.0",
          "odata-version": "4.0",
          ...(body !== undefined && typeof request.body !== "string" ? { "content-type": "application/json; charset=utf-8" } : {}),
          ...lowerKeys(request.headers),
          authorization: `Bearer ${token}`,
        };
        const started = this.#now();
        this.#inFlight += 1;
        const inFlight = this.#inFlight;
        let response: RawResponse | undefined;
        let networkError: Error | undefined;
        try {
          const answer = await undiciRequest(url, {
            method: request.method,
            headers,
            ...(body !== undefined ? { body } : {}),
            dispatcher: this.#agent,
            signal: AbortSignal.timeout(this.#timeoutMs),
          });
          const text = await answer.body.text();
          const responseHeaders = headerRecord(answer.headers);
          response = { status: answer.statusCode, headers: responseHeaders, text, json: parseJson(text, responseHeaders["content-type"]) };
        } catch (error) {
          networkError = error instanceof Error ? error : new Error(String(error));
        } finally {
          this.#inFlight -= 1;
        }
        const durationMs = this.#now() - started;
        const event: DataverseRequestEvent = { method: request.method, url: shownUrl, attempt, status: response?.status ?? 0, durationMs, inFlight };

        if (!response) {
          permit.failed();
          const cause = (networkError?.cause as Error | undefined)?.message ?? networkError?.message ?? "unknown";
          event.error = cause;
          const delay = request.idempotent ? nextDelay(this.#backoff, attempt, undefined, this.#random) : undefined;
          if (delay !== undefined) event.retryInMs = delay;
          this.#emit(event);
          if (delay === undefined) {
            throw new DataverseError({
              status: 0, code: "", method: request.method, url: shownUrl, attempts: attempt, cause: networkError,
              message: `No answer from Dataverse for ${request.method} ${shownUrl}: ${cause}${request.idempotent ? "" : " (not retried: the request may have been carried out)"}`,
            });
          }
          await this.#sleep(delay);
          continue;
        }

        const code = errorCodeOf(response);
        if (code) event.code = code;
        if (response.status !== 429) permit.answered(response.status, response.headers, code ? { code } : {});
        if (response.status === 401 && !refreshed) {
          // An expired or revoked token: ask MSAL for a new one, once.
          refreshed = true;
          forceRefresh = true;
          event.retryInMs = 0;
          this.#emit(event);
          continue;
        }
        const retryable = response.status === 429 || (request.idempotent && isRetryableStatus(response.status));
        const retryAfter = parseRetryAfter(response.headers["retry-after"], this.#now());
        if (retryAfter !== undefined) lastRetryAfter = retryAfter;
        const delay = retryable ? nextDelay(this.#backoff, attempt, retryAfter, this.#random) : undefined;
        if (delay !== undefined) event.retryInMs = delay;
        // Service protection is per user: every request of this client would be refused too, so all wait
        // (Retry-After, or the backoff when there is none or no attempt is left).
        if (response.status === 429) permit.answered(429, response.headers, { ...(code ? { code } : {}), retryInMs: delay ?? retryAfter ?? nextDelay(this.#backoff, 1, undefined, this.#random) ?? 0 });
        this.#emit(event);
        if (delay === undefined) {
          return { ...response, attempts: attempt, ...(lastRetryAfter !== undefined ? { retryAfterMs: lastRetryAfter } : {}) };
        }
        // A 429's wait is the pacer's (the next attempt waits at its gate with everyone else).
        if (response.status !== 429) await this.#sleep(delay);
      }
    } finally {
      this.#slots.release();
    }
  }

  async close(): Promise<void> {
    if (this.#ownsAgent) await this.#agent.close();
  }

  #emit(event: DataverseRequestEvent): void {
    try {
      this.#onRequest?.(event);
    } catch {
      // A hook must not break a request.
    }
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function errorCodeOf(response: RawResponse): string | undefined {
  const code = normalizeCode((response.json as { error?: { code?: unknown } } | undefined)?.error?.code);
  return code || undefined;
}

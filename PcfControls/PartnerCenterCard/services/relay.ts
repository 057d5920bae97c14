// The relay's client API as the card uses it: ask for a sync or a retry of one opportunity, then follow
// the run until it ends.
//   POST {relayUrl}/api/opportunities/{id}/sync   -> 202 { runId }
//   POST {relayUrl}/api/opportunities/{id}/retry  -> 202 { runId }
//   GET  {relayUrl}/api/runs/{runId}              -> 200 { runId, state, error? }
// Every call carries the seller's Entra ID token (Authorization: Bearer), from an injected
// getAccessToken(), so the view can be tested without a sign-in.

export type RunKind = "sync" | "retry";
export type RunState = "queued" | "running" | "succeeded" | "failed" | "dead";
export const FINAL_STATES: readonly RunState[] = ["succeeded", "failed", "dead"];

export interface RunStatus {
  runId: string;
  state: RunState;
  /** Why a failed or dead run failed, in the relay's words. */
  error?: string;
}

/**
 * Gets a bearer token for the relay's API (in Dynamics: services/signIn.ts). `interactive` is set when a
 * click started the call (Sync now, Retry): only then may a sign-in window open.
 */
export type GetAccessToken = (options?: { interactive?: boolean }) => Promise<string>;
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type RelayFailure =
  | { kind: "signIn"; message: string }
  | { kind: "unreachable"; message: string }
  | { kind: "http"; status: number; message: string }
  | { kind: "badAnswer"; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "aborted"; message: string };

export class RelayError extends Error {
  readonly failure: RelayFailure;
  constructor(failure: RelayFailure) {
    super(failure.message);
    this.name = "RelayError";
    this.failure = failure;
  }
}

export interface RelayClient {
  start(kind: RunKind, opportunityId: string, signal?: AbortSignal): Promise<string>;
  getRun(runId: string, signal?: AbortSignal): Promise<RunStatus>;
}

const STATES = new Set<string>(["queued", "running", "succeeded", "failed", "dead"]);

/** The relay URL as the card may call it: https (or http on this machine, for the sandbox); else null. */
export function validRelayUrl(value: string | null | undefined): string | null {
  const raw = (value ?? "").trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) return null;
  if (url.search || url.hash || url.username || url.password) return null;
  return url.toString().replace(/\/+$/, "");
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new RelayError({ kind: "badAnswer", message: "the relay's answer is not JSON" });
  }
  if (!body || typeof body !== "object") throw new RelayError({ kind: "badAnswer", message: "the relay's answer is not an object" });
  return body as Record<string, unknown>;
}

async function httpFailure(response: Response): Promise<RelayError> {
  let detail = "";
  try {
    // The relay answers { error: { code, message } }; a plain { message } or { error: "…" } is read too.
    const body = (await response.json()) as { message?: unknown; error?: unknown };
    const nested = body.error && typeof body.error === "object" ? (body.error as { message?: unknown }).message : undefined;
    const message = nested ?? body.message ?? body.error;
    if (typeof message === "string") detail = message;
  } catch {
    // no JSON body: the status says enough
  }
  return new RelayError({ kind: "http", status: response.status, message: detail || `HTTP ${response.status}` });
}

export function createRelayClient(relayUrl: string, getAccessToken: GetAccessToken, fetchImpl: FetchLike): RelayClient {
  const call = async (method: "GET" | "POST", path: string, signal?: AbortSignal, interactive = false): Promise<Record<string, unknown>> => {
    let token: string;
    try {
      token = await getAccessToken(interactive ? { interactive } : undefined);
    } catch (error) {
      throw new RelayError({ kind: "signIn", message: error instanceof Error ? error.message : String(error) });
    }
    let response: Response;
    try {
      response = await fetchImpl(`${relayUrl}${path}`, {
        method,
        headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
        credentials: "omit",
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw new RelayError({ kind: "aborted", message: "stopped" });
      throw new RelayError({ kind: "unreachable", message: error instanceof Error ? error.message : String(error) });
    }
    if (response.status === 401 || response.status === 403) {
      throw new RelayError({ kind: "signIn", message: `the relay refused the sign-in (HTTP ${response.status})` });
    }
    if (!response.ok) throw await httpFailure(response);
    return readJson(response);
  };
  return {
    async start(kind, opportunityId, signal) {
      // A run starts on the seller's click only: the one call that may open a sign-in window.
      const body = await call("POST", `/api/opportunities/${encodeURIComponent(opportunityId)}/${kind}`, signal, true);
      if (typeof body.runId !== "string" || !body.runId) throw new RelayError({ kind: "badAnswer", message: "the relay's answer has no runId" });
      return body.runId;
    },
    async getRun(runId, signal) {
      const body = await call("GET", `/api/runs/${encodeURIComponent(runId)}`, signal);
      if (typeof body.state !== "string" || !STATES.has(body.state)) throw new RelayError({ kind: "badAnswer", message: "the run has no known state" });
      const error = typeof body.error === "string" ? body.error : body.error && typeof body.error === "object" && typeof (body.error as { message?: unknown }).message === "string" ? (body.error as { message: string }).message : undefined;
      return { runId, state: body.state as RunState, ...(error ? { error } : {}) };
    },
  };
}

export interface FollowOptions {
  signal?: AbortSignal;
  onProgress?: (status: RunStatus) => void;
  firstIntervalMs: number;
  maxIntervalMs: number;
  timeoutMs: number;
  /** Waits; tests pass one that does not. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Starts a run and polls it (1 s, growing by half each time up to the maximum) until it ends. */
export async function runAndFollow(client: RelayClient, kind: RunKind, opportunityId: string, options: FollowOptions): Promise<RunStatus> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const runId = await client.start(kind, opportunityId, options.signal);
  options.onProgress?.({ runId, state: "queued" });
  const deadline = now() + options.timeoutMs;
  let interval = options.firstIntervalMs;
  for (;;) {
    await sleep(interval, options.signal);
    if (options.signal?.aborted) throw new RelayError({ kind: "aborted", message: "stopped" });
    const status = await client.getRun(runId, options.signal);
    options.onProgress?.(status);
    if (FINAL_STATES.includes(status.state)) return status;
    if (now() >= deadline) throw new RelayError({ kind: "timeout", message: `run ${runId} is still ${status.state}` });
    interval = Math.min(options.maxIntervalMs, Math.round(interval * 1.5));
  }
}

/** For hosts without a token source (no relay sign-in possible): the card says so, and does not crash. */
export const signInNotConfigured: GetAccessToken = () =>
  Promise.reject(new Error("signing in to the relay from Dynamics 365 is not set up yet"));

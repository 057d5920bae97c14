// The Dataverse client's pace: service protection is per user (dataverse.md §9: 6,000 requests and 20
// minutes of execution time per sliding 5 minutes, 52 concurrent), so the whole client, not one request,
// has to keep to it. The pacer is the gate every attempt passes before it goes on the wire:
//   - requests on the wire: at most the client's concurrency, lowered to Dataverse's `x-ms-dop-hint` when it
//     sends one, and halved when a 429 says the concurrency or execution-time limit was met (then raised by
//     one again per window's worth of clean answers, additive increase);
//   - the budget Dataverse reports with every answer (`x-ms-ratelimit-burst-remaining-xrm-requests`,
//     `x-ms-ratelimit-time-remaining-xrm-requests`): once it is spent, one request goes out as a probe
//     instead of the whole client running into 429s; the probe's answer says whether the sliding window has
//     freed some (then all go again) or not (a 429 with Retry-After). A request on the wire may wait for
//     others of the same client (a save runs the relay's synchronous steps, which read Dataverse), so the
//     next probe never waits for an answer longer than PROBE_PATIENCE_MS: a slow probe delays, never blocks;
//   - a 429: every request of the client waits Retry-After (Dataverse did not run the request, and the next
//     ones would be refused too), then the first one out probes before the others follow.
// A sliding window frees what was spent a window ago, so a client that takes each freed request at once
// keeps to the ceiling without knowing the window's length.

export interface PacerOptions {
  /** Requests on the wire at most. */
  maxConcurrency: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the pacer knows, for logs, metrics and tests. */
export interface PacerState {
  /** Requests on the wire now (passed the gate, not yet answered). */
  inFlight: number;
  /** Requests allowed on the wire now. */
  limit: number;
  /** Requests Dataverse said were left in its window, less those sent since; undefined until it said. */
  remaining: number | undefined;
  /** Execution time left in the window in ms, as last reported. */
  timeRemainingMs: number | undefined;
  /** Until when (epoch ms) every request waits after a 429. */
  pausedUntil: number;
  /** 429s answered to this client. */
  throttled: number;
}

export const PACER_HEADERS = {
  burstRemaining: "x-ms-ratelimit-burst-remaining-xrm-requests",
  timeRemaining: "x-ms-ratelimit-time-remaining-xrm-requests",
  dopHint: "x-ms-dop-hint",
} as const;

/** Dataverse's error codes for a 429 of the concurrency and the execution-time limits (lower-case hex). */
const CONCURRENCY_CODES = new Set(["0x80072326", "0x80072321"]);

/** How long a request waits for the probe's answer, once the budget is spent, before it goes as a probe itself. */
export const PROBE_PATIENCE_MS = 1000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A permit to send one attempt: answer it with `answered` or `failed`, exactly once. */
export interface Permit {
  answered(status: number, headers: Record<string, string>, options?: { code?: string; retryInMs?: number }): void;
  /** No answer came (network error, timeout). */
  failed(): void;
}

export class DataversePacer {
  readonly maxConcurrency: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #inFlight = 0;
  #limit: number;
  #dopHint: number | undefined;
  #cleanSinceCut = 0;
  #remaining: number | undefined;
  #timeRemainingMs: number | undefined;
  #pausedUntil = 0;
  #probes = 0;
  /** When the last permit was given (any request): while the budget is spent, at most one per PROBE_PATIENCE_MS. */
  #lastGrantAt = 0;
  #throttled = 0;
  #waiters: Array<() => void> = [];

  constructor(options: PacerOptions) {
    this.maxConcurrency = options.maxConcurrency;
    this.#limit = options.maxConcurrency;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  get state(): PacerState {
    return { inFlight: this.#inFlight, limit: this.#currentLimit(), remaining: this.#remaining, timeRemainingMs: this.#timeRemainingMs, pausedUntil: this.#pausedUntil, throttled: this.#throttled };
  }

  /** Waits until an attempt may go on the wire. */
  async acquire(): Promise<Permit> {
    for (;;) {
      const wait = this.#pausedUntil - this.#now();
      if (wait > 0) {
        await this.#sleep(wait);
        continue;
      }
      const spent = this.#spent();
      if (!spent && this.#inFlight < this.#currentLimit()) return this.#permit(false);
      const now = this.#now();
      const patience = this.#lastGrantAt + PROBE_PATIENCE_MS - now;
      if (spent && this.#inFlight < this.#currentLimit() && ((this.#inFlight === 0 && this.#probes === 0) || patience <= 0)) {
        return this.#permit(true);
      }
      await this.#change(spent ? Math.max(1, patience) : undefined);
    }
  }

  #permit(probe: boolean): Permit {
    this.#inFlight += 1;
    this.#lastGrantAt = this.#now();
    if (probe) this.#probes += 1;
    if (this.#remaining !== undefined) this.#remaining -= 1;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.#inFlight -= 1;
      if (probe) this.#probes -= 1;
      return true;
    };
    return {
      answered: (status, headers, options = {}) => {
        if (!finish()) return;
        this.#observe(status, headers, options.code, options.retryInMs);
        this.#notify();
      },
      failed: () => {
        if (!finish()) return;
        this.#notify();
      },
    };
  }

  /** The window's budget is spent, as far as Dataverse's last answers tell. */
  #spent(): boolean {
    return (this.#remaining !== undefined && this.#remaining <= 0) || (this.#timeRemainingMs !== undefined && this.#timeRemainingMs <= 0);
  }

  #currentLimit(): number {
    return Math.max(1, Math.min(this.#limit, this.#dopHint ?? this.maxConcurrency));
  }

  #observe(status: number, headers: Record<string, string>, code: string | undefined, retryInMs: number | undefined): void {
    const burst = Number.parseInt(headers[PACER_HEADERS.burstRemaining] ?? "", 10);
    // Requests still on the wire were sent after this answer's count, or at the same time: they spend from it too.
    if (Number.isFinite(burst)) this.#remaining = burst - this.#inFlight;
    const seconds = Number.parseFloat(headers[PACER_HEADERS.timeRemaining] ?? "");
    if (Number.isFinite(seconds)) this.#timeRemainingMs = seconds * 1000;
    const hint = Number.parseInt(headers[PACER_HEADERS.dopHint] ?? "", 10);
    if (Number.isFinite(hint) && hint >= 1) this.#dopHint = hint;

    if (status === 429) {
      this.#throttled += 1;
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + (retryInMs ?? 1000));
      // After the pause one request goes first and its answer tells what the window freed.
      this.#remaining = 0;
      if (code && CONCURRENCY_CODES.has(code)) {
        this.#limit = Math.max(1, Math.floor(this.#currentLimit() / 2));
        this.#cleanSinceCut = 0;
      }
      return;
    }
    if (status < 500 && this.#limit < this.maxConcurrency) {
      this.#cleanSinceCut += 1;
      if (this.#cleanSinceCut >= this.#limit * 4) {
        this.#limit += 1;
        this.#cleanSinceCut = 0;
      }
    }
    // A successful answer without a budget header (an older server, a proxy): nothing known is spent.
    if (!Number.isFinite(burst) && status < 400 && this.#remaining !== undefined && this.#remaining <= 0) this.#remaining = undefined;
  }

  /** Until an answer comes, or `atMostMs` passed. */
  #change(atMostMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      if (atMostMs !== undefined) void this.#sleep(atMostMs).then(resolve);
    });
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

// Service protection limits (dataverse.md §9): per user, a sliding window of requests and of combined
// execution time, and a cap on concurrent requests. Pure bookkeeping over an injected clock.
import { DataverseError, ErrorCodes } from "./errors.ts";

export interface Limits {
  /** Requests per window (Dataverse: 6000). */
  requests: number;
  /** Combined execution time per window, in ms (Dataverse: 1,200,000 = 20 minutes). */
  executionTimeMs: number;
  /** The sliding window, in ms (Dataverse: 300,000 = 5 minutes). */
  windowMs: number;
  /** Concurrent requests (Dataverse: 52). */
  concurrent: number;
}

export const DEFAULT_LIMITS: Limits = { requests: 6000, executionTimeMs: 1_200_000, windowMs: 300_000, concurrent: 52 };

interface UserUsage {
  requests: number[];
  executions: Array<{ at: number; ms: number }>;
  active: number;
}

export interface Admission {
  /** Call when the request is done; records its execution time. */
  end(): void;
  /** The debug headers Dataverse sends with every answer. */
  headers: Record<string, string>;
}

export class ServiceProtection {
  readonly limits: Limits;
  private readonly now: () => number;
  private readonly users = new Map<string, UserUsage>();

  constructor(limits: Partial<Limits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.now = now;
  }

  reset(): void {
    this.users.clear();
  }

  private usage(user: string): UserUsage {
    let usage = this.users.get(user);
    if (!usage) this.users.set(user, (usage = { requests: [], executions: [], active: 0 }));
    const since = this.now() - this.limits.windowMs;
    while (usage.requests.length && usage.requests[0]! <= since) usage.requests.shift();
    while (usage.executions.length && usage.executions[0]!.at <= since) usage.executions.shift();
    return usage;
  }

  /** Admits a request for `user`, or throws the 429 Dataverse answers with. */
  admit(user: string): Admission {
    const { limits } = this;
    const now = this.now();
    const usage = this.usage(user);
    const windowSeconds = Math.round(limits.windowMs / 1000);
    const retryAfter = (oldest: number | undefined): Record<string, string> => ({
      "retry-after": String(Math.max(1, Math.ceil(((oldest ?? now) + limits.windowMs - now) / 1000))),
    });
    if (usage.active >= limits.concurrent) {
      throw new DataverseError(429, ErrorCodes.ConcurrencyLimit, `Number of concurrent requests exceeded the limit of ${limits.concurrent}.`, { "retry-after": "1" });
    }
    if (usage.requests.length >= limits.requests) {
      throw new DataverseError(429, ErrorCodes.RequestsLimit, `Number of requests exceeded the limit of ${limits.requests} over time window of ${windowSeconds} seconds.`, retryAfter(usage.requests[0]));
    }
    const used = usage.executions.reduce((sum, e) => sum + e.ms, 0);
    if (used >= limits.executionTimeMs) {
      throw new DataverseError(429, ErrorCodes.ExecutionTimeLimit,
        `Combined execution time of incoming requests exceeded limit of ${limits.executionTimeMs.toLocaleString("en-US")} milliseconds over time window of ${windowSeconds} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
        retryAfter(usage.executions[0]?.at));
    }
    usage.requests.push(now);
    usage.active += 1;
    let ended = false;
    return {
      headers: {
        "x-ms-ratelimit-burst-remaining-xrm-requests": String(limits.requests - usage.requests.length),
        "x-ms-ratelimit-time-remaining-xrm-requests": ((limits.executionTimeMs - used) / 1000).toFixed(2),
      },
      end: () => {
        if (ended) return;
        ended = true;
        usage.active -= 1;
        usage.executions.push({ at: now, ms: Math.max(0, this.now() - now) });
      },
    };
  }
}

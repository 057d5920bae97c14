import { nextDelay, parseRetryAfter, isRetryableStatus, DEFAULT_BACKOFF } from "../src/http/retry.ts";

test("Retry-After in seconds or as an HTTP date", () => {
  expect(parseRetryAfter("7")).toBe(7000);
  expect(parseRetryAfter(new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2026, 0, 1, 0, 0, 0))).toBe(30000);
  expect(parseRetryAfter(undefined)).toBeUndefined();
  expect(parseRetryAfter("soon")).toBeUndefined();
});

test("Retry-After wins over backoff; backoff grows and is capped; attempts run out", () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 };
  expect(nextDelay(policy, 1, 5000, () => 0)).toBe(5000);
  expect(nextDelay(policy, 1, undefined, () => 0.999)).toBe(99);
  expect(nextDelay(policy, 2, undefined, () => 0.999)).toBe(199);
  expect(nextDelay(policy, 3, undefined, () => 0.999)).toBe(299);
  expect(nextDelay(policy, 4, undefined, () => 0.5)).toBeUndefined();
  expect(DEFAULT_BACKOFF.maxAttempts).toBeGreaterThan(1);
});

test("only throttling, timeouts and server errors are retried", () => {
  for (const s of [408, 429, 500, 502, 503, 504]) expect(isRetryableStatus(s)).toBe(true);
  for (const s of [400, 401, 403, 404, 409, 412]) expect(isRetryableStatus(s)).toBe(false);
});

// Service protection and retries: with small limits on a Dataverse sandbox created directly, a burst
// ends with every call succeeding after 429s, never more than maxConcurrency requests on the wire;
// injected faults show 5xx retried for reads only and 429 retried for writes too.
import { randomUUID } from "node:crypto";
import { Opportunity } from "../../../Core/generated/schema.ts";
import { DataverseError, type DataverseRequestEvent } from "../../src/clients/dataverse.ts";
import { DataverseErrorCodes } from "../../src/clients/dataverse-errors.ts";
import { startEnvironment, type TestEnvironment } from "./helpers.ts";

const LIMITS = { requests: 10, windowMs: 1000, concurrent: 3 };
const FAST_BACKOFF = { maxAttempts: 12, baseDelayMs: 20, maxDelayMs: 200 };

let env: TestEnvironment;
beforeAll(async () => {
  env = await startEnvironment({ limits: LIMITS });
}, 60_000);
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.control("DELETE", "/sandbox/faults");
  // Let the sliding window empty between tests.
  await new Promise((resolve) => setTimeout(resolve, LIMITS.windowMs + 50));
});

test("a burst past the request limit: every call succeeds after 429s, with at most maxConcurrency in flight", async () => {
  const events: DataverseRequestEvent[] = [];
  const client = env.client({ maxConcurrency: LIMITS.concurrent, backoff: FAST_BACKOFF, onRequest: (e) => events.push(e) });
  await client.whoAmI(); // sign in first, so the burst is all Dataverse
  const before = await env.stats();

  const results = await Promise.all(Array.from({ length: 36 }, () => client.whoAmI()));
  const after = await env.stats();

  expect(results.every((r) => typeof r.UserId === "string")).toBe(true);
  const throttled = (after.requests.byStatus["429"] ?? 0) - (before.requests.byStatus["429"] ?? 0);
  expect(throttled).toBeGreaterThan(0);
  const burst = events.slice(1);
  expect(burst.filter((e) => e.status === 429)).toHaveLength(throttled);
  expect(burst.filter((e) => e.status === 200)).toHaveLength(36);
  expect(Math.max(...burst.map((e) => e.inFlight))).toBeLessThanOrEqual(LIMITS.concurrent);
  // The client, not the server, kept concurrency down: no 429 was for the concurrency limit.
  expect(burst.filter((e) => e.code === DataverseErrorCodes.ConcurrencyLimit)).toEqual([]);
  expect(burst.filter((e) => e.status === 429).every((e) => e.code === DataverseErrorCodes.RequestsLimit && (e.retryInMs ?? 0) >= 1000)).toBe(true);
}, 30_000);

test("maxConcurrency is checked against Dataverse's 52-per-user limit", () => {
  expect(() => env.client({ maxConcurrency: 52 })).toThrow(/52/);
  expect(() => env.client({ maxConcurrency: 0 })).toThrow(RangeError);
  expect(env.client().maxConcurrency).toBe(8);
});

test("5xx: reads are retried, creates are not (they may have been carried out)", async () => {
  const events: DataverseRequestEvent[] = [];
  const client = env.client({ backoff: FAST_BACKOFF, onRequest: (e) => events.push(e) });
  await client.whoAmI();

  await env.control("POST", "/sandbox/faults", { status: 503, next: 2 });
  const me = await client.whoAmI();
  expect(me.UserId).toEqual(expect.any(String));
  expect(events.slice(-3).map((e) => e.status)).toEqual([503, 503, 200]);

  await env.control("POST", "/sandbox/faults", { status: 503, next: 1 });
  const error = await client.create(Opportunity.entitySetName, { name: "Not twice" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataverseError);
  expect(error).toMatchObject({ status: 503, attempts: 1, transient: true });
});

test("429 is retried for writes too, after Retry-After", async () => {
  const events: DataverseRequestEvent[] = [];
  const client = env.client({ backoff: FAST_BACKOFF, onRequest: (e) => events.push(e) });
  await client.whoAmI();
  await env.control("POST", "/sandbox/faults", { status: 429, next: 1, retryAfter: 1 });
  const started = Date.now();
  const { id } = await client.create(Opportunity.entitySetName, { name: `Throttled ${randomUUID().slice(0, 6)}` });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(events.slice(-2).map((e) => e.status)).toEqual([429, 204]);
});

test("when the retries run out the 429 surfaces with what to do", async () => {
  const client = env.client({ backoff: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
  await client.whoAmI();
  await env.control("POST", "/sandbox/faults", { status: 429, next: 2, retryAfter: 0 });
  const error = await client.whoAmI().catch((e: unknown) => e);
  expect(error).toMatchObject({ status: 429, attempts: 2, retryAfterMs: 0, whatToDo: expect.stringMatching(/throttling/) });
});

test("a connection that fails is retried for reads and reported with status 0 when it keeps failing", async () => {
  const client = env.client({ orgUrl: "https://127.0.0.1:1", backoff: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 5 }, getToken: async () => "unused" });
  const error = await client.whoAmI().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataverseError);
  expect(error).toMatchObject({ status: 0, attempts: 2, whatToDo: expect.stringMatching(/could not reach Dataverse/) });
});

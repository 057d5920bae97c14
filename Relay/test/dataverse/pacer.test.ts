// The Dataverse client's pace (Relay/src/clients/dataverse-pacer.ts): a 429 holds every request of the
// client for Retry-After and then lets one probe go first; the budget Dataverse reports in its answers
// (x-ms-ratelimit-burst-remaining-xrm-requests, x-ms-ratelimit-time-remaining-xrm-requests) is kept to;
// a probe that does not answer delays the next request, never blocks it; the concurrency and execution-time 429s halve the requests on the wire; x-ms-dop-hint lowers them. Then
// the client against a Dataverse sandbox with small limits: a long burst meets far fewer 429s than it has
// requests on the wire, and every call succeeds.
import { DataversePacer, PACER_HEADERS, PROBE_PATIENCE_MS, type Permit } from "../../src/clients/dataverse-pacer.ts";
import type { DataverseRequestEvent } from "../../src/clients/dataverse.ts";
import { startEnvironment, type TestEnvironment } from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Acquires in the background; `granted` lists the permits in the order they came. */
function contenders(pacer: DataversePacer, n: number): { granted: Permit[]; all: Promise<Permit[]> } {
  const granted: Permit[] = [];
  const all = Promise.all(Array.from({ length: n }, () => pacer.acquire().then((p) => (granted.push(p), p))));
  return { granted, all };
}

describe("the pacer", () => {
  test("a 429 holds every request of the client for Retry-After, then one probes before the others follow", async () => {
    // Margins in hundreds of milliseconds: a loaded CI machine can stall the event loop for a while.
    const retryAfterMs = 1000;
    const pacer = new DataversePacer({ maxConcurrency: 4 });
    const first = await pacer.acquire();
    const throttledAt = Date.now();
    first.answered(429, {}, { retryInMs: retryAfterMs });
    expect(pacer.state).toMatchObject({ inFlight: 0, throttled: 1 });

    const { granted, all } = contenders(pacer, 3);
    await sleep(300);
    if (Date.now() - throttledAt < retryAfterMs) expect(granted).toHaveLength(0); // nobody goes during the pause, though 4 may be on the wire
    while (granted.length === 0) await sleep(10);
    expect(Date.now() - throttledAt).toBeGreaterThanOrEqual(retryAfterMs - 5);
    await sleep(100);
    expect(granted).toHaveLength(1); // the probe: the others wait for its answer (up to PROBE_PATIENCE_MS)

    granted[0]!.answered(200, { [PACER_HEADERS.burstRemaining]: "100" });
    await all;
    expect(pacer.state.inFlight).toBe(2);
    for (const p of granted.slice(1)) p.answered(200, { [PACER_HEADERS.burstRemaining]: "97" });
    expect(pacer.state).toMatchObject({ inFlight: 0, remaining: 97 });
  });

  test("the reported budget is kept to: once it is spent, one request at a time until the window frees some", async () => {
    const pacer = new DataversePacer({ maxConcurrency: 8 });
    (await pacer.acquire()).answered(200, { [PACER_HEADERS.burstRemaining]: "2" });
    const { granted, all } = contenders(pacer, 4);
    await sleep(20);
    expect(granted).toHaveLength(2);
    expect(pacer.state.remaining).toBe(0);

    granted[0]!.answered(200, { [PACER_HEADERS.burstRemaining]: "0" }); // still spent: one at a time, one is out
    await sleep(20);
    expect(granted).toHaveLength(2);
    granted[1]!.answered(200, { [PACER_HEADERS.burstRemaining]: "0" }); // nobody out: one probe goes
    await sleep(20);
    expect(granted).toHaveLength(3);
    granted[2]!.answered(200, { [PACER_HEADERS.burstRemaining]: "50" }); // the window freed some: all go
    expect(await all).toHaveLength(4);
    granted[3]!.failed();
    expect(pacer.state.inFlight).toBe(0);
  });

  test("a probe that does not answer (its request waits for another of the same client) delays the next one, never blocks it", async () => {
    const pacer = new DataversePacer({ maxConcurrency: 8 });
    (await pacer.acquire()).answered(200, { [PACER_HEADERS.burstRemaining]: "0" });
    const probe = await pacer.acquire(); // a save whose synchronous step reads Dataverse through this client
    const started = Date.now();
    const nested = await pacer.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(PROBE_PATIENCE_MS - 5);
    nested.answered(200, { [PACER_HEADERS.burstRemaining]: "10" });
    probe.answered(200, { [PACER_HEADERS.burstRemaining]: "9" });
    expect(pacer.state).toMatchObject({ inFlight: 0, remaining: 9 });
  });

  test("an execution-time budget at zero also sends one request at a time", async () => {
    const pacer = new DataversePacer({ maxConcurrency: 8 });
    (await pacer.acquire()).answered(200, { [PACER_HEADERS.burstRemaining]: "5000", [PACER_HEADERS.timeRemaining]: "0.00" });
    const { granted, all } = contenders(pacer, 3);
    await sleep(20);
    expect(granted).toHaveLength(1);
    granted[0]!.answered(200, { [PACER_HEADERS.burstRemaining]: "4999", [PACER_HEADERS.timeRemaining]: "12.50" });
    await all;
    expect(pacer.state.timeRemainingMs).toBe(12_500);
  });

  test("a 429 for the concurrency or execution-time limit halves the requests on the wire, clean answers raise them again", async () => {
    const pacer = new DataversePacer({ maxConcurrency: 8 });
    (await pacer.acquire()).answered(429, {}, { code: "0x80072326", retryInMs: 0 });
    expect(pacer.state.limit).toBe(4);
    (await pacer.acquire()).answered(429, {}, { code: "0x80072321", retryInMs: 0 });
    expect(pacer.state.limit).toBe(2);
    // A 429 for the request count says nothing about concurrency.
    (await pacer.acquire()).answered(429, {}, { code: "0x80072322", retryInMs: 0 });
    expect(pacer.state.limit).toBe(2);

    // The probe after the 429s; then clean answers raise the limit by one per four times the limit of them.
    for (let i = 0; i < 8; i++) (await pacer.acquire()).answered(200, {});
    expect(pacer.state.limit).toBe(3);
    const { granted } = contenders(pacer, 4);
    await sleep(20);
    expect(granted).toHaveLength(3);
    for (const p of granted.splice(0)) p.answered(200, {});
    await sleep(20);
    expect(granted).toHaveLength(1);
    granted[0]!.answered(200, {});
    for (let i = 0; i < 200 && pacer.state.limit < 8; i++) (await pacer.acquire()).answered(200, {});
    expect(pacer.state.limit).toBe(8); // never above the client's own bound
  });

  test("x-ms-dop-hint lowers the requests on the wire to Dataverse's recommendation", async () => {
    const pacer = new DataversePacer({ maxConcurrency: 8 });
    (await pacer.acquire()).answered(200, { [PACER_HEADERS.dopHint]: "2" });
    expect(pacer.state.limit).toBe(2);
    const { granted } = contenders(pacer, 4);
    await sleep(20);
    expect(granted).toHaveLength(2);
    for (const p of granted.splice(0)) p.answered(200, { [PACER_HEADERS.dopHint]: "50" });
    await sleep(20);
    expect(pacer.state.limit).toBe(8); // never above the client's own bound
    expect(granted).toHaveLength(2);
    for (const p of granted) p.answered(200, {});
  });
});

describe("the client against a Dataverse sandbox with small limits", () => {
  const LIMITS = { requests: 20, windowMs: 1000, concurrent: 52 };
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startEnvironment({ limits: LIMITS });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  test("a burst of 5 windows' worth: every call succeeds, with about one 429 per window instead of one per request on the wire", async () => {
    const events: DataverseRequestEvent[] = [];
    const client = env.client({ maxConcurrency: 8, backoff: { maxAttempts: 12, baseDelayMs: 20, maxDelayMs: 200 }, onRequest: (e) => events.push(e) });
    await client.whoAmI();
    await sleep(LIMITS.windowMs + 50);
    const before = await env.stats();
    const calls = 5 * LIMITS.requests;
    const results = await Promise.all(Array.from({ length: calls }, () => client.whoAmI()));
    const after = await env.stats();

    expect(results.every((r) => typeof r.UserId === "string")).toBe(true);
    const throttled = (after.requests.byStatus["429"] ?? 0) - (before.requests.byStatus["429"] ?? 0);
    const windows = Math.ceil(calls / LIMITS.requests) - 1;
    console.log(`${calls} calls, ${windows} windows past the first: ${throttled} × 429 with 8 on the wire at most`);
    // Without the pacer every request on the wire when the budget ran out met a 429 (8 per window, more after
    // each pause). The first window's overshoot (the client learns the budget from its first answers) aside,
    // about one probe per window.
    expect(throttled).toBeGreaterThan(0);
    expect(throttled).toBeLessThanOrEqual(8 + 2 * windows);
    expect(Math.max(...events.map((e) => e.inFlight))).toBeLessThanOrEqual(8);
    await client.close();
  }, 60_000);
});

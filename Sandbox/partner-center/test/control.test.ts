// The sandbox control API (README.md): Microsoft's side, the clock, faults, stats, reset and seed.
import { randomUUID } from "node:crypto";
import { DEMO_PARTNER } from "../../shared/demo-tenant.ts";
import { SEED_IDS } from "../seed.ts";
import type { PartnerCenterSandbox } from "../server.ts";
import { REFERRALS, bearer, coSellDeal, json, privateDeal, sandbox, testEnvironment, token, type TestEnvironment } from "./helpers.ts";

type Referral = Record<string, unknown> & { id: string; engagementId: string; eTag: string };

let env: TestEnvironment;
let app: PartnerCenterSandbox;
let auth: Record<string, string>;

beforeAll(async () => {
  env = await testEnvironment();
  auth = bearer(await token(env));
});
afterAll(() => env.cleanup());
beforeEach(async () => {
  app = await sandbox(env);
});
afterEach(async () => {
  await app.close();
});

const control = (url: string, payload: unknown = {}) => app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload: JSON.stringify(payload) });
const getReferral = async (id: string) => json<Referral>(await app.inject({ method: "GET", url: `${REFERRALS}/${id}`, headers: auth }));
const listReferrals = () => app.inject({ method: "GET", url: REFERRALS, headers: auth });
const DAY = 86_400_000;

describe("Microsoft sends the partner a referral: POST /sandbox/microsoft/referrals", () => {
  test("a qualified lead arrives New/Pending, Incoming, invited by msft, expiring in 14 days", async () => {
    const response = await control("/sandbox/microsoft/referrals", { name: "Lead", qualification: "MarketingQualified", customerProfile: { name: "Woodgrove", address: { country: "NL" } } });
    expect(response.statusCode).toBe(201);
    const referral = json<Referral>(response);
    expect(referral).toMatchObject({
      name: "Lead",
      status: "New",
      substatus: "Pending",
      direction: "Incoming",
      type: "Independent",
      qualification: "MarketingQualified",
      organizationId: DEMO_PARTNER.organizationId,
      inviteContext: { invitedBy: { organizationId: "msft", organizationName: "Microsoft" } },
      customerProfile: { name: "Woodgrove", address: { country: "NL" } },
      acceptedDateTime: null,
    });
    expect(Date.parse(String(referral.expirationDateTime)) - Date.parse(String(referral.createdDateTime))).toBe(14 * DAY);
    expect(await getReferral(referral.id)).toMatchObject({ id: referral.id, eTag: referral.eTag });
  });

  test("a co-sell invitation (Shared) comes with Microsoft's own referral in the same engagement", async () => {
    const referral = json<Referral>(await control("/sandbox/microsoft/referrals", { type: "Shared" }));
    const engagement = json<{ value: Referral[] }>(await app.inject({ method: "GET", url: `${REFERRALS}?$filter=engagementId eq ${referral.engagementId}`.replace(/ /g, "%20"), headers: auth })).value;
    expect(engagement).toHaveLength(2);
    const microsoft = engagement.find((r) => r.id !== referral.id)!;
    expect(microsoft).toMatchObject({ organizationId: "msft", status: "Active", substatus: "Accepted", trackingInfo: { microsoftMsxId: expect.stringMatching(/^7-/) } });
  });

  test("with no body it still makes a complete referral", async () => {
    const response = await app.inject({ method: "POST", url: "/sandbox/microsoft/referrals" });
    expect(response.statusCode).toBe(201);
    expect(json<Referral>(response)).toMatchObject({ status: "New", customerProfile: { address: { country: "US" } } });
  });

  test("a bad body is 400", async () => {
    expect((await control("/sandbox/microsoft/referrals", { type: "Joint" })).statusCode).toBe(400);
    expect((await control("/sandbox/microsoft/referrals", [1])).statusCode).toBe(400);
  });
});

describe("Microsoft's seller acts: POST /sandbox/microsoft/referrals/{id}/accept|decline|update|close", () => {
  const engagement = async () => {
    const create = (body: unknown) => app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(body) });
    const mine = json<Referral>(await create(coSellDeal()));
    const forMicrosoft = json<Referral>(await create({ ...coSellDeal(), engagementId: mine.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] }));
    return { mine, forMicrosoft };
  };

  test("accept fills trackingInfo.microsoftMsxId and a Microsoft seller; close Won ends it; the partner's referral is untouched", async () => {
    const { mine, forMicrosoft } = await engagement();
    const accepted = await control(`/sandbox/microsoft/referrals/${mine.id}/accept`, { microsoftMsxId: "7-ABCDEF1234" });
    expect(accepted.statusCode).toBe(200);
    expect(json<Referral>(accepted)).toMatchObject({ id: forMicrosoft.id, status: "Active", substatus: "Accepted", trackingInfo: { microsoftMsxId: "7-ABCDEF1234" } });
    expect((json<Referral>(accepted).team as Array<{ lastName: string }>).map((m) => m.lastName)).toEqual(["Doe", "Microsoft"]);
    const updated = json<Referral>(await control(`/sandbox/microsoft/referrals/${mine.id}/update`, { details: { notes: "Customer meeting booked" }, salesStage: "Develop" }));
    expect(updated).toMatchObject({ salesStage: "Develop", details: { notes: "Customer meeting booked", dealValue: 120000 } });
    const closed = json<Referral>(await control(`/sandbox/microsoft/referrals/${forMicrosoft.id}/close`, { substatus: "Won" }));
    expect(closed).toMatchObject({ status: "Closed", substatus: "Won", closedDateTime: expect.stringMatching(/Z$/) });
    expect(await getReferral(mine.id)).toMatchObject({ status: "Active", substatus: "Accepted", eTag: mine.eTag });
    expect((await control(`/sandbox/microsoft/referrals/${mine.id}/accept`)).statusCode).toBe(409);
  });

  test("decline closes Microsoft's side as Declined with a reason", async () => {
    const { mine } = await engagement();
    const declined = json<Referral>(await control(`/sandbox/microsoft/referrals/${mine.id}/decline`, { statusReason: "No capacity" }));
    expect(declined).toMatchObject({ status: "Closed", substatus: "Declined", statusReason: "No capacity" });
  });

  test("close needs Won or Lost; an engagement without Microsoft is 409; an unknown referral 404", async () => {
    const { mine } = await engagement();
    expect((await control(`/sandbox/microsoft/referrals/${mine.id}/close`, { substatus: "Expired" })).statusCode).toBe(400);
    const lone = json<Referral>(await app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(privateDeal()) }));
    expect((await control(`/sandbox/microsoft/referrals/${lone.id}/accept`)).statusCode).toBe(409);
    expect((await control(`/sandbox/microsoft/referrals/${randomUUID()}/accept`)).statusCode).toBe(404);
  });

  test("Microsoft's side that nobody answers expires after 14 days too", async () => {
    const { forMicrosoft } = await engagement();
    await control("/sandbox/clock", { advance: "14d" });
    expect(await getReferral(forMicrosoft.id)).toMatchObject({ status: "Closed", substatus: "Expired" });
  });
});

describe("the clock: POST /sandbox/clock", () => {
  test("incoming referrals expire to Closed/Expired 14 days after they arrive, not before", async () => {
    const lead = json<Referral>(await control("/sandbox/microsoft/referrals", {}));
    const early = json<{ now: string; expired: number }>(await control("/sandbox/clock", { advance: "13d" }));
    expect(early.expired).toBe(0);
    expect(await getReferral(lead.id)).toMatchObject({ status: "New", substatus: "Pending" });
    const late = json<{ expired: number }>(await control("/sandbox/clock", { advanceMs: DAY }));
    expect(late.expired).toBe(1);
    const expired = await getReferral(lead.id);
    expect(expired).toMatchObject({ status: "Closed", substatus: "Expired", closedDateTime: lead.expirationDateTime });
    expect(expired.eTag).not.toBe(lead.eTag);
  });

  test("an accepted referral does not expire", async () => {
    const lead = json<Referral>(await control("/sandbox/microsoft/referrals", {}));
    await app.inject({
      method: "PATCH",
      url: `${REFERRALS}/${lead.id}`,
      headers: { ...auth, "content-type": "application/json" },
      payload: JSON.stringify([{ op: "replace", path: "/status", value: "Active" }, { op: "replace", path: "/substatus", value: "Accepted" }]),
    });
    await control("/sandbox/clock", { advance: "P30D" });
    expect(await getReferral(lead.id)).toMatchObject({ status: "Active" });
  });

  test("GET tells the time; 'to' jumps to a date; the clock never goes back", async () => {
    const now = json<{ now: string; offsetMs: number }>(await app.inject({ method: "GET", url: "/sandbox/clock" }));
    expect(now.offsetMs).toBe(0);
    const target = new Date(Date.now() + 30 * DAY).toISOString();
    const moved = json<{ now: string; offsetMs: number }>(await control("/sandbox/clock", { to: target }));
    expect(Math.abs(Date.parse(moved.now) - Date.parse(target))).toBeLessThan(1000);
    expect((await control("/sandbox/clock", { to: new Date().toISOString() })).statusCode).toBe(400);
    expect((await control("/sandbox/clock", { advance: "soon" })).statusCode).toBe(400);
  });
});

describe("faults: POST /sandbox/faults", () => {
  test("throttle the next N calls of one route with 429 and Retry-After", async () => {
    const rule = await control("/sandbox/faults", { kind: "throttle", route: "GET /v1.0/engagements/referrals", count: 2, retryAfterSeconds: 7 });
    expect(rule.statusCode).toBe(201);
    for (let i = 0; i < 2; i++) {
      const throttled = await listReferrals();
      expect(throttled.statusCode).toBe(429);
      expect(throttled.headers["retry-after"]).toBe("7");
      expect(json<{ error: { code: string } }>(throttled).error.code).toBe("tooManyRequests");
    }
    expect((await listReferrals()).statusCode).toBe(200);
    expect(json<unknown[]>(await app.inject({ method: "GET", url: "/sandbox/faults" }))).toEqual([]);
  });

  test("5xx errors, revoked tokens, MFA and generic statuses; other routes are untouched", async () => {
    await control("/sandbox/faults", [
      { kind: "error", status: 503, route: "PATCH /v1.0/engagements/referrals/:id", count: 1 },
      { kind: "revoked", route: "/v1.0/engagements/referrals/:id", count: 1 },
    ]);
    const referral = json<Referral>(await app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(privateDeal()) }));
    const unavailable = await app.inject({ method: "PATCH", url: `${REFERRALS}/${referral.id}`, headers: { ...auth, "content-type": "application/json" }, payload: "[]" });
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers["retry-after"]).toBe("1");
    expect(json<{ error: { code: string } }>(unavailable).error.code).toBe("serviceNotAvailable");
    const revoked = await app.inject({ method: "GET", url: `${REFERRALS}/${referral.id}`, headers: auth });
    expect(revoked.statusCode).toBe(401);

    await control("/sandbox/faults", { kind: "mfa", count: 1 });
    expect(json<{ error: { code: string } }>(await listReferrals()).error.code).toBe("900421");
    await control("/sandbox/faults", { kind: "status", status: 412, route: "/v1.0/*", count: 1 });
    expect((await listReferrals()).statusCode).toBe(412);
    expect((await listReferrals()).statusCode).toBe(200);
  });

  test("latency delays the answer; probability 0 never fires; DELETE clears", async () => {
    await control("/sandbox/faults", { kind: "latency", delayMs: 150, count: 1 });
    const started = Date.now();
    expect((await listReferrals()).statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await control("/sandbox/faults", { kind: "error", probability: 0 });
    for (let i = 0; i < 5; i++) expect((await listReferrals()).statusCode).toBe(200);
    await control("/sandbox/faults", [{ kind: "throttle", count: 1 }, { kind: "latency", delayMs: 100, count: 1 }]);
    const slowStart = Date.now();
    expect((await listReferrals()).statusCode).toBe(429); // latency applies before the error answer
    expect(Date.now() - slowStart).toBeGreaterThanOrEqual(90);
    expect((await app.inject({ method: "DELETE", url: "/sandbox/faults" })).statusCode).toBe(204);
    expect(json<unknown[]>(await app.inject({ method: "GET", url: "/sandbox/faults" }))).toEqual([]);
  });

  test("a share of requests: probability with a seeded random source", async () => {
    await app.close();
    let i = 0;
    app = await sandbox(env, { random: () => [0.1, 0.9][i++ % 2]! });
    await control("/sandbox/faults", { kind: "error", probability: 0.5, route: "GET /v1.0/engagements/referrals" });
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push((await listReferrals()).statusCode);
    expect(statuses).toEqual([500, 200, 500, 200]);
  });

  test("bad faults are 400", async () => {
    expect((await control("/sandbox/faults", { kind: "meteor" })).statusCode).toBe(400);
    expect((await control("/sandbox/faults", { kind: "error", status: 404 })).statusCode).toBe(400);
    expect((await control("/sandbox/faults", { kind: "throttle", probability: 2 })).statusCode).toBe(400);
  });
});

describe("stats, reset, seed", () => {
  test("GET /sandbox/stats counts API requests by route and status; DELETE zeroes them", async () => {
    await listReferrals();
    await listReferrals();
    await app.inject({ method: "GET", url: `${REFERRALS}/${randomUUID()}`, headers: auth });
    await app.inject({ method: "GET", url: REFERRALS });
    const stats = json<{ requests: { total: number; byRoute: Record<string, Record<string, number>> } }>(await app.inject({ method: "GET", url: "/sandbox/stats" }));
    expect(stats.requests.byRoute).toEqual({
      "GET /v1.0/engagements/referrals": { "200": 2, "401": 1 },
      "GET /v1.0/engagements/referrals/:id": { "404": 1 },
    });
    expect(stats.requests.total).toBe(4);
    await app.inject({ method: "DELETE", url: "/sandbox/stats" });
    expect(json<{ requests: { total: number } }>(await app.inject({ method: "GET", url: "/sandbox/stats" })).requests.total).toBe(0);
  });

  test("POST /sandbox/seed adds the demo referrals once; POST /sandbox/reset clears everything", async () => {
    const seeded = json<{ added: string[]; referrals: number }>(await control("/sandbox/seed"));
    expect(seeded.added.sort()).toEqual(Object.values(SEED_IDS).sort());
    expect(json<{ added: string[] }>(await control("/sandbox/seed")).added).toEqual([]);
    const incoming = await getReferral(SEED_IDS.incomingLead);
    expect(incoming).toMatchObject({ direction: "Incoming", status: "New", substatus: "Pending" });
    expect(await getReferral(SEED_IDS.coSellMicrosoft)).toMatchObject({ status: "Active", trackingInfo: { microsoftMsxId: expect.any(String) } });
    expect(await getReferral(SEED_IDS.wonDeal)).toMatchObject({ status: "Closed", substatus: "Won" });

    await control("/sandbox/faults", { kind: "throttle" });
    await control("/sandbox/clock", { advance: "1d" });
    expect((await control("/sandbox/reset")).statusCode).toBe(204);
    const list = json<{ value: unknown[] }>(await listReferrals());
    expect(list.value).toEqual([]);
    expect(json<{ offsetMs: number }>(await app.inject({ method: "GET", url: "/sandbox/clock" })).offsetMs).toBe(0);
  });

  test("GET /sandbox/referrals lists everything without a token", async () => {
    await control("/sandbox/microsoft/referrals");
    expect(json<unknown[]>(await app.inject({ method: "GET", url: "/sandbox/referrals" }))).toHaveLength(1);
  });
});

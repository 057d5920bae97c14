// PartnerCenterClient against the Partner Center sandbox over real HTTPS: referrals (create, get, list
// with paging, JSON Patch with If-Match), retries (429 with Retry-After, 5xx storms, timeouts, what a
// create never repeats), typed errors with what to do, and the webhook registration API.
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import type { Referral } from "../../../Core/referral.ts";
import { PartnerCenterClient, PartnerCenterError, PreconditionFailed, REFERRAL_WEBHOOK_EVENTS, type PartnerCenterClientOptions, type PartnerCenterRequestEvent } from "../../src/clients/partner-center.ts";
import { addFault, clearFaults, clearStats, control, privateDeal, routeCounts, sandboxTokens, startEnvironment, startReceiver, type Environment, type Receiver } from "./helpers.ts";

const REFERRALS = "/v1.0/engagements/referrals";
const FAST = { maxAttempts: 6, baseDelayMs: 20, maxDelayMs: 200 };

let env: Environment;
let receiver: Receiver;
let events: PartnerCenterRequestEvent[];

beforeAll(async () => {
  env = await startEnvironment();
  receiver = await startReceiver(env.serverTls);
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await env?.close();
});
beforeEach(async () => {
  events = [];
  await clearFaults(env);
  await clearStats(env);
});

function client(options: Partial<PartnerCenterClientOptions> = {}): PartnerCenterClient {
  return new PartnerCenterClient({
    referralsBaseUrl: env.referralsBaseUrl,
    webhooksBaseUrl: env.webhooksBaseUrl,
    getToken: sandboxTokens(env),
    agent: env.agent,
    backoff: FAST,
    onRequest: (event) => events.push(event),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<PartnerCenterError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PartnerCenterError);
  return error as PartnerCenterError;
}

describe("referrals", () => {
  test("create, then get: the referral with its eTag, quotes included", async () => {
    const pc = client();
    const created = await pc.createReferral(privateDeal({ externalReferenceId: randomUUID() }));
    expect(created.referral).toMatchObject({ direction: "Outgoing", status: "Active", substatus: "Accepted", name: "Contoso test deal" });
    expect(created.eTag).toMatch(/^".+"$/);
    const read = await pc.getReferral(created.referral.id);
    expect(read.referral.id).toBe(created.referral.id);
    expect(read.eTag).toBe(created.eTag);
    expect(events.map((e) => [e.target, e.route, e.status])).toEqual([["referrals", "POST /referrals", 200], ["referrals", "GET /referrals/{id}", 200]]);
  });

  test("every call sends a fresh client-request-id and reports Partner Center's request id", async () => {
    const pc = client();
    const { referral } = await pc.createReferral(privateDeal());
    await pc.getReferral(referral.id);
    await pc.getReferral(referral.id);
    const ids = events.map((e) => e.clientRequestId);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const event of events) expect(event.requestId).toEqual(expect.any(String));
  });

  test("list follows @odata.nextLink unchanged across more than 100 referrals", async () => {
    const marker = `paging-${randomUUID()}`;
    const pc = client();
    for (let batch = 0; batch < 105; batch += 15) {
      await Promise.all(Array.from({ length: Math.min(15, 105 - batch) }, (_, i) => pc.createReferral(privateDeal({ name: `Paging ${batch + i}`, externalReferenceId: marker }))));
    }
    // Record the exact URLs the client asks for.
    const asked: string[] = [];
    const recording = env.agent.compose((dispatch) => (options: Dispatcher.DispatchOptions, handler) => {
      asked.push(`${String(options.origin)}${options.path}`);
      return dispatch(options, handler);
    });
    const listing = client({ agent: recording });
    const pages = [];
    for await (const page of listing.listReferralPages<Referral>({ filter: `externalReferenceId eq '${marker}'`, orderby: "createdDateTime asc" })) pages.push(page);
    expect(pages.map((p) => p.value.length)).toEqual([100, 5]);
    expect(pages[0]!.count).toBe(105);
    expect(pages[0]!.nextLink).toMatch(/\$skiptoken=/);
    expect(asked[1]).toBe(pages[0]!.nextLink);
    expect(pages[1]!.nextLink).toBeUndefined();

    const all: Referral[] = [];
    for await (const referral of listing.listReferrals<Referral>({ filter: `externalReferenceId eq '${marker}'`, select: ["id", "name", "eTag"] })) all.push(referral);
    expect(new Set(all.map((r) => r.id)).size).toBe(105);
    expect(Object.keys(all[0]!).sort()).toEqual(expect.arrayContaining(["eTag", "id", "name"]));
    expect((await routeCounts(env))[`GET ${REFERRALS}`]).toEqual({ "200": 4 });
  });

  test("PATCH with If-Match: a fresh eTag updates; a stale one surfaces as PreconditionFailed and is not retried", async () => {
    const pc = client();
    const { referral, eTag } = await pc.createReferral(privateDeal());
    const updated = await pc.updateReferral(referral.id, [{ op: "replace", path: "/details/notes", value: "first" }], { ifMatch: eTag, returnRepresentation: true });
    expect(updated.referral?.details.notes).toBe("first");
    expect(updated.eTag).toMatch(/^".+"$/);
    expect(updated.eTag).not.toBe(eTag);

    const quiet = await pc.updateReferral(referral.id, [{ op: "replace", path: "/details/dealValue", value: 60000 }], { ifMatch: updated.eTag! });
    expect(quiet).toEqual({ referral: undefined, eTag: undefined }); // 204: re-read for the new eTag

    const error = await failure(pc.updateReferral(referral.id, [{ op: "replace", path: "/details/notes", value: "stale" }], { ifMatch: eTag }));
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect(error).toMatchObject({ status: 412, code: "preconditionFailed", retryable: false, attempts: 1 });
    expect(error.whatToDo).toMatch(/re-read it, diff again/);
    expect((await pc.getReferral(referral.id)).referral.details.notes).toBe("first");
  });

  test("an unknown referral is a 404 itemNotFound", async () => {
    const error = await failure(client().getReferral(randomUUID()));
    expect(error).toMatchObject({ status: 404, code: "itemNotFound", retryable: false, target: "referrals", route: "GET /referrals/{id}" });
    expect(error.whatToDo).toMatch(/does not exist/);
  });
});

describe("retries", () => {
  test("429 with Retry-After is waited out and retried until it succeeds", async () => {
    const pc = client();
    const { referral } = await pc.createReferral(privateDeal());
    await clearStats(env);
    events = [];
    await addFault(env, { kind: "throttle", route: `GET ${REFERRALS}/:id`, count: 2, retryAfterSeconds: 1 });
    const started = Date.now();
    expect((await pc.getReferral(referral.id)).referral.id).toBe(referral.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect((await routeCounts(env))[`GET ${REFERRALS}/:id`]).toEqual({ "429": 2, "200": 1 });
    expect(events.map((e) => [e.attempt, e.status])).toEqual([[1, 429], [2, 429], [3, 200]]);
    expect(new Set(events.map((e) => e.clientRequestId)).size).toBe(1);
  });

  test("a 5xx storm is retried with backoff and the call succeeds", async () => {
    await addFault(env, [{ kind: "error", status: 502, route: `GET ${REFERRALS}`, count: 2 }, { kind: "error", status: 500, route: `GET ${REFERRALS}`, count: 2 }]);
    const pages = [];
    for await (const page of client().listReferralPages({ top: 5 })) pages.push(page);
    expect(pages[0]!.value.length).toBe(5);
    expect((await routeCounts(env))[`GET ${REFERRALS}`]).toEqual({ "502": 2, "500": 2, "200": 1 });
  });

  test("when the attempts run out the error is retryable, with Partner Center's code", async () => {
    const { referral } = await client().createReferral(privateDeal());
    await addFault(env, { kind: "error", status: 503, route: `GET ${REFERRALS}/:id`, retryAfterSeconds: 0 });
    const error = await failure(client({ backoff: { ...FAST, maxAttempts: 3 } }).getReferral(referral.id));
    expect(error).toMatchObject({ status: 503, code: "serviceNotAvailable", retryable: true, attempts: 3, retryAfterMs: 0 });
    expect(error.whatToDo).toMatch(/will try again later/);
  });

  test("a create is repeated on 429 (nothing was done) but never after a 500 (it may have been)", async () => {
    const pc = client();
    await addFault(env, { kind: "throttle", route: `POST ${REFERRALS}`, count: 1, retryAfterSeconds: 0 });
    await pc.createReferral(privateDeal());
    expect((await routeCounts(env))[`POST ${REFERRALS}`]).toEqual({ "429": 1, "200": 1 });

    await clearStats(env);
    await addFault(env, { kind: "error", status: 500, route: `POST ${REFERRALS}`, count: 1 });
    const error = await failure(pc.createReferral(privateDeal()));
    expect(error).toMatchObject({ status: 500, attempts: 1, outcomeUnknown: true, retryable: true });
    expect(error.whatToDo).toMatch(/externalReferenceId/);
    expect((await routeCounts(env))[`POST ${REFERRALS}`]).toEqual({ "500": 1 });
  });

  test("a PATCH that only replaces is retried after a 500; one that appends with /- is not", async () => {
    const pc = client();
    const { referral } = await pc.createReferral(privateDeal());
    await addFault(env, { kind: "error", status: 500, route: `PATCH ${REFERRALS}/:id`, count: 1 });
    await pc.updateReferral(referral.id, [{ op: "replace", path: "/details/notes", value: "again" }]);
    expect((await routeCounts(env))[`PATCH ${REFERRALS}/:id`]).toEqual({ "500": 1, "204": 1 });

    await clearStats(env);
    await addFault(env, { kind: "error", status: 500, route: `PATCH ${REFERRALS}/:id`, count: 1 });
    const member = { firstName: "Jane", lastName: "Doe", email: "jane@contoso.example", phoneNumber: "0000000001" };
    const error = await failure(pc.updateReferral(referral.id, [{ op: "add", path: "/team/-", value: member }]));
    expect(error).toMatchObject({ status: 500, attempts: 1, outcomeUnknown: true });
    expect((await routeCounts(env))[`PATCH ${REFERRALS}/:id`]).toEqual({ "500": 1 });
  });

  test("each attempt has its own timeout; a read that times out is tried again", async () => {
    const pc = client({ timeoutMs: 400 });
    const { referral } = await pc.createReferral(privateDeal());
    events = [];
    await addFault(env, { kind: "latency", route: `GET ${REFERRALS}/:id`, count: 1, delayMs: 1500 });
    expect((await pc.getReferral(referral.id)).referral.id).toBe(referral.id);
    expect(events.map((e) => [e.status, e.network])).toEqual([[0, "timeout"], [200, undefined]]);
  });

  test("a connection that cannot be opened is retried even for a create (nothing was sent), then reported", async () => {
    const unreachable = client({ referralsBaseUrl: "https://127.0.0.1:1/v1.0/engagements/referrals", backoff: { ...FAST, maxAttempts: 3 } });
    const error = await failure(unreachable.createReferral(privateDeal()));
    expect(error).toMatchObject({ status: 0, network: "connect", attempts: 3, retryable: true, outcomeUnknown: false });
    expect(error.whatToDo).toMatch(/could not be reached/);
  });
});

describe("errors say what to do", () => {
  test("403: a user without a referral role", async () => {
    const error = await failure(client({ getToken: sandboxTokens(env, DEMO_USERS.noReferralRole) }).listReferralPages().next());
    expect(error).toMatchObject({ status: 403, code: "accessDenied", retryable: false });
    expect(error.whatToDo).toBe("The service account needs the Referrals admin or Referrals user role in Partner Center (Microsoft's own referrals can be read but never changed).");
  });

  test("401 900421: a token without MFA", async () => {
    await addFault(env, { kind: "mfa", route: `GET ${REFERRALS}`, count: 1 });
    const error = await failure(client().listReferralPages().next());
    expect(error).toMatchObject({ status: 401, code: "900421", retryable: false, attempts: 1, errorTarget: "authorization" });
    expect(error.whatToDo).toMatch(/^The service account's sign-in lacks MFA: run relay login again/);
    expect(error.message).toContain("401 900421");
  });

  test("401 for a revoked token", async () => {
    await addFault(env, { kind: "revoked", route: `GET ${REFERRALS}`, count: 1 });
    const error = await failure(client().listReferralPages().next());
    expect(error).toMatchObject({ status: 401, code: "unauthenticated" });
    expect(error.whatToDo).toMatch(/run relay login again/);
  });

  test("400: Partner Center's message and target come through", async () => {
    const invalid = { ...privateDeal(), customerProfile: { name: "No country", address: { city: "Utrecht" } } };
    const error = await failure(client().createReferral(invalid));
    expect(error).toMatchObject({ status: 400, code: "invalidRequest", retryable: false, outcomeUnknown: false });
    expect(error.message).toMatch(/country/i);
    expect(error.rawBody).toContain("invalidRequest");
  });
});

describe("webhook registration (app-only)", () => {
  test("round trip: none, create, 409 on a second create, replace, events, test event and its status", async () => {
    const pc = client();
    expect(await pc.getRegistration()).toBeNull();

    const created = await pc.createRegistration({ webhookUrl: receiver.url, webhookEvents: REFERRAL_WEBHOOK_EVENTS });
    expect(created).toMatchObject({ webhookUrl: receiver.url, webhookEvents: [...REFERRAL_WEBHOOK_EVENTS], subscriberId: expect.any(String) });

    const conflict = await failure(pc.createRegistration({ webhookUrl: "https://127.0.0.1:9/elsewhere", webhookEvents: ["referral-created"] }));
    expect(conflict).toMatchObject({ status: 409, code: "conflict", target: "webhooks", attempts: 1, retryable: false });
    expect(conflict.whatToDo).toMatch(/already exists/);

    expect(await pc.getRegistration()).toMatchObject({ webhookUrl: receiver.url, webhookEvents: [...REFERRAL_WEBHOOK_EVENTS] });
    const replaced = await pc.replaceRegistration({ webhookUrl: receiver.url, webhookEvents: ["referral-updated", "test-created"], signatureTokenToMsSignatureHeader: true });
    expect(replaced).toMatchObject({ webhookEvents: ["referral-updated", "test-created"], subscriberId: created.subscriberId });

    expect(await pc.listEvents()).toEqual(expect.arrayContaining([...REFERRAL_WEBHOOK_EVENTS]));

    const { correlationId } = await pc.sendTestEvent();
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const delivery = await receiver.next((d) => d.event.EventName === "test-created" && String(d.event.ResourceUri).endsWith(correlationId));
    expect(delivery.headers["x-ms-signature"]).toMatch(/^Signature /);
    await control(env, "partnerCenter", "/sandbox/deliveries/settle", {});
    const status = await pc.getTestEventStatus(correlationId);
    expect(status).toMatchObject({ correlationId, status: "completed", callbackUrl: receiver.url });
    expect(status.results).toEqual([expect.objectContaining({ responseCode: "OK", systemError: false })]);

    const webhookEvents = events.filter((e) => e.target === "webhooks");
    expect(webhookEvents.map((e) => `${e.route} ${e.status}`)).toEqual([
      "GET /registration 404",
      "POST /registration 200",
      "POST /registration 409",
      "GET /registration 200",
      "PUT /registration 200",
      "GET /registration/events 200",
      "POST /registration/validationEvents 200",
      "GET /registration/validationEvents/{correlationId} 200",
    ]);
    await control(env, "partnerCenter", "/sandbox/webhooks/registration", undefined, "DELETE");
  });
});

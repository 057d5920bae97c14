// Contract tests of the webhook registration API, written from partner-center-webhooks.md §1.
import { randomUUID } from "node:crypto";
import type { PartnerCenterSandbox } from "../server.ts";
import { REGISTRATION, bearer, json, receiver, sandbox, testEnvironment, token, type Receiver, type TestEnvironment } from "./helpers.ts";

let env: TestEnvironment;
let app: PartnerCenterSandbox;
let hook: Receiver;
let auth: Record<string, string>;

beforeAll(async () => {
  env = await testEnvironment();
  auth = bearer(await token(env, { appOnly: true }));
  hook = await receiver(env);
});
afterAll(async () => {
  await hook.close();
  env.cleanup();
});
beforeEach(async () => {
  app = await sandbox(env, { delivery: { backoffMs: [20] } });
  hook.received.length = 0;
  hook.respond = [];
  hook.defaultStatus = 200;
});
afterEach(async () => {
  await app.close();
});

const call = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method, url, headers: { ...auth, ...(payload === undefined ? {} : { "content-type": "application/json" }), ...headers }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });

const ALL_REFERRAL_EVENTS = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated", "test-created"];

describe("registration (§1.2, §1.3)", () => {
  test("GET before any registration: 404", async () => {
    const response = await call("GET", REGISTRATION);
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({ code: "itemNotFound", data: [] });
  });

  test("POST creates it (200 with SubscriberId), GET reads it, a second POST is 409", async () => {
    const correlationId = randomUUID();
    const createdResponse = await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ALL_REFERRAL_EVENTS, SignatureTokenToMsSignatureHeader: false }, { "MS-CorrelationId": correlationId });
    expect(createdResponse.statusCode).toBe(200);
    expect(createdResponse.headers["ms-correlationid"]).toBe(correlationId);
    expect(createdResponse.headers["x-locale"]).toBe("en-US");
    const created = json(createdResponse);
    expect(created).toEqual({ SubscriberId: expect.stringMatching(/^[0-9a-f-]{36}$/), WebhookUrl: hook.url, WebhookEvents: ALL_REFERRAL_EVENTS });

    const read = await call("GET", REGISTRATION);
    expect(read.statusCode).toBe(200);
    expect(json(read)).toEqual({ WebhookUrl: hook.url, WebhookEvents: ALL_REFERRAL_EVENTS });

    const again = await call("POST", REGISTRATION, { WebhookUrl: "https://127.0.0.1:1/other", WebhookEvents: ["test-created"] });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ code: "conflict", description: expect.stringMatching(/already exists.*PUT/) });
    expect(json(await call("GET", REGISTRATION)).WebhookUrl).toBe(hook.url);
  });

  test("PUT replaces URL and events in full and keeps the SubscriberId", async () => {
    const first = json(await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ["test-created", "granular-admin-relationship-approved"] }));
    const replaced = await call("PUT", REGISTRATION, { WebhookUrl: `${hook.url}?sig=abc`, WebhookEvents: ["referral-created"] });
    expect(replaced.statusCode).toBe(200);
    expect(json(replaced)).toEqual({ SubscriberId: first.SubscriberId, WebhookUrl: `${hook.url}?sig=abc`, WebhookEvents: ["referral-created"] });
    expect(json(await call("GET", REGISTRATION)).WebhookEvents).toEqual(["referral-created"]);
  });

  test("PUT without a registration: 404 (configurable to create it)", async () => {
    expect((await call("PUT", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ["test-created"] })).statusCode).toBe(404);
    const upsert = await sandbox(env, { putCreatesRegistration: true });
    try {
      const response = await upsert.inject({ method: "PUT", url: REGISTRATION, headers: { ...auth, "content-type": "application/json" }, payload: { WebhookUrl: hook.url, WebhookEvents: ["test-created"] } });
      expect(response.statusCode).toBe(200);
    } finally {
      await upsert.close();
    }
  });

  test("member names are matched case-insensitively (the docs mix casings)", async () => {
    const response = await call("POST", REGISTRATION, { webhookUrl: hook.url, webhookevents: ["Referral-Created"], signatureTokenToMsSignatureHeader: true });
    expect(response.statusCode).toBe(200);
    expect(json(response).WebhookEvents).toEqual(["referral-created"]);
    expect(app.partnerCenter.webhooks.current()?.signatureTokenToMsSignatureHeader).toBe(true);
  });

  test.each([
    ["no WebhookUrl", { WebhookEvents: ["test-created"] }],
    ["a relative URL", { WebhookUrl: "/callback", WebhookEvents: ["test-created"] }],
    ["an ftp URL", { WebhookUrl: "ftp://127.0.0.1/x", WebhookEvents: ["test-created"] }],
    ["no events", { WebhookUrl: "https://127.0.0.1/x", WebhookEvents: [] }],
    ["an unknown event", { WebhookUrl: "https://127.0.0.1/x", WebhookEvents: ["referral-deleted"] }],
    ["a non-boolean header flag", { WebhookUrl: "https://127.0.0.1/x", WebhookEvents: ["test-created"], SignatureTokenToMsSignatureHeader: "yes" }],
  ])("400 for %s", async (_label, body) => {
    const response = await call("POST", REGISTRATION, body);
    expect(response.statusCode).toBe(400);
    expect(json(response).code).toBe("invalidRequest");
  });

  test("DELETE is not part of the API: 405", async () => {
    const response = await call("DELETE", REGISTRATION);
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe("GET, POST, PUT");
  });

  test("GET /events lists the event names, referral events and test-created included", async () => {
    const response = await call("GET", `${REGISTRATION}/events`);
    expect(response.statusCode).toBe(200);
    const events = json<string[]>(response);
    for (const name of [...ALL_REFERRAL_EVENTS, "subscription-updated", "granular-admin-relationship-approved"]) expect(events).toContain(name);
  });
});

describe("validation events (§1.2 notes B and C, §1.4, §5)", () => {
  test("POST validationEvents sends a signed test-created event; GET validationEvents/{id} lists every attempt", async () => {
    await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ALL_REFERRAL_EVENTS });
    hook.respond = [500];
    const started = await app.inject({ method: "POST", url: `${REGISTRATION}/validationEvents`, headers: { ...auth, "content-type": "application/json" }, payload: "" });
    expect(started.statusCode).toBe(200);
    const { correlationId } = json<{ correlationId: string }>(started);
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);

    const [first, second] = await hook.waitFor(2);
    expect(first!.body).toEqual({
      EventName: "test-created",
      ResourceUri: `https://127.0.0.1:4702/webhooks/v1/registration/validationEvents/${correlationId}`,
      ResourceName: "test",
      AuditUri: null,
      ResourceChangeUtcDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/),
    });
    expect(second!.raw.equals(first!.raw)).toBe(true);
    expect(first!.headers.authorization).toMatch(/^Signature [A-Za-z0-9+/]+=*$/);

    await app.partnerCenter.dispatcher.settled();
    const status = await call("GET", `${REGISTRATION}/validationEvents/${correlationId}`);
    expect(status.statusCode).toBe(200);
    expect(json(status)).toEqual({
      correlationId,
      partnerId: expect.any(String),
      status: "completed",
      callbackUrl: hook.url,
      results: [
        { responseCode: "InternalServerError", responseMessage: "", systemError: false, dateTimeUtc: expect.stringMatching(/^\d{4}-.*\.\d{7}$/) },
        { responseCode: "OK", responseMessage: "", systemError: false, dateTimeUtc: expect.any(String) },
      ],
    });
  });

  test("at most 2 a minute: the third is 429 with Retry-After, and the sandbox clock lifts the limit", async () => {
    await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ["test-created"] });
    expect((await call("POST", `${REGISTRATION}/validationEvents`)).statusCode).toBe(200);
    expect((await call("POST", `${REGISTRATION}/validationEvents`)).statusCode).toBe(200);
    const third = await call("POST", `${REGISTRATION}/validationEvents`);
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers["retry-after"])).toBeGreaterThan(0);
    await app.inject({ method: "POST", url: "/sandbox/clock", payload: { advance: "61s" } });
    expect((await call("POST", `${REGISTRATION}/validationEvents`)).statusCode).toBe(200);
  });

  test("test-created must be registered; without a registration 404; unknown correlation id 404", async () => {
    expect((await call("POST", `${REGISTRATION}/validationEvents`)).statusCode).toBe(404);
    await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ["referral-created"] });
    expect((await call("POST", `${REGISTRATION}/validationEvents`)).statusCode).toBe(400);
    expect((await call("GET", `${REGISTRATION}/validationEvents/${randomUUID()}`)).statusCode).toBe(404);
  });

  test("results are purged after 7 days", async () => {
    await call("POST", REGISTRATION, { WebhookUrl: hook.url, WebhookEvents: ["test-created"] });
    const { correlationId } = json<{ correlationId: string }>(await call("POST", `${REGISTRATION}/validationEvents`));
    await hook.waitFor(1);
    expect((await call("GET", `${REGISTRATION}/validationEvents/${correlationId}`)).statusCode).toBe(200);
    await app.inject({ method: "POST", url: "/sandbox/clock", payload: { advance: "P7DT1H" } });
    expect((await call("GET", `${REGISTRATION}/validationEvents/${correlationId}`)).statusCode).toBe(404);
  });

  test("an unreachable URL is recorded as a system error", async () => {
    await call("POST", REGISTRATION, { WebhookUrl: "https://127.0.0.1:1/closed", WebhookEvents: ["test-created"] });
    const local = app.partnerCenter;
    const { correlationId } = json<{ correlationId: string }>(await call("POST", `${REGISTRATION}/validationEvents`));
    await local.dispatcher.settled();
    const results = json<{ results: Array<{ systemError: boolean; responseCode: string | null }> }>(await call("GET", `${REGISTRATION}/validationEvents/${correlationId}`)).results;
    expect(results[0]).toMatchObject({ systemError: true, responseCode: null });
  });
});

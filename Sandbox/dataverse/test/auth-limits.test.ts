// Auth (bearer tokens from the identity sandbox, audience = the org URL, mapped to systemusers),
// service protection limits (429 with Retry-After and Dataverse's codes), injected faults, and the
// /sandbox/ control calls.
import { DEMO_TENANT_ID } from "../../shared/demo-tenant.ts";
import { issuerFor, signToken } from "../../shared/tokens.ts";
import { startSandbox, startReceiver, type TestSandbox, API, IDENTITY_URL, ORG_URL } from "./helpers.ts";

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ limits: { requests: 5, concurrent: 1, windowMs: 60_000 } });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.control("POST", "/sandbox/reset");
});

async function raw(authorization: string | undefined): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const res = await sandbox.app.inject({ method: "GET", url: `${API}/WhoAmI`, headers: authorization ? { authorization } : {} });
  return { status: res.statusCode, headers: res.headers, body: res.body };
}

test("no token, a bad token, the wrong audience or an expired token: 401 with WWW-Authenticate", async () => {
  const none = await raw(undefined);
  expect(none.status).toBe(401);
  expect(none.headers["www-authenticate"]).toBe(`Bearer authorization_uri=${IDENTITY_URL}/${DEMO_TENANT_ID}/oauth2/authorize, resource_id=${ORG_URL}/`);
  expect(JSON.parse(none.body).error.message).toBe("No bearer token was sent.");
  expect((await raw("Bearer not-a-jwt")).status).toBe(401);
  const iss = issuerFor(IDENTITY_URL, DEMO_TENANT_ID);
  const otherAudience = await signToken(sandbox.keys, { iss, aud: "https://api.partner.microsoft.com", oid: "c0ffee00-0001-4d2e-9f3a-1b2c3d4e5f60", scp: "x" }, 600);
  expect((await raw(`Bearer ${otherAudience}`)).status).toBe(401);
  const expired = await signToken(sandbox.keys, { iss, aud: ORG_URL, oid: "c0ffee00-0001-4d2e-9f3a-1b2c3d4e5f60", scp: "x" }, 60, Date.now() - 3_600_000);
  expect((await raw(`Bearer ${expired}`)).status).toBe(401);
  const trailingSlash = await signToken(sandbox.keys, { iss, aud: `${ORG_URL}/`, oid: "c0ffee00-0001-4d2e-9f3a-1b2c3d4e5f60", scp: "x" }, 600);
  expect((await raw(`Bearer ${trailingSlash}`)).status).toBe(200);
});

test("tokens map to systemusers: users by oid, the relay by its application id; strangers are not members", async () => {
  const seller = await sandbox.api("GET", "WhoAmI", { as: "seller" });
  const relay = await sandbox.api("GET", "WhoAmI", { as: "relay" });
  expect(seller.body.UserId).not.toBe(relay.body.UserId);
  const relayUser = await sandbox.api("GET", `systemusers(${relay.body.UserId})?$select=applicationid,accessmode,fullname`, { as: "relay" });
  expect(relayUser.body).toMatchObject({ accessmode: 4, fullname: "Co-sell relay (Dataverse)" });
  const stranger = await signToken(sandbox.keys, { iss: issuerFor(IDENTITY_URL, DEMO_TENANT_ID), aud: ORG_URL, oid: "11111111-2222-4333-8444-555555555555", scp: "x" }, 600);
  const res = await raw(`Bearer ${stranger}`);
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body)).toEqual({ error: { code: "0x80072560", message: "The user is not a member of the organization." } });
});

test("service protection: past the request limit a user gets 429 with Retry-After and Dataverse's code; other users are not affected", async () => {
  for (let i = 0; i < 5; i++) {
    const ok = await sandbox.api("GET", "WhoAmI", { as: "seller" });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-ms-ratelimit-burst-remaining-xrm-requests"]).toBe(String(4 - i));
  }
  const limited = await sandbox.api("GET", "WhoAmI", { as: "seller" });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
  expect(limited.body).toEqual({ error: { code: "0x80072322", message: "Number of requests exceeded the limit of 5 over time window of 60 seconds." } });
  expect((await sandbox.api("GET", "WhoAmI", { as: "relay" })).status).toBe(200);
});

test("service protection: concurrent requests past the limit get 429 0x80072326 at once", async () => {
  const slow = await startReceiver();
  try {
    slow.respond = () => ({ status: 200, delayMs: 300 });
    const hook = /\(([0-9a-f-]{36})\)$/.exec(String((await sandbox.api("POST", "serviceendpoints", { as: "seller", body: { name: "slow", contract: 8, url: `${slow.url}/slow`, authtype: 4, authvalue: "k" } })).headers["odata-entityid"]))![1];
    const message = (await sandbox.api("GET", "sdkmessages?$filter=name eq 'Create'", { as: "seller" })).body.value[0].sdkmessageid;
    await sandbox.api("POST", "sdkmessageprocessingsteps", { as: "seller", body: { name: "slow", mode: 0, stage: 20, rank: 1, "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${hook})`, "sdkmessageid@odata.bind": `/sdkmessages(${message})` } });
    const first = sandbox.api("POST", "accounts", { as: "relay", body: { name: "Slow" } });
    await slow.waitFor(1);
    const second = await sandbox.api("GET", "WhoAmI", { as: "relay" });
    expect(second.status).toBe(429);
    expect(second.body.error).toEqual({ code: "0x80072326", message: "Number of concurrent requests exceeded the limit of 1." });
    expect(second.headers["retry-after"]).toBe("1");
    expect((await first).status).toBe(204);
  } finally {
    await slow.close();
  }
});

test("service protection: combined execution time past the limit gives 0x80072321", async () => {
  const timed = await startSandbox({ limits: { executionTimeMs: 100, windowMs: 60_000 } });
  const slow = await startReceiver();
  try {
    slow.respond = () => ({ status: 200, delayMs: 150 });
    // Each setup call as another user: the limit is per user and checked before a request runs.
    const hook = /\(([0-9a-f-]{36})\)$/.exec(String((await timed.api("POST", "serviceendpoints", { as: "seller", body: { name: "slow", contract: 8, url: `${slow.url}/slow`, authtype: 4, authvalue: "k" } })).headers["odata-entityid"]))![1];
    const message = (await timed.api("GET", "sdkmessages?$filter=name eq 'Create'", { as: "referralsAdmin" })).body.value[0].sdkmessageid;
    await timed.api("POST", "sdkmessageprocessingsteps", { as: "noReferralRole", body: { name: "slow", mode: 0, stage: 20, rank: 1, "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${hook})`, "sdkmessageid@odata.bind": `/sdkmessages(${message})` } });
    expect((await timed.api("POST", "accounts", { as: "relay", body: { name: "Slow" } })).status).toBe(204);
    const limited = await timed.api("GET", "WhoAmI", { as: "relay" });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("0x80072321");
    expect(limited.body.error.message).toMatch(/^Combined execution time of incoming requests exceeded limit of 100 milliseconds over time window of 60 seconds\./);
  } finally {
    await slow.close();
    await timed.close();
  }
});

test("faults: the next N requests fail with the status asked; 429 carries Retry-After", async () => {
  expect((await sandbox.control("POST", "/sandbox/faults", { status: 503, next: 2 })).status).toBe(200);
  expect((await sandbox.api("GET", "WhoAmI", { as: "script" })).status).toBe(503);
  expect((await sandbox.api("GET", "WhoAmI", { as: "script" })).status).toBe(503);
  expect((await sandbox.api("GET", "WhoAmI", { as: "script" })).status).toBe(200);
  await sandbox.control("POST", "/sandbox/reset"); // this file's limit is 5 requests per user
  await sandbox.control("POST", "/sandbox/faults", { status: 429, share: 1, retryAfter: 7, match: "accounts" });
  const throttled = await sandbox.api("GET", "accounts", { as: "script" });
  expect(throttled.status).toBe(429);
  expect(throttled.headers["retry-after"]).toBe("7");
  expect(throttled.body.error.code).toBe("0x80072322");
  expect((await sandbox.api("GET", "WhoAmI", { as: "script" })).status).toBe(200);
  await sandbox.control("DELETE", "/sandbox/faults");
  expect((await sandbox.api("GET", "accounts", { as: "script" })).status).toBe(200);
  expect((await sandbox.control("POST", "/sandbox/faults", { status: 404 })).status).toBe(400);
});

test("stats count requests by route, status and user; reset clears data and stats; control calls are loopback only", async () => {
  await sandbox.api("GET", "accounts", { as: "script" });
  await sandbox.api("GET", "accountz", { as: "script" });
  const stats = (await sandbox.control("GET", "/sandbox/stats")).body;
  expect(stats.requests.total).toBe(2);
  expect(stats.requests.byRoute).toEqual({ "GET /accounts": 1, "GET /accountz": 1 });
  expect(stats.requests.byStatus).toEqual({ "200": 1, "404": 1 });
  expect(Object.values(stats.requests.byUser)).toEqual([{ requests: 2, byStatus: { "200": 1, "404": 1 } }]);
  await sandbox.control("POST", "/sandbox/seed");
  expect((await sandbox.api("GET", "accounts/$count", { as: "script" })).text).toBe("5");
  await sandbox.control("POST", "/sandbox/reset");
  expect((await sandbox.api("GET", "accounts/$count", { as: "script" })).text).toBe("0");
  expect((await sandbox.control("GET", "/sandbox/stats")).body.requests.total).toBe(1);
  const remote = await sandbox.app.inject({ method: "POST", url: "/sandbox/reset", remoteAddress: "10.0.0.5" });
  expect(remote.statusCode).toBe(403);
});

test("the sandbox serves the Web API over HTTPS with the sandbox CA's certificate", async () => {
  const { Agent, request } = await import("undici");
  await sandbox.app.listen({ port: 0, host: "127.0.0.1" });
  const agent = new Agent({ connect: { ca: sandbox.ca.certPem } });
  try {
    const port = (sandbox.app.server.address() as { port: number }).port;
    const res = await request(`https://127.0.0.1:${port}${API}/WhoAmI`, { dispatcher: agent, headers: { authorization: `Bearer ${await sandbox.token("seller")}`, accept: "application/json" } });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { UserId: string }).UserId).toMatch(/^[0-9a-f-]{36}$/);
  } finally {
    await agent.close();
  }
});

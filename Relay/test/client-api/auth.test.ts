// The client API's gate, against the sandboxes in-process: the seller's Entra ID token (from the identity
// sandbox, as the card gets it) is checked for signature, audience, expiry, issuer and tenant; a user acts
// only on records they can read in Dataverse (checked by impersonating them); browsers may call from the
// Dynamics 365 origin only. And the OpenAPI description of the routes.
import { randomUUID } from "node:crypto";
import { DEMO_APPS, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { acceptedAudiences } from "../../src/client-api/auth.ts";
import { startSandboxesForRelay, startTestRelay, type Sandboxes, type TestRelay } from "../edge/helpers.ts";
import { call, dataverseAs, mintToken, sellerDeal, userToken, type Reply } from "./helpers.ts";

let sandboxes: Sandboxes;
let t: TestRelay;
let opportunityId: string;
let sellerToken: string;
let dynamics: string;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes);
  dynamics = new URL(sandboxes.running.endpoints.dataverse).origin;
  const seller = dataverseAs(sandboxes, DEMO_USERS.seller);
  ({ opportunityId } = await sellerDeal(seller, { sync: false }));
  await seller.close();
  sellerToken = await userToken(sandboxes, DEMO_USERS.seller);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sandboxes?.close();
});

const status = (id = opportunityId) => `/api/opportunities/${id}/status`;

function refused(reply: Reply, code: string): void {
  expect(reply.status).toBe(401);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(String(reply.headers["www-authenticate"])).toMatch(/^Bearer/);
}

describe("the token", () => {
  test("a valid seller's token from the identity sandbox: 200 with the status", async () => {
    const reply = await call(t, "GET", status(), { token: sellerToken });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ opportunityId, sync: false, readiness: { ready: true } });
  });

  test("no token: 401 missing-token, and the log says why", async () => {
    const before = t.lines.length;
    const reply = await call(t, "GET", status());
    refused(reply, "missing-token");
    expect(reply.headers["www-authenticate"]).toBe("Bearer");
    expect(t.lines.slice(before)).toContainEqual(expect.objectContaining({ level: 40, reason: "missing-token", msg: "client API call refused: the token was not accepted" }));
  });

  test("not a JWT, or a token signed with another key: 401 invalid-token", async () => {
    refused(await call(t, "GET", status(), { token: "not-a-jwt" }), "invalid-token");
    const [header, payload] = sellerToken.split(".");
    refused(await call(t, "GET", status(), { token: `${header}.${payload}.${Buffer.from("forged").toString("base64url")}` }), "invalid-token");
  });

  test("an expired token: 401 expired-token", async () => {
    const expired = await mintToken(sandboxes, {}, { lifetimeSeconds: 3600, issuedAt: Date.now() - 3 * 3_600_000 });
    refused(await call(t, "GET", status(), { token: expired }), "expired-token");
  });

  test("a token for another resource (Dataverse, another app's API): 401 wrong-audience", async () => {
    const dataverseToken = await userToken(sandboxes, DEMO_USERS.seller, sandboxes.running.endpoints.dataverseScope);
    refused(await call(t, "GET", status(), { token: dataverseToken }), "wrong-audience");
    const otherApi = await userToken(sandboxes, DEMO_USERS.seller, `api://${DEMO_APPS.script.clientId}/user_impersonation`);
    refused(await call(t, "GET", status(), { token: otherApi }), "wrong-audience");
  });

  test("a token of another tenant (its issuer, or only its tid): 401 wrong-tenant", async () => {
    const otherTenant = randomUUID();
    refused(await call(t, "GET", status(), { token: await mintToken(sandboxes, {}, { tenantId: otherTenant }) }), "wrong-tenant");
    refused(await call(t, "GET", status(), { token: await mintToken(sandboxes, { tid: otherTenant }) }), "wrong-tenant");
  });

  test("an app-only token (no user): 401 not-a-user", async () => {
    const appOnly = await mintToken(sandboxes, { scp: undefined, idtyp: "app", appid: DEMO_APPS.script.clientId });
    refused(await call(t, "GET", status(), { token: appOnly }), "not-a-user");
  });

  test("both spellings of the API's audience are taken", () => {
    expect(acceptedAudiences(`api://${DEMO_APPS.card.clientId}`)).toEqual([`api://${DEMO_APPS.card.clientId}`, DEMO_APPS.card.clientId]);
    expect(acceptedAudiences(DEMO_APPS.card.clientId.toUpperCase())).toEqual([DEMO_APPS.card.clientId, `api://${DEMO_APPS.card.clientId}`]);
    expect(acceptedAudiences("https://relay.contoso.example/api")).toEqual(["https://relay.contoso.example/api"]);
  });
});

describe("records the user can read", () => {
  test("a user in another business unit cannot read the seller's opportunity: 403, nothing queued", async () => {
    // Noel moves to another business unit: Dataverse no longer lets him read what the seller owns there.
    const dv = t.relay.clients.dataverse;
    const unit = await dv.create("businessunits", { name: `Other division ${randomUUID().slice(0, 6)}` });
    const noel = await dataverseAs(sandboxes, DEMO_USERS.noReferralRole);
    const noelId = (await noel.whoAmI()).UserId;
    await noel.close();
    await dv.update("systemusers", noelId, { "businessunitid@odata.bind": `/businessunits(${unit.id})` });
    const noelToken = await userToken(sandboxes, DEMO_USERS.noReferralRole);

    const before = t.lines.length;
    for (const [method, path] of [["GET", status()], ["POST", `/api/opportunities/${opportunityId}/sync`], ["POST", `/api/opportunities/${opportunityId}/retry`]] as const) {
      const reply = await call(t, method, path, { token: noelToken });
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual({ error: { code: "forbidden", message: "You cannot read this opportunity in Dynamics 365, so the relay does not act on it for you." } });
    }
    expect(t.lines.slice(before)).toContainEqual(expect.objectContaining({ reason: "forbidden", user: DEMO_USERS.noReferralRole.oid, record: `opportunity:${opportunityId}` }));
    expect((await t.relay.clients.db.query("SELECT 1 FROM runs WHERE subject = $1", [`opportunity:${opportunityId}`])).rows).toEqual([]);

    // His run ids are not the seller's either.
    const { runId } = (await call(t, "POST", `/api/opportunities/${opportunityId}/sync`, { token: sellerToken })).body as { runId: string };
    expect((await call(t, "GET", `/api/runs/${runId}`, { token: noelToken })).status).toBe(403);
    expect((await call(t, "GET", `/api/runs/${runId}`, { token: sellerToken })).status).toBe(200);
  });

  test("an opportunity that does not exist: 404; an id that is not one: 400", async () => {
    expect(await call(t, "GET", status(randomUUID()), { token: sellerToken })).toMatchObject({ status: 404, body: { error: { code: "not-found" } } });
    expect(await call(t, "GET", "/api/opportunities/nope/status", { token: sellerToken })).toMatchObject({ status: 400, body: { error: { code: "bad-request" } } });
    expect(await call(t, "GET", `/api/runs/${randomUUID()}`, { token: sellerToken })).toMatchObject({ status: 404, body: { error: { code: "not-found" } } });
  });
});

describe("CORS", () => {
  const preflight = (origin: string) => call(t, "OPTIONS", `/api/opportunities/${opportunityId}/sync`, {
    origin, headers: { "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
  });

  test("the Dynamics 365 org's preflight is answered", async () => {
    const reply = await preflight(dynamics);
    expect(reply.status).toBe(204);
    expect(reply.headers).toMatchObject({
      "access-control-allow-origin": dynamics, "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "authorization, content-type", vary: "Origin",
    });
  });

  test("another origin's preflight is refused, and so are its calls", async () => {
    for (const origin of ["https://evil.example", "https://127.0.0.1:1", `${dynamics}.evil.example`]) {
      const reply = await preflight(origin);
      expect(reply.status).toBe(403);
      expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
      expect(reply.body).toMatchObject({ error: { code: "origin-not-allowed" } });
    }
    const call2 = await call(t, "GET", status(), { token: sellerToken, origin: "https://evil.example" });
    expect(call2.status).toBe(403);
    expect(call2.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("answers to the org carry the CORS header, refusals included (the card reads why)", async () => {
    const ok = await call(t, "GET", status(), { token: sellerToken, origin: dynamics });
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe(dynamics);
    const unauthorized = await call(t, "GET", status(), { origin: dynamics });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers["access-control-allow-origin"]).toBe(dynamics);
  });
});

test("the OpenAPI description names every route with its schema and the bearer scheme", async () => {
  const reply = await call(t, "GET", "/api/openapi.json");
  expect(reply.status).toBe(200);
  const doc = reply.body;
  expect(doc.openapi).toBe("3.0.3");
  expect(Object.keys(doc.paths).sort()).toEqual(["/api/opportunities/{id}/retry", "/api/opportunities/{id}/status", "/api/opportunities/{id}/sync", "/api/runs/{runId}", "/api/sign-in"]);
  // What the browser reads before it has a token is public; everything else needs the bearer.
  expect(doc.paths["/api/sign-in"].get.security ?? []).toEqual([]);
  expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  const sync = doc.paths["/api/opportunities/{id}/sync"].post;
  expect(sync.security).toEqual([{ bearer: [] }]);
  expect(sync.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true }));
  expect(Object.keys(sync.responses).sort()).toEqual(["202", "400", "401", "403", "404", "503"]);
  expect(sync.responses["202"].content["application/json"].schema.properties).toMatchObject({ runId: { type: "string" }, coalesced: { type: "boolean" } });
  const run = doc.paths["/api/runs/{runId}"].get.responses["200"].content["application/json"].schema;
  expect(run.properties.state.enum).toEqual(["queued", "running", "succeeded", "failed", "dead"]);
  expect(run.required).toEqual(expect.arrayContaining(["runId", "state"]));
  const statusSchema = doc.paths["/api/opportunities/{id}/status"].get.responses["200"].content["application/json"].schema;
  expect(Object.keys(statusSchema.properties)).toEqual(expect.arrayContaining(["referral", "microsoft", "lastSync", "readiness"]));
});

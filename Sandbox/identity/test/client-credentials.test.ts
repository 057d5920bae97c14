// Client credentials (app-only tokens): the Dataverse application user and Partner Center webhook
// registration. One `<resource>/.default` scope, the app's secret, a tenant-specific endpoint.
import { DEMO_APPS, DEMO_TENANT_ID, PARTNER_CENTER_RESOURCE, PARTNER_CENTER_WEBHOOKS_RESOURCE } from "../../shared/demo-tenant.ts";
import { DATAVERSE_URL, claimsOf, expectEntraError, startIdentity, type RunningIdentity } from "./helpers.ts";

const TOKEN = `/${DEMO_TENANT_ID}/oauth2/v2.0/token`;
const { relayDataverse, relayPartnerCenter, card } = DEMO_APPS;

describe("identity sandbox: client credentials", () => {
  let sandbox: RunningIdentity;
  beforeAll(async () => {
    sandbox = await startIdentity();
  });
  afterAll(() => sandbox.close());

  const ask = (form: Record<string, string | undefined>, headers?: Record<string, string>) =>
    sandbox.post(TOKEN, { grant_type: "client_credentials", ...form }, headers);

  test("the relay's Dataverse app gets an app-only token for the org URL, in Entra ID's answer shape", async () => {
    const answer = await ask({ client_id: relayDataverse.clientId, client_secret: relayDataverse.clientSecret, scope: `${DATAVERSE_URL}/.default` });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json).sort()).toEqual(["access_token", "expires_in", "ext_expires_in", "token_type"]);
    expect(answer.json).toEqual(expect.objectContaining({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 }));
    expect(answer.headers["cache-control"]).toBe("no-store, no-cache");
    expect(answer.headers.pragma).toBe("no-cache");
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");

    const claims = claimsOf(answer.json.access_token);
    expect(claims).toEqual(expect.objectContaining({
      aud: DATAVERSE_URL, iss: sandbox.issuer, tid: DEMO_TENANT_ID, idtyp: "app", ver: "2.0",
      azp: relayDataverse.clientId, appid: relayDataverse.clientId, azpacr: "1", appidacr: "1",
    }));
    expect(claims.oid).toBe(claims.sub);
    for (const absent of ["scp", "upn", "preferred_username", "name", "amr", "roles"]) expect(claims).not.toHaveProperty(absent);
    expect(claims.exp! - claims.iat!).toBe(3599);
    expect(claims.nbf).toBe(claims.iat);

    const verified = await (await sandbox.verifier(DATAVERSE_URL))(`Bearer ${String(answer.json.access_token)}`);
    expect(verified.appOnly).toBe(true);
  });

  test("client_secret_basic works as well as client_secret_post", async () => {
    const basic = Buffer.from(`${relayPartnerCenter.clientId}:${relayPartnerCenter.clientSecret}`).toString("base64");
    const answer = await ask({ scope: `${PARTNER_CENTER_WEBHOOKS_RESOURCE}/.default` }, { authorization: `Basic ${basic}` });
    expect(answer.status).toBe(200);
    expect(claimsOf(answer.json.access_token).aud).toBe(PARTNER_CENTER_WEBHOOKS_RESOURCE);
  });

  test("an app's own API is addressed by its application ID URI or its bare client id", async () => {
    const byUri = await ask({ client_id: relayPartnerCenter.clientId, client_secret: relayPartnerCenter.clientSecret, scope: `api://${relayPartnerCenter.clientId}/.default` });
    expect(claimsOf(byUri.json.access_token).aud).toBe(`api://${relayPartnerCenter.clientId}`);
    const byId = await ask({ client_id: relayPartnerCenter.clientId, client_secret: relayPartnerCenter.clientSecret, scope: `${relayPartnerCenter.clientId}/.default` });
    expect(claimsOf(byId.json.access_token).aud).toBe(relayPartnerCenter.clientId);
  });

  test("the org URL may be written with a trailing slash", async () => {
    const answer = await ask({ client_id: relayDataverse.clientId, client_secret: relayDataverse.clientSecret, scope: `${DATAVERSE_URL}//.default` });
    expect(claimsOf(answer.json.access_token).aud).toBe(DATAVERSE_URL);
  });

  test("without a secret: AADSTS7000218; a wrong one: AADSTS7000215; both 401 invalid_client", async () => {
    expectEntraError(await ask({ client_id: relayDataverse.clientId, scope: `${DATAVERSE_URL}/.default` }), 401, "invalid_client", 7000218);
    expectEntraError(await ask({ client_id: relayDataverse.clientId, client_secret: "nope", scope: `${DATAVERSE_URL}/.default` }), 401, "invalid_client", 7000215);
  });

  test("a public client (the card) has no credentials: a secret is AADSTS700025, none is AADSTS7000218", async () => {
    expectEntraError(await ask({ client_id: card.clientId, client_secret: "anything", scope: `${PARTNER_CENTER_RESOURCE}/.default` }), 401, "invalid_client", 700025);
    expectEntraError(await ask({ client_id: card.clientId, scope: `${PARTNER_CENTER_RESOURCE}/.default` }), 401, "invalid_client", 7000218);
  });

  test("scopes: /.default only (AADSTS1002012), a known resource (AADSTS500011), one resource (AADSTS28000), present (AADSTS900144)", async () => {
    const app = { client_id: relayDataverse.clientId, client_secret: relayDataverse.clientSecret };
    expectEntraError(await ask({ ...app, scope: `${DATAVERSE_URL}/user_impersonation` }), 400, "invalid_scope", 1002012);
    expectEntraError(await ask({ ...app, scope: `${DATAVERSE_URL}/.default openid` }), 400, "invalid_scope", 1002012);
    expectEntraError(await ask({ ...app, scope: "https://unknown.example.com/.default" }), 400, "invalid_resource", 500011);
    expectEntraError(await ask({ ...app, scope: `${DATAVERSE_URL}/.default ${PARTNER_CENTER_RESOURCE}/.default` }), 400, "invalid_scope", 28000);
    const missing = await ask(app);
    expectEntraError(missing, 400, "invalid_request", 900144);
    expect(missing.json.error_description).toContain("'scope'");
  });

  test("organizations and common carry no tenant for an app: AADSTS50059", async () => {
    const form = { grant_type: "client_credentials", client_id: relayDataverse.clientId, client_secret: relayDataverse.clientSecret, scope: `${DATAVERSE_URL}/.default` };
    expectEntraError(await sandbox.post("/organizations/oauth2/v2.0/token", form), 400, "invalid_request", 50059);
    expectEntraError(await sandbox.post("/common/oauth2/v2.0/token", form), 400, "invalid_request", 50059);
  });

  test("an unknown tenant is AADSTS90002 at the token endpoint", async () => {
    const answer = await sandbox.post("/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token", { grant_type: "client_credentials" });
    expectEntraError(answer, 400, "invalid_request", 90002);
  });

  test("a JSON body is not read: the request has no grant_type", async () => {
    const answer = await sandbox.post(TOKEN, {}, { "content-type": "application/json" });
    expectEntraError(answer, 400, "invalid_request", 900144);
    const json = await sandbox.app.inject({ method: "POST", url: TOKEN, payload: { grant_type: "client_credentials" } });
    expect(json.json()).toEqual(expect.objectContaining({ error: "invalid_request", error_codes: [900144] }));
  });

  test("a grant outside the app's list is unauthorized_client", async () => {
    const answer = await sandbox.post(TOKEN, {
      grant_type: "password", client_id: relayDataverse.clientId, client_secret: relayDataverse.clientSecret,
      username: "x", password: "y", scope: `${DATAVERSE_URL}/.default`,
    });
    expectEntraError(answer, 400, "unauthorized_client", 70003);
  });
});

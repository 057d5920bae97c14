// The control calls that are not about device codes: stats, reset, loopback-only access; and how
// fast the sandbox starts once its certificates exist.
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE } from "../../shared/demo-tenant.ts";
import { DATAVERSE_URL, expectEntraError, startIdentity, tempStateDir, testCa, type RunningIdentity } from "./helpers.ts";
import { createIdentitySandbox } from "../server.ts";

const { script } = DEMO_APPS;
const { seller } = DEMO_USERS;
const TOKEN = `/${DEMO_TENANT_ID}/oauth2/v2.0/token`;

describe("identity sandbox: control calls", () => {
  let sandbox: RunningIdentity;
  beforeAll(async () => {
    sandbox = await startIdentity();
  });
  afterAll(() => sandbox.close());

  const signIn = () => sandbox.post(TOKEN, {
    grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret,
    username: seller.username, password: seller.password, scope: `${PARTNER_CENTER_RESOURCE}/.default offline_access`,
  });

  test("stats count the Entra ID API's requests by route pattern and status, unmatched paths included, control calls not", async () => {
    await sandbox.control("/sandbox/reset");
    await sandbox.get(`/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`);
    await sandbox.get("/organizations/v2.0/.well-known/openid-configuration");
    await sandbox.get("/nope/v2.0/.well-known/openid-configuration");
    await signIn();
    await sandbox.post(TOKEN, { grant_type: "client_credentials" });
    await sandbox.get("/no/such/path?x=1");
    await sandbox.get("/sandbox/device/pending");

    const stats = await sandbox.stats();
    expect(stats.routes).toEqual({
      "GET /:tenant/v2.0/.well-known/openid-configuration": { "200": 2, "400": 1 },
      "POST /:tenant/oauth2/v2.0/token": { "200": 1, "400": 1 },
      "GET /no/such/path": { "404": 1 },
    });
    expect(stats.total).toBe(6);
    expect(stats).toEqual(expect.objectContaining({ since: expect.any(String), liveRefreshTokens: 1, pendingDeviceCodes: 0 }));
  });

  test("reset forgets refresh tokens, device codes and stats; the signing key stays", async () => {
    const keysBefore = await sandbox.get(`/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
    const signedIn = await signIn();
    await sandbox.post(`/${DEMO_TENANT_ID}/oauth2/v2.0/devicecode`, { client_id: DEMO_APPS.relayPartnerCenter.clientId, scope: "openid offline_access" });

    const reset = await sandbox.control("/sandbox/reset");
    expect(reset.status).toBe(204);
    const stats = await sandbox.stats();
    expect(stats).toEqual(expect.objectContaining({ total: 0, routes: {}, liveRefreshTokens: 0, pendingDeviceCodes: 0 }));

    const refreshed = await sandbox.post(TOKEN, {
      grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret,
      refresh_token: String(signedIn.json.refresh_token), scope: `${DATAVERSE_URL}/.default`,
    });
    expectEntraError(refreshed, 400, "invalid_grant", 9002313);
    const keysAfter = await sandbox.get(`/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
    expect(keysAfter.json).toEqual(keysBefore.json);
  });

  test("control calls answer loopback callers only", async () => {
    const remote = await sandbox.app.inject({ method: "POST", url: "/sandbox/reset", remoteAddress: "10.1.2.3" });
    expect(remote.statusCode).toBe(403);
    const local = await sandbox.app.inject({ method: "GET", url: "/sandbox/stats", remoteAddress: "127.0.0.1" });
    expect(local.statusCode).toBe(200);
    // The Entra ID API itself has no such restriction (the server only listens on loopback anyway).
    const api = await sandbox.app.inject({ method: "GET", url: `/${DEMO_TENANT_ID}/discovery/v2.0/keys`, remoteAddress: "10.1.2.3" });
    expect(api.statusCode).toBe(200);
  });
});

describe("identity sandbox: start-up", () => {
  test("starts (built and listening) well under a second once certificates and keys exist", async () => {
    const ca = await testCa();
    const stateDir = tempStateDir();
    const options = { baseUrl: "https://127.0.0.1:0", tls: ca.server, stateDir, dataverseUrl: DATAVERSE_URL };
    // First start makes the signing key and its certificate.
    const first = await createIdentitySandbox(options);
    await first.close();

    const started = performance.now();
    const app = await createIdentitySandbox(options);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const elapsed = performance.now() - started;
    await app.close();
    console.log(`identity sandbox start-up: ${elapsed.toFixed(1)} ms`);
    expect(elapsed).toBeLessThan(1000);
  });
});

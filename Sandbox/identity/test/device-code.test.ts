// The device code flow at the protocol level: /devicecode, polling the token endpoint
// (authorization_pending, slow_down, authorization_declined, expired_token, bad_verification_code),
// and the control calls and sign-in page that play the person approving it.
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE } from "../../shared/demo-tenant.ts";
import { claimsOf, expectEntraError, sleep, startIdentity, type RunningIdentity } from "./helpers.ts";

const { relayPartnerCenter, relayDataverse } = DEMO_APPS;
const { referralsAdmin, seller } = DEMO_USERS;
const SCOPE = `${PARTNER_CENTER_RESOURCE}/.default openid profile offline_access`;
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

describe("identity sandbox: device code flow", () => {
  let sandbox: RunningIdentity;
  beforeAll(async () => {
    sandbox = await startIdentity();
  });
  afterAll(() => sandbox.close());

  const start = (clientId: string = relayPartnerCenter.clientId, tenant: string = DEMO_TENANT_ID) =>
    sandbox.post(`/${tenant}/oauth2/v2.0/devicecode`, { client_id: clientId, scope: SCOPE });
  const poll = (deviceCode: unknown, clientId: string = relayPartnerCenter.clientId, tenant: string = DEMO_TENANT_ID) =>
    sandbox.post(`/${tenant}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: clientId, device_code: String(deviceCode), client_info: "1" });

  test("the device code answer has Entra ID's fields: 15 minutes, poll every 5 seconds", async () => {
    const answer = await start();
    expect(answer.status).toBe(200);
    expect(answer.headers["cache-control"]).toBe("no-store, no-cache");
    expect(Object.keys(answer.json).sort()).toEqual(["device_code", "expires_in", "interval", "message", "user_code", "verification_uri"]);
    expect(answer.json).toEqual(expect.objectContaining({
      user_code: expect.stringMatching(/^[A-Z0-9]{9}$/),
      device_code: expect.any(String),
      verification_uri: `${sandbox.baseUrl}/sandbox/device`,
      expires_in: 900,
      interval: 5,
    }));
    expect(answer.json.message).toBe(`To sign in, use a web browser to open the page ${sandbox.baseUrl}/sandbox/device and enter the code ${String(answer.json.user_code)} to authenticate.`);
  });

  test("device code request errors: no client_id, unknown app, no scope, unknown resource, unknown tenant", async () => {
    const at = `/${DEMO_TENANT_ID}/oauth2/v2.0/devicecode`;
    expectEntraError(await sandbox.post(at, { scope: SCOPE }), 400, "invalid_request", 900144);
    expectEntraError(await sandbox.post(at, { client_id: "0e0e0e0e-1111-4222-8333-444444444444", scope: SCOPE }), 400, "unauthorized_client", 700016);
    expectEntraError(await sandbox.post(at, { client_id: relayPartnerCenter.clientId }), 400, "invalid_request", 900144);
    expectEntraError(await sandbox.post(at, { client_id: relayPartnerCenter.clientId, scope: "https://nowhere.example/.default" }), 400, "invalid_resource", 500011);
    expectEntraError(await sandbox.post("/not-a-tenant/oauth2/v2.0/devicecode", { client_id: relayPartnerCenter.clientId, scope: SCOPE }), 400, "invalid_request", 90002);
    expectEntraError(await sandbox.get(at), 400, "invalid_request", 900561);
  });

  test("pending, then slow_down when polled too fast, then tokens once the user approves with MFA", async () => {
    const code = await start();
    expectEntraError(await poll(code.json.device_code), 400, "authorization_pending", 70016);
    expectEntraError(await poll(code.json.device_code), 400, "slow_down", 70016);

    const approved = await sandbox.control("/sandbox/device/approve", { user_code: code.json.user_code, username: referralsAdmin.username });
    expect(approved.status).toBe(200);
    expect(approved.json).toEqual(expect.objectContaining({ user_code: code.json.user_code, status: "approved", username: referralsAdmin.username, client_id: relayPartnerCenter.clientId }));

    const tokens = await poll(code.json.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.json).toEqual(expect.objectContaining({ token_type: "Bearer", refresh_token: expect.any(String), id_token: expect.any(String), client_info: expect.any(String) }));
    const claims = claimsOf(tokens.json.access_token);
    expect(claims).toEqual(expect.objectContaining({ aud: PARTNER_CENTER_RESOURCE, oid: referralsAdmin.oid, scp: "user_impersonation", azpacr: "0" }));
    expect(claims.amr).toEqual(expect.arrayContaining(["mfa"]));
    await (await sandbox.verifier(PARTNER_CENTER_RESOURCE))(`Bearer ${String(tokens.json.access_token)}`);

    // A device code is redeemed once.
    expectEntraError(await poll(code.json.device_code), 400, "bad_verification_code", 70000);
  });

  test("a declined sign-in is authorization_declined, and cannot be approved afterwards", async () => {
    const code = await start();
    const declined = await sandbox.control("/sandbox/device/deny", { user_code: code.json.user_code });
    expect(declined.json.status).toBe("declined");
    expectEntraError(await poll(code.json.device_code), 400, "authorization_declined", 65004);
    const late = await sandbox.control("/sandbox/device/approve", { user_code: code.json.user_code, username: seller.username });
    expect(late.status).toBe(409);
    expect(late.json.error).toBe("already_answered");
  });

  test("an expired device code is expired_token (AADSTS70020), and its user code can no longer be approved", async () => {
    const short = await startIdentity({ deviceCodeLifetimeSeconds: 1, stateDir: sandbox.stateDir });
    try {
      const code = await short.post(`/${DEMO_TENANT_ID}/oauth2/v2.0/devicecode`, { client_id: relayPartnerCenter.clientId, scope: SCOPE });
      expect(code.json.expires_in).toBe(1);
      await sleep(1100);
      const answer = await short.post(`/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: relayPartnerCenter.clientId, device_code: String(code.json.device_code) });
      expectEntraError(answer, 400, "expired_token", 70020);
      const approve = await short.control("/sandbox/device/approve", { user_code: code.json.user_code, username: seller.username });
      expect(approve.status).toBe(410);
    } finally {
      await short.close();
    }
  });

  test("an unknown device code is bad_verification_code; an app outside the grant is unauthorized_client", async () => {
    expectEntraError(await poll("DAQABIQEAAADnope"), 400, "bad_verification_code", 70000);
    const code = await start();
    expectEntraError(await poll(code.json.device_code, DEMO_APPS.card.clientId), 400, "unauthorized_client", 70003);
    expectEntraError(await sandbox.post(`/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { grant_type: DEVICE_GRANT, client_id: relayPartnerCenter.clientId }), 400, "invalid_request", 900144);
  });

  test("an app without public client flows gets a code but must use its secret to redeem it (AADSTS7000218)", async () => {
    const code = await start(relayDataverse.clientId);
    expect(code.status).toBe(200);
    expectEntraError(await poll(code.json.device_code, relayDataverse.clientId), 401, "invalid_client", 7000218);
  });

  test("organizations works for device code sign-in; tokens name the user's tenant as issuer", async () => {
    const code = await start(relayPartnerCenter.clientId, "organizations");
    await sandbox.control("/sandbox/device/approve", { user_code: code.json.user_code, username: seller.username });
    const tokens = await poll(code.json.device_code, relayPartnerCenter.clientId, "organizations");
    expect(tokens.status).toBe(200);
    expect(claimsOf(tokens.json.access_token)).toEqual(expect.objectContaining({ iss: sandbox.issuer, tid: DEMO_TENANT_ID }));
  });

  test("control call errors: unknown code 404, unknown user 404, bad body 400; user codes ignore case and dashes", async () => {
    expect((await sandbox.control("/sandbox/device/approve", { user_code: "ZZZZZZZZZ", username: seller.username })).status).toBe(404);
    const code = await start();
    const unknownUser = await sandbox.control("/sandbox/device/approve", { user_code: code.json.user_code, username: "ghost@contoso-sandbox.onmicrosoft.com" });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.json.error).toBe("unknown_user");
    expect((await sandbox.control("/sandbox/device/approve", { username: seller.username })).status).toBe(400);
    const userCode = String(code.json.user_code);
    const spaced = `${userCode.slice(0, 4).toLowerCase()}-${userCode.slice(4)}`;
    expect((await sandbox.control("/sandbox/device/approve", { user_code: spaced, username: seller.username })).status).toBe(200);
  });

  test("waiting sign-ins are listed for scripts", async () => {
    const code = await start();
    const pending = await sandbox.get("/sandbox/device/pending");
    expect(pending.json.value).toEqual(expect.arrayContaining([expect.objectContaining({ user_code: code.json.user_code, client_id: relayPartnerCenter.clientId, status: "pending" })]));
  });

  test("a person can approve on the sign-in page; the app's next poll gets tokens", async () => {
    const code = await start();
    const page = await sandbox.get(`/sandbox/device?user_code=${String(code.json.user_code)}`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain(`value="${String(code.json.user_code)}"`);
    expect(page.text).toContain(`<code>${String(code.json.user_code)}</code>`);
    expect(page.text).toContain(referralsAdmin.username);

    const submitted = await sandbox.post("/sandbox/device", { user_code: String(code.json.user_code), username: referralsAdmin.username, action: "approve" });
    expect(submitted.status).toBe(200);
    expect(submitted.text).toContain(`Signed in as ${referralsAdmin.username}`);
    const tokens = await poll(code.json.device_code);
    expect(claimsOf(tokens.json.access_token).oid).toBe(referralsAdmin.oid);

    const again = await sandbox.post("/sandbox/device", { user_code: String(code.json.user_code), username: referralsAdmin.username, action: "deny" });
    expect(again.status).toBe(404);
    expect(again.text).toContain("No sign-in is waiting for that code.");
  });
});

// Delegated tokens through the password grant (the sandbox's convenience for the script and card
// clients) and refresh tokens: claims, id token, client_info, rotation, multi-resource use,
// revocation, and persistence across a sandbox restart.
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE } from "../../shared/demo-tenant.ts";
import { DATAVERSE_URL, claimsOf, expectEntraError, startIdentity, type RunningIdentity } from "./helpers.ts";

const TOKEN = `/${DEMO_TENANT_ID}/oauth2/v2.0/token`;
const { script, card, relayPartnerCenter, relayDataverse } = DEMO_APPS;
const { seller, referralsAdmin } = DEMO_USERS;
const PC_SCOPE = `${PARTNER_CENTER_RESOURCE}/.default openid profile offline_access`;

describe("identity sandbox: password grant and refresh tokens", () => {
  let sandbox: RunningIdentity;
  beforeAll(async () => {
    sandbox = await startIdentity({ accessTokenLifetimeSeconds: 600 });
  });
  afterAll(() => sandbox.close());

  const signIn = (user: { username: string; password: string }, form: Record<string, string> = {}) =>
    sandbox.post(TOKEN, {
      grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret,
      username: user.username, password: user.password, scope: PC_SCOPE, ...form,
    });

  test("a demo user's sign-in gives a delegated token with scp, user claims and an MFA amr", async () => {
    const answer = await signIn(seller);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(expect.objectContaining({
      token_type: "Bearer",
      scope: `${PARTNER_CENTER_RESOURCE}/user_impersonation ${PARTNER_CENTER_RESOURCE}/.default`,
      expires_in: 600,
      ext_expires_in: 600,
      refresh_token: expect.stringMatching(/^0\.A/),
      id_token: expect.any(String),
    }));
    expect(answer.json).not.toHaveProperty("client_info");

    const claims = claimsOf(answer.json.access_token);
    expect(claims).toEqual(expect.objectContaining({
      aud: PARTNER_CENTER_RESOURCE, iss: sandbox.issuer, tid: DEMO_TENANT_ID, ver: "2.0",
      scp: "user_impersonation", oid: seller.oid, upn: seller.username, preferred_username: seller.username,
      name: seller.displayName, given_name: seller.givenName, family_name: seller.surname,
      amr: ["pwd", "mfa"], azp: script.clientId, appid: script.clientId, azpacr: "1", idtyp: "user",
    }));
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(claims).not.toHaveProperty("roles");
    const verified = await (await sandbox.verifier(PARTNER_CENTER_RESOURCE))(`Bearer ${String(answer.json.access_token)}`);
    expect(verified.appOnly).toBe(false);

    const idToken = claimsOf(answer.json.id_token);
    expect(idToken).toEqual(expect.objectContaining({
      aud: script.clientId, iss: sandbox.issuer, tid: DEMO_TENANT_ID, oid: seller.oid,
      preferred_username: seller.username, name: seller.displayName, sub: expect.any(String),
    }));
    expect(idToken.sub).toBe(claims.sub);
  });

  test("client_info=1 adds base64url {uid, utid}, which MSAL uses as the account's home id", async () => {
    const answer = await signIn(seller, { client_info: "1" });
    expect(answer.json.client_info).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(String(answer.json.client_info), "base64url").toString())).toEqual({ uid: seller.oid, utid: DEMO_TENANT_ID });
  });

  test("the card (a public client) signs in without a secret; its tokens say so (azpacr 0)", async () => {
    const answer = await sandbox.post(TOKEN, {
      grant_type: "password", client_id: card.clientId, username: seller.username, password: seller.password,
      scope: `api://${relayPartnerCenter.clientId}/user_impersonation openid`,
    });
    expect(answer.status).toBe(200);
    const claims = claimsOf(answer.json.access_token);
    expect(claims).toEqual(expect.objectContaining({ aud: `api://${relayPartnerCenter.clientId}`, scp: "user_impersonation", azpacr: "0", azp: card.clientId }));
    expect(answer.json).not.toHaveProperty("refresh_token");
  });

  test("only OpenID scopes give a Microsoft Graph token, as in Entra ID", async () => {
    const answer = await signIn(seller, { scope: "openid profile offline_access" });
    expect(claimsOf(answer.json.access_token).aud).toBe("00000003-0000-0000-c000-000000000000");
    expect(answer.json.scope).toBe("openid profile");
  });

  test("wrong password AADSTS50126, unknown user AADSTS50034, missing fields AADSTS900144", async () => {
    expectEntraError(await signIn({ username: seller.username, password: "wrong" }), 400, "invalid_grant", 50126);
    expectEntraError(await signIn({ username: "nobody@contoso-sandbox.onmicrosoft.com", password: "x" }), 400, "invalid_grant", 50034);
    expectEntraError(await sandbox.post(TOKEN, { grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret, scope: PC_SCOPE }), 400, "invalid_request", 900144);
  });

  test("the password grant is for the script and card clients only, and not on /common", async () => {
    const relay = await sandbox.post(TOKEN, {
      grant_type: "password", client_id: relayPartnerCenter.clientId, username: seller.username, password: seller.password, scope: PC_SCOPE,
    });
    expectEntraError(relay, 400, "unauthorized_client", 70003);
    // An app without public client flows must prove itself first, as in Entra ID.
    const dataverseApp = await sandbox.post(TOKEN, {
      grant_type: "password", client_id: relayDataverse.clientId, username: seller.username, password: seller.password, scope: PC_SCOPE,
    });
    expectEntraError(dataverseApp, 401, "invalid_client", 7000218);
    const common = await sandbox.post("/common/oauth2/v2.0/token", {
      grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret, username: seller.username, password: seller.password, scope: PC_SCOPE,
    });
    expectEntraError(common, 400, "invalid_request", 9001023);
    const organizations = await sandbox.post("/organizations/oauth2/v2.0/token", {
      grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret, username: seller.username, password: seller.password, scope: PC_SCOPE,
    });
    expect(organizations.status).toBe(200);
    expect(claimsOf(organizations.json.access_token).iss).toBe(sandbox.issuer);
  });

  test("delegated scopes: a permission the resource lacks, .default mixed with others, two resources", async () => {
    expectEntraError(await signIn(seller, { scope: `${PARTNER_CENTER_RESOURCE}/Referrals.ReadWrite` }), 400, "invalid_scope", 70011);
    expectEntraError(await signIn(seller, { scope: `${PARTNER_CENTER_RESOURCE}/.default ${PARTNER_CENTER_RESOURCE}/user_impersonation` }), 400, "invalid_scope", 70011);
    expectEntraError(await signIn(seller, { scope: `${PARTNER_CENTER_RESOURCE}/.default ${DATAVERSE_URL}/.default` }), 400, "invalid_scope", 28000);
    expectEntraError(await signIn(seller, { scope: "User.Read" }), 400, "invalid_scope", 70011);
  });

  test("a refresh token gives new tokens and a new refresh token; the old one stays valid; other resources too", async () => {
    const first = await signIn(referralsAdmin);
    const refresh = (refreshToken: string, scope: string) =>
      sandbox.post(TOKEN, { grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret, refresh_token: refreshToken, scope, client_info: "1" });

    const second = await refresh(String(first.json.refresh_token), PC_SCOPE);
    expect(second.status).toBe(200);
    expect(second.json.refresh_token).toEqual(expect.any(String));
    expect(second.json.refresh_token).not.toBe(first.json.refresh_token);
    expect(second.json.client_info).toEqual(expect.any(String));
    const claims = claimsOf(second.json.access_token);
    expect(claims).toEqual(expect.objectContaining({ oid: referralsAdmin.oid, amr: ["pwd", "mfa"], aud: PARTNER_CENTER_RESOURCE }));
    expect(claims.sid).toBe(claimsOf(first.json.access_token).sid);

    const dataverse = await refresh(String(first.json.refresh_token), `${DATAVERSE_URL}/.default openid offline_access`);
    expect(dataverse.status).toBe(200);
    expect(claimsOf(dataverse.json.access_token)).toEqual(expect.objectContaining({ aud: DATAVERSE_URL, scp: "user_impersonation" }));

    const withoutScope = await sandbox.post(TOKEN, { grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret, refresh_token: String(second.json.refresh_token) });
    expect(claimsOf(withoutScope.json.access_token).aud).toBe(PARTNER_CENTER_RESOURCE);
  });

  test("refresh token errors: unknown, another client's, and a confidential client's without its secret", async () => {
    const first = await signIn(seller);
    const form = { grant_type: "refresh_token", scope: PC_SCOPE };
    expectEntraError(await sandbox.post(TOKEN, { ...form, client_id: script.clientId, client_secret: script.clientSecret, refresh_token: "0.Agarbage" }), 400, "invalid_grant", 9002313);
    expectEntraError(await sandbox.post(TOKEN, { ...form, client_id: card.clientId, refresh_token: String(first.json.refresh_token) }), 400, "invalid_grant", 70000);
    expectEntraError(await sandbox.post(TOKEN, { ...form, client_id: script.clientId, refresh_token: String(first.json.refresh_token) }), 401, "invalid_client", 7000218);
    expectEntraError(await sandbox.post(TOKEN, { ...form, client_id: script.clientId, client_secret: script.clientSecret }), 400, "invalid_request", 900144);
  });

  test("revoking a user's sign-ins ends their refresh tokens (AADSTS50173, bad_token) and no one else's", async () => {
    const seller1 = await signIn(seller);
    const admin1 = await signIn(referralsAdmin);
    const revoked = await sandbox.control("/sandbox/refresh-tokens/revoke", { username: seller.username });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revoked).toBeGreaterThanOrEqual(1);

    const refresh = (token: unknown) => sandbox.post(TOKEN, { grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret, refresh_token: String(token), scope: PC_SCOPE });
    const denied = await refresh(seller1.json.refresh_token);
    expectEntraError(denied, 400, "invalid_grant", 50173);
    expect(denied.json.suberror).toBe("bad_token");
    expect((await refresh(admin1.json.refresh_token)).status).toBe(200);

    // Signing in again works.
    const seller2 = await signIn(seller);
    expect((await refresh(seller2.json.refresh_token)).status).toBe(200);
  });

  test("revoking an unknown user is 404; revoking with no body revokes everyone's", async () => {
    expect((await sandbox.control("/sandbox/refresh-tokens/revoke", { username: "ghost@contoso-sandbox.onmicrosoft.com" })).status).toBe(404);
    const admin = await signIn(referralsAdmin);
    const all = await sandbox.control("/sandbox/refresh-tokens/revoke");
    expect(all.status).toBe(200);
    expect(all.json.revoked).toBeGreaterThanOrEqual(1);
    const refreshed = await sandbox.post(TOKEN, { grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret, refresh_token: String(admin.json.refresh_token), scope: PC_SCOPE });
    expectEntraError(refreshed, 400, "invalid_grant", 50173);
  });

  test("refresh tokens and their revocation survive a sandbox restart", async () => {
    const first = await startIdentity();
    const live = await first.post(TOKEN, { grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret, username: seller.username, password: seller.password, scope: PC_SCOPE });
    const doomed = await first.post(TOKEN, { grant_type: "password", client_id: script.clientId, client_secret: script.clientSecret, username: referralsAdmin.username, password: referralsAdmin.password, scope: PC_SCOPE });
    await first.control("/sandbox/refresh-tokens/revoke", { username: referralsAdmin.username });
    await first.close();

    const second = await startIdentity({ stateDir: first.stateDir });
    try {
      const refresh = (token: unknown) => second.post(TOKEN, { grant_type: "refresh_token", client_id: script.clientId, client_secret: script.clientSecret, refresh_token: String(token), scope: PC_SCOPE });
      const renewed = await refresh(live.json.refresh_token);
      expect(renewed.status).toBe(200);
      // Tokens from the restarted sandbox verify with the same keys and its own issuer.
      await (await second.verifier(PARTNER_CENTER_RESOURCE))(`Bearer ${String(renewed.json.access_token)}`);
      expectEntraError(await refresh(doomed.json.refresh_token), 400, "invalid_grant", 50173);
    } finally {
      await second.close();
    }
  });
});

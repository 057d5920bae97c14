// The browser sign-in msal-browser uses from a single-page app, as Entra ID's v2.0 endpoint answers it:
// the authorization code flow with PKCE (S256), response_mode query and fragment, prompt=none answered
// login_required without a session, login_hint, the session cookie from the sign-in page or a control
// call, redirect URIs checked against the app's SPA redirect URIs, and codes redeemed cross-origin only
// (Origin header, CORS), with 24-hour refresh tokens.
import { randomBytes } from "node:crypto";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, SIGN_IN_REDIRECT_PATH } from "../../shared/demo-tenant.ts";
import { s256, SESSION_COOKIE } from "../authorize.ts";
import { join } from "node:path";
import { RefreshTokenStore, SPA_REFRESH_TOKEN_LIFETIME_SECONDS } from "../refresh-tokens.ts";
import { claimsOf, DATAVERSE_URL, expectEntraError, startIdentity, tempStateDir, type HttpAnswer, type RunningIdentity } from "./helpers.ts";

const { cardSignIn, card, script } = DEMO_APPS;
const { seller, referralsAdmin } = DEMO_USERS;
const AUTHORIZE = `/${DEMO_TENANT_ID}/oauth2/v2.0/authorize`;
const TOKEN = `/${DEMO_TENANT_ID}/oauth2/v2.0/token`;
const REDIRECT = `${DATAVERSE_URL}${SIGN_IN_REDIRECT_PATH}`;
const ORG = new URL(DATAVERSE_URL).origin;
const SCOPE = `api://${card.clientId}/user_impersonation`;
const MSAL_SCOPES = `${SCOPE} openid profile offline_access`;

let sandbox: RunningIdentity;
beforeAll(async () => {
  sandbox = await startIdentity();
});
afterAll(() => sandbox.close());

interface Pkce {
  verifier: string;
  challenge: string;
}
const pkce = (): Pkce => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: s256(verifier) };
};

function authorizeUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({
    client_id: cardSignIn.clientId, response_type: "code", redirect_uri: REDIRECT, scope: MSAL_SCOPES, state: "state-1", nonce: "nonce-1",
    code_challenge_method: "S256", client_info: "1", ...params,
  })) if (value !== undefined) query.append(name, value);
  return `${AUTHORIZE}?${query.toString()}`;
}

/** The parameters the sandbox sent back to the redirect URI (302 Location, in the query or the fragment). */
function returned(answer: HttpAnswer, mode: "query" | "fragment" = "query"): URLSearchParams {
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers.location!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return new URLSearchParams(mode === "fragment" ? location.hash.slice(1) : location.search);
}

async function sessionFor(username: string): Promise<string> {
  const answer = await sandbox.control("/sandbox/sessions", { username });
  expect(answer.status).toBe(200);
  const cookie = answer.json.cookie as { name: string; value: string };
  expect(cookie.name).toBe(SESSION_COOKIE);
  expect(answer.headers["set-cookie"]).toMatch(/; Secure; HttpOnly; SameSite=None$/);
  return `${cookie.name}=${cookie.value}`;
}

const redeem = (code: string, verifier: string, headers: Record<string, string> = { origin: ORG }, extra: Record<string, string> = {}) =>
  sandbox.post(TOKEN, { grant_type: "authorization_code", client_id: cardSignIn.clientId, code, redirect_uri: REDIRECT, code_verifier: verifier, scope: MSAL_SCOPES, client_info: "1", ...extra }, headers);

describe("the authorization endpoint", () => {
  test("prompt=none without a session: login_required back to the app, in the fragment when asked, with state", async () => {
    const { challenge } = pkce();
    const answer = await sandbox.get(authorizeUrl({ prompt: "none", response_mode: "fragment", code_challenge: challenge, login_hint: seller.username }));
    const params = returned(answer, "fragment");
    expect(params.get("error")).toBe("login_required");
    expect(params.get("error_description")).toMatch(/^AADSTS50058: /);
    expect(params.get("state")).toBe("state-1");
  });

  test("prompt=none with the seller's session and login_hint: a code in the query; another user's hint: interaction_required", async () => {
    const cookie = await sessionFor(seller.username);
    const { challenge } = pkce();
    const ok = returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: challenge, login_hint: seller.username.toUpperCase() }), { cookie }));
    expect(ok.get("code")).toMatch(/^1\.A/);
    expect(ok.get("state")).toBe("state-1");
    expect(JSON.parse(Buffer.from(ok.get("client_info")!, "base64url").toString())).toEqual({ uid: seller.oid, utid: DEMO_TENANT_ID });
    const other = returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: challenge, login_hint: referralsAdmin.username }), { cookie }));
    expect(other.get("error")).toBe("interaction_required");
  });

  test("an unknown app or a redirect URI that is not the app's: an error page, never a redirect", async () => {
    const unknown = await sandbox.get(authorizeUrl({ client_id: "00000000-0000-4000-8000-000000000000", code_challenge: pkce().challenge }));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.location).toBeUndefined();
    expect(unknown.text).toContain("AADSTS700016");
    const elsewhere = await sandbox.get(authorizeUrl({ redirect_uri: "https://evil.example/steal", code_challenge: pkce().challenge }));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.location).toBeUndefined();
    expect(elsewhere.text).toContain("AADSTS50011");
    // The card app has no SPA redirect URI of its own.
    expect((await sandbox.get(authorizeUrl({ client_id: script.clientId, code_challenge: pkce().challenge }))).text).toContain("AADSTS50011");
  });

  test("PKCE: required, and S256 only", async () => {
    expect(returned(await sandbox.get(authorizeUrl({ prompt: "none" }))).get("error_description")).toMatch(/^AADSTS9002325: /);
    const plain = returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: "abc", code_challenge_method: "plain" })));
    expect(plain.get("error")).toBe("invalid_request");
  });

  test("an added SPA redirect URI is taken, as after an admin adds it to the registration", async () => {
    const added = `http://127.0.0.1:9${SIGN_IN_REDIRECT_PATH}`;
    expect((await sandbox.get(authorizeUrl({ redirect_uri: added, code_challenge: pkce().challenge }))).status).toBe(400);
    const answer = await sandbox.control(`/sandbox/apps/${cardSignIn.clientId}/redirect-uris`, { redirectUri: added });
    expect(answer.json.spaRedirectUris).toEqual([REDIRECT, added]);
    const page = await sandbox.get(authorizeUrl({ redirect_uri: added, code_challenge: pkce().challenge }));
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="password"');
  });
});

describe("the sign-in page and the code", () => {
  test("the page signs the seller in (session cookie), the code is redeemed cross-origin with the verifier, once", async () => {
    const { verifier, challenge } = pkce();
    const page = await sandbox.get(authorizeUrl({ code_challenge: challenge, login_hint: seller.username, response_mode: "fragment" }));
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain(`value="${seller.username}"`);
    const request = /name="request" value="([^"]+)"/.exec(page.text)![1]!;

    const wrong = await sandbox.post(`/${DEMO_TENANT_ID}/login`, { request, username: seller.username, password: "nope" });
    expect(wrong.status).toBe(200);
    expect(wrong.text).toContain("Your account or password is incorrect.");

    const signedIn = await sandbox.post(`/${DEMO_TENANT_ID}/login`, { request, username: seller.username, password: seller.password });
    expect(signedIn.headers["set-cookie"]).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]+; Path=/; Secure; HttpOnly; SameSite=None$`));
    const code = returned(signedIn, "fragment").get("code")!;

    const token = await redeem(code, verifier);
    expect(token.status).toBe(200);
    expect(token.headers["access-control-allow-origin"]).toBe("*");
    const claims = claimsOf(token.json.access_token);
    expect(claims).toMatchObject({ aud: `api://${card.clientId}`, azp: cardSignIn.clientId, oid: seller.oid, scp: "user_impersonation", tid: DEMO_TENANT_ID, preferred_username: seller.username });
    expect(claimsOf(token.json.id_token)).toMatchObject({ aud: cardSignIn.clientId, nonce: "nonce-1", oid: seller.oid });
    expect(token.json.refresh_token).toEqual(expect.any(String));
    expect(token.json.client_info).toEqual(expect.any(String));

    expectEntraError(await redeem(code, verifier), 400, "invalid_grant", 54005);

    // The cookie the page set signs the seller in silently from now on.
    const cookie = signedIn.headers["set-cookie"]!.split(";")[0]!;
    expect(returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: challenge, login_hint: seller.username }), { cookie })).get("code")).toBeTruthy();
  });

  test("a wrong verifier, or a SPA code redeemed without an Origin header, is refused", async () => {
    const cookie = await sessionFor(seller.username);
    const { verifier, challenge } = pkce();
    const codeFor = async () => returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: challenge }), { cookie })).get("code")!;
    expectEntraError(await redeem(await codeFor(), pkce().verifier), 400, "invalid_grant", 501481);
    expectEntraError(await redeem(await codeFor(), verifier, {}), 400, "invalid_request", 9002327);
  });

  test("SPA refresh tokens: cross-origin only, and they end 24 hours after the sign-in", async () => {
    const cookie = await sessionFor(seller.username);
    const { verifier, challenge } = pkce();
    const code = returned(await sandbox.get(authorizeUrl({ prompt: "none", code_challenge: challenge }), { cookie })).get("code")!;
    const refreshToken = String((await redeem(code, verifier)).json.refresh_token);
    const refresh = (headers: Record<string, string>) =>
      sandbox.post(TOKEN, { grant_type: "refresh_token", client_id: cardSignIn.clientId, refresh_token: refreshToken, scope: MSAL_SCOPES }, headers);
    expectEntraError(await refresh({}), 400, "invalid_request", 9002327);
    const refreshed = await refresh({ origin: ORG });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers["access-control-allow-origin"]).toBe("*");

    // The lifetime counts from the sign-in, not from the last refresh.
    expect(SPA_REFRESH_TOKEN_LIFETIME_SECONDS).toBe(86_400);
    const store = new RefreshTokenStore(join(tempStateDir(), "refresh-tokens.json"));
    const signedInAt = Date.now();
    const session = { clientId: cardSignIn.clientId, oid: seller.oid, username: seller.username, amr: ["pwd"], sid: "s", confidential: false, scope: MSAL_SCOPES, spa: { signedInAt } };
    const later = store.issue(session, signedInAt + 23 * 3_600_000);
    expect(store.redeem(later, signedInAt + 86_400_000 - 1000).status).toBe("valid");
    expect(store.redeem(later, signedInAt + 86_400_000 + 1000).status).toBe("expired");
  });

  test("the token endpoint answers a browser's preflight", async () => {
    const answer = await sandbox.get(TOKEN);
    expect(answer.status).toBe(400); // GET is not allowed; OPTIONS is
    const { request } = await import("undici");
    const preflight = await request(`${sandbox.baseUrl}${TOKEN}`, { method: "OPTIONS", headers: { origin: ORG, "access-control-request-method": "POST" }, dispatcher: sandbox.agent });
    expect(preflight.statusCode).toBe(200);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    await preflight.body.text();
  });
});

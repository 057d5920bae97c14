// The status page's admin sign-in over HTTP, with real tokens from the identity sandbox (the password grant
// stands in for the browser's sign-in, which status-page.browser.test.ts does in Chromium): the relay takes
// a token for the client API only with the Relay.Admin app role, which the tenant's admin assigns and
// removes (the sandbox's Enterprise applications → Users and groups); the session cookie cannot be forged.
import { request } from "undici";
import { DEMO_APPS, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { control, startSandboxesForRelay, startTestRelay, type Sandboxes, type TestRelay } from "../edge/helpers.ts";

let sandboxes: Sandboxes;
let t: TestRelay;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sandboxes?.close();
});

/** A user's access token for the client API (the card app's API), as msal-browser would get it. */
async function tokenFor(user: { username: string; password: string }): Promise<string> {
  const answer = await request(sandboxes.running.endpoints.tokenEndpoint, {
    method: "POST", dispatcher: sandboxes.agent,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: DEMO_APPS.card.clientId, username: user.username, password: user.password, scope: `api://${DEMO_APPS.card.clientId}/user_impersonation` }).toString(),
  });
  const body = (await answer.body.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function signIn(token: string, headers: Record<string, string> = { "x-requested-with": "pcr-ui" }) {
  const answer = await request(`${t.relay.url}/ui/session`, { method: "POST", headers: { ...headers, authorization: `Bearer ${token}` } });
  const text = await answer.body.text();
  const cookie = String(answer.headers["set-cookie"] ?? "").split(";")[0]!;
  return { status: answer.statusCode, body: text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {}, cookie };
}

async function ui(cookie: string): Promise<string> {
  return (await request(`${t.relay.url}/ui`, { headers: { cookie } })).body.text();
}

const assignment = (path: "" | "/remove", username: string) =>
  control<{ roles: string[] }>(sandboxes, "identity", `/sandbox/apps/${DEMO_APPS.card.clientId}/app-role-assignments${path}`, { username, role: "Relay.Admin" });

test("the sign-in page offers Sign in with Microsoft with the client API's app registration, and the step key as break-glass", async () => {
  const html = await ui("");
  expect(html).toContain(`data-client-id="${DEMO_APPS.cardSignIn.clientId}"`);
  expect(html).toContain(`data-scopes="api://${DEMO_APPS.card.clientId}/user_impersonation"`);
  expect(html).toContain("Break-glass: sign in with the step key");
});

test("a seller's token is refused: no Relay.Admin app role", async () => {
  const { status, body, cookie } = await signIn(await tokenFor(DEMO_USERS.seller));
  expect(status).toBe(403);
  expect(body.error).toEqual({ code: "not-an-admin", message: expect.stringContaining("do not hold the Relay.Admin app role") });
  expect(cookie).toBe("");
});

test("an admin's token opens the page; without the page's header it does not", async () => {
  const token = await tokenFor(DEMO_USERS.referralsAdmin);
  expect((await signIn(token, {})).status).toBe(401);
  const { status, cookie } = await signIn(token);
  expect(status).toBe(204);
  const page = await ui(cookie);
  expect(page).toContain(`<span class="who">${DEMO_USERS.referralsAdmin.displayName}</span>`);
  expect(page).toContain("Failures (");
});

test("a forged or altered session cookie is a sign-in page", async () => {
  const { cookie } = await signIn(await tokenFor(DEMO_USERS.referralsAdmin));
  const [name, value] = cookie.split("=") as [string, string];
  const [version, payload, mac] = value.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, oid: DEMO_USERS.seller.oid, name: "Someone else" })).toString("base64url");
  expect(await ui(`${name}=${version}.${forged}.${mac}`)).toContain("Admin sign-in");
  const expired = Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString("base64url");
  expect(await ui(`${name}=${version}.${expired}.${mac}`)).toContain("Admin sign-in");
});

test("the role is the tenant admin's to give and take: removed, refused; assigned again, admitted", async () => {
  expect((await assignment("/remove", DEMO_USERS.referralsAdmin.username)).body.roles).toEqual([]);
  try {
    expect((await signIn(await tokenFor(DEMO_USERS.referralsAdmin))).status).toBe(403);
  } finally {
    expect((await assignment("", DEMO_USERS.referralsAdmin.username)).body.roles).toEqual(["Relay.Admin"]);
  }
  expect((await signIn(await tokenFor(DEMO_USERS.referralsAdmin))).status).toBe(204);
  // A seller given the role is an admin too.
  await assignment("", DEMO_USERS.seller.username);
  expect((await signIn(await tokenFor(DEMO_USERS.seller))).status).toBe(204);
  await assignment("/remove", DEMO_USERS.seller.username);
  expect((await control(sandboxes, "identity", `/sandbox/apps/${DEMO_APPS.card.clientId}/app-role-assignments`, { username: DEMO_USERS.seller.username, role: "Nope" })).status).toBe(400);
});

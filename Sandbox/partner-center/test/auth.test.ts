// Who may call which host (partner-center-referrals.md §2, partner-center-webhooks.md §1.1).
import { rmSync } from "node:fs";
import { DEMO_USERS, PARTNER_CENTER_RESOURCE, PARTNER_CENTER_WEBHOOKS_RESOURCE } from "../../shared/demo-tenant.ts";
import { ensureSigningKey, signToken } from "../../shared/tokens.ts";
import type { PartnerCenterSandbox } from "../server.ts";
import { REFERRALS, REGISTRATION, bearer, json, sandbox, testEnvironment, token, type TestEnvironment } from "./helpers.ts";

let env: TestEnvironment;
let app: PartnerCenterSandbox;

beforeAll(async () => {
  env = await testEnvironment();
  app = await sandbox(env, { seed: true });
});
afterAll(async () => {
  await app.close();
  env.cleanup();
});

const listReferrals = (headers: Record<string, string>) => app.inject({ method: "GET", url: REFERRALS, headers });
const getRegistration = (headers: Record<string, string>) => app.inject({ method: "GET", url: REGISTRATION, headers });
const errorOf = (response: { body: string }) => json<{ error: { code: string } }>(response).error;

describe("referrals API: App+User only, MFA, a referral role (§2)", () => {
  test("a Referrals Admin or Referrals User with MFA is let in", async () => {
    expect((await listReferrals(bearer(await token(env, { user: DEMO_USERS.referralsAdmin })))).statusCode).toBe(200);
    expect((await listReferrals(bearer(await token(env, { user: DEMO_USERS.seller })))).statusCode).toBe(200);
  });

  test("no token: 401 unauthenticated with a WWW-Authenticate challenge", async () => {
    const response = await listReferrals({});
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe("unauthenticated");
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer /);
  });

  test("an app-only token is refused: 401", async () => {
    const response = await listReferrals(bearer(await token(env, { appOnly: true, audience: PARTNER_CENTER_RESOURCE })));
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe("unauthenticated");
  });

  test("a user token without MFA in amr: 401 with error code 900421", async () => {
    const response = await listReferrals(bearer(await token(env, { mfa: false })));
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe("900421");
  });

  test("a user with no referral role: 403 accessDenied", async () => {
    const response = await listReferrals(bearer(await token(env, { user: DEMO_USERS.noReferralRole })));
    expect(response.statusCode).toBe(403);
    expect(errorOf(response).code).toBe("accessDenied");
  });

  test.each([
    ["the webhooks audience", { audience: PARTNER_CENTER_WEBHOOKS_RESOURCE }],
    ["another issuer", { issuer: "https://login.example.invalid/other/v2.0" }],
    ["an exp in the past", { lifetimeSeconds: 60, now: Date.now() - 3_600_000 }],
  ])("a token with %s: 401", async (_label, options) => {
    const response = await listReferrals(bearer(await token(env, options)));
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe("unauthenticated");
  });

  test("a token signed by another key: 401", async () => {
    const other = await testEnvironment();
    try {
      expect((await listReferrals(bearer(await token(other)))).statusCode).toBe(401);
    } finally {
      other.cleanup();
    }
  });

  test("not a JWT, or not a bearer: 401", async () => {
    expect((await listReferrals({ authorization: "Bearer not-a-jwt" })).statusCode).toBe(401);
    expect((await listReferrals({ authorization: "Basic dXNlcjpwYXNz" })).statusCode).toBe(401);
  });

  test("the identity sandbox's new key is picked up from its key file", async () => {
    // Write a new key into the identity key file, as a restarted identity sandbox might.
    rmSync(env.signingKeyFile);
    const fresh = await ensureSigningKey(env.signingKeyFile);
    const claims = JSON.parse(Buffer.from((await token(env)).split(".")[1]!, "base64url").toString()) as Record<string, unknown> & { iss: string; aud: string };
    const signed = await signToken(fresh, claims, 600);
    expect((await listReferrals(bearer(signed))).statusCode).toBe(200);
    env.keys = fresh;
  });

  test("enforceMfa: false lets a token without MFA through", async () => {
    const lenient = await sandbox(env, { enforceMfa: false });
    try {
      expect((await lenient.inject({ method: "GET", url: REFERRALS, headers: bearer(await token(env, { mfa: false })) })).statusCode).toBe(200);
    } finally {
      await lenient.close();
    }
  });
});

describe("webhook registration API: app-only or App+User (webhooks §1.1)", () => {
  test("app-only and App+User tokens for api.partnercenter.microsoft.com are accepted", async () => {
    expect((await getRegistration(bearer(await token(env, { appOnly: true })))).statusCode).toBe(404); // none registered yet
    expect((await getRegistration(bearer(await token(env, { audience: PARTNER_CENTER_WEBHOOKS_RESOURCE })))).statusCode).toBe(404);
  });

  test("roles are not enforced: a user without a referral role may read it", async () => {
    expect((await getRegistration(bearer(await token(env, { audience: PARTNER_CENTER_WEBHOOKS_RESOURCE, user: DEMO_USERS.noReferralRole })))).statusCode).toBe(404);
  });

  test("no token, or the referrals audience: 401 in error shape B", async () => {
    for (const headers of [{}, bearer(await token(env))]) {
      const response = await getRegistration(headers);
      expect(response.statusCode).toBe(401);
      expect(json(response)).toMatchObject({ code: "unauthenticated", description: expect.any(String), data: [] });
    }
  });

  test("App+User without MFA: 401 / 900421; app-only tokens need none", async () => {
    const response = await getRegistration(bearer(await token(env, { audience: PARTNER_CENTER_WEBHOOKS_RESOURCE, mfa: false })));
    expect(response.statusCode).toBe(401);
    expect(json(response).code).toBe("900421");
  });
});

describe("the certificate and the control API need no token", () => {
  test("GET /cert/pcnotifications-dispatch.microsoft.com.cer", async () => {
    const response = await app.inject({ method: "GET", url: "/cert/pcnotifications-dispatch.microsoft.com.cer" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  test("control calls from a non-loopback address are refused", async () => {
    const response = await app.inject({ method: "GET", url: "/sandbox/stats", remoteAddress: "192.0.2.10" });
    expect(response.statusCode).toBe(403);
    expect((await app.inject({ method: "GET", url: "/sandbox/stats" })).statusCode).toBe(200);
  });
});

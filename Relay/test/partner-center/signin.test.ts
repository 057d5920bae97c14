// The service account's sign-in against the identity sandbox: device code approved through the control
// API, the MSAL cache stored encrypted in token_cache on both databases, silent tokens in a new instance
// (another replica, a restart), key rotation, and a revoked refresh token giving SignInRequired.
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { PartnerCenterClient } from "../../src/clients/partner-center.ts";
import { PartnerCenterAuthError, PartnerCenterSignIn, SignInRequired, type DeviceCodePrompt, type PartnerCenterSignInOptions } from "../../src/auth/partner-center-signin.ts";
import { decryptTokenCache, encryptTokenCache, generateTokenCacheKey, parseTokenCacheKey } from "../../src/auth/partner-center-token-cache.ts";
import { BOTH_DATABASES, type TestDatabase } from "../databases.ts";
import { control, startEnvironment, type Environment } from "./helpers.ts";

const app = DEMO_APPS.relayPartnerCenter;
const admin = DEMO_USERS.referralsAdmin;
const CACHE_KEY = `partner-center/${app.clientId}`;

let env: Environment;
const instances: PartnerCenterSignIn[] = [];

beforeAll(async () => {
  env = await startEnvironment();
}, 60_000);
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await env?.close();
});

function signInFor(options: Partial<PartnerCenterSignInOptions> & Pick<PartnerCenterSignInOptions, "db" | "tokenCacheKey">): PartnerCenterSignIn {
  const instance = new PartnerCenterSignIn({
    tenantId: DEMO_TENANT_ID,
    authorityHost: env.endpoints.identity,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    extraCaPem: env.caPem,
    timeoutMs: 10_000,
    ...options,
  });
  instances.push(instance);
  return instance;
}

/** `relay login` with the admin approving the code on the identity sandbox's sign-in page. */
async function login(signIn: PartnerCenterSignIn, username: string = admin.username, action: "approve" | "deny" = "approve") {
  const prompts: DeviceCodePrompt[] = [];
  const answers: Array<Promise<{ status: number }>> = [];
  const result = signIn.signIn({
    onDeviceCode: (prompt) => {
      prompts.push(prompt);
      answers.push(control(env, "identity", `/sandbox/device/${action}`, action === "approve" ? { user_code: prompt.userCode, username } : { user_code: prompt.userCode }));
    },
  });
  return { result, prompts, answers };
}

async function tokenRequests(): Promise<number> {
  const stats = await control<{ routes: Record<string, Record<string, number>> }>(env, "identity", "/sandbox/stats");
  return stats.body.routes["POST /:tenant/oauth2/v2.0/token"]?.["200"] ?? 0;
}

interface Row {
  tenant_id: string;
  cache_key: string;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  auth_tag: Uint8Array;
}

describe.each(BOTH_DATABASES)("on %s", (databaseName, open) => {
  let database: TestDatabase;
  const tenant = `partner-tenant-${databaseName.toLowerCase()}`;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const row = async (): Promise<Row> => {
    const rows = (await database.db.query<Row>("SELECT tenant_id, cache_key, ciphertext, iv, auth_tag FROM token_cache WHERE tenant_id = $1", [tenant])).rows;
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  test("device code sign-in, encrypted cache, silent tokens in a new instance, and SignInRequired once revoked", async () => {
    const key = generateTokenCacheKey();
    const first = signInFor({ db: database.db, tokenCacheKey: key, storeTenantKey: tenant });
    expect(await first.status()).toEqual({ signedIn: false, refreshTokenPresent: false, problem: "nobody has signed in: run relay login" });
    const before = await first.getAccessToken().catch((error: unknown) => error);
    expect(before).toBeInstanceOf(SignInRequired);
    expect((before as SignInRequired).whatToDo).toMatch(/^Run relay login/);

    const { result, prompts, answers } = await login(first);
    const account = await result;
    expect(account).toMatchObject({ username: admin.username, tenantId: DEMO_TENANT_ID, homeAccountId: `${admin.oid}.${DEMO_TENANT_ID}` });
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200]);
    expect(prompts[0]!.verificationUri).toBe(`${env.endpoints.identity}/sandbox/device`);
    expect(prompts[0]!.message).toContain(prompts[0]!.userCode);

    // The cache row: AES-256-GCM, 96-bit IV, 128-bit tag; no token or account text in the ciphertext.
    const stored = await row();
    expect(stored.cache_key).toBe(CACHE_KEY);
    expect(Buffer.from(stored.iv)).toHaveLength(12);
    expect(Buffer.from(stored.auth_tag)).toHaveLength(16);
    const plaintext = decryptTokenCache({ ciphertext: Buffer.from(stored.ciphertext), iv: Buffer.from(stored.iv), authTag: Buffer.from(stored.auth_tag) }, parseTokenCacheKey(key), tenant, CACHE_KEY);
    const cache = JSON.parse(plaintext) as { RefreshToken: Record<string, { secret: string }>; AccessToken: Record<string, { secret: string }> };
    const refreshToken = Object.values(cache.RefreshToken)[0]!.secret;
    const accessToken = Object.values(cache.AccessToken)[0]!.secret;
    expect(refreshToken.length).toBeGreaterThan(20);
    const ciphertext = Buffer.from(stored.ciphertext);
    for (const secret of [refreshToken, accessToken, admin.username, "RefreshToken", "secret"]) {
      expect(ciphertext.includes(Buffer.from(secret))).toBe(false);
      expect(ciphertext.toString("base64").includes(Buffer.from(secret).toString("base64"))).toBe(false);
    }

    // The token works against Partner Center, the app-only one against the registration API.
    const partnerCenter = new PartnerCenterClient({
      referralsBaseUrl: env.referralsBaseUrl, webhooksBaseUrl: env.webhooksBaseUrl, agent: env.agent, getToken: (resource) => first.getToken(resource),
    });
    const page = await partnerCenter.listReferralPages({ top: 1 }).next();
    expect(page.value?.value).toHaveLength(1);
    expect(await partnerCenter.getRegistration()).toBeNull();

    // Another replica (or the relay after a restart): same store and key, no sign-in.
    const second = signInFor({ db: database.db, tokenCacheKey: key, storeTenantKey: tenant });
    const silent = await second.getAccessToken();
    expect(silent).toBe(accessToken);
    const status = await second.status();
    expect(status).toMatchObject({ signedIn: true, username: admin.username, refreshTokenPresent: true, homeAccountId: account.homeAccountId });
    // MSAL records token times in whole seconds (rounded).
    expect(status.lastRefreshAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(status.lastRefreshAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(status.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());

    // Refreshing uses the stored refresh token and rewrites the row with a new IV.
    const tokensBefore = await tokenRequests();
    expect(typeof (await second.getAccessToken({ forceRefresh: true }))).toBe("string");
    expect(await tokenRequests()).toBe(tokensBefore + 1);
    expect(Buffer.from((await row()).iv).equals(Buffer.from(stored.iv))).toBe(false);

    // The sign-in lapses (revoked in Entra ID): the next refresh needs relay login again.
    const revoked = await control<{ revoked: number }>(env, "identity", "/sandbox/refresh-tokens/revoke", { username: admin.username });
    expect(revoked.body.revoked).toBeGreaterThanOrEqual(1);
    const lapsed = await second.getAccessToken({ forceRefresh: true }).catch((error: unknown) => error);
    expect(lapsed).toBeInstanceOf(SignInRequired);
    expect((lapsed as SignInRequired).message).toMatch(/lapsed or was revoked \(invalid_grant\/bad_token\)/);
    expect((lapsed as SignInRequired).whatToDo).toBe("Run relay login and sign in as the Partner Center service account (with MFA); the relay resumes by itself afterwards.");
  }, 60_000);

  test("one service account at a time; a key rotation keeps the sign-in; a wrong key asks for a new sign-in; logout forgets it", async () => {
    const oldKey = generateTokenCacheKey();
    const signIn = signInFor({ db: database.db, tokenCacheKey: oldKey, storeTenantKey: tenant });
    await (await login(signIn, DEMO_USERS.seller.username)).result;
    // Signing in again as someone else replaces the account: the relay acts as one service account.
    await (await login(signIn)).result;
    expect(await signIn.status()).toMatchObject({ signedIn: true, username: admin.username });
    const single = await row();
    const accounts = JSON.parse(decryptTokenCache({ ciphertext: Buffer.from(single.ciphertext), iv: Buffer.from(single.iv), authTag: Buffer.from(single.auth_tag) }, parseTokenCacheKey(oldKey), tenant, CACHE_KEY)) as { Account: Record<string, { username: string }> };
    expect(Object.values(accounts.Account).map((a) => a.username)).toEqual([admin.username]);

    const wrong = signInFor({ db: database.db, tokenCacheKey: generateTokenCacheKey(), storeTenantKey: tenant });
    const unreadable = await wrong.getAccessToken().catch((error: unknown) => error);
    expect(unreadable).toBeInstanceOf(SignInRequired);
    expect(unreadable).toMatchObject({ code: "token_cache_unreadable" });
    expect((unreadable as Error).message).toMatch(/cannot be decrypted with PCR_TOKEN_CACHE_KEY/);
    expect(await wrong.status()).toMatchObject({ signedIn: false, problem: expect.stringMatching(/cannot be decrypted.*run relay login again/) });

    const newKey = generateTokenCacheKey();
    const rotated = signInFor({ db: database.db, tokenCacheKey: newKey, previousTokenCacheKeys: [oldKey], storeTenantKey: tenant });
    await rotated.getAccessToken({ forceRefresh: true }); // a write: now under the new key
    const stored = await row();
    const blob = { ciphertext: Buffer.from(stored.ciphertext), iv: Buffer.from(stored.iv), authTag: Buffer.from(stored.auth_tag) };
    expect(() => decryptTokenCache(blob, parseTokenCacheKey(newKey), tenant, CACHE_KEY)).not.toThrow();
    expect(() => decryptTokenCache(blob, parseTokenCacheKey(oldKey), tenant, CACHE_KEY)).toThrow();

    await rotated.signOut();
    expect(await rotated.status()).toMatchObject({ signedIn: false });
    await expect(rotated.getAccessToken()).rejects.toBeInstanceOf(SignInRequired);
  }, 60_000);
});

describe("sign-in edges", () => {
  test("a declined device code sign-in says so", async () => {
    const database = await BOTH_DATABASES[0]![1]();
    try {
      const signIn = signInFor({ db: database.db, tokenCacheKey: generateTokenCacheKey() });
      const { result } = await login(signIn, admin.username, "deny");
      const error = await result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartnerCenterAuthError);
      expect(error).toMatchObject({ code: "authorization_declined" });
      expect((await database.db.query("SELECT 1 FROM token_cache")).rowCount).toBe(0);
    } finally {
      await database.drop();
    }
  }, 30_000);

  test("app-only tokens need the app's secret, and a wrong one is named", async () => {
    const database = await BOTH_DATABASES[0]![1]();
    try {
      const noSecret = signInFor({ db: database.db, tokenCacheKey: generateTokenCacheKey(), clientSecret: undefined });
      await expect(noSecret.getAppToken()).rejects.toMatchObject({ code: "no_client_secret" });
      const wrongSecret = signInFor({ db: database.db, tokenCacheKey: generateTokenCacheKey(), clientSecret: "wrong" });
      const error = await wrongSecret.getAppToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartnerCenterAuthError);
      expect(error).toMatchObject({ code: "invalid_client", retryable: false });
      await expect(wrongSecret.getToken("https://example.invalid")).rejects.toThrow(/no Partner Center token/);
    } finally {
      await database.drop();
    }
  });

  test("the cache key: 32 bytes of base64; a ciphertext moved to another tenant's row does not decrypt", () => {
    expect(() => parseTokenCacheKey(undefined)).toThrow(/PCR_TOKEN_CACHE_KEY is not set/);
    expect(() => parseTokenCacheKey("not base64!")).toThrow(/not base64/);
    expect(() => parseTokenCacheKey(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
    const key = parseTokenCacheKey(generateTokenCacheKey());
    const blob = encryptTokenCache('{"RefreshToken":{}}', key, "tenant-a", CACHE_KEY);
    expect(decryptTokenCache(blob, key, "tenant-a", CACHE_KEY)).toBe('{"RefreshToken":{}}');
    expect(() => decryptTokenCache(blob, key, "tenant-b", CACHE_KEY)).toThrow();
    expect(encryptTokenCache("same", key, "t", "k").iv.equals(encryptTokenCache("same", key, "t", "k").iv)).toBe(false);
  });
});

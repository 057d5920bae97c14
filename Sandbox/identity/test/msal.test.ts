// msal-node against the identity sandbox, configured the way the relay configures it: the relay's
// network client (trusting the sandbox CA) and authority settings (no discovery requests).
import {
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AuthenticationResult,
  type Configuration,
} from "@azure/msal-node";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE } from "../../shared/demo-tenant.ts";
import { MsalNetworkClient } from "../../../Relay/src/auth/msal-network-client.ts";
import { entraAuthority } from "../../../Relay/src/auth/authority.ts";
import { DATAVERSE_URL, claimsOf, sleep, startIdentity, type RunningIdentity } from "./helpers.ts";

const { relayDataverse, relayPartnerCenter } = DEMO_APPS;
const { referralsAdmin } = DEMO_USERS;
const TOKEN_ROUTE = "POST /:tenant/oauth2/v2.0/token";
const DEVICE_CODE_ROUTE = "POST /:tenant/oauth2/v2.0/devicecode";

function msalConfiguration(sandbox: RunningIdentity, network: MsalNetworkClient, auth: { clientId: string; clientSecret?: string }): Configuration {
  return {
    auth: { ...auth, ...entraAuthority({ authorityHost: sandbox.baseUrl, tenant: DEMO_TENANT_ID }) },
    system: { networkClient: network },
  };
}

describe("msal-node client credentials through the relay's auth modules", () => {
  let sandbox: RunningIdentity;
  let network: MsalNetworkClient;
  beforeAll(async () => {
    sandbox = await startIdentity();
    network = new MsalNetworkClient({ extraCaPem: sandbox.ca.certPem, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await network.close();
    await sandbox.close();
  });

  test("acquireTokenByClientCredential makes exactly one request, the token POST; the next call is served from MSAL's cache", async () => {
    expect((await sandbox.control("/sandbox/reset")).status).toBe(204);
    const app = new ConfidentialClientApplication(msalConfiguration(sandbox, network, { clientId: relayDataverse.clientId, clientSecret: relayDataverse.clientSecret }));
    const result = await app.acquireTokenByClientCredential({ scopes: [`${DATAVERSE_URL}/.default`] });
    expect(result?.accessToken).toEqual(expect.any(String));
    expect(await sandbox.stats()).toEqual(expect.objectContaining({ total: 1, routes: { [TOKEN_ROUTE]: { "200": 1 } } }));

    const again = await app.acquireTokenByClientCredential({ scopes: [`${DATAVERSE_URL}/.default`] });
    expect(again?.fromCache).toBe(true);
    expect((await sandbox.stats()).total).toBe(1);

    const verified = await (await sandbox.verifier(DATAVERSE_URL))(`Bearer ${result!.accessToken}`);
    expect(verified.appOnly).toBe(true);
    expect(verified.claims).toEqual(expect.objectContaining({ azp: relayDataverse.clientId, idtyp: "app" }));
  });

  test("a wrong secret surfaces as MSAL's invalid_client server error with Entra ID's code", async () => {
    const app = new ConfidentialClientApplication(msalConfiguration(sandbox, network, { clientId: relayDataverse.clientId, clientSecret: "wrong" }));
    await expect(app.acquireTokenByClientCredential({ scopes: [`${DATAVERSE_URL}/.default`] }))
      .rejects.toMatchObject({ errorCode: "invalid_client", errorNo: 7000215 });
  });
});

describe("msal-node device code sign-in, silent refresh and revocation", () => {
  let sandbox: RunningIdentity;
  let network: MsalNetworkClient;
  beforeAll(async () => {
    // Two-second access tokens so expiry can be waited for; poll every second instead of five.
    sandbox = await startIdentity({ accessTokenLifetimeSeconds: 2, deviceCodeIntervalSeconds: 1 });
    network = new MsalNetworkClient({ extraCaPem: sandbox.ca.certPem, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await network.close();
    await sandbox.close();
  });

  test("device code completes when the user code is approved; silent refresh works until the sign-in is revoked", async () => {
    await sandbox.control("/sandbox/reset");
    const app = new PublicClientApplication(msalConfiguration(sandbox, network, { clientId: relayPartnerCenter.clientId }));
    const scopes = [`${PARTNER_CENTER_RESOURCE}/.default`];

    const approvals: Array<Promise<{ status: number }>> = [];
    const signedIn = (await app.acquireTokenByDeviceCode({
      scopes,
      deviceCodeCallback: (response) => {
        expect(response.verificationUri).toBe(`${sandbox.baseUrl}/sandbox/device`);
        approvals.push(sandbox.control("/sandbox/device/approve", { user_code: response.userCode, username: referralsAdmin.username }));
      },
    })) as AuthenticationResult;
    expect((await Promise.all(approvals)).map((a) => a.status)).toEqual([200]);

    expect(signedIn.account).toEqual(expect.objectContaining({
      username: referralsAdmin.username,
      homeAccountId: `${referralsAdmin.oid}.${DEMO_TENANT_ID}`,
      tenantId: DEMO_TENANT_ID,
      environment: new URL(sandbox.baseUrl).host,
    }));
    const first = claimsOf(signedIn.accessToken);
    expect(first.amr).toEqual(expect.arrayContaining(["mfa"]));
    expect(first).toEqual(expect.objectContaining({ aud: PARTNER_CENTER_RESOURCE, oid: referralsAdmin.oid, scp: "user_impersonation" }));
    const afterSignIn = await sandbox.stats();
    // Only the device code request and token polls: no discovery traffic.
    expect(Object.keys(afterSignIn.routes).sort()).toEqual([DEVICE_CODE_ROUTE, TOKEN_ROUTE]);
    const tokenOk = (stats: typeof afterSignIn) => stats.routes[TOKEN_ROUTE]?.["200"] ?? 0;
    expect(tokenOk(afterSignIn)).toBe(1);
    await (await sandbox.verifier(PARTNER_CENTER_RESOURCE))(`Bearer ${signedIn.accessToken}`);

    // Let the access token expire for real, then ask silently: MSAL redeems the refresh token.
    await sleep(2100);
    const [account] = await app.getTokenCache().getAllAccounts();
    const refreshed = await app.acquireTokenSilent({ account: account!, scopes });
    expect(refreshed.fromCache).toBe(false);
    expect(refreshed.accessToken).not.toBe(signedIn.accessToken);
    const second = claimsOf(refreshed.accessToken);
    expect(second.exp!).toBeGreaterThan(first.exp!);
    expect(second.amr).toEqual(expect.arrayContaining(["mfa"]));
    expect(tokenOk(await sandbox.stats())).toBe(2);

    // The sign-in lapses: the refresh token is revoked, so silent acquisition needs the user again.
    const revoked = await sandbox.control("/sandbox/refresh-tokens/revoke", { username: referralsAdmin.username });
    expect(revoked.json.revoked).toBeGreaterThanOrEqual(1);
    await sleep(2100);
    const failure = await app.acquireTokenSilent({ account: account!, scopes }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InteractionRequiredAuthError);
    expect(failure).toMatchObject({ errorCode: "invalid_grant", subError: "bad_token" });
  });
});

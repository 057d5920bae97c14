// OpenID metadata, JWKS and error-shape contract: against the identity sandbox always, and against a
// real Entra ID tenant when PCR_REAL_ENTRA_TENANT is set (see ../README.md).
import { ConfidentialClientApplication, type INetworkModule } from "@azure/msal-node";
import { Agent } from "undici";
import { DEMO_TENANT_DOMAIN, DEMO_TENANT_ID } from "../../shared/demo-tenant.ts";
import { entraAuthority, entraEndpoints } from "../../../Relay/src/auth/authority.ts";
import { MsalNetworkClient } from "../../../Relay/src/auth/msal-network-client.ts";
import { defineDiscoveryContract, type ContractTarget } from "./contract.ts";
import { call, claimsOf, expectEntraError, startIdentity, type RunningIdentity } from "./helpers.ts";

describe("identity sandbox: discovery contract", () => {
  let sandbox: RunningIdentity;
  beforeAll(async () => {
    sandbox = await startIdentity();
  });
  afterAll(() => sandbox.close());

  defineDiscoveryContract(() => ({
    authorityHost: sandbox.baseUrl,
    tenantId: DEMO_TENANT_ID,
    get: (url) => call(sandbox.agent, url),
    post: (url, form) => call(sandbox.agent, url, { form }),
  }));

  test("the tenant addressed by its domain answers with the tenant id, like Entra ID", async () => {
    const answer = await sandbox.get(`/${DEMO_TENANT_DOMAIN}/v2.0/.well-known/openid-configuration`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(expect.objectContaining({ ...entraEndpoints({ authorityHost: sandbox.baseUrl, tenant: DEMO_TENANT_ID }) }));
  });

  test("common is served like organizations, and the keys are the same for every tenant alias", async () => {
    const common = await sandbox.get("/common/v2.0/.well-known/openid-configuration");
    expect(common.json).toEqual(expect.objectContaining({ ...entraEndpoints({ authorityHost: sandbox.baseUrl, tenant: "common" }) }));
    const tenantKeys = await sandbox.get(`/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
    const commonKeys = await sandbox.get("/common/discovery/v2.0/keys");
    const kids = (answer: typeof tenantKeys) => (answer.json.keys as Array<{ kid: string; issuer: string }>).map((key) => key.kid);
    expect(kids(commonKeys)).toEqual(kids(tenantKeys));
    expect((tenantKeys.json.keys as Array<{ issuer: string }>)[0]!.issuer).toBe(sandbox.issuer);
    expect((commonKeys.json.keys as Array<{ issuer: string }>)[0]!.issuer).toBe(`${sandbox.baseUrl}/{tenantid}/v2.0`);
  });

  test("discovery documents may be cached for a day and are readable cross-origin", async () => {
    const answer = await sandbox.get(`/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`);
    expect(answer.headers["cache-control"]).toBe("max-age=86400, private");
    expect(answer.headers["access-control-allow-origin"]).toBe("*");
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  test("the signing key stays the same across restarts with the same state directory", async () => {
    const again = await startIdentity({ stateDir: sandbox.stateDir });
    try {
      const first = await sandbox.get(`/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
      const second = await again.get(`/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
      const strip = (answer: typeof first) => (answer.json.keys as Array<Record<string, unknown>>).map(({ kid, n, x5t, x5c }) => ({ kid, n, x5t, x5c }));
      expect(strip(second)).toEqual(strip(first));
    } finally {
      await again.close();
    }
  });

  test("the correlation id is the client's client-request-id, echoed in the answer's headers", async () => {
    const requestId = "0f5c1f43-7c1b-4a7e-9d55-3b8e1c2a9f10";
    const answer = await sandbox.get(`/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { "client-request-id": requestId });
    expectEntraError(answer, 400, "invalid_request", 900561);
    expect(answer.json.correlation_id).toBe(requestId);
    expect(answer.headers["client-request-id"]).toBe(requestId);
  });
});

// Set PCR_REAL_ENTRA_TENANT (a tenant id) to run the same contract against Entra ID itself;
// PCR_REAL_ENTRA_AUTHORITY_HOST overrides https://login.microsoftonline.com (sovereign clouds).
// With PCR_REAL_ENTRA_CLIENT_ID, PCR_REAL_ENTRA_CLIENT_SECRET and PCR_REAL_ENTRA_SCOPE (a
// `<resource>/.default`) it also checks that MSAL, configured by Relay/src/auth, needs one request.
const realTenant = process.env.PCR_REAL_ENTRA_TENANT;
const realHost = (process.env.PCR_REAL_ENTRA_AUTHORITY_HOST ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
const realApp = {
  clientId: process.env.PCR_REAL_ENTRA_CLIENT_ID,
  clientSecret: process.env.PCR_REAL_ENTRA_CLIENT_SECRET,
  scope: process.env.PCR_REAL_ENTRA_SCOPE,
};
if (!realTenant) {
  console.log("Real Entra ID contract skipped: set PCR_REAL_ENTRA_TENANT (and optionally PCR_REAL_ENTRA_AUTHORITY_HOST) to run it.");
}

(realTenant ? describe : describe.skip)("real Entra ID: discovery contract", () => {
  // System trust only: no sandbox CA here.
  const agent = new Agent();
  afterAll(() => agent.close());
  defineDiscoveryContract((): ContractTarget => ({
    authorityHost: realHost,
    tenantId: realTenant!,
    get: (url) => call(agent, url),
    post: (url, form) => call(agent, url, { form }),
  }));

  const withApp = realApp.clientId && realApp.clientSecret && realApp.scope ? test : test.skip;
  withApp("MSAL client credentials with the relay's auth modules makes exactly one request", async () => {
    const network = new MsalNetworkClient({ timeoutMs: 10000 });
    const requests: string[] = [];
    const counting: INetworkModule = {
      sendGetRequestAsync: (url, options, timeout) => (requests.push(`GET ${url}`), network.sendGetRequestAsync(url, options, timeout)),
      sendPostRequestAsync: (url, options) => (requests.push(`POST ${url}`), network.sendPostRequestAsync(url, options)),
    };
    try {
      const app = new ConfidentialClientApplication({
        auth: { clientId: realApp.clientId!, clientSecret: realApp.clientSecret!, ...entraAuthority({ authorityHost: realHost, tenant: realTenant! }) },
        system: { networkClient: counting },
      });
      const result = await app.acquireTokenByClientCredential({ scopes: [realApp.scope!] });
      expect(requests).toHaveLength(1);
      expect(requests[0]!.startsWith(`POST ${entraEndpoints({ authorityHost: realHost, tenant: realTenant! }).token_endpoint}`)).toBe(true);
      expect(claimsOf(result?.accessToken).tid).toBe(realTenant);
    } finally {
      await network.close();
    }
  });
});

// The relay's auth modules on their own: the MSAL network client (trust, timeouts, error mapping)
// and the authority settings (shape of what MSAL reads instead of discovering).
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { ClientAuthError } from "@azure/msal-node";
import { DEMO_TENANT_ID } from "../../shared/demo-tenant.ts";
import { MsalNetworkClient } from "../../../Relay/src/auth/msal-network-client.ts";
import { PUBLIC_CLOUD_AUTHORITY_HOST, entraAuthority, entraEndpoints } from "../../../Relay/src/auth/authority.ts";
import { startIdentity, type RunningIdentity } from "./helpers.ts";

describe("MsalNetworkClient", () => {
  let sandbox: RunningIdentity;
  let silent: Server;
  let silentUrl: string;
  const clients: MsalNetworkClient[] = [];
  const client = (options: ConstructorParameters<typeof MsalNetworkClient>[0]) => {
    const created = new MsalNetworkClient(options);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    sandbox = await startIdentity();
    // A TLS server that accepts requests and never answers.
    silent = createServer({ cert: sandbox.ca.server.certPem, key: sandbox.ca.server.keyPem }, () => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentUrl = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    await sandbox.close();
  });

  test("without an extra CA it trusts only the default CAs, so the sandbox's certificate is refused", async () => {
    const failure = await client({ timeoutMs: 5000 }).sendGetRequestAsync(`${sandbox.tenantUrl}/v2.0/.well-known/openid-configuration`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ClientAuthError);
    expect(failure).toMatchObject({ errorCode: "network_error" });
    expect((failure as Error).message).toMatch(/certificate/i);
  });

  test("with the sandbox CA it answers status, lowercase headers and the parsed body", async () => {
    const answer = await client({ extraCaPem: sandbox.ca.certPem, timeoutMs: 5000 })
      .sendGetRequestAsync<{ issuer: string }>(`${sandbox.tenantUrl}/v2.0/.well-known/openid-configuration`, { headers: { "client-request-id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301" } });
    expect(answer.status).toBe(200);
    expect(answer.body.issuer).toBe(sandbox.issuer);
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(answer.headers["client-request-id"]).toBe("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  });

  test("error answers come back as answers (MSAL reads the error from the body), not as exceptions", async () => {
    const answer = await client({ extraCaPem: sandbox.ca.certPem, timeoutMs: 5000 }).sendPostRequestAsync<{ error: string; error_codes: number[] }>(`${sandbox.tenantUrl}/oauth2/v2.0/token`, {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&client_id=b1c2d3e4-0001-4a5b-8c7d-9e0f1a2b3c4d",
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(expect.objectContaining({ error: "invalid_client", error_codes: [7000218] }));
  });

  test("a server that does not answer in time is a network_error naming the timeout", async () => {
    const started = Date.now();
    const failure = await client({ extraCaPem: sandbox.ca.certPem, timeoutMs: 300 }).sendPostRequestAsync(silentUrl, { body: "" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ errorCode: "network_error" });
    expect((failure as Error).message).toContain("Request timeout after 300 ms");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("MSAL's per-call GET timeout applies when it is shorter", async () => {
    const failure = await client({ extraCaPem: sandbox.ca.certPem, timeoutMs: 10000 }).sendGetRequestAsync(silentUrl, undefined, 200).catch((error: unknown) => error);
    expect((failure as Error).message).toContain("Request timeout after 200 ms");
  });

  test("a body that is not JSON is a token_parsing_error, as with MSAL's own client", async () => {
    const failure = await client({ extraCaPem: sandbox.ca.certPem, timeoutMs: 5000 }).sendGetRequestAsync(`${sandbox.baseUrl}/sandbox/device`).catch((error: unknown) => error);
    expect(failure).toMatchObject({ errorCode: "token_parsing_error" });
  });

  test("nothing listening is a network_error", async () => {
    const failure = await client({ timeoutMs: 2000 }).sendGetRequestAsync("https://127.0.0.1:1/").catch((error: unknown) => error);
    expect(failure).toMatchObject({ errorCode: "network_error" });
  });
});

describe("entraAuthority", () => {
  test("for the public cloud: the tenant's endpoints, and Entra ID's instance aliases", () => {
    const settings = entraAuthority({ authorityHost: PUBLIC_CLOUD_AUTHORITY_HOST, tenant: DEMO_TENANT_ID });
    expect(settings.authority).toBe(`https://login.microsoftonline.com/${DEMO_TENANT_ID}/`);
    expect(settings.knownAuthorities).toEqual(["login.microsoftonline.com"]);
    expect(JSON.parse(settings.authorityMetadata)).toEqual({
      issuer: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/v2.0`,
      authorization_endpoint: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/authorize`,
      token_endpoint: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/token`,
      device_authorization_endpoint: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/logout`,
      jwks_uri: `https://login.microsoftonline.com/${DEMO_TENANT_ID}/discovery/v2.0/keys`,
    });
    const discovery = JSON.parse(settings.cloudDiscoveryMetadata) as { metadata: Array<{ preferred_network: string; aliases: string[] }> };
    expect(discovery.metadata[0]).toEqual(expect.objectContaining({ preferred_network: "login.microsoftonline.com", aliases: expect.arrayContaining(["login.windows.net"]) }));
  });

  test("for the sandbox: host and port are the only instance, and the endpoints follow", () => {
    const settings = entraAuthority({ authorityHost: "https://127.0.0.1:4703/", tenant: DEMO_TENANT_ID });
    expect(settings.authority).toBe(`https://127.0.0.1:4703/${DEMO_TENANT_ID}/`);
    expect(settings.knownAuthorities).toEqual(["127.0.0.1:4703"]);
    expect(JSON.parse(settings.cloudDiscoveryMetadata)).toEqual({
      tenant_discovery_endpoint: `https://127.0.0.1:4703/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: "127.0.0.1:4703", preferred_cache: "127.0.0.1:4703", aliases: ["127.0.0.1:4703"] }],
    });
  });

  test("multi-tenant aliases keep the {tenantid} placeholder in the issuer", () => {
    expect(entraEndpoints({ authorityHost: PUBLIC_CLOUD_AUTHORITY_HOST, tenant: "Organizations" }).issuer).toBe("https://login.microsoftonline.com/{tenantid}/v2.0");
  });

  test("refuses http, paths and odd tenants: MSAL would refuse an insecure authority anyway", () => {
    expect(() => entraAuthority({ authorityHost: "http://127.0.0.1:4703", tenant: DEMO_TENANT_ID })).toThrow(/https/);
    expect(() => entraAuthority({ authorityHost: "https://login.microsoftonline.com/x", tenant: DEMO_TENANT_ID })).toThrow(/no path/);
    expect(() => entraAuthority({ authorityHost: PUBLIC_CLOUD_AUTHORITY_HOST, tenant: "a/b" })).toThrow(/tenant/);
  });
});

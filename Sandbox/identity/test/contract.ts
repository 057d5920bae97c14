// The contract of Entra ID's discovery documents and of its token endpoint's error answers, written
// once and run against the identity sandbox and, when configured, against a real tenant.
import { X509Certificate, createHash, randomUUID } from "node:crypto";
import { entraEndpoints } from "../../../Relay/src/auth/authority.ts";
import { expectEntraError, type HttpAnswer } from "./helpers.ts";

export interface ContractTarget {
  /** e.g. https://login.microsoftonline.com */
  authorityHost: string;
  tenantId: string;
  get(url: string): Promise<HttpAnswer>;
  post(url: string, form: Record<string, string>): Promise<HttpAnswer>;
}

interface Jwk {
  kty: string;
  use: string;
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
  issuer?: string;
}

export function defineDiscoveryContract(target: () => ContractTarget): void {
  const at = (tenant: string, path: string) => `${target().authorityHost}/${tenant}${path}`;

  test("the tenant's OpenID configuration names the v2.0 endpoints, as the relay's authority settings do", async () => {
    const { tenantId } = target();
    const answer = await target().get(at(tenantId, "/v2.0/.well-known/openid-configuration"));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    const expected = entraEndpoints({ authorityHost: target().authorityHost, tenant: tenantId });
    expect(answer.json).toEqual(expect.objectContaining({ ...expected }));
    expect(answer.json).toEqual(expect.objectContaining({
      response_types_supported: expect.arrayContaining(["code"]),
      scopes_supported: expect.arrayContaining(["openid", "profile", "email", "offline_access"]),
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: expect.arrayContaining(["client_secret_post", "client_secret_basic"]),
      cloud_instance_name: expect.any(String),
    }));
  });

  test("organizations keeps the alias in the endpoints and a {tenantid} placeholder in the issuer", async () => {
    const answer = await target().get(at("organizations", "/v2.0/.well-known/openid-configuration"));
    expect(answer.status).toBe(200);
    const expected = entraEndpoints({ authorityHost: target().authorityHost, tenant: "organizations" });
    expect(answer.json).toEqual(expect.objectContaining({ ...expected }));
    expect(answer.json.issuer).toBe(`${target().authorityHost}/{tenantid}/v2.0`);
  });

  test("the signing keys are RSA keys with their self-signed certificate and its thumbprint", async () => {
    const answer = await target().get(at(target().tenantId, "/discovery/v2.0/keys"));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    const keys = answer.json.keys as Jwk[];
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toEqual(expect.objectContaining({ kty: "RSA", use: "sig", kid: expect.any(String), n: expect.any(String), e: "AQAB" }));
      const der = Buffer.from(key.x5c[0]!, "base64");
      expect(createHash("sha1").update(der).digest("base64url")).toBe(key.x5t);
      expect(new X509Certificate(der).publicKey.export({ format: "jwk" }).n).toBe(key.n);
    }
  });

  test("an unknown tenant is invalid_tenant, AADSTS90002", async () => {
    const answer = await target().get(at(randomUUID(), "/v2.0/.well-known/openid-configuration"));
    expectEntraError(answer, 400, "invalid_tenant", 90002);
  });

  test("the token endpoint answers GET with AADSTS900561", async () => {
    const answer = await target().get(at(target().tenantId, "/oauth2/v2.0/token"));
    expectEntraError(answer, 400, "invalid_request", 900561);
  });

  test("a token request without grant_type is AADSTS900144", async () => {
    const answer = await target().post(at(target().tenantId, "/oauth2/v2.0/token"), { client_id: randomUUID() });
    expectEntraError(answer, 400, "invalid_request", 900144);
    expect(answer.json.error_description).toContain("'grant_type'");
  });

  test("an unknown grant type is unsupported_grant_type, AADSTS70003", async () => {
    const answer = await target().post(at(target().tenantId, "/oauth2/v2.0/token"), { grant_type: "magic", client_id: randomUUID() });
    expectEntraError(answer, 400, "unsupported_grant_type", 70003);
  });

  test("an app the tenant does not know is unauthorized_client, AADSTS700016, at the token and device code endpoints", async () => {
    const clientId = randomUUID();
    const token = await target().post(at(target().tenantId, "/oauth2/v2.0/token"), {
      grant_type: "client_credentials", client_id: clientId, client_secret: "x", scope: "https://api.partner.microsoft.com/.default",
    });
    expectEntraError(token, 400, "unauthorized_client", 700016);
    expect(token.json.error_description).toContain(clientId);
    const device = await target().post(at(target().tenantId, "/oauth2/v2.0/devicecode"), { client_id: clientId, scope: "openid offline_access" });
    expectEntraError(device, 400, "unauthorized_client", 700016);
  });

  test("error answers are not cached, and their trace id is the x-ms-request-id header", async () => {
    const answer = await target().get(at(target().tenantId, "/oauth2/v2.0/token"));
    expect(answer.headers["cache-control"]).toContain("no-store");
    expect(answer.json.trace_id).toBe(answer.headers["x-ms-request-id"]);
  });
}

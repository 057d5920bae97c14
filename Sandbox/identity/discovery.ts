// OpenID Connect discovery: /{tenant}/v2.0/.well-known/openid-configuration and the signing keys at
// /{tenant}/discovery/v2.0/keys, with the fields Entra ID publishes. For `organizations` and
// `common` the issuer keeps Entra ID's `{tenantid}` placeholder and the endpoints keep the alias.
import type { FastifyInstance } from "fastify";
import { issuerFor } from "../shared/tokens.ts";
import { Errors } from "./entra-errors.ts";
import { cacheable, sendEntraError, type IdentityContext } from "./context.ts";

export function openIdConfiguration(baseUrl: string, tenantPath: string, issuer: string, regionScope: string | null): Record<string, unknown> {
  const at = `${baseUrl}/${tenantPath}`;
  return {
    token_endpoint: `${at}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${at}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
    authorization_endpoint: `${at}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${at}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${at}/oauth2/v2.0/logout`,
    claims_supported: [
      "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
      "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email",
    ],
    kerberos_endpoint: `${at}/kerberos`,
    tenant_region_scope: regionScope,
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

export function discoveryRoutes(app: FastifyInstance, context: IdentityContext): void {
  // Tenant path and issuer as Entra ID writes them: a tenant addressed by its domain answers with its id.
  function tenantView(segment: string) {
    const address = context.directory.resolveTenant(segment);
    if (!address) return undefined;
    const baseUrl = context.baseUrl();
    return address.kind === "tenant"
      ? { path: context.directory.tenantId, issuer: issuerFor(baseUrl, context.directory.tenantId), regionScope: "EU" }
      : { path: address.alias, issuer: `${baseUrl}/{tenantid}/v2.0`, regionScope: null };
  }

  app.get<{ Params: { tenant: string } }>("/:tenant/v2.0/.well-known/openid-configuration", async (request, reply) => {
    const view = tenantView(request.params.tenant);
    if (!view) return sendEntraError(request, reply, Errors.tenantNotFound(request.params.tenant, "invalid_tenant"));
    return cacheable(reply).send(openIdConfiguration(context.baseUrl(), view.path, view.issuer, view.regionScope));
  });

  app.get<{ Params: { tenant: string } }>("/:tenant/discovery/v2.0/keys", async (request, reply) => {
    const view = tenantView(request.params.tenant);
    if (!view) return sendEntraError(request, reply, Errors.tenantNotFound(request.params.tenant, "invalid_tenant"));
    const { kty, n, e } = context.keys.publicJwk;
    const { x5t, x5c } = context.signingCertificate;
    return cacheable(reply).send({
      keys: [{ kty, use: "sig", kid: context.keys.kid, x5t, n, e, x5c: [x5c], cloud_instance_name: "microsoftonline.com", issuer: view.issuer }],
    });
  });
}

// The MSAL authority settings for an Entra ID tenant, complete enough that MSAL makes no discovery
// requests: the endpoints it would read from the OpenID configuration (authorityMetadata) and the
// instance discovery answer (cloudDiscoveryMetadata) are written here, in the shape Entra ID serves.
// The same code points MSAL at the real Entra ID (https://login.microsoftonline.com) or at the
// identity sandbox (https://127.0.0.1:4703); only the host differs.
import type { NodeAuthOptions } from "@azure/msal-node";

export const PUBLIC_CLOUD_AUTHORITY_HOST = "https://login.microsoftonline.com";

/** Hosts of the public cloud, as Entra ID's instance discovery lists them. */
const PUBLIC_CLOUD = {
  preferred_network: "login.microsoftonline.com",
  preferred_cache: "login.windows.net",
  aliases: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
};

const TENANT_ALIASES = new Set(["organizations", "common", "consumers"]);

export interface EntraEndpoints {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint: string;
  end_session_endpoint: string;
  jwks_uri: string;
}

export type EntraAuthority = Required<Pick<NodeAuthOptions, "authority" | "knownAuthorities" | "authorityMetadata" | "cloudDiscoveryMetadata">>;

export interface AuthorityOptions {
  /** Scheme, host and port of the authority, e.g. https://login.microsoftonline.com. Must be HTTPS. */
  authorityHost: string;
  /** Tenant id (a GUID; a verified domain works too), or organizations / common. */
  tenant: string;
}

function parse(options: AuthorityOptions): { origin: string; host: string; tenant: string } {
  const url = new URL(options.authorityHost);
  if (url.protocol !== "https:") throw new Error(`The authority host must use https: ${options.authorityHost}`);
  if (url.pathname !== "/" || url.search || url.hash) throw new Error(`The authority host must have no path: ${options.authorityHost}`);
  const tenant = options.tenant.trim();
  if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw new Error(`Not a tenant id or domain: ${options.tenant}`);
  return { origin: url.origin, host: url.host, tenant: TENANT_ALIASES.has(tenant.toLowerCase()) ? tenant.toLowerCase() : tenant };
}

/** The endpoints of the tenant's v2.0 OpenID configuration. */
export function entraEndpoints(options: AuthorityOptions): EntraEndpoints {
  const { origin, tenant } = parse(options);
  const at = `${origin}/${tenant}`;
  return {
    // Multi-tenant aliases publish the placeholder Entra ID fills in per token.
    issuer: TENANT_ALIASES.has(tenant) ? `${origin}/{tenantid}/v2.0` : `${at}/v2.0`,
    authorization_endpoint: `${at}/oauth2/v2.0/authorize`,
    token_endpoint: `${at}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${at}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${at}/oauth2/v2.0/logout`,
    jwks_uri: `${at}/discovery/v2.0/keys`,
  };
}

/** MSAL `auth` settings for the tenant; spread them into `Configuration.auth` next to clientId. */
export function entraAuthority(options: AuthorityOptions): EntraAuthority {
  const { origin, host, tenant } = parse(options);
  const hostName = host.toLowerCase();
  const instance = PUBLIC_CLOUD.aliases.includes(hostName)
    ? PUBLIC_CLOUD
    : { preferred_network: hostName, preferred_cache: hostName, aliases: [hostName] };
  return {
    authority: `${origin}/${tenant}/`,
    knownAuthorities: [hostName],
    authorityMetadata: JSON.stringify(entraEndpoints(options)),
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [instance],
    }),
  };
}

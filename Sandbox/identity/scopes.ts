// The v2.0 `scope` parameter: `<resource>/<permission>` or `<resource>/.default`, plus OpenID scopes.
// One request names one resource; that resource is the token's audience.
import { Errors } from "./entra-errors.ts";
import { MICROSOFT_GRAPH_APP_ID, OIDC_SCOPES, type Directory, type Resource } from "./directory.ts";

export interface DelegatedScopes {
  /** Undefined when only OpenID scopes were asked (Entra ID then issues a Microsoft Graph token). */
  resource: Resource | undefined;
  audience: string;
  /** The `scp` claim. */
  permissions: string[];
  /** OpenID scopes asked, lowercase. */
  oidc: Set<string>;
  /** The `scope` field of the token answer: the permissions granted, fully qualified. */
  responseScope: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ResourceScope {
  resource: Resource;
  /** The resource as the client wrote it, without trailing slashes: scopes in the answer use the same spelling. */
  prefix: string;
  permission: string;
  raw: string;
}

function splitScope(scope: string, directory: Directory): ResourceScope {
  const slash = scope.lastIndexOf("/");
  if (slash <= 0 || slash === scope.length - 1) throw Errors.invalidScope(scope);
  const prefix = scope.slice(0, slash).replace(/\/+$/, "");
  // An application ID URI or the bare application (client) id both name an app's own API.
  const resource = directory.findResource(GUID.test(prefix) ? `api://${prefix}` : prefix);
  if (!resource) {
    if (!prefix.includes(":") && !GUID.test(prefix)) throw Errors.invalidScope(scope);
    throw Errors.resourceNotFound(prefix, directory.tenantId);
  }
  return { resource, prefix, permission: scope.slice(slash + 1), raw: scope };
}

function words(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") throw Errors.missingParameter("scope");
  return raw.trim().split(/\s+/);
}

function isOidc(scope: string): boolean {
  return (OIDC_SCOPES as readonly string[]).includes(scope.toLowerCase());
}

/** Scopes of a sign-in on behalf of a user (device code, password, refresh token). */
export function parseDelegatedScopes(raw: string | undefined, directory: Directory): DelegatedScopes {
  const oidc = new Set<string>();
  const asked: ResourceScope[] = [];
  for (const scope of words(raw)) {
    if (isOidc(scope)) oidc.add(scope.toLowerCase());
    else asked.push(splitScope(scope, directory));
  }
  const first = asked[0];
  if (!first) {
    const permissions = [...oidc].filter((scope) => scope !== "offline_access");
    return { resource: undefined, audience: MICROSOFT_GRAPH_APP_ID, permissions, oidc, responseScope: permissions.join(" ") };
  }
  if (asked.some((scope) => scope.resource !== first.resource)) throw Errors.multipleResources(raw!.trim());

  const resource = first.resource;
  const asksDefault = asked.some((scope) => scope.permission.toLowerCase() === ".default");
  if (asksDefault && asked.some((scope) => scope.permission.toLowerCase() !== ".default")) throw Errors.invalidScope(raw!.trim());
  let permissions: string[];
  if (asksDefault) {
    permissions = [...resource.delegatedScopes];
  } else {
    permissions = asked.map((scope) => {
      const known = resource.delegatedScopes.find((name) => name.toLowerCase() === scope.permission.toLowerCase());
      if (!known) throw Errors.invalidScope(scope.raw);
      return known;
    });
  }
  const granted = [...new Set(permissions)].map((permission) => `${first.prefix}/${permission}`);
  const responseScope = [...granted, ...(asksDefault ? [`${first.prefix}/.default`] : [])].join(" ");
  return { resource, audience: audienceOf(first), permissions: [...new Set(permissions)], oidc, responseScope };
}

/** The one `<resource>/.default` scope of a client credentials request. */
export function parseAppScope(raw: string | undefined, directory: Directory): { resource: Resource; audience: string } {
  const scopes = words(raw);
  if (scopes.some((scope) => !scope.toLowerCase().endsWith("/.default"))) throw Errors.clientCredentialsScope(raw!.trim());
  const parsed = scopes.map((scope) => splitScope(scope, directory));
  const first = parsed[0]!;
  if (parsed.some((scope) => scope.resource !== first.resource)) throw Errors.multipleResources(raw!.trim());
  return { resource: first.resource, audience: audienceOf(first) };
}

function audienceOf(scope: ResourceScope): string {
  // Tokens carry the identifier the client asked for: the application ID URI, or the bare client id.
  return GUID.test(scope.prefix) ? scope.prefix.toLowerCase() : scope.resource.identifier;
}

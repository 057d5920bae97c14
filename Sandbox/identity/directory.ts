// The demo tenant as the identity sandbox sees it: app registrations, users, and the resources
// (token audiences) that tokens can be asked for. Everything comes from shared/demo-tenant.ts.
import { createHash } from "node:crypto";
import {
  DEMO_APPS,
  DEMO_TENANT_DOMAIN,
  DEMO_TENANT_ID,
  DEMO_USERS,
  PARTNER_CENTER_RESOURCE,
  PARTNER_CENTER_WEBHOOKS_RESOURCE,
  type DemoApp,
  type DemoUser,
} from "../shared/demo-tenant.ts";

export type Grant = DemoApp["grants"][number];

export interface Resource {
  /** The identifier scopes are built on and the `aud` of its tokens. */
  identifier: string;
  displayName: string;
  /** Delegated permissions (the `scp` claim) consented for the demo apps. */
  delegatedScopes: readonly string[];
  /** The app registration that exposes this API (its app roles go in users' tokens for it). */
  appClientId?: string;
}

/** OpenID Connect scopes; they never name a resource. */
export const OIDC_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** Microsoft Graph's app id: the audience Entra ID uses when only OpenID scopes are asked. */
export const MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/**
 * App roles that apps define for users (Entra ID: App registrations → App roles, allowed member type
 * Users/Groups), by the defining app's client id. The client API's app defines Relay.Admin: the relay's
 * status page admits users assigned to it (Enterprise applications → Users and groups).
 */
export const USER_APP_ROLES: Readonly<Record<string, readonly string[]>> = {
  [DEMO_APPS.card.clientId]: ["Relay.Admin"],
};

/** Who holds which app role at the start: the referrals admin administers the relay. */
const SEEDED_ROLE_ASSIGNMENTS: ReadonlyArray<{ clientId: string; oid: string; role: string }> = [
  { clientId: DEMO_APPS.card.clientId, oid: DEMO_USERS.referralsAdmin.oid, role: "Relay.Admin" },
];

/** How the first path segment addresses the tenant. */
export type TenantAddress = { kind: "tenant" } | { kind: "alias"; alias: "organizations" | "common" };

function trimSlashes(value: string): string {
  return value.replace(/\/+$/, "");
}

/** A stable GUID-shaped id derived from a name, for objects demo-tenant.ts does not list (service principals, sessions). */
export function derivedId(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export class Directory {
  readonly tenantId = DEMO_TENANT_ID;
  readonly tenantDomain = DEMO_TENANT_DOMAIN;
  readonly apps: readonly DemoApp[] = Object.values(DEMO_APPS);
  readonly users: readonly DemoUser[] = Object.values(DEMO_USERS);
  readonly resources: readonly Resource[];
  readonly #orgUrl: string;
  /** Redirect URIs an admin added to an app (control call), by client id. */
  readonly #addedRedirectUris = new Map<string, Set<string>>();
  /** Users whose sign-ins do not do MFA (control call): no MFA method registered, no policy asking for it. */
  readonly #withoutMfa = new Set<string>();
  /** App role assignments: `${clientId}:${oid}` → roles. */
  readonly #roleAssignments = new Map<string, Set<string>>();

  constructor(dataverseUrl: string) {
    this.#orgUrl = trimSlashes(dataverseUrl);
    this.resources = [
      { identifier: trimSlashes(dataverseUrl), displayName: "Dataverse", delegatedScopes: ["user_impersonation"] },
      { identifier: PARTNER_CENTER_RESOURCE, displayName: "Microsoft Partner", delegatedScopes: ["user_impersonation"] },
      { identifier: PARTNER_CENTER_WEBHOOKS_RESOURCE, displayName: "Microsoft Partner Center", delegatedScopes: ["user_impersonation"] },
      // Each app registration exposes its own API under its application ID URI.
      ...this.apps.map((app) => ({ identifier: `api://${app.clientId}`, displayName: app.displayName, delegatedScopes: ["user_impersonation"], appClientId: app.clientId })),
    ];
    this.resetUserSettings();
  }

  /** Whether a user's sign-ins do multi-factor authentication (every demo user does, until a control call says otherwise). */
  mfaFor(user: DemoUser): boolean {
    return !this.#withoutMfa.has(user.oid);
  }

  /** Per-user MFA, as an admin sets it (or a Conditional Access policy requiring MFA covers the user, or not). */
  setMfa(user: DemoUser, mfa: boolean): void {
    if (mfa) this.#withoutMfa.delete(user.oid);
    else this.#withoutMfa.add(user.oid);
  }

  /** The app roles a user holds on an app (the `roles` claim of the user's tokens for that app's API). */
  appRolesOf(clientId: string, oid: string): string[] {
    return [...(this.#roleAssignments.get(`${clientId}:${oid}`) ?? [])].sort();
  }

  /** Assigns (or removes) an app role the app defines; false when the app defines no such role. */
  assignAppRole(app: DemoApp, user: DemoUser, role: string, assigned: boolean): boolean {
    if (!(USER_APP_ROLES[app.clientId] ?? []).includes(role)) return false;
    const key = `${app.clientId}:${user.oid}`;
    const roles = this.#roleAssignments.get(key) ?? new Set<string>();
    if (assigned) roles.add(role);
    else roles.delete(role);
    this.#roleAssignments.set(key, roles);
    return true;
  }

  /** Back to the seeded state: every user with MFA, the seeded role assignments only. */
  resetUserSettings(): void {
    this.#withoutMfa.clear();
    this.#roleAssignments.clear();
    for (const { clientId, oid, role } of SEEDED_ROLE_ASSIGNMENTS) {
      const key = `${clientId}:${oid}`;
      this.#roleAssignments.set(key, new Set([...(this.#roleAssignments.get(key) ?? []), role]));
    }
  }

  resolveTenant(segment: string): TenantAddress | undefined {
    const value = segment.toLowerCase();
    if (value === this.tenantId || value === this.tenantDomain) return { kind: "tenant" };
    if (value === "organizations" || value === "common") return { kind: "alias", alias: value };
    return undefined;
  }

  findApp(clientId: string): DemoApp | undefined {
    const id = clientId.toLowerCase();
    return this.apps.find((app) => app.clientId === id);
  }

  findUser(username: string): DemoUser | undefined {
    const name = username.trim().toLowerCase();
    return this.users.find((user) => user.username.toLowerCase() === name);
  }

  findUserByOid(oid: string): DemoUser | undefined {
    return this.users.find((user) => user.oid === oid);
  }

  findResource(identifier: string): Resource | undefined {
    const wanted = trimSlashes(identifier).toLowerCase();
    return this.resources.find((resource) => resource.identifier.toLowerCase() === wanted);
  }

  /** An app's single-page application redirect URIs: its paths on the Dynamics 365 org, and any added since. */
  spaRedirectUris(app: DemoApp): string[] {
    return [...(app.spaRedirectPaths ?? []).map((path) => `${this.#orgUrl}${path}`), ...(this.#addedRedirectUris.get(app.clientId) ?? [])];
  }

  /** Adds a single-page application redirect URI to an app, as an admin does in its registration. */
  addSpaRedirectUri(app: DemoApp, redirectUri: string): void {
    const uris = this.#addedRedirectUris.get(app.clientId) ?? new Set<string>();
    uris.add(redirectUri);
    this.#addedRedirectUris.set(app.clientId, uris);
  }

  /** The object id of an app's service principal in the tenant (`oid`/`sub` of its app-only tokens). */
  servicePrincipalId(app: DemoApp): string {
    return derivedId(`service-principal:${this.tenantId}:${app.clientId}`);
  }
}

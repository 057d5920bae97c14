// Who is calling the client API: the seller's Entra ID access token for the relay's API (the card and the
// form scripts get it with msal-browser), verified with jose as a resource server does it: RS256 against
// the tenant's JWKS (from its OpenID configuration, cached by jose), issuer = the tenant's, audience = the
// API's Application ID URI or client id (v2.0 tokens carry the client id, v1.0 the URI: either is taken),
// not expired (60 s of clock skew), `tid` = the tenant, and a user's delegated token (`scp`, `oid`).
// Every refusal has a code the answer and the log carry; a tenant whose keys cannot be fetched is an
// outage (503), never a refusal.
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type FetchImplementation, type JWTPayload } from "jose";
import { fetch as undiciFetch, type Agent } from "undici";

export type TokenProblem = "missing-token" | "invalid-token" | "expired-token" | "wrong-audience" | "wrong-tenant" | "not-a-user";

/** The token is not one the client API takes (answered 401). */
export class TokenRefused extends Error {
  override name = "TokenRefused";
  readonly code: TokenProblem;

  constructor(code: TokenProblem, message: string) {
    super(message);
    this.code = code;
  }
}

/** The tenant's signing keys or OpenID configuration could not be read (answered 503). */
export class SignInCheckUnavailable extends Error {
  override name = "SignInCheckUnavailable";
}

/** The signed-in user, from the token. */
export interface SignedInUser {
  /** Entra ID object id: Dataverse impersonates the user by it (CallerObjectId). */
  oid: string;
  tid: string;
  name: string | null;
  username: string | null;
  /** The app roles the user holds on the API's app registration (the `roles` claim); the status page admits Relay.Admin. */
  roles?: string[];
  /** When the token expires (`exp`). */
  expiresAt?: Date;
}

export interface UserTokenVerifierOptions {
  /** https://login.microsoftonline.com, or the identity sandbox. */
  authorityHost: string;
  /** The tenant id (GUID) or a verified domain. */
  tenant: string;
  /** The API's Application ID URI (api://…) or client id. */
  audience: string;
  /** Connection pool for the OpenID configuration and the keys (trusts the sandbox CA when configured). */
  agent?: Agent;
  clockToleranceSeconds?: number;
  now?: () => Date;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PUBLIC_CLOUD = "https://login.microsoftonline.com";

/** The audiences a token for the API may carry: the Application ID URI api://<id> and the bare client id go together. */
export function acceptedAudiences(audience: string): string[] {
  const value = audience.trim().replace(/\/+$/, "");
  const id = /^api:\/\/([0-9a-f-]{36})$/i.exec(value)?.[1];
  if (id && GUID.test(id)) return [value, id.toLowerCase()];
  if (GUID.test(value)) return [value.toLowerCase(), `api://${value.toLowerCase()}`];
  return [value];
}

interface Tenant {
  issuers: string[];
  tenantId: string;
  keys: ReturnType<typeof createRemoteJWKSet>;
}

export class UserTokenVerifier {
  readonly #options: UserTokenVerifierOptions;
  readonly #audiences: string[];
  readonly #fetch: FetchImplementation;
  #tenant: Promise<Tenant> | undefined;

  constructor(options: UserTokenVerifierOptions) {
    this.#options = options;
    this.#audiences = acceptedAudiences(options.audience);
    const agent = options.agent;
    const fetchWithAgent = (url: string, init: Parameters<FetchImplementation>[1]) => undiciFetch(url, {
      method: init.method, redirect: init.redirect, signal: init.signal, headers: Object.fromEntries(init.headers), ...(agent ? { dispatcher: agent } : {}),
    });
    this.#fetch = fetchWithAgent as unknown as FetchImplementation;
  }

  get audiences(): readonly string[] {
    return this.#audiences;
  }

  /** The tenant's issuer and keys, from its OpenID configuration (read once; again after a failure). */
  #discover(): Promise<Tenant> {
    this.#tenant ??= (async () => {
      const authority = this.#options.authorityHost.replace(/\/+$/, "");
      const url = `${authority}/${encodeURIComponent(this.#options.tenant)}/v2.0/.well-known/openid-configuration`;
      let configuration: { issuer?: unknown; jwks_uri?: unknown };
      try {
        const response = await this.#fetch(url, { headers: new Headers({ accept: "application/json" }), method: "GET", redirect: "manual", signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        configuration = (await response.json()) as typeof configuration;
      } catch (error) {
        throw new SignInCheckUnavailable(`the OpenID configuration of tenant ${this.#options.tenant} could not be read from ${authority}: ${(error as Error).message}`, { cause: error });
      }
      if (typeof configuration.issuer !== "string" || typeof configuration.jwks_uri !== "string" || !URL.canParse(configuration.jwks_uri)) {
        throw new SignInCheckUnavailable(`the OpenID configuration of tenant ${this.#options.tenant} has no issuer or jwks_uri`);
      }
      const tenantId = GUID.test(this.#options.tenant) ? this.#options.tenant.toLowerCase() : /\/([0-9a-f-]{36})\//i.exec(configuration.issuer)?.[1]?.toLowerCase();
      if (!tenantId) throw new SignInCheckUnavailable(`the issuer ${configuration.issuer} names no tenant id`);
      // v1.0 tokens (an API app whose manifest asks for them) come from sts.windows.net in the public cloud.
      const issuers = [configuration.issuer, ...(authority === PUBLIC_CLOUD ? [`https://sts.windows.net/${tenantId}/`] : [])];
      const keys = createRemoteJWKSet(new URL(configuration.jwks_uri), { [customFetch]: this.#fetch, timeoutDuration: 10_000 });
      return { issuers, tenantId, keys };
    })();
    this.#tenant.catch(() => {
      this.#tenant = undefined;
    });
    return this.#tenant;
  }

  /** The user an `Authorization: Bearer …` header signs in, or TokenRefused saying why not. */
  async verify(authorization: string | undefined): Promise<SignedInUser> {
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization ?? "");
    if (!authorization?.trim()) throw new TokenRefused("missing-token", "Sign in: the request carries no bearer token.");
    if (!match) throw new TokenRefused("invalid-token", "The Authorization header is not a bearer token.");
    const tenant = await this.#discover();
    let payload: JWTPayload & Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1]!, tenant.keys, {
        issuer: tenant.issuers,
        audience: this.#audiences,
        algorithms: ["RS256"],
        clockTolerance: this.#options.clockToleranceSeconds ?? 60,
        requiredClaims: ["exp", "tid", "oid"],
        ...(this.#options.now ? { currentDate: this.#options.now() } : {}),
      }));
    } catch (error) {
      throw refusal(error);
    }
    if (String(payload.tid).toLowerCase() !== tenant.tenantId) throw new TokenRefused("wrong-tenant", "The token was issued for another tenant.");
    const oid = typeof payload.oid === "string" ? payload.oid.toLowerCase() : "";
    if (typeof payload.scp !== "string" || !payload.scp.trim() || !GUID.test(oid)) {
      throw new TokenRefused("not-a-user", "The token does not sign in a user: the client API takes a seller's delegated token only.");
    }
    const text = (value: unknown): string | null => (typeof value === "string" && value ? value : null);
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === "string") : [];
    return { oid, tid: tenant.tenantId, name: text(payload.name), username: text(payload.preferred_username) ?? text(payload.upn), roles, ...(typeof payload.exp === "number" ? { expiresAt: new Date(payload.exp * 1000) } : {}) };
  }
}

function refusal(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenRefused("expired-token", "The token has expired: sign in again.");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new TokenRefused("wrong-audience", "The token is not for the relay's API.");
    if (error.claim === "iss") return new TokenRefused("wrong-tenant", "The token was issued for another tenant.");
    return new TokenRefused("invalid-token", `The token's ${error.claim} claim is not acceptable.`);
  }
  if (error instanceof errors.JWKSTimeout) return new SignInCheckUnavailable("the tenant's signing keys could not be fetched in time", { cause: error });
  if (error instanceof errors.JOSEError && error.code !== "ERR_JOSE_GENERIC") return new TokenRefused("invalid-token", "The token is not valid.");
  if (error instanceof errors.JOSEError || !(error instanceof Error) || error instanceof TypeError) {
    return new SignInCheckUnavailable(`the tenant's signing keys could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return new TokenRefused("invalid-token", "The token is not valid.");
}

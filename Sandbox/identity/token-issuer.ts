// Access tokens, ID tokens and the token endpoint's answer, shaped like Entra ID's v2.0 endpoint.
// Access tokens carry both the v2.0 claim names (azp, preferred_username) and the v1.0 ones that
// Dataverse and Partner Center read (appid, upn, amr), so resource sandboxes can check either.
import { createHash, randomBytes } from "node:crypto";
import { signToken, type SigningKeySet } from "../shared/tokens.ts";
import type { DemoApp, DemoUser } from "../shared/demo-tenant.ts";
import type { Directory, Resource } from "./directory.ts";
import type { DelegatedScopes } from "./scopes.ts";
import type { RefreshTokenStore, SignInSession } from "./refresh-tokens.ts";

export interface TokenAnswer {
  token_type: "Bearer";
  scope?: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

const ID_TOKEN_LIFETIME_SECONDS = 3600;

/** Opaque values Entra ID puts in tokens (aio, rh); nothing reads them. */
const opaque = (bytes: number) => randomBytes(bytes).toString("base64url");

/** `sub` is pairwise: the same user has a different subject in each app. */
function pairwiseSubject(oid: string, clientId: string): string {
  return createHash("sha256").update(`${oid}:${clientId}`).digest("base64url").slice(0, 43);
}

export class TokenIssuer {
  readonly #keys: SigningKeySet;
  readonly #directory: Directory;
  readonly #lifetime: number;
  readonly #refreshTokens: RefreshTokenStore;
  readonly #issuer: () => string;

  constructor(options: { keys: SigningKeySet; directory: Directory; accessTokenLifetimeSeconds: number; refreshTokens: RefreshTokenStore; issuer: () => string }) {
    this.#keys = options.keys;
    this.#directory = options.directory;
    this.#lifetime = options.accessTokenLifetimeSeconds;
    this.#refreshTokens = options.refreshTokens;
    this.#issuer = options.issuer;
  }

  /** Client credentials: the app acts as itself. */
  async appOnly(app: DemoApp, target: { resource: Resource; audience: string }): Promise<TokenAnswer> {
    const servicePrincipal = this.#directory.servicePrincipalId(app);
    const roles = app.appRoles?.[target.resource.identifier];
    const accessToken = await signToken(this.#keys, {
      aud: target.audience,
      iss: this.#issuer(),
      aio: opaque(48),
      appid: app.clientId,
      appidacr: "1",
      azp: app.clientId,
      azpacr: "1",
      idtyp: "app",
      oid: servicePrincipal,
      rh: `1.A${opaque(36)}.`,
      // Like Entra ID, the claim is absent when the app holds no application permission on the resource.
      ...(roles && roles.length > 0 ? { roles: [...roles] } : {}),
      sub: servicePrincipal,
      tid: this.#directory.tenantId,
    }, this.#lifetime);
    return { token_type: "Bearer", expires_in: this.#lifetime, ext_expires_in: this.#lifetime, access_token: accessToken };
  }

  /** A user's sign-in (device code, password) or its refresh. */
  async delegated(app: DemoApp, user: DemoUser, session: SignInSession, scopes: DelegatedScopes, options: { clientInfo: boolean; nonce?: string | undefined }): Promise<TokenAnswer> {
    const iss = this.#issuer();
    const tid = this.#directory.tenantId;
    const acr = session.confidential ? "1" : "0";
    // Like Entra ID: the app roles the user is assigned on the API's app, absent when none.
    const roles = scopes.resource?.appClientId ? this.#directory.appRolesOf(scopes.resource.appClientId, user.oid) : [];
    const accessToken = await signToken(this.#keys, {
      aud: scopes.audience,
      iss,
      acr: "1",
      aio: opaque(48),
      amr: [...session.amr],
      appid: app.clientId,
      appidacr: acr,
      azp: app.clientId,
      azpacr: acr,
      family_name: user.surname,
      given_name: user.givenName,
      idtyp: "user",
      ipaddr: "127.0.0.1",
      name: user.displayName,
      oid: user.oid,
      preferred_username: user.username,
      rh: `1.A${opaque(36)}.`,
      ...(roles.length > 0 ? { roles } : {}),
      scp: scopes.permissions.join(" "),
      sid: session.sid,
      sub: pairwiseSubject(user.oid, app.clientId),
      tid,
      unique_name: user.username,
      upn: user.username,
    }, this.#lifetime);

    const answer: TokenAnswer = {
      token_type: "Bearer",
      scope: scopes.responseScope,
      expires_in: this.#lifetime,
      ext_expires_in: this.#lifetime,
      access_token: accessToken,
    };
    if (scopes.oidc.has("offline_access")) answer.refresh_token = this.#refreshTokens.issue(session);
    if (scopes.oidc.has("openid")) {
      answer.id_token = await signToken(this.#keys, {
        aud: app.clientId,
        iss,
        aio: opaque(48),
        ...(scopes.oidc.has("email") ? { email: user.username } : {}),
        ...(scopes.oidc.has("profile") ? { name: user.displayName, preferred_username: user.username } : {}),
        // The authorize request's nonce comes back in the ID token: msal-browser checks it.
        ...(options.nonce ? { nonce: options.nonce } : {}),
        oid: user.oid,
        rh: `1.A${opaque(36)}.`,
        sid: session.sid,
        sub: pairwiseSubject(user.oid, app.clientId),
        tid,
        ver: "2.0",
      }, ID_TOKEN_LIFETIME_SECONDS);
      // Entra ID adds client_info only when the request asks with client_info=1 (MSAL always does).
      if (options.clientInfo) answer.client_info = Buffer.from(JSON.stringify({ uid: user.oid, utid: tid })).toString("base64url");
    }
    return answer;
  }
}

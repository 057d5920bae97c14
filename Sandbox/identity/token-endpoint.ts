// /{tenant}/oauth2/v2.0/token and /{tenant}/oauth2/v2.0/devicecode, with Entra ID's order of checks:
// tenant, grant type, client, client authentication, the app's grants, then the grant itself.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { DemoApp } from "../shared/demo-tenant.ts";
import type { Grant, TenantAddress } from "./directory.ts";
import { EntraError, Errors } from "./entra-errors.ts";
import { formParams, noStore, sendEntraError, type FormParams, type IdentityContext } from "./context.ts";
import { parseAppScope, parseDelegatedScopes } from "./scopes.ts";
import type { SignInSession } from "./refresh-tokens.ts";
import { s256 } from "./authorize.ts";
import type { TokenAnswer } from "./token-issuer.ts";

const GRANT_TYPES: Record<string, Grant> = {
  client_credentials: "client_credentials",
  refresh_token: "refresh_token",
  password: "password",
  authorization_code: "authorization_code",
  "urn:ietf:params:oauth:grant-type:device_code": "device_code",
  device_code: "device_code",
};

/**
 * Sign-ins the demo users make in the sandbox count as password plus MFA (Partner Center demands MFA),
 * unless MFA was switched off for the user (POST /sandbox/users/mfa): then a password only. Refreshed
 * tokens carry the original sign-in's methods on, as Entra ID's do.
 */
const MFA_SIGN_IN = ["pwd", "mfa"];
const PASSWORD_ONLY = ["pwd"];

interface Client {
  app: DemoApp;
  /** The app proved itself with its secret. */
  confidential: boolean;
}

function basicCredentials(request: FastifyRequest): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(request.headers.authorization ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before joining.
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Apps that allow public client flows (no secret) for the grants that need a user. */
function allowsPublicClientFlows(app: DemoApp): boolean {
  const grants: readonly Grant[] = app.grants;
  return grants.includes("device_code") || grants.includes("password");
}

export function tokenRoutes(app: FastifyInstance, context: IdentityContext): void {
  const { directory } = context;

  function tenantOf(segment: string): TenantAddress {
    const address = directory.resolveTenant(segment);
    if (!address) throw Errors.tenantNotFound(segment, "invalid_request");
    return address;
  }

  function findApp(clientId: string | undefined): DemoApp {
    if (!clientId) throw Errors.missingParameter("client_id");
    const found = directory.findApp(clientId);
    if (!found) throw Errors.appNotFound(clientId, directory.tenantId);
    return found;
  }

  function authenticate(request: FastifyRequest, form: FormParams): Client {
    const basic = basicCredentials(request);
    const found = findApp(form.client_id ?? basic?.id);
    const secret = form.client_secret ?? basic?.secret;
    if (secret === undefined) return { app: found, confidential: false };
    if (!found.clientSecret) throw Errors.publicClientWithSecret();
    if (secret !== found.clientSecret) throw Errors.invalidClientSecret(found.clientId);
    return { app: found, confidential: true };
  }

  /** Client authentication the grant needs, checked before the app's grants as Entra ID does. */
  function requireAuthentication(grant: Grant, client: Client): void {
    if (client.confidential) return;
    if (grant === "client_credentials") throw Errors.clientSecretRequired();
    // A confidential app without public client flows must use its secret for user sign-ins too.
    if ((grant === "device_code" || grant === "password") && client.app.clientSecret && !allowsPublicClientFlows(client.app)) {
      throw Errors.clientSecretRequired();
    }
  }

  async function clientCredentials(client: Client, form: FormParams, tenant: TenantAddress): Promise<TokenAnswer> {
    if (tenant.kind === "alias") throw Errors.noTenantInformation();
    return context.issuer.appOnly(client.app, parseAppScope(form.scope, directory));
  }

  async function password(client: Client, form: FormParams, tenant: TenantAddress): Promise<TokenAnswer> {
    if (tenant.kind === "alias" && tenant.alias === "common") throw Errors.grantNotOnCommon();
    if (!form.username) throw Errors.missingParameter("username");
    if (!form.password) throw Errors.missingParameter("password");
    const scopes = parseDelegatedScopes(form.scope, directory);
    const user = directory.findUser(form.username);
    if (!user) throw Errors.userNotFound(directory.tenantId);
    if (user.password !== form.password) throw Errors.invalidPassword();
    const session: SignInSession = {
      clientId: client.app.clientId, oid: user.oid, username: user.username, amr: directory.mfaFor(user) ? MFA_SIGN_IN : PASSWORD_ONLY, sid: randomUUID(),
      confidential: client.confidential, scope: form.scope!,
    };
    return context.issuer.delegated(client.app, user, session, scopes, { clientInfo: form.client_info === "1" });
  }

  async function deviceCode(client: Client, form: FormParams): Promise<TokenAnswer> {
    if (!form.device_code) throw Errors.missingParameter("device_code");
    const authorization = context.deviceCodes.byDeviceCode(form.device_code);
    if (!authorization || authorization.clientId !== client.app.clientId) throw Errors.badDeviceCode();
    const now = Date.now();
    if (authorization.expiresAt <= now) throw Errors.deviceCodeExpired();
    if (authorization.state === "declined") throw Errors.authorizationDeclined();
    if (authorization.state === "pending" || !authorization.user) {
      // A poll sooner than `interval` after the previous one is told to slow down (a little slack for timers).
      const tooSoon = authorization.lastPollAt !== undefined && now - authorization.lastPollAt < authorization.interval * 1000 - 250;
      authorization.lastPollAt = now;
      throw tooSoon ? Errors.slowDown(authorization.interval) : Errors.authorizationPending();
    }
    context.deviceCodes.consume(authorization.deviceCode);
    const user = authorization.user;
    const session: SignInSession = {
      clientId: client.app.clientId, oid: user.oid, username: user.username, amr: directory.mfaFor(user) ? MFA_SIGN_IN : PASSWORD_ONLY, sid: randomUUID(),
      confidential: client.confidential, scope: authorization.scope,
    };
    return context.issuer.delegated(client.app, user, session, parseDelegatedScopes(authorization.scope, directory), { clientInfo: form.client_info === "1" });
  }

  /** A code from the browser sign-in (authorize.ts): once, by its app, with its redirect URI and PKCE verifier. */
  async function authorizationCode(client: Client, form: FormParams, origin: string | undefined): Promise<TokenAnswer> {
    if (!form.code) throw Errors.missingParameter("code");
    if (!form.redirect_uri) throw Errors.missingParameter("redirect_uri");
    const code = context.browserSignIns.codes.get(form.code);
    if (!code || code.clientId !== client.app.clientId || code.redirectUri !== form.redirect_uri) throw Errors.refreshTokenOtherClient();
    if (code.redeemed) throw Errors.codeRedeemed();
    if (code.expiresAt <= Date.now()) throw Errors.codeExpired();
    // Single-page apps' codes: from the browser (an Origin header) only; and no other kind of redirect URI cross-origin.
    if (code.spa && origin === undefined) throw Errors.spaCrossOriginOnly();
    if (!code.spa && origin !== undefined) throw Errors.crossOriginSpaOnly();
    if (code.codeChallenge !== undefined) {
      if (!form.code_verifier) throw Errors.codeVerifierMismatch();
      if (s256(form.code_verifier) !== code.codeChallenge) throw Errors.codeVerifierMismatch();
    }
    code.redeemed = true;
    const scope = form.scope ?? code.scope;
    const session: SignInSession = {
      clientId: client.app.clientId, oid: code.user.oid, username: code.user.username, amr: ["pwd"], sid: code.sid,
      confidential: client.confidential, scope, ...(code.spa ? { spa: { signedInAt: code.signedInAt } } : {}),
    };
    return context.issuer.delegated(client.app, code.user, session, parseDelegatedScopes(scope, directory), { clientInfo: form.client_info === "1", nonce: code.nonce });
  }

  async function refreshToken(client: Client, form: FormParams, origin: string | undefined): Promise<TokenAnswer> {
    if (!form.refresh_token) throw Errors.missingParameter("refresh_token");
    const redemption = context.refreshTokens.redeem(form.refresh_token);
    if (redemption.status === "unknown") throw Errors.refreshTokenMalformed();
    if (redemption.status === "revoked") throw Errors.refreshTokenRevoked(redemption.issuedAt, redemption.revokedAt);
    if (redemption.status === "expired") throw Errors.refreshTokenExpired(redemption.issuedAt);
    const previous = redemption.session;
    if (previous.clientId !== client.app.clientId) throw Errors.refreshTokenOtherClient();
    if (previous.confidential && !client.confidential) throw Errors.clientSecretRequired();
    if (previous.spa && origin === undefined) throw Errors.spaCrossOriginOnly();
    const user = directory.findUserByOid(previous.oid);
    if (!user) throw Errors.userNotFound(directory.tenantId);
    // Refresh tokens serve any resource the user consented to; the scope may differ from the sign-in's.
    const scope = form.scope ?? previous.scope;
    const scopes = parseDelegatedScopes(scope, directory);
    const session: SignInSession = { ...previous, confidential: previous.confidential || client.confidential, scope };
    return context.issuer.delegated(client.app, user, session, scopes, { clientInfo: form.client_info === "1" });
  }

  async function token(request: FastifyRequest<{ Params: { tenant: string } }>): Promise<TokenAnswer> {
    const origin = typeof request.headers.origin === "string" ? request.headers.origin : undefined;
    const tenant = tenantOf(request.params.tenant);
    const form = formParams(request);
    if (!form.grant_type) throw Errors.missingParameter("grant_type");
    const grant = GRANT_TYPES[form.grant_type];
    if (!grant) throw Errors.unsupportedGrantType(form.grant_type);
    const client = authenticate(request, form);
    requireAuthentication(grant, client);
    const grants: readonly Grant[] = client.app.grants;
    if (!grants.includes(grant)) throw Errors.grantNotAllowed(form.grant_type, client.app.clientId);
    switch (grant) {
      case "client_credentials":
        return clientCredentials(client, form, tenant);
      case "password":
        return password(client, form, tenant);
      case "device_code":
        return deviceCode(client, form);
      case "refresh_token":
        return refreshToken(client, form, origin);
      case "authorization_code":
        return authorizationCode(client, form, origin);
    }
  }

  // Browsers (single-page apps) call the token endpoint cross-origin: Entra ID answers any origin.
  app.options<{ Params: { tenant: string } }>("/:tenant/oauth2/v2.0/token", async (_request, reply) =>
    reply.code(200).headers({ "access-control-allow-origin": "*", "access-control-allow-methods": "POST, OPTIONS", "access-control-allow-headers": "*", "access-control-max-age": "86400" }).send());

  app.post<{ Params: { tenant: string } }>("/:tenant/oauth2/v2.0/token", async (request, reply) => {
    if (request.headers.origin !== undefined) reply.header("access-control-allow-origin", "*");
    try {
      return noStore(reply).send(await token(request));
    } catch (error) {
      if (error instanceof EntraError) return sendEntraError(request, reply, error);
      throw error;
    }
  });

  app.post<{ Params: { tenant: string } }>("/:tenant/oauth2/v2.0/devicecode", async (request, reply) => {
    try {
      tenantOf(request.params.tenant);
      const form = formParams(request);
      const client = findApp(form.client_id);
      parseDelegatedScopes(form.scope, directory);
      // Like Entra ID, any app gets a code; whether it may redeem one is decided at the token endpoint.
      const { lifetimeSeconds, intervalSeconds } = context.deviceCode;
      const authorization = context.deviceCodes.create(client.clientId, form.scope!, lifetimeSeconds, intervalSeconds);
      const verificationUri = `${context.baseUrl()}/sandbox/device`;
      return noStore(reply).send({
        user_code: authorization.userCode,
        device_code: authorization.deviceCode,
        verification_uri: verificationUri,
        expires_in: lifetimeSeconds,
        interval: intervalSeconds,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${authorization.userCode} to authenticate.`,
      });
    } catch (error) {
      if (error instanceof EntraError) return sendEntraError(request, reply, error);
      throw error;
    }
  });

  for (const endpoint of ["token", "devicecode"]) {
    app.get<{ Params: { tenant: string } }>(`/:tenant/oauth2/v2.0/${endpoint}`, async (request, reply) =>
      sendEntraError(request, reply, Errors.methodNotAllowed("GET")));
  }
}

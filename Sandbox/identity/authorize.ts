// The browser sign-in of Entra ID's v2.0 endpoint, as msal-browser uses it from a single-page app:
//   GET  /{tenant}/oauth2/v2.0/authorize   authorization code flow with PKCE (S256), response_mode query
//                                          or fragment, prompt=none (silent: ssoSilent's hidden iframe),
//                                          login_hint; signs in from the session cookie or shows a page
//   POST /{tenant}/login                   that sign-in page's form: a demo user and their password
// Errors before the redirect URI is known good are a page, never a redirect (as Entra ID does: an
// unknown app or redirect URI must not become an open redirector); later ones go back to the app with
// error, error_description and state. Codes are redeemed at the token endpoint (token-endpoint.ts).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DemoApp, DemoUser } from "../shared/demo-tenant.ts";
import { EntraError, Errors, entraTimestamp } from "./entra-errors.ts";
import { correlationId, type IdentityContext } from "./context.ts";
import { parseDelegatedScopes } from "./scopes.ts";

/** Entra ID's session cookie; SameSite=None so that a hidden iframe inside another site still sends it. */
export const SESSION_COOKIE = "ESTSAUTH";
/** Entra ID's codes live about ten minutes. */
const CODE_LIFETIME_MS = 10 * 60_000;
/** A started sign-in waits this long on the sign-in page. */
const PENDING_LIFETIME_MS = 30 * 60_000;

export interface SignInSessionCookie {
  oid: string;
  sid: string;
  signedInAt: number;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  spa: boolean;
  scope: string;
  codeChallenge: string | undefined;
  nonce: string | undefined;
  user: DemoUser;
  sid: string;
  signedInAt: number;
  expiresAt: number;
  redeemed: boolean;
}

interface AuthorizeRequest {
  app: DemoApp;
  redirectUri: string;
  spa: boolean;
  responseMode: "query" | "fragment";
  scope: string;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  loginHint: string | undefined;
  clientInfo: boolean;
}

/** Sessions (by cookie value), codes and sign-ins waiting on the page: in memory, like a browser session. */
export class BrowserSignIns {
  readonly sessions = new Map<string, SignInSessionCookie>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly pending = new Map<string, { request: AuthorizeRequest; expiresAt: number }>();

  startSession(user: DemoUser, now = Date.now()): { value: string; session: SignInSessionCookie } {
    const value = randomBytes(32).toString("base64url");
    const session = { oid: user.oid, sid: randomUUID(), signedInAt: now };
    this.sessions.set(value, session);
    return { value, session };
  }

  issueCode(code: Omit<AuthorizationCode, "expiresAt" | "redeemed">, now = Date.now()): string {
    for (const [key, stored] of this.codes) if (stored.expiresAt <= now) this.codes.delete(key);
    const value = `1.A${randomBytes(96).toString("base64url")}`;
    this.codes.set(value, { ...code, expiresAt: now + CODE_LIFETIME_MS, redeemed: false });
    return value;
  }

  /** Signs everyone out (or one user), as revoking sessions does. */
  endSessions(oid?: string): number {
    let count = 0;
    for (const [value, session] of this.sessions) {
      if (oid !== undefined && session.oid !== oid) continue;
      this.sessions.delete(value);
      count += 1;
    }
    return count;
  }

  clear(): void {
    this.sessions.clear();
    this.codes.clear();
    this.pending.clear();
  }
}

export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=None`;
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

/** RFC 7636: BASE64URL(SHA256(code_verifier)) = code_challenge. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:'Segoe UI','Liberation Sans',Arial,sans-serif;background:#f2f2f2;margin:0}main{max-width:360px;margin:64px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}h1{font-size:22px;font-weight:600}label{display:block;margin:14px 0 4px}input{width:100%;box-sizing:border-box;padding:6px;font-size:15px}button{margin-top:20px;background:#0067b8;color:#fff;border:0;padding:8px 24px;font-size:15px}.error{color:#e81123}</style>
</head><body><main>${body}</main></body></html>`;
}

export function authorizeRoutes(app: FastifyInstance, context: IdentityContext): void {
  const { directory } = context;
  const signIns = context.browserSignIns;

  function errorPage(request: FastifyRequest, reply: FastifyReply, error: EntraError): FastifyReply {
    const text = `AADSTS${error.code}: ${error.message}`;
    return reply.code(400).type("text/html; charset=utf-8").send(page("Sign in to your account", `<h1>Sign in</h1><p class="error" id="error">Sorry, but we're having trouble signing you in.</p><p id="aadsts">${escape(text)}</p><p>Request Id: ${escape(request.id)}<br>Correlation Id: ${escape(correlationId(request))}<br>Timestamp: ${escape(entraTimestamp(new Date()))}</p>`));
  }

  /** Back to the app: query or fragment, with state as the app sent it. */
  function backToApp(reply: FastifyReply, request: AuthorizeRequest, params: Record<string, string | undefined>): FastifyReply {
    const values = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...params, state: request.state })) if (value !== undefined) values.append(name, value);
    const url = new URL(request.redirectUri);
    if (request.responseMode === "fragment") url.hash = values.toString();
    else for (const [name, value] of values) url.searchParams.append(name, value);
    return reply.code(302).header("location", url.toString()).header("cache-control", "no-store, no-cache").send();
  }

  function errorToApp(request: FastifyRequest, reply: FastifyReply, authorize: AuthorizeRequest, error: EntraError): FastifyReply {
    const description = `AADSTS${error.code}: ${error.message}\r\nTrace ID: ${request.id}\r\nCorrelation ID: ${correlationId(request)}\r\nTimestamp: ${entraTimestamp(new Date())}`;
    return backToApp(reply, authorize, { error: error.error, error_description: description, error_uri: `https://login.microsoftonline.com/error?code=${error.code}` });
  }

  function codeToApp(reply: FastifyReply, authorize: AuthorizeRequest, user: DemoUser, session: SignInSessionCookie): FastifyReply {
    const code = signIns.issueCode({
      clientId: authorize.app.clientId, redirectUri: authorize.redirectUri, spa: authorize.spa, scope: authorize.scope, codeChallenge: authorize.codeChallenge,
      nonce: authorize.nonce, user, sid: session.sid, signedInAt: session.signedInAt,
    });
    const clientInfo = authorize.clientInfo ? Buffer.from(JSON.stringify({ uid: user.oid, utid: directory.tenantId })).toString("base64url") : undefined;
    return backToApp(reply, authorize, { code, client_info: clientInfo, session_state: session.sid });
  }

  app.get<{ Params: { tenant: string }; Querystring: Record<string, string | undefined> }>("/:tenant/oauth2/v2.0/authorize", async (request, reply) => {
    const q = request.query;
    // 1. What cannot be answered by redirect: tenant, app, redirect URI.
    if (!directory.resolveTenant(request.params.tenant)) return errorPage(request, reply, Errors.tenantNotFound(request.params.tenant, "invalid_tenant"));
    if (!q.client_id) return errorPage(request, reply, Errors.missingParameter("client_id"));
    const client = directory.findApp(q.client_id);
    if (!client) return errorPage(request, reply, Errors.appNotFound(q.client_id, directory.tenantId));
    if (!q.redirect_uri) return errorPage(request, reply, Errors.missingParameter("redirect_uri"));
    const spa = directory.spaRedirectUris(client).includes(q.redirect_uri);
    if (!spa) return errorPage(request, reply, Errors.redirectUriMismatch(q.redirect_uri, client.clientId));

    const mode = q.response_mode ?? "query";
    const authorize: AuthorizeRequest = {
      app: client, redirectUri: q.redirect_uri, spa, responseMode: mode === "fragment" ? "fragment" : "query", scope: q.scope ?? "",
      state: q.state, nonce: q.nonce, codeChallenge: q.code_challenge, loginHint: q.login_hint?.trim() || undefined, clientInfo: q.client_info === "1",
    };
    // 2. The rest goes back to the app.
    try {
      if (mode !== "query" && mode !== "fragment") throw Errors.unsupportedResponseMode(mode);
      if (q.response_type !== "code") throw Errors.unsupportedResponseType(q.response_type ?? "");
      parseDelegatedScopes(q.scope, directory);
      const grants: readonly string[] = client.grants;
      if (!grants.includes("authorization_code")) throw Errors.grantNotAllowed("authorization_code", client.clientId);
      // Single-page apps redeem codes cross-origin, which Entra ID allows only with PKCE; the sandbox takes S256 only.
      if (!q.code_challenge) throw Errors.pkceRequired();
      if ((q.code_challenge_method ?? "plain") !== "S256") throw Errors.pkceMethod(q.code_challenge_method ?? "plain");
    } catch (error) {
      if (error instanceof EntraError) return errorToApp(request, reply, authorize, error);
      throw error;
    }

    const cookie = cookieValue(request, SESSION_COOKIE);
    const session = cookie ? signIns.sessions.get(cookie) : undefined;
    const user = session ? directory.findUserByOid(session.oid) : undefined;
    const hinted = authorize.loginHint ? directory.findUser(authorize.loginHint) : undefined;
    const sameUser = Boolean(user) && (!authorize.loginHint || hinted?.oid === user!.oid);
    const prompt = q.prompt;
    if (prompt === "none") {
      if (!user) return errorToApp(request, reply, authorize, Errors.loginRequired());
      if (!sameUser) return errorToApp(request, reply, authorize, Errors.otherUserSignedIn());
      return codeToApp(reply, authorize, user, session!);
    }
    if (user && sameUser && prompt !== "login" && prompt !== "select_account") return codeToApp(reply, authorize, user, session!);

    const id = randomUUID();
    signIns.pending.set(id, { request: authorize, expiresAt: Date.now() + PENDING_LIFETIME_MS });
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(signInPage(request.params.tenant, id, authorize.loginHint ?? "", undefined, authorize.app));
  });

  app.post<{ Params: { tenant: string } }>("/:tenant/login", async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const waiting = form.request ? signIns.pending.get(form.request) : undefined;
    if (!waiting || waiting.expiresAt <= Date.now()) {
      return reply.code(400).type("text/html; charset=utf-8").send(page("Sign in", "<h1>Sign in</h1><p class=\"error\">This sign-in has expired. Go back to the app and try again.</p>"));
    }
    const user = directory.findUser(form.username ?? "");
    if (!user || user.password !== form.password) {
      const message = user ? "Your account or password is incorrect." : "This username may be incorrect. Make sure you typed it correctly.";
      return reply.code(200).type("text/html; charset=utf-8").send(signInPage(request.params.tenant, form.request!, form.username ?? "", message, waiting.request.app));
    }
    signIns.pending.delete(form.request!);
    const { value, session } = signIns.startSession(user);
    reply.header("set-cookie", sessionCookie(value));
    return codeToApp(reply, waiting.request, user, session);
  });
}

function signInPage(tenant: string, requestId: string, username: string, error: string | undefined, app: DemoApp): string {
  return page("Sign in to your account", `<h1>Sign in</h1><p>to continue to ${escape(app.displayName)}</p>
<form method="post" action="/${encodeURIComponent(tenant)}/login">
<input type="hidden" name="request" value="${escape(requestId)}">
<label for="username">Email, phone, or Skype</label><input id="username" name="username" type="email" autocomplete="username" value="${escape(username)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ""}
<button type="submit" id="signin">Sign in</button></form>`);
}

// Who may use the status page, and the session cookie that remembers it. Pure: no I/O.
//
// Admins sign in with Entra ID, with the client API's app registration (the one the card uses), and the
// relay admits a token only when its `roles` claim holds the app role Relay.Admin. Why an app role and not
// the Dataverse System Administrator role of the matching systemuser: the relay's admin is whoever runs the
// co-sell integration, which is often not the Dynamics 365 System Administrator (and many System
// Administrators should not retry other people's syncs); an app role is what a partner's admins already
// grant for every other Entra ID app (Enterprise applications → the app → Users and groups, or a group),
// shows in their access reviews, and is decided by the token alone: the page still works when Dataverse
// is the thing that is broken, which is exactly when an admin needs it.
//
// The session is an HttpOnly, SameSite=Strict cookie: the user's object id, name and the token's expiry,
// signed with a key derived from the step key (HMAC-SHA256), so it ends when the token would, and a
// changed step key ends every session. The step key itself still signs in (break-glass, e.g. when Entra
// ID is unreachable), as before, as a hash of the key.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The app role (value) an admin of the relay holds on the client API's app registration. */
export const ADMIN_APP_ROLE = "Relay.Admin";

export const SESSION_COOKIE = "relay_admin";

/** Longest a session lasts, whatever the token says. */
export const MAX_SESSION_SECONDS = 12 * 3600;

export type Admin = { kind: "entra"; oid: string; name: string } | { kind: "step-key" };

/** The cookie value of a step key sign-in: a hash of the key, never the key. */
export function stepKeySessionValue(stepKey: string): string {
  return createHash("sha256").update(`pcr-status-page:${stepKey}`).digest("base64url");
}

function sessionKey(stepKey: string): Buffer {
  return createHash("sha256").update(`pcr-status-page-session-key:${stepKey}`).digest();
}

function mac(stepKey: string, payload: string): string {
  return createHmac("sha256", sessionKey(stepKey)).update(payload).digest("base64url");
}

/** The signed cookie value of an Entra ID sign-in, valid until `expiresAt` (at most MAX_SESSION_SECONDS from now). */
export function entraSessionValue(stepKey: string, user: { oid: string; name: string }, expiresAt: Date, now: Date): string {
  const exp = Math.min(Math.floor(expiresAt.getTime() / 1000), Math.floor(now.getTime() / 1000) + MAX_SESSION_SECONDS);
  const payload = Buffer.from(JSON.stringify({ oid: user.oid, name: user.name, exp })).toString("base64url");
  return `e1.${payload}.${mac(stepKey, payload)}`;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The admin a cookie value signs in, if any. */
export function adminOfSession(value: string | undefined, stepKey: string, now: Date): Admin | undefined {
  if (!value) return undefined;
  if (same(value, stepKeySessionValue(stepKey))) return { kind: "step-key" };
  const match = /^e1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(value);
  if (!match || !same(match[2]!, mac(stepKey, match[1]!))) return undefined;
  let claims: { oid?: unknown; name?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(match[1]!, "base64url").toString("utf8")) as typeof claims;
  } catch {
    return undefined;
  }
  if (typeof claims.oid !== "string" || typeof claims.exp !== "number" || claims.exp * 1000 <= now.getTime()) return undefined;
  return { kind: "entra", oid: claims.oid, name: typeof claims.name === "string" ? claims.name : claims.oid };
}

/** Whether a signed-in user's token makes them an admin of the relay; the refusal says what to do. */
export function adminDecision(roles: readonly string[] | undefined, appName: string): { ok: true } | { ok: false; message: string } {
  if (roles?.includes(ADMIN_APP_ROLE)) return { ok: true };
  return {
    ok: false,
    message: `You are signed in, but you do not hold the ${ADMIN_APP_ROLE} app role of ${appName}. An Entra ID admin assigns it under Enterprise applications → ${appName} → Users and groups; then sign in again.`,
  };
}

// The sandbox's control calls under /sandbox/: no token, loopback callers only, apart from the Entra
// ID API. They play the person at the device sign-in page, revoke sign-ins, reset state, and count
// requests.
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { Answer, DeviceAuthorization } from "./device-codes.ts";
import type { IdentityContext } from "./context.ts";
import { SESSION_COOKIE, sessionCookie } from "./authorize.ts";

const UserCodeBody = z.object({ user_code: z.string().trim().min(1) });
const ApproveBody = UserCodeBody.extend({ username: z.string().trim().min(1) });
const RevokeBody = z.object({ username: z.string().trim().min(1).optional() }).optional();
const SessionBody = z.object({ username: z.string().trim().min(1) });
const MfaBody = z.object({ username: z.string().trim().min(1), mfa: z.boolean() });
const RoleAssignmentBody = z.object({ username: z.string().trim().min(1), role: z.string().trim().min(1) });
const RedirectUriBody = z.object({ redirectUri: z.url({ protocol: /^https?$/ }) });
const DevicePageForm = z.object({
  user_code: z.string().trim().default(""),
  username: z.string().trim().default(""),
  action: z.enum(["approve", "deny"]).default("approve"),
});

type Outcome = { status: 200; body: Record<string, unknown> } | { status: 404 | 409 | 410; body: { error: string; message: string } };

function describeAuthorization(authorization: DeviceAuthorization) {
  return {
    user_code: authorization.userCode,
    client_id: authorization.clientId,
    scope: authorization.scope,
    status: authorization.state,
    expires_at: new Date(authorization.expiresAt).toISOString(),
    ...(authorization.user ? { username: authorization.user.username } : {}),
  };
}

function invalid(reply: FastifyReply, issues: z.ZodError) {
  return reply.code(400).send({ error: "invalid_request", message: z.prettifyError(issues) });
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function controlRoutes(app: FastifyInstance, context: IdentityContext): void {
  const { directory, deviceCodes } = context;

  function outcome(answer: Answer): Outcome {
    if (answer.ok) return { status: 200, body: describeAuthorization(answer.authorization) };
    if (answer.reason === "unknown") return { status: 404, body: { error: "unknown_user_code", message: "No sign-in is waiting for that code." } };
    if (answer.reason === "expired") return { status: 410, body: { error: "expired_user_code", message: "That code has expired. Start the sign-in again." } };
    // Entra ID's page says AADSTS90120: the request was already authorized or declined.
    return { status: 409, body: { error: "already_answered", message: `That sign-in was already ${answer.authorization?.state ?? "answered"}.` } };
  }

  function approve(userCode: string, username: string): Outcome {
    const user = directory.findUser(username);
    if (!user) return { status: 404, body: { error: "unknown_user", message: `${username} is not a user of the demo tenant.` } };
    return outcome(deviceCodes.answer(userCode, { approve: user }));
  }

  function decline(userCode: string): Outcome {
    return outcome(deviceCodes.answer(userCode, { decline: true }));
  }

  app.post("/sandbox/device/approve", async (request, reply) => {
    const body = ApproveBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const result = approve(body.data.user_code, body.data.username);
    return reply.code(result.status).send(result.body);
  });

  app.post("/sandbox/device/deny", async (request, reply) => {
    const body = UserCodeBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const result = decline(body.data.user_code);
    return reply.code(result.status).send(result.body);
  });

  app.get("/sandbox/device/pending", async () => ({ value: deviceCodes.pending().map(describeAuthorization) }));

  app.get<{ Querystring: { user_code?: string } }>("/sandbox/device", async (request, reply) => {
    return reply.type("text/html; charset=utf-8").send(devicePage(context, request.query.user_code ?? "", undefined));
  });

  app.post("/sandbox/device", async (request, reply) => {
    const form = DevicePageForm.safeParse(request.body ?? {});
    if (!form.success) return reply.code(400).type("text/html; charset=utf-8").send(devicePage(context, "", { ok: false, text: z.prettifyError(form.error) }));
    const { user_code: userCode, username, action } = form.data;
    const result = action === "approve" ? approve(userCode, username) : decline(userCode);
    const text = result.status === 200
      ? action === "approve" ? `Signed in as ${username}. You can close this window; the app continues on its own.` : "Sign-in declined."
      : String(result.body.message);
    return reply.code(result.status).type("text/html; charset=utf-8").send(devicePage(context, result.status === 200 ? "" : userCode, { ok: result.status === 200, text }));
  });

  app.post("/sandbox/refresh-tokens/revoke", async (request, reply) => {
    const body = RevokeBody.safeParse(request.body ?? undefined);
    if (!body.success) return invalid(reply, body.error);
    const username = body.data?.username;
    if (username !== undefined && !directory.findUser(username)) return reply.code(404).send({ error: "unknown_user", message: `${username} is not a user of the demo tenant.` });
    return { revoked: context.refreshTokens.revoke(username) };
  });

  // A browser session for a demo user, as if they had signed in on the sign-in page: the answer names the
  // cookie for the identity sandbox's host (a test puts it in its browser) and sets it too.
  app.post("/sandbox/sessions", async (request, reply) => {
    const body = SessionBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const user = directory.findUser(body.data.username);
    if (!user) return reply.code(404).send({ error: "unknown_user", message: `${body.data.username} is not a user of the demo tenant.` });
    const { value, session } = context.browserSignIns.startSession(user);
    return reply.header("set-cookie", sessionCookie(value)).send({ username: user.username, sid: session.sid, cookie: { name: SESSION_COOKIE, value } });
  });

  /** Signs browsers out: one user's sessions or everyone's. */
  app.post("/sandbox/sessions/end", async (request, reply) => {
    const body = RevokeBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const user = body.data?.username ? directory.findUser(body.data.username) : undefined;
    if (body.data?.username && !user) return reply.code(404).send({ error: "unknown_user", message: `${body.data.username} is not a user of the demo tenant.` });
    return { ended: context.browserSignIns.endSessions(user?.oid) };
  });

  // What an admin does in the app registration: add a Single-page application redirect URI.
  app.post<{ Params: { clientId: string } }>("/sandbox/apps/:clientId/redirect-uris", async (request, reply) => {
    const body = RedirectUriBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const registered = directory.findApp(request.params.clientId);
    if (!registered) return reply.code(404).send({ error: "unknown_app", message: `${request.params.clientId} is not an app of the demo tenant.` });
    directory.addSpaRedirectUri(registered, body.data.redirectUri);
    return { clientId: registered.clientId, spaRedirectUris: directory.spaRedirectUris(registered) };
  });

  // Per-user MFA, as an admin switches it (or a Conditional Access policy requiring MFA stops covering the
  // user): with mfa false the user's next sign-ins are a password only (amr ["pwd"]). Sign-ins made before
  // keep their methods, and so do the tokens refreshed from them.
  app.post("/sandbox/users/mfa", async (request, reply) => {
    const body = MfaBody.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const user = directory.findUser(body.data.username);
    if (!user) return reply.code(404).send({ error: "unknown_user", message: `${body.data.username} is not a user of the demo tenant.` });
    directory.setMfa(user, body.data.mfa);
    return { username: user.username, mfa: directory.mfaFor(user) };
  });

  // Enterprise applications → the app → Users and groups: assign a user to one of the app's roles, or
  // remove the assignment. The user's next tokens for the app's API carry it in `roles`.
  for (const [path, assigned] of [["/sandbox/apps/:clientId/app-role-assignments", true], ["/sandbox/apps/:clientId/app-role-assignments/remove", false]] as const) {
    app.post<{ Params: { clientId: string } }>(path, async (request, reply) => {
      const body = RoleAssignmentBody.safeParse(request.body);
      if (!body.success) return invalid(reply, body.error);
      const registered = directory.findApp(request.params.clientId);
      if (!registered) return reply.code(404).send({ error: "unknown_app", message: `${request.params.clientId} is not an app of the demo tenant.` });
      const user = directory.findUser(body.data.username);
      if (!user) return reply.code(404).send({ error: "unknown_user", message: `${body.data.username} is not a user of the demo tenant.` });
      if (!directory.assignAppRole(registered, user, body.data.role, assigned)) {
        return reply.code(400).send({ error: "unknown_app_role", message: `${registered.displayName} defines no app role ${body.data.role} for users.` });
      }
      return { clientId: registered.clientId, username: user.username, roles: directory.appRolesOf(registered.clientId, user.oid) };
    });
  }

  app.post("/sandbox/reset", async (_request, reply) => {
    deviceCodes.clear();
    directory.resetUserSettings();
    context.browserSignIns.clear();
    context.refreshTokens.clear();
    context.stats.clear();
    return reply.code(204).send();
  });

  app.get("/sandbox/stats", async () => ({
    ...context.stats.snapshot(),
    pendingDeviceCodes: deviceCodes.pending().length,
    liveRefreshTokens: context.refreshTokens.liveCount(),
  }));
}

function devicePage(context: IdentityContext, userCode: string, message: { ok: boolean; text: string } | undefined): string {
  const users = context.directory.users
    .map((user) => `<option value="${escape(user.username)}">${escape(user.displayName)} (${escape(user.username)}; ${escape(user.partnerCenterRole ?? "no referral role")})</option>`)
    .join("");
  const waiting = context.deviceCodes.pending()
    .map((a) => {
      const app = context.directory.findApp(a.clientId);
      return `<tr><td><code>${escape(a.userCode)}</code></td><td>${escape(app?.displayName ?? a.clientId)}</td><td>${escape(a.scope)}</td><td>${escape(new Date(a.expiresAt).toISOString())}</td></tr>`;
    })
    .join("");
  const note = message ? `<p role="status" class="${message.ok ? "ok" : "error"}">${escape(message.text)}</p>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in: identity sandbox</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #1b1b1b; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input, select { font: inherit; padding: .35rem; width: 100%; box-sizing: border-box; }
button { font: inherit; margin: 1rem .5rem 0 0; padding: .4rem 1.2rem; }
.ok { color: #0b6a0b; } .error { color: #a4262c; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; } td, th { border-bottom: 1px solid #ddd; padding: .3rem; text-align: left; }
</style>
</head>
<body>
<main>
<h1>Sign in to your account</h1>
<p>Identity sandbox for ${escape(context.directory.tenantDomain)}. Enter the code the app shows and choose who signs in.
Approving plays that user signing in with a password and multi-factor authentication (a password only for a user whose MFA is off).</p>
${note}
<form method="post" action="/sandbox/device">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${escape(userCode)}" autocomplete="off" required>
<label for="username">User</label>
<select id="username" name="username">${users}</select>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
<h2>Waiting sign-ins</h2>
${waiting ? `<table><thead><tr><th>Code</th><th>App</th><th>Scope</th><th>Expires</th></tr></thead><tbody>${waiting}</tbody></table>` : "<p>None.</p>"}
</main>
</body>
</html>
`;
}

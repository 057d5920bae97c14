// The admin's side of the relay under /ui: the status page (../status-page/view.ts: recent syncs, failures
// with Retry, queue depth, latency percentiles, doctor results) and the doctor's report as JSON (what
// `relay doctor` asks a running relay for when the embedded store is the relay's alone).
//
// Admin sign-in (../status-page/admin-session.ts says who is admitted and why): Sign in with Microsoft,
// msal-browser in the page with the client API's app registration; the page posts the access token once
// to POST /ui/session, where the relay checks it as the client API does (jose, the tenant's keys, the
// API's audience) and admits holders of the Relay.Admin app role with an HttpOnly SameSite=Strict
// session cookie. The step key (PCR_STEP_KEY) stays as break-glass: the form (logged as such), and
// `Authorization: Bearer <step key>` for scripts and `relay doctor` on GET /ui/api/doctor.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Solution } from "../../../Core/generated/schema.ts";
import { SIGN_IN_FILES, SIGN_IN_FOLDER } from "../../../PcfControls/PartnerCenterCard/services/signIn.ts";
import { SignInCheckUnavailable, TokenRefused, type SignedInUser } from "../client-api/auth.ts";
import type { SignInSettings } from "../client-api/sign-in.ts";
import type { DoctorReport } from "../doctor/run.ts";
import { ADMIN_APP_ROLE, SESSION_COOKIE, adminDecision, adminOfSession, entraSessionValue, stepKeySessionValue, type Admin } from "../status-page/admin-session.ts";
import { APP_JS, doctorHtml, signInPage, signInRedirectPage, statusPage, type RunView } from "../status-page/view.ts";
import { stepKeyMatches } from "./plugins.ts";
import { errorBody } from "./schemas.ts";

export interface StatusPageServices {
  stepKey: string;
  /** Sign in with Microsoft for admins: the client API's token check and sign-in settings; absent: step key only. */
  entra?: {
    tokens: { verify(authorization: string | undefined): Promise<SignedInUser> };
    signIn: SignInSettings;
    /** The app registration's name, for the refusal's text. */
    appName?: string;
  };
  doctor(): Promise<DoctorReport>;
  /** The rest of the status page; absent: only the doctor's API is served. */
  page?: StatusPageData;
}

export interface StatusPageData {
  /** Newest first. */
  recentRuns(limit: number): Promise<RunView[]>;
  run(runId: string): Promise<RunView | undefined>;
  queueDepth(): Promise<Array<{ queue: string; state: string; count: number }>>;
  retry(runId: string): Promise<{ runId: string; coalesced: boolean } | undefined>;
}

export { SESSION_COOKIE };

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** The admin a request signs in: the step key as a bearer token, or the session cookie. */
export function adminOf(request: FastifyRequest, stepKey: string, now = new Date()): Admin | undefined {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  if (bearer !== undefined) return stepKeyMatches(bearer, stepKey) ? { kind: "step-key" } : undefined;
  return adminOfSession(cookie(request, SESSION_COOKIE), stepKey, now);
}

export function isAdmin(request: FastifyRequest, stepKey: string): boolean {
  return adminOf(request, stepKey) !== undefined;
}

export function refuse(reply: FastifyReply): FastifyReply {
  return reply.code(401).send(errorBody("unauthenticated", "Sign in as an admin of the relay (Sign in with Microsoft on /ui, or the step key)."));
}

/** The sign-in's scripts: the web resources the card loads too (WebResources/build.ts builds them into out/). */
const here = dirname(fileURLToPath(import.meta.url));
const SCRIPTS = { msal: SIGN_IN_FILES.msal, signin: SIGN_IN_FILES.redirectScript } as const;
const scriptCache = new Map<string, Promise<string>>();

function signInScript(which: keyof typeof SCRIPTS): Promise<string> {
  let script = scriptCache.get(which);
  if (!script) {
    script = (async () => {
      const file = join(here, "..", "..", "..", "out", "webresources", `${Solution.prefix}_`, SIGN_IN_FOLDER, SCRIPTS[which]);
      if (!existsSync(file)) {
        // Not built yet (a fresh clone): build them as npm run build does.
        const { buildWebResources } = await import("../../../WebResources/build.ts");
        await buildWebResources();
      }
      return readFileSync(file, "utf8");
    })();
    script.catch(() => scriptCache.delete(which));
    scriptCache.set(which, script);
  }
  return script;
}

/** Buttons send this header: a form on another site cannot, so a cookie alone never retries anything. */
const UI_HEADER = "x-requested-with";

export function statusPageRoutes(app: FastifyInstance, services: StatusPageServices): void {
  let running: Promise<DoctorReport> | undefined;
  let last: DoctorReport | undefined;
  const runDoctor = () => (running ??= services.doctor().then((report) => (last = report)).finally(() => {
    running = undefined;
  }));
  const entra = services.entra;
  const authorityOrigin = entra ? new URL(entra.signIn.authority).origin : undefined;
  // The page's scripts talk to Entra ID (metadata, token endpoint) and nothing else outside the relay.
  const csp = ["default-src 'self'", "base-uri 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "img-src 'self' data:",
    "script-src 'self'", "style-src 'self' 'unsafe-inline'", `connect-src 'self'${authorityOrigin ? ` ${authorityOrigin}` : ""}`, `frame-src 'self'${authorityOrigin ? ` ${authorityOrigin}` : ""}`].join("; ");
  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store")
    .header("content-security-policy", csp)
    // The sign-in popup must be able to answer the page that opened it.
    .header("cross-origin-opener-policy", "same-origin-allow-popups")
    .send(body);
  const entraView = entra ? { authority: entra.signIn.authority, clientId: entra.signIn.clientId, scopes: entra.signIn.scopes, knownAuthorities: entra.signIn.knownAuthorities } : undefined;
  const signIn = (error?: string) => signInPage({ ...(error ? { error } : {}), ...(entraView ? { entra: entraView } : {}) });
  const secure = (request: FastifyRequest) => (request.protocol === "https" ? "; Secure" : "");
  const setSession = (request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) =>
    reply.header("set-cookie", `${SESSION_COOKIE}=${value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(request)}`);

  app.get("/ui/api/doctor", async (request, reply) => {
    if (!isAdmin(request, services.stepKey)) return refuse(reply);
    // One doctor at a time: a second caller shares the run in progress.
    return reply.send(await runDoctor());
  });

  const page = services.page;
  if (!page) return;

  app.get("/ui/app.js", async (_request, reply) => reply.header("content-type", "text/javascript; charset=utf-8").send(APP_JS));
  for (const which of Object.keys(SCRIPTS) as Array<keyof typeof SCRIPTS>) {
    app.get(`/ui/${which}.js`, async (_request, reply) => reply.header("content-type", "text/javascript; charset=utf-8").header("cache-control", "no-cache").send(await signInScript(which)));
  }
  // The redirect URI of the admins' sign-in: register ${PCR_PUBLIC_URL}/ui/signin as a single-page application redirect URI.
  app.get("/ui/signin", async (_request, reply) =>
    reply.code(200).header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store").header("content-security-policy", csp)
      .header("cross-origin-opener-policy", "unsafe-none").send(signInRedirectPage()));

  app.get("/ui", async (request, reply) => {
    const admin = adminOf(request, services.stepKey);
    if (!admin) return html(reply, 200, signIn());
    const [runs, queue] = await Promise.all([page.recentRuns(500), page.queueDepth()]);
    return html(reply, 200, statusPage({ now: new Date(), runs, queue, doctor: last, signedInAs: admin.kind === "entra" ? admin.name : "Step key (break-glass)" }));
  });

  // The page's one call with the access token: checked as the client API checks it, then the app role.
  app.post("/ui/session", async (request, reply) => {
    if (!entra) return reply.code(404).send(errorBody("not-found", "Sign in with Microsoft is off: set PCR_API_AUDIENCE (the client API's app registration)."));
    if (request.headers[UI_HEADER] !== "pcr-ui") return refuse(reply);
    let user: SignedInUser;
    try {
      user = await entra.tokens.verify(request.headers.authorization);
    } catch (error) {
      if (error instanceof TokenRefused) {
        request.log.warn({ code: error.code }, "status page sign-in refused: the token");
        return reply.code(401).send(errorBody(error.code, error.message));
      }
      if (error instanceof SignInCheckUnavailable) return reply.code(503).send(errorBody("unavailable", `The relay cannot check sign-ins right now (${error.message}); use the step key (break-glass).`));
      throw error;
    }
    const decision = adminDecision(user.roles, entra.appName ?? "the relay's client API app");
    if (!decision.ok) {
      request.log.warn({ oid: user.oid, roles: user.roles ?? [] }, `status page sign-in refused: no ${ADMIN_APP_ROLE} role`);
      return reply.code(403).send(errorBody("not-an-admin", decision.message));
    }
    const now = new Date();
    const expiresAt = user.expiresAt ?? new Date(now.getTime() + 3600_000);
    const value = entraSessionValue(services.stepKey, { oid: user.oid, name: user.name ?? user.username ?? user.oid }, expiresAt, now);
    const maxAge = Math.max(0, Math.floor((Math.min(expiresAt.getTime(), now.getTime() + 12 * 3600_000) - now.getTime()) / 1000));
    request.log.info({ oid: user.oid, username: user.username }, "status page sign-in (Entra ID)");
    return setSession(request, reply, value, maxAge).code(204).send();
  });

  app.post("/ui/sign-in", async (request, reply) => {
    const form = new URLSearchParams(Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "");
    const key = form.get("key") ?? "";
    if (!stepKeyMatches(key, services.stepKey)) {
      request.log.warn("status page sign-in refused: wrong step key");
      return html(reply, 401, signIn("That is not this relay's step key."));
    }
    request.log.warn("status page sign-in with the step key (break-glass)");
    return setSession(request, reply, stepKeySessionValue(services.stepKey), 43200).code(303).header("location", "/ui").send();
  });

  app.post("/ui/sign-out", async (request, reply) => setSession(request, reply, "", 0).code(303).header("location", "/ui").send());

  app.get("/ui/doctor.html", async (request, reply) => {
    if (!isAdmin(request, services.stepKey) || request.headers[UI_HEADER] !== "pcr-ui") return refuse(reply);
    return html(reply, 200, doctorHtml(await runDoctor()));
  });

  app.get<{ Params: { runId: string } }>("/ui/api/runs/:runId", async (request, reply) => {
    if (!isAdmin(request, services.stepKey)) return refuse(reply);
    const run = await page.run(request.params.runId);
    if (!run) return reply.code(404).send(errorBody("not-found", "No such run."));
    return reply.send({ runId: run.id, subject: run.subject, state: run.state, attempts: run.attempts, error: run.lastError, whatToDo: run.whatToDo });
  });

  app.post<{ Params: { runId: string } }>("/ui/api/runs/:runId/retry", async (request, reply) => {
    const admin = adminOf(request, services.stepKey);
    if (!admin || request.headers[UI_HEADER] !== "pcr-ui") return refuse(reply);
    const queued = await page.retry(request.params.runId);
    if (!queued) return reply.code(404).send(errorBody("not-found", "No such run."));
    request.log.info({ runId: request.params.runId, newRunId: queued.runId, by: admin.kind === "entra" ? admin.oid : "step key" }, "retry from the status page");
    return reply.code(202).send(queued);
  });
}

// The admin's side of the relay under /ui: the status page (../status-page/view.ts: recent syncs, failures
// with Retry, queue depth, latency percentiles, doctor results) and the doctor's report as JSON (what
// `relay doctor` asks a running relay for when the embedded store is the relay's alone).
//
// Admin sign-in: the relay's step key (PCR_STEP_KEY), as `Authorization: Bearer <key>` or, in the browser,
// through the sign-in form, which sets an HttpOnly SameSite=Strict cookie holding a hash of the key. The
// step key is the one secret every admin who ran relay init already holds; sellers never see it.
import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DoctorReport } from "../doctor/run.ts";
import { APP_JS, doctorHtml, signInPage, statusPage, type RunView } from "../status-page/view.ts";
import { stepKeyMatches } from "./plugins.ts";
import { errorBody } from "./schemas.ts";

export interface StatusPageServices {
  stepKey: string;
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

export const SESSION_COOKIE = "relay_admin";

export function sessionValue(stepKey: string): string {
  return createHash("sha256").update(`pcr-status-page:${stepKey}`).digest("base64url");
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

export function isAdmin(request: FastifyRequest, stepKey: string): boolean {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  if (bearer !== undefined) return stepKeyMatches(bearer, stepKey);
  const session = cookie(request, SESSION_COOKIE);
  return session !== undefined && stepKeyMatches(session, sessionValue(stepKey));
}

export function refuse(reply: FastifyReply): FastifyReply {
  return reply.code(401).send(errorBody("unauthenticated", "Sign in with the relay's step key (PCR_STEP_KEY)."));
}

/** Buttons send this header: a form on another site cannot, so a cookie alone never retries anything. */
const UI_HEADER = "x-requested-with";

export function statusPageRoutes(app: FastifyInstance, services: StatusPageServices): void {
  let running: Promise<DoctorReport> | undefined;
  let last: DoctorReport | undefined;
  const runDoctor = () => (running ??= services.doctor().then((report) => (last = report)).finally(() => {
    running = undefined;
  }));
  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store").send(body);

  app.get("/ui/api/doctor", async (request, reply) => {
    if (!isAdmin(request, services.stepKey)) return refuse(reply);
    // One doctor at a time: a second caller shares the run in progress.
    return reply.send(await runDoctor());
  });

  const page = services.page;
  if (!page) return;

  app.get("/ui/app.js", async (_request, reply) => reply.header("content-type", "text/javascript; charset=utf-8").send(APP_JS));

  app.get("/ui", async (request, reply) => {
    if (!isAdmin(request, services.stepKey)) return html(reply, 200, signInPage());
    const [runs, queue] = await Promise.all([page.recentRuns(500), page.queueDepth()]);
    return html(reply, 200, statusPage({ now: new Date(), runs, queue, doctor: last }));
  });

  app.post("/ui/sign-in", async (request, reply) => {
    const form = new URLSearchParams(Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "");
    const key = form.get("key") ?? "";
    if (!stepKeyMatches(key, services.stepKey)) {
      request.log.warn("status page sign-in refused: wrong step key");
      return html(reply, 401, signInPage("That is not this relay's step key."));
    }
    const secure = request.protocol === "https" ? "; Secure" : "";
    return reply.code(303).header("set-cookie", `${SESSION_COOKIE}=${sessionValue(services.stepKey)}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=43200${secure}`).header("location", "/ui").send();
  });

  app.post("/ui/sign-out", async (_request, reply) =>
    reply.code(303).header("set-cookie", `${SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0`).header("location", "/ui").send());

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
    if (!isAdmin(request, services.stepKey) || request.headers[UI_HEADER] !== "pcr-ui") return refuse(reply);
    const queued = await page.retry(request.params.runId);
    if (!queued) return reply.code(404).send(errorBody("not-found", "No such run."));
    request.log.info({ runId: request.params.runId, newRunId: queued.runId }, "retry from the status page");
    return reply.code(202).send(queued);
  });
}

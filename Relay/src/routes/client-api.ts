// The client API the card and the form scripts call from Dynamics 365 (PcfControls/PartnerCenterCard/
// services/relay.ts, WebResources/src/commands.ts), with the seller's Entra ID token:
//   GET  /api/opportunities/{id}/status  the live Partner Center view of one opportunity
//   POST /api/opportunities/{id}/sync    202 { runId }: sync it now (reason sync-now)
//   POST /api/opportunities/{id}/retry   202 { runId }: try a failed sync again (reason retry)
//   GET  /api/runs/{runId}               { runId, state, error?, whatToDo? }: a run's progress
//   GET  /api/sign-in                    how the browser signs the seller in (no token: it is what gets one)
//   GET  /api/openapi.json               the OpenAPI description of these routes (@fastify/swagger)
// Every call but the description needs a valid user token (auth.ts: 401 with a code saying why), and may
// touch only records the user can read in Dataverse (access.ts: 403 / 404). Browsers may call from the
// configured Dynamics 365 origins only: their preflight is answered, any other origin's refused (403).
// The routes live in their own encapsulated context, so the CORS hook, the sign-in check and the OpenAPI
// collection concern these routes only.
import { z } from "zod";
import swagger from "@fastify/swagger";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SyncRequester } from "../app.ts";
import { SignInCheckUnavailable, TokenRefused, type SignedInUser, type UserTokenVerifier } from "../client-api/auth.ts";
import { userCanRead } from "../client-api/access.ts";
import type { SignInSettings } from "../client-api/sign-in.ts";
import { opportunityStatus, runProgress, type StatusSources } from "../client-api/status.ts";
import { DataverseError, type DataverseClient } from "../clients/dataverse.ts";
import { attachRun, recordEvent } from "../store/received-events.ts";
import { getRun } from "../store/runs.ts";
import { parseSubject } from "../sync/engine.ts";
import { getLinkByReferral, type RecordType } from "../sync/links.ts";
import { errorBody, errorSchema, jsonSchema, stored } from "./schemas.ts";

export const CLIENT_API_PREFIX = "/api";
export const OPENAPI_PATH = `${CLIENT_API_PREFIX}/openapi.json`;

/** The card's "Sync now" and "Retry": reasons the engine's echo guard never skips (FORCED_REASONS). */
export const CLIENT_API_REASONS = { sync: "sync-now", retry: "retry" } as const;

export interface ClientApiServices {
  tenantId: string;
  db: StatusSources["db"];
  engine: SyncRequester;
  /** The relay's application user: reads as itself, and as the signed-in user (CallerObjectId) for access checks. */
  dataverse: DataverseClient;
  dv: StatusSources["dv"];
  partnerCenter: StatusSources["partnerCenter"];
  /** Verifies the seller's token; undefined when the client API is not set up (PCR_API_AUDIENCE). */
  tokens: Pick<UserTokenVerifier, "verify"> | undefined;
  /** Browser origins allowed to call (CORS). */
  allowedOrigins: readonly string[];
  /** What GET /api/sign-in publishes; undefined when the client API is not set up. */
  signIn?: SignInSettings | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The user the client API's bearer token signs in (set by its sign-in check). */
    signedIn?: SignedInUser;
  }
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const Guid = z.string().regex(GUID);

const OpportunityParams = z.object({ id: Guid.describe("The opportunity's id (opportunityid)") });
const RunParams = z.object({ runId: Guid.describe("The run id a sync or retry answered") });

const Accepted = z.object({
  runId: z.string().describe("Follow it with GET /api/runs/{runId}"),
  coalesced: z.boolean().describe("A sync of this opportunity was already waiting; this request rides on it"),
});

const CardState = z.enum(["queued", "running", "succeeded", "failed", "dead"]);
const RunProgress = z.object({
  runId: z.string(),
  state: CardState.describe("queued, running, then succeeded, failed or dead"),
  runState: z.enum(["queued", "running", "succeeded", "skipped", "failed", "retrying", "dead"]).describe("The relay's own state of the run"),
  subject: z.string(),
  attempts: z.number(),
  error: z.string().optional().describe("Why the run failed, in the relay's words"),
  whatToDo: z.string().optional().describe("What the seller or the admin should do about it"),
  note: z.string().optional().describe("Why a skipped run had nothing to do"),
  queuedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

const Source = z.enum(["partner-center", "last-sync"]);
const Status = z.object({
  opportunityId: z.string(),
  name: z.string(),
  sync: z.boolean().describe("Sync with Partner Center on the record"),
  syncStatus: z.string().nullable().describe("NotShared, Pending, Synced or Failed"),
  lastSyncError: z.string().nullable(),
  referral: z.object({
    id: z.string(), status: z.string().nullable(), substatus: z.string().nullable(), link: z.string().nullable(),
    source: Source.describe("partner-center: fetched now; last-sync: what the relay last saw"),
    unavailable: z.string().optional().describe("Why Partner Center could not be asked now"),
  }).nullable(),
  microsoft: z.object({
    referralId: z.string().nullable(), status: z.string().nullable(), substatus: z.string().nullable(),
    crmId: z.string().nullable().describe("Microsoft's CRM (MSX) identifier"), source: Source, unavailable: z.string().optional(),
  }).nullable(),
  lastSync: z.object({
    succeededAt: z.string().nullable(),
    lastEvent: z.object({ at: z.string(), direction: z.enum(["outbound", "inbound"]), outcome: z.string(), message: z.string(), runId: z.string().nullable() }).nullable(),
    lastRun: RunProgress.nullable(),
  }),
  readiness: z.object({
    ready: z.boolean(),
    items: z.array(z.object({
      check: z.string(), label: z.string(), ok: z.boolean(), applies: z.boolean(), problem: z.string().optional(), message: z.string().optional(),
    })),
    summary: z.string().optional().describe("One message naming every missing item, as the form shows it"),
  }),
});

/** The OpenAPI document: checked at its top level; the rest is @fastify/swagger's. */
const OpenApiDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string() }), paths: z.record(z.string(), z.unknown()) });

const SignIn = z.object({
  authority: z.string().describe("The Entra ID authority: <authority host>/<tenant id>"),
  clientId: z.string().describe("The single-page app registration to sign in with (msal-browser's clientId)"),
  scopes: z.array(z.string()).describe("The relay API's delegated scope(s) to ask a token for"),
  knownAuthorities: z.array(z.string()).describe("Authority hosts to trust without instance discovery"),
});

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, errorSchema]));
const SECURITY = [{ bearer: [] }];

/** CORS for the configured origins: their preflight is answered, other origins are refused (403). Calls without Origin are not a browser's. */
function corsHook(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const origin = request.headers.origin;
    if (origin === undefined) return undefined;
    if (!allowed.has(origin.toLowerCase())) {
      request.log.warn({ reason: "origin-not-allowed", origin: origin.slice(0, 200), preflight: request.method === "OPTIONS" }, "client API call refused: not from an allowed origin");
      return reply.code(403).send(errorBody("origin-not-allowed", "This origin may not call the relay's client API; only the Dynamics 365 organization may (PCR_API_ALLOWED_ORIGINS)."));
    }
    reply.header("access-control-allow-origin", origin).header("vary", "Origin");
    if (request.method === "OPTIONS") {
      return reply.code(204)
        .header("access-control-allow-methods", "GET, POST")
        .header("access-control-allow-headers", "authorization, content-type")
        .header("access-control-max-age", "600")
        .send();
    }
    return undefined;
  };
}

export async function clientApiRoutes(api: FastifyInstance, services: ClientApiServices): Promise<void> {
  const { tenantId, db, engine, dataverse, tokens } = services;

  await api.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Partner Center co-sell relay: client API",
        version: "1",
        description: "What the Partner Center card and the opportunity form call from Dynamics 365. Every call carries the signed-in seller's Entra ID access token for the relay's API; the relay acts only on records that user can read in Dataverse.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Entra ID access token for the relay's API (audience: its Application ID URI or client id)" } } },
    },
  });

  api.addHook("onRequest", corsHook(services.allowedOrigins));

  // Outages of what the API depends on are 503 with what happened; everything else goes to the app's handler.
  api.setErrorHandler((error, request, reply) => {
    if (error instanceof SignInCheckUnavailable) {
      request.log.error({ err: error }, "client API: the sign-in could not be checked");
      return reply.code(503).header("retry-after", "30").send(errorBody("sign-in-check-unavailable", "The relay cannot check sign-ins right now; try again in a moment."));
    }
    if (error instanceof DataverseError) {
      request.log.error({ err: error, status: error.status, code: error.code }, "client API: Dataverse did not answer as expected");
      return reply.code(503).header("retry-after", "30").send(errorBody("dataverse-unavailable", "The relay could not read Dynamics 365 right now; try again in a moment."));
    }
    throw error;
  });

  /** The sign-in check: the user the token signs in, else 401 (or 503 when the client API is not set up). */
  const signIn = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!tokens) return reply.code(503).send(errorBody("client-api-off", "The relay's client API is not set up: set PCR_API_AUDIENCE to its app registration's Application ID URI."));
    try {
      request.signedIn = await tokens.verify(request.headers.authorization);
      return undefined;
    } catch (error) {
      if (!(error instanceof TokenRefused)) throw error;
      request.log.warn({ reason: error.code }, "client API call refused: the token was not accepted");
      const challenge = error.code === "missing-token" ? "Bearer" : `Bearer error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`;
      return reply.code(401).header("www-authenticate", challenge).send(errorBody(error.code, error.message));
    }
  };

  /** Whether the signed-in user may act on the record: 404 or 403 answered here when not. */
  const mayAct = async (request: FastifyRequest, reply: FastifyReply, type: RecordType, id: string): Promise<boolean> => {
    const user = request.signedIn!;
    const access = await userCanRead(dataverse, type, id, user.oid);
    if (access === "readable") return true;
    request.log.warn({ reason: access, user: user.oid, record: `${type}:${id}` }, "client API call refused: the user cannot read the record");
    if (access === "not-found") await reply.code(404).send(errorBody("not-found", `Dynamics 365 has no ${type} ${id}.`));
    else await reply.code(403).send(errorBody("forbidden", `You cannot read this ${type} in Dynamics 365, so the relay does not act on it for you.`));
    return false;
  };

  type OpportunityRequest = FastifyRequest<{ Params: z.infer<typeof OpportunityParams> }>;

  api.get<{ Params: z.infer<typeof OpportunityParams> }>(`${CLIENT_API_PREFIX}/opportunities/:id/status`, {
    onRequest: signIn,
    schema: {
      summary: "The live Partner Center view of an opportunity",
      description: "The referral's status and substatus (fetched from Partner Center now when the deal is linked), Microsoft's side of a co-sell, the last sync, and the readiness checklist on the deal as Dataverse holds it.",
      tags: ["opportunities"], security: SECURITY,
      params: jsonSchema(OpportunityParams),
      response: { 200: jsonSchema(Status), ...errors(400, 401, 403, 404, 503) },
    },
  }, async (request: OpportunityRequest, reply) => {
    const id = request.params.id.toLowerCase();
    if (!(await mayAct(request, reply, "opportunity", id))) return reply;
    const status = await opportunityStatus(services, id);
    if (!status) return reply.code(404).send(errorBody("not-found", `Dynamics 365 has no opportunity ${id}.`));
    return status;
  });

  for (const kind of ["sync", "retry"] as const) {
    api.post<{ Params: z.infer<typeof OpportunityParams> }>(`${CLIENT_API_PREFIX}/opportunities/:id/${kind}`, {
      onRequest: signIn,
      schema: {
        summary: kind === "sync" ? "Sync an opportunity with Partner Center now" : "Try a failed sync of an opportunity again",
        description: "Queues a sync of the opportunity (both sides are read afresh) and answers its run id at once; follow it with GET /api/runs/{runId}.",
        tags: ["opportunities"], security: SECURITY,
        params: jsonSchema(OpportunityParams),
        response: { 202: jsonSchema(Accepted), ...errors(400, 401, 403, 404, 503) },
      },
    }, async (request: OpportunityRequest, reply) => {
      const id = request.params.id.toLowerCase();
      if (!(await mayAct(request, reply, "opportunity", id))) return reply;
      const user = request.signedIn!;
      const subject = `opportunity:${id}`;
      const reason = CLIENT_API_REASONS[kind];
      const eventId = await stored(() => recordEvent(db, {
        tenantId, source: "client-api", kind: reason, subject, payload: { user: { oid: user.oid, name: user.name, username: user.username } },
      }));
      const run = await stored(() => engine.requestSync(subject, reason, "client-api"));
      await stored(() => attachRun(db, eventId, run.runId));
      request.log.info({ subject, reason, runId: run.runId, coalesced: run.coalesced, user: user.oid }, "client API: sync requested");
      return reply.code(202).send({ runId: run.runId, coalesced: run.coalesced });
    });
  }

  api.get<{ Params: z.infer<typeof RunParams> }>(`${CLIENT_API_PREFIX}/runs/:runId`, {
    onRequest: signIn,
    schema: {
      summary: "A run's progress",
      description: "Where a sync or retry is: queued, running, then succeeded, failed or dead, with why and what to do when it failed.",
      tags: ["runs"], security: SECURITY,
      params: jsonSchema(RunParams),
      response: { 200: jsonSchema(RunProgress), ...errors(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const runId = request.params.runId.toLowerCase();
    const run = await getRun(db, tenantId, runId);
    const notFound = () => reply.code(404).send(errorBody("not-found", `The relay has no run ${runId}.`));
    if (!run) return notFound();
    // The run is the user's business only if its record is one they can read.
    const { kind, id } = parseSubject(run.subject);
    let record: { type: RecordType; id: string } | undefined = kind === "referral" ? undefined : { type: kind, id };
    if (kind === "referral") {
      const link = await getLinkByReferral(db, tenantId, id);
      record = link ? { type: link.recordType, id: link.recordId } : undefined;
    }
    if (!record) return notFound();
    if (!(await mayAct(request, reply, record.type, record.id))) return reply;
    return runProgress(run);
  });

  // Public: the card and form scripts read it before they have a token. Same CORS rule as the other routes.
  api.get(`${CLIENT_API_PREFIX}/sign-in`, {
    schema: {
      summary: "How to sign in for the client API",
      description: "The authority, the single-page app's client id and the API's scope that msal-browser needs to get the seller's token inside Dynamics 365 (redirect URI: https://<org>/WebResources/pcr_/signin/redirect.html). Needs no token.",
      tags: ["sign-in"],
      response: { 200: jsonSchema(SignIn), 403: errorSchema, 503: errorSchema },
    },
  }, async (_request, reply) => {
    if (!tokens || !services.signIn) return reply.code(503).send(errorBody("client-api-off", "The relay's client API is not set up: set PCR_API_AUDIENCE to its app registration's Application ID URI."));
    return reply.header("cache-control", "private, max-age=300").send(services.signIn);
  });

  // Browsers ask before they send the Authorization header: the CORS hook answers the configured origins.
  api.options(`${CLIENT_API_PREFIX}/*`, { schema: { hide: true, response: { 204: { type: "null" }, 403: errorSchema } } }, async (_request, reply) => reply.code(204).header("allow", "GET, POST, OPTIONS").send());

  api.get(OPENAPI_PATH, { schema: { hide: true, response: { 200: jsonSchema(OpenApiDocument), 403: errorSchema } } }, async () => api.swagger());
}

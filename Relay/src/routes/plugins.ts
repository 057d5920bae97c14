// POST /plugins/:step: Dataverse webhook steps (dataverse.md §8.4, §8.5). The step key comes with every
// delivery (header x-pcr-step-key from the endpoint's HttpHeader auth, or `?code=` from WebhookKey auth)
// and is compared in constant time before anything else: wrong or missing is 401 with a log line, and
// step names are not revealed to callers without it (unknown step: 404 after the key). The body is a
// RemoteExecutionContext: decoded, recorded (before answering), then the step module's handler decides
// (pure, or reading what the delivery lacks through the relay's step reader). Asynchronous steps request
// syncs and answer 200 at once; synchronous steps answer 200 to let the save go on, or 422 with the
// message to stop it (Dataverse rolls the operation back and the seller sees the failure). A store or
// queue failure is 503: Dataverse retries an asynchronous step once.
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import { ContextDecodeError, decodeRemoteExecutionContext, type RemoteExecutionContext } from "../../../Plugins/context.ts";
import type { StepDecision } from "../../../Plugins/step.ts";
import { DEFAULT_STEP_KEY_HEADER } from "../clients/dataverse-registration.ts";
import { attachRun, recordEvent } from "../store/received-events.ts";
import type { RelayServices } from "../app.ts";
import { errorBody, errorSchema, jsonSchema, looseHeaders, stored } from "./schemas.ts";

export const PLUGINS_PATH = "/plugins";
const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Whether `given` is the step key, in time that does not depend on where they differ (nor on length). */
export function stepKeyMatches(given: string | undefined, expected: string): boolean {
  const a = digest(given ?? "");
  const b = digest(expected);
  const same = timingSafeEqual(a, b);
  return same && given !== undefined && given.length > 0;
}

const Params = z.object({ step: z.string().min(1).max(100) });
const Query = z.looseObject({ code: z.string().optional() });
const Answer = z.object({
  status: z.enum(["accepted", "ignored", "allowed"]),
  subjects: z.array(z.string()).optional(),
  runIds: z.array(z.string()).optional(),
  reason: z.string().optional(),
});

function oneHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

export function pluginRoutes(app: FastifyInstance, services: RelayServices): void {
  const { metrics, db, tenantId, engine, stepKey, steps, stepReader } = services;
  const refuse = (reason: string) => metrics.webhookRefused("dataverse", reason);

  app.post<{ Params: z.infer<typeof Params>; Querystring: z.infer<typeof Query> }>(`${PLUGINS_PATH}/:step`, {
    schema: {
      params: jsonSchema(Params),
      querystring: jsonSchema(Query),
      headers: looseHeaders({ [DEFAULT_STEP_KEY_HEADER]: z.string().optional(), "x-ms-dynamics-request-name": z.string().optional() }),
      response: { 200: jsonSchema(Answer), 400: errorSchema, 401: errorSchema, 404: errorSchema, 422: errorSchema, 503: errorSchema },
    },
  }, async (request, reply) => {
    const given = oneHeader(request.headers[DEFAULT_STEP_KEY_HEADER]) ?? request.query.code;
    if (!stepKeyMatches(given, stepKey)) {
      const reason = given === undefined || given === "" ? "missing-step-key" : "wrong-step-key";
      refuse(reason);
      request.log.warn({ reason, step: request.params.step.slice(0, 100) }, "Dataverse step delivery refused: the step key is missing or wrong");
      return reply.code(401).send(errorBody(reason, "The step key is missing or wrong."));
    }
    const step = steps.find((s) => s.registration.name === request.params.step);
    if (!step) {
      refuse("unknown-step");
      request.log.warn({ reason: "unknown-step", step: request.params.step }, "Dataverse step delivery refused: no such step");
      return reply.code(404).send(errorBody("unknown-step", `The relay has no step '${request.params.step}'. Run relay init to register the current steps.`));
    }
    const name = step.registration.name;
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let context: RemoteExecutionContext;
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString("utf8"));
      context = decodeRemoteExecutionContext(json);
    } catch (error) {
      const message = error instanceof ContextDecodeError ? `The body is not a RemoteExecutionContext: ${error.message}.` : "The body is not JSON.";
      refuse("malformed");
      request.log.warn({ reason: "malformed", step: name, detail: message, bytes: rawBody.length }, "Dataverse step delivery refused");
      return reply.code(400).send(errorBody("malformed", message));
    }
    if (request.headers["x-ms-dynamics-msg-size-exceeded"]) request.log.info({ step: name }, "delivery over 256 KB: Dataverse dropped the images; the engine re-reads the record");

    let decision: StepDecision | undefined;
    let failure: unknown;
    try {
      decision = await step.handle(context, stepReader);
    } catch (error) {
      failure = error;
    }
    const subjects = decision?.kind === "sync" ? decision.subjects : [];
    const operation = context.operationId && context.operationId !== EMPTY_GUID ? context.operationId : context.correlationId;
    const eventId = await stored(() => recordEvent(db, {
      tenantId, source: "dataverse", kind: `${context.messageName} ${context.primaryEntityName}`, subject: subjects[0] ?? null,
      dedupeKey: `${name}|${operation}|${context.primaryEntityId}`, payload: json,
    }));
    if (failure !== undefined || !decision) throw failure ?? new Error("the step made no decision");

    metrics.webhookReceived("dataverse", name);
    const log = { step: name, message: context.messageName, table: context.primaryEntityName, depth: context.depth, correlationId: context.correlationId };
    switch (decision.kind) {
      case "sync": {
        const runIds: string[] = [];
        for (const subject of decision.subjects) {
          const run = await stored(() => engine.requestSync(subject, `${decision.reason} (step ${name})`, "dataverse"));
          runIds.push(run.runId);
        }
        if (runIds[0]) await stored(() => attachRun(db, eventId, runIds[0]!));
        request.log.info({ ...log, subjects: decision.subjects, runIds }, "Dataverse step accepted");
        return { status: "accepted" as const, subjects: decision.subjects, runIds };
      }
      case "ignore":
        request.log.info({ ...log, reason: decision.reason }, "Dataverse step ignored");
        return { status: "ignored" as const, reason: decision.reason };
      case "allow":
        return { status: "allowed" as const };
      case "refuse":
        // Dataverse cancels the save on any answer outside 2xx; 422 is not one it retries.
        request.log.info({ ...log, refused: true }, "Dataverse step refused the operation");
        return reply.code(422).send(errorBody("refused", decision.message));
    }
  });
}

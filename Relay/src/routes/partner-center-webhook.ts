// POST /webhooks/partner-center: Partner Center's deliveries (partner-center-webhooks.md §2, §3, §5).
// The raw body is verified first (RSA-SHA256 over the exact bytes, certificate from an allow-listed
// host, chain and organisation checked): anything unsigned or forged is 401 with a log line saying why,
// and nothing is stored. A signed body is then read: not JSON, no event name or an unknown event is 400;
// `test-created` is recorded and answered 200; a referral event is recorded (before answering: nothing
// acknowledged is lost), a sync of `referral:<id>` is requested (duplicates coalesce in the queue) and
// answered 200 at once. The id is the last segment of ResourceUri: the relay never follows the URI.
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import { attachRun, recordEvent } from "../store/received-events.ts";
import type { RelayServices } from "../app.ts";
import { errorBody, errorSchema, jsonSchema, looseHeaders, stored as store } from "./schemas.ts";

export const WEBHOOK_PATH = "/webhooks/partner-center";
export const REFERRAL_EVENTS = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated"] as const;
export const TEST_EVENT = "test-created";

export interface PartnerCenterEvent {
  eventName: string;
  resourceUri: string;
  resourceName: string | null;
  auditUri: string | null;
  resourceChangeUtcDate: string | null;
}

/** A member of the payload matched case-insensitively (PascalCase on the wire, camelCase in the swagger). */
function member(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** The pointer a delivery carries, or why the body is not one. */
export function readEvent(body: unknown): { ok: true; event: PartnerCenterEvent } | { ok: false; message: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, message: "The body is not a JSON object." };
  const record = body as Record<string, unknown>;
  const eventName = member(record, "EventName");
  if (typeof eventName !== "string" || eventName.trim() === "") return { ok: false, message: "The body has no EventName." };
  const resourceUri = member(record, "ResourceUri");
  if (typeof resourceUri !== "string" || !URL.canParse(resourceUri)) return { ok: false, message: "The body has no ResourceUri URL." };
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    ok: true,
    event: {
      eventName: eventName.trim(), resourceUri, resourceName: text(member(record, "ResourceName")),
      auditUri: text(member(record, "AuditUri")), resourceChangeUtcDate: text(member(record, "ResourceChangeUtcDate")),
    },
  };
}

/** The referral id: the last path segment of `…/referrals/{id}`; undefined when the URI names none. */
export function referralIdFrom(resourceUri: string): string | undefined {
  const segments = new URL(resourceUri).pathname.split("/").filter(Boolean);
  const id = segments.at(-1);
  if (segments.at(-2)?.toLowerCase() !== "referrals" || !id) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    return undefined; // a broken escape (%zz, a lone %): no referral id
  }
  return /^[A-Za-z0-9-]{1,100}$/.test(decoded) ? decoded.toLowerCase() : undefined;
}

const Accepted = z.object({ status: z.enum(["accepted", "recorded"]), runId: z.string().optional(), coalesced: z.boolean().optional() });

const headers = looseHeaders({
  "content-type": z.string().optional(),
  "x-ms-certificate-url": z.string().optional(),
  "x-ms-signature-algorithm": z.string().optional(),
});

export function partnerCenterWebhookRoutes(app: FastifyInstance, services: RelayServices): void {
  const { metrics, verifier, db, tenantId, engine } = services;
  const refuse = (reason: string) => metrics.webhookRefused("partner-center", reason);

  app.post(WEBHOOK_PATH, {
    schema: { headers, response: { 200: jsonSchema(Accepted), 400: errorSchema, 401: errorSchema, 503: errorSchema } },
  }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verdict = await verifier.verify({ headers: request.headers, rawBody });
    if (!verdict.ok) {
      refuse(verdict.code);
      request.log.warn({ reason: verdict.code, detail: verdict.reason, bytes: rawBody.length }, "Partner Center delivery refused: the signature could not be verified");
      return reply.code(401).send(errorBody(verdict.code, "The delivery's signature could not be verified."));
    }

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString("utf8"));
    } catch {
      refuse("malformed");
      request.log.warn({ reason: "malformed", bytes: rawBody.length }, "Partner Center delivery refused: the body is not JSON");
      return reply.code(400).send(errorBody("malformed", "The body is not JSON."));
    }
    const read = readEvent(json);
    if (!read.ok) {
      refuse("malformed");
      request.log.warn({ reason: "malformed", detail: read.message }, "Partner Center delivery refused");
      return reply.code(400).send(errorBody("malformed", read.message));
    }
    const { event } = read;
    const dedupeKey = `${event.eventName}|${event.resourceUri}|${event.resourceChangeUtcDate ?? ""}`;

    if (event.eventName === TEST_EVENT) {
      await store(() => recordEvent(db, { tenantId, source: "partner-center", kind: TEST_EVENT, subject: null, dedupeKey, payload: json }));
      metrics.webhookReceived("partner-center", TEST_EVENT);
      request.log.info({ event: TEST_EVENT }, "Partner Center test event received");
      return { status: "recorded" as const };
    }
    if (!(REFERRAL_EVENTS as readonly string[]).includes(event.eventName)) {
      refuse("unknown-event");
      request.log.warn({ reason: "unknown-event", event: event.eventName.slice(0, 80) }, "Partner Center delivery refused: not an event the relay handles");
      return reply.code(400).send(errorBody("unknown-event", `The relay handles ${[...REFERRAL_EVENTS, TEST_EVENT].join(", ")}; not '${event.eventName.slice(0, 80)}'.`));
    }
    const referralId = referralIdFrom(event.resourceUri);
    if (!referralId) {
      refuse("malformed");
      request.log.warn({ reason: "malformed", event: event.eventName }, "Partner Center delivery refused: ResourceUri names no referral");
      return reply.code(400).send(errorBody("malformed", "ResourceUri does not name a referral (…/referrals/{id})."));
    }

    const subject = `referral:${referralId}`;
    const eventId = await store(() => recordEvent(db, { tenantId, source: "partner-center", kind: event.eventName, subject, dedupeKey, payload: json }));
    const run = await store(() => engine.requestSync(subject, event.eventName, "partner-center"));
    await store(() => attachRun(db, eventId, run.runId));
    metrics.webhookReceived("partner-center", event.eventName);
    request.log.info({ event: event.eventName, subject, runId: run.runId, coalesced: run.coalesced }, "Partner Center event accepted");
    return { status: "accepted" as const, runId: run.runId, coalesced: run.coalesced };
  });
}

// The edge on its own (fastify's inject, a stub engine, the embedded store in memory): health and
// readiness, the documented metric series, a synchronous step refusing a save, and the error handler
// (a store outage is 503 so the sender retries; a crash is 500 with a request id and no internals).
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { RemoteExecutionContext } from "../../../Plugins/context.ts";
import type { StepModule } from "../../../Plugins/step.ts";
import { buildApp, type RelayServices, type SyncRequester } from "../../src/app.ts";
import { DEFAULT_STEP_KEY_HEADER } from "../../src/clients/dataverse-registration.ts";
import { METRIC_NAMES, RelayMetrics } from "../../src/metrics.ts";
import { openDatabase, type Database } from "../../src/store/database.ts";
import { capturingLogger, type LogLine } from "./helpers.ts";

const KEY = "k".repeat(40);

const validation: StepModule = {
  registration: { name: "opportunity-validate", message: "Update", table: "opportunity", stage: 20, mode: 0, filteringAttributes: ["name"], images: [], description: "test" },
  handle: (context: RemoteExecutionContext) => (context.inputParameters.Target && (context.inputParameters.Target as { attributes: Record<string, unknown> }).attributes.name === "bad"
    ? { kind: "refuse", message: "The deal name may not be 'bad'." }
    : { kind: "allow" }),
};
const crashing: StepModule = {
  registration: { ...validation.registration, name: "crashing" },
  handle: () => {
    throw new Error("secret internals at /srv/relay/x.ts:12");
  },
};
const syncing: StepModule = {
  registration: { ...validation.registration, name: "syncing", stage: 40, mode: 1 },
  handle: (context) => ({ kind: "sync", subjects: [`opportunity:${context.primaryEntityId}`], reason: "test" }),
};

let db: Database;
let app: FastifyInstance;
let lines: LogLine[];
let metrics: RelayMetrics;
const requested: Array<[string, string, string]> = [];
let engineFails = false;
let databaseReady = true;

beforeAll(async () => {
  db = await openDatabase({ memory: true });
  const engine: SyncRequester = {
    async requestSync(subject, reason, source) {
      if (engineFails) throw new Error("connection terminated");
      requested.push([subject, reason, source]);
      return { runId: randomUUID(), coalesced: false };
    },
  };
  metrics = new RelayMetrics();
  metrics.setQueueDepthSource(async () => [{ queue: "sync", state: "queued", count: 3 }, { queue: "sync-dead", state: "queued", count: 1 }]);
  const captured = capturingLogger();
  lines = captured.lines;
  const services: RelayServices = {
    tenantId: "t", db, engine, stepKey: KEY, steps: [validation, crashing, syncing], metrics,
    verifier: { verify: async () => ({ ok: false, code: "missing-signature", reason: "no signature" }) },
    checks: [
      { name: "database", check: async () => { if (!databaseReady) throw new Error("connection refused"); } },
      { name: "queue", check: async () => undefined },
    ],
  };
  app = await buildApp(services, { logger: captured.log });
}, 30_000);
afterAll(async () => {
  await app?.close();
  await db?.close();
});

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
const context = (name: string, stage = 20, mode = 0) => JSON.stringify({
  MessageName: "Update", PrimaryEntityName: "opportunity", PrimaryEntityId: randomUUID(), Stage: stage, Mode: mode,
  InputParameters: [{ key: "Target", value: { __type: `Entity:${CONTRACTS}`, Attributes: [{ key: "name", value: name }], Id: randomUUID(), LogicalName: "opportunity" } }],
});
const deliver = (step: string, body: string) => app.inject({ method: "POST", url: `/plugins/${step}`, payload: body, headers: { "content-type": "application/json", [DEFAULT_STEP_KEY_HEADER]: KEY } });

describe("health", () => {
  test("/healthz answers while the process runs", async () => {
    const answer = await app.inject({ method: "GET", url: "/healthz" });
    expect([answer.statusCode, answer.json()]).toEqual([200, { status: "ok" }]);
  });

  test("/readyz is 200 when the store and the queue answer, 503 (with which) when not", async () => {
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: "ready", checks: [{ name: "database", ok: true }, { name: "queue", ok: true }] }]);
    databaseReady = false;
    const down = await app.inject({ method: "GET", url: "/readyz" });
    databaseReady = true;
    expect([down.statusCode, down.json()]).toEqual([503, { status: "not ready", checks: [{ name: "database", ok: false, detail: "connection refused" }, { name: "queue", ok: true }] }]);
  });

  test("/metrics exposes the documented series", async () => {
    metrics.syncFinished("outbound", "succeeded", 1200);
    metrics.syncFinished("inbound", "failed", 300);
    metrics.outgoingRequest("dataverse", 204, 40);
    metrics.outgoingRequest("partner-center-referrals", 429, 10);
    metrics.webhookReceived("partner-center", "referral-updated");
    metrics.webhookRefused("partner-center", "signature-mismatch");
    const answer = await app.inject({ method: "GET", url: "/metrics" });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain/);
    const text = answer.body;
    for (const name of Object.values(METRIC_NAMES)) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain(`${METRIC_NAMES.syncs}{direction="outbound",outcome="succeeded"} 1`);
    expect(text).toContain(`${METRIC_NAMES.syncs}{direction="inbound",outcome="failed"} 1`);
    expect(text).toContain(`${METRIC_NAMES.syncDuration}_bucket{le="2",direction="outbound",outcome="succeeded"} 1`);
    expect(text).toContain(`${METRIC_NAMES.queueJobs}{queue="sync",state="queued"} 3`);
    expect(text).toContain(`${METRIC_NAMES.queueJobs}{queue="sync-dead",state="queued"} 1`);
    expect(text).toContain(`${METRIC_NAMES.outgoingRequests}{target="dataverse",status="204"} 1`);
    expect(text).toContain(`${METRIC_NAMES.outgoingRequests}{target="partner-center-referrals",status="429"} 1`);
    expect(text).toContain(`${METRIC_NAMES.webhooksReceived}{source="partner-center",event="referral-updated"} 1`);
    expect(text).toContain(`${METRIC_NAMES.webhooksRefused}{source="partner-center",reason="signature-mismatch"} 1`);
    expect(text).toContain("relay_process_cpu_seconds_total");
  });
});

describe("synchronous steps", () => {
  test("allowing: 200, the save goes on", async () => {
    const answer = await deliver("opportunity-validate", context("good"));
    expect([answer.statusCode, answer.json()]).toEqual([200, { status: "allowed" }]);
  });

  test("refusing: 422 with the message, so Dataverse cancels the save and shows why", async () => {
    const answer = await deliver("opportunity-validate", context("bad"));
    expect([answer.statusCode, answer.json()]).toEqual([422, { error: { code: "refused", message: "The deal name may not be 'bad'." } }]);
    const recorded = await db.query("SELECT kind FROM received_events WHERE source = 'dataverse'");
    expect(recorded.rowCount).toBeGreaterThanOrEqual(2);
  });
});

describe("the error handler", () => {
  test("a store or queue outage is 503 with Retry-After (Dataverse retries once, Partner Center up to 10 times), logged with the cause", async () => {
    engineFails = true;
    const answer = await deliver("syncing", context("x", 40, 1));
    engineFails = false;
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["retry-after"]).toBe("30");
    expect(answer.json()).toEqual({ error: { code: "unavailable", message: "The relay could not store the delivery right now; send it again." } });
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: "the relay could not store or queue a delivery", err: expect.objectContaining({ message: "connection terminated" }) }));
  });

  test("a crash is 500 with the request id, the context in the log, and no internals in the answer", async () => {
    const answer = await deliver("crashing", context("x"));
    expect(answer.statusCode).toBe(500);
    const body = answer.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe("internal");
    expect(body.error.message).toMatch(/^The relay could not handle the request \(request id [0-9a-f-]{36}\); its log says why\.$/);
    expect(answer.body).not.toContain("secret internals");
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: "unhandled error", route: "/plugins/:step", method: "POST", err: expect.objectContaining({ message: expect.stringContaining("secret internals") }) }));
  });

  test("an unknown route is 404 in the same shape", async () => {
    const answer = await app.inject({ method: "GET", url: "/nope?code=secret" });
    expect([answer.statusCode, answer.json()]).toEqual([404, { error: { code: "not-found", message: "No route GET /nope." } }]);
  });

  test("a body over the limit is 413", async () => {
    const answer = await app.inject({ method: "POST", url: "/plugins/syncing", payload: Buffer.alloc(3 * 1024 * 1024, 32), headers: { "content-type": "application/json", [DEFAULT_STEP_KEY_HEADER]: KEY } });
    expect([answer.statusCode, answer.json()]).toEqual([413, { error: { code: "too-large", message: "The body is too large." } }]);
  });
});

test("request log lines carry no keys, tokens or e-mail addresses", async () => {
  await app.inject({ method: "POST", url: `/plugins/syncing?code=${KEY}`, payload: context("dana.seller@contoso.example"), headers: { "content-type": "application/json", authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig" } });
  const text = JSON.stringify(lines);
  expect(text).not.toContain(KEY);
  expect(text).not.toContain("eyJhbGciOiJSUzI1NiJ9");
  expect(text).not.toContain("dana.seller@contoso.example");
});

// 5. Malformed and hostile payloads against the running relay (a real `relay start` child): Partner Center
// webhook bodies with missing, forged or foreign signatures; Dataverse step deliveries without the step
// key, with a wrong one, and with the right key but a body that is no RemoteExecutionContext; client API
// calls without a token, with a forged one, from a foreign origin, with bad ids. Every one is answered
// 4xx, the relay never crashes (same process, /healthz still 200) and nothing is stored: received_events
// and runs are as they were. PCR_FUZZ_PAYLOADS sets the number (default 10,000).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { request } from "undici";
import { readyWorld, type World } from "./harness.ts";

const PAYLOADS = Math.max(100, Number(process.env.PCR_FUZZ_PAYLOADS ?? 10_000) || 10_000);
const CONCURRENCY = 16;

let world: World;
let stepKey: string;
beforeAll(async () => {
  world = await readyWorld({ kind: "cli" });
  stepKey = (JSON.parse(readFileSync(join(dirname(world.endpointsFile), "relay-secrets.json"), "utf8")) as { stepKey: string }).stepKey;
}, 90_000);
afterAll(async () => {
  await world?.close();
});

interface Hostile {
  kind: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** The relay's steps (a right key reaches their decoder) and names it does not have. */
const STEPS = ["opportunity-create", "opportunity-update", "opportunity-rules-create", "opportunity-rules-update", "solution-create", "solution-delete", "lead-update", "lead-qualify", "lead-qualify-rules"];
const NOT_STEPS = ["no-such-step", "../../admin", "%2e%2e", "a".repeat(100)];
const bytes = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b));
const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
const anyBody = fc.oneof(jsonText, fc.string({ maxLength: 300 }), bytes, fc.constantFrom("", "{", "null", "[]", "{\"__proto__\":{\"polluted\":1}}", "{\"constructor\":{\"prototype\":{\"x\":1}}}"));
/** Bodies that look like Partner Center's pointer, with fields missing, wrong or hostile. */
const eventLike = fc.record({
  EventName: fc.oneof(fc.constantFrom("referral-created", "referral-updated", "related-referral-updated", "test-created", "unknown", ""), fc.string({ maxLength: 30 })),
  ResourceUri: fc.oneof(fc.webUrl(), fc.constantFrom("https://api.partner.microsoft.com/v1.0/engagements/referrals/../../x", "javascript:alert(1)", "file:///etc/passwd"), fc.string({ maxLength: 40 })),
  ResourceName: fc.oneof(fc.constant("referral"), fc.string({ maxLength: 10 })),
  AuditUri: fc.constant(null),
  ResourceChangeUtcDate: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 20 })),
}, { requiredKeys: [] }).map((v) => JSON.stringify(v));
/** Bodies that look like a RemoteExecutionContext but are not one (a required member missing or of the wrong type). */
const contextLike = fc.record({
  MessageName: fc.oneof(fc.constantFrom("Update", "Create", "QualifyLead"), fc.integer(), fc.constant(null)),
  PrimaryEntityName: fc.oneof(fc.constantFrom("opportunity", "lead"), fc.integer()),
  PrimaryEntityId: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
  Stage: fc.oneof(fc.constantFrom(40, 20, 10), fc.string({ maxLength: 4 })),
  Mode: fc.oneof(fc.constantFrom(0, 1), fc.string({ maxLength: 3 })),
  Depth: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.string({ maxLength: 3 })),
  InputParameters: fc.oneof(fc.constant("not a list"), fc.array(fc.record({ key: fc.oneof(fc.constant("Target"), fc.integer()), value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 3 })),
  PreEntityImages: fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 2 })),
}, { requiredKeys: [] })
  // A body with the members a context must have, well typed, could be a real delivery: keep one broken.
  .filter((v) => !(typeof v.MessageName === "string" && typeof v.PrimaryEntityName === "string" && typeof v.Depth === "number" && typeof v.Stage === "number" && typeof v.Mode === "number" && Array.isArray(v.InputParameters)))
  .map((v) => JSON.stringify(v));
const b64 = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b).toString("base64"));

function webhook(world: World): fc.Arbitrary<Hostile> {
  const pc = new URL(world.sandboxes.endpoints.partnerCenter);
  const signatureHeaders = fc.oneof(
    fc.constant({}),
    b64.map((s) => ({ authorization: `Signature ${s}`, "x-ms-signature-algorithm": "rsa-sha256", "x-ms-certificate-url": `${pc.origin}/cert/pcnotifications-dispatch.microsoft.com.cer` })),
    b64.map((s) => ({ "x-ms-signature": s, "x-ms-signature-algorithm": "rsa-sha1", "x-ms-certificate-url": `${pc.origin}/cert/pcnotifications-dispatch.microsoft.com.cer` })),
    b64.map((s) => ({ authorization: `Signature ${s}`, "x-ms-signature-algorithm": "rsa-sha256", "x-ms-certificate-url": "https://attacker.example/cert.cer" })),
    b64.map((s) => ({ authorization: `Bearer ${s}`, "x-ms-certificate-url": "http://127.0.0.1:1/cert.cer" })),
    fc.record({ authorization: fc.string({ maxLength: 80 }), "x-ms-certificate-url": fc.string({ maxLength: 80 }), "x-ms-signature-algorithm": fc.string({ maxLength: 20 }) }),
  );
  return fc.record({ body: fc.oneof(eventLike, anyBody), headers: signatureHeaders, type: fc.constantFrom("application/json", "text/plain", "application/json; charset=utf-8") })
    .map(({ body, headers, type }) => ({ kind: "webhook", method: "POST" as const, path: "/webhooks/partner-center", headers: { "content-type": type, ...headers }, body }));
}

const step: fc.Arbitrary<Hostile> = fc.record({
  name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...STEPS) }, fc.constantFrom(...NOT_STEPS), fc.stringMatching(/^[a-z-]{1,30}$/)),
  key: fc.oneof(fc.constant<"none" | "right" | "wrong" | "query">("right"), fc.constantFrom<"none" | "right" | "wrong" | "query">("none", "wrong", "query")),
  wrong: fc.string({ maxLength: 60 }),
  body: fc.oneof(contextLike, anyBody),
}).map(({ name, key, wrong, body }) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  let path = `/plugins/${encodeURIComponent(name)}`;
  if (key === "right") headers["x-pcr-step-key"] = stepKey;
  if (key === "wrong") headers["x-pcr-step-key"] = wrong.replace(/[^\x20-\x7e]/g, "") || "x";
  if (key === "query") path += `?code=${encodeURIComponent(wrong)}`;
  return { kind: `step (${key === "right" ? "right key" : "no or wrong key"})`, method: "POST" as const, path, headers, body };
});

const clientApi: fc.Arbitrary<Hostile> = fc.record({
  route: fc.constantFrom("status", "sync", "retry", "runs"),
  id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.constantFrom("../../../etc/passwd", "00000000-0000-0000-0000-000000000000", "' or 1=1 --")),
  auth: fc.oneof(fc.constant(undefined), b64.map((s) => `Bearer ${s}`), fc.constant("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), fc.string({ maxLength: 60 })),
  origin: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom("https://attacker.example", "null", "http://127.0.0.1:1")),
  body: fc.option(anyBody, { nil: undefined }),
}).map(({ route, id, auth, origin, body }) => {
  const headers: Record<string, string> = {};
  const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, "");
  if (auth !== undefined) headers.authorization = clean(auth);
  if (origin) headers.origin = origin;
  if (body !== undefined) headers["content-type"] = "application/json";
  const segment = encodeURIComponent(id) || "x";
  const path = route === "runs" ? `/api/runs/${segment}` : `/api/opportunities/${segment}/${route}`;
  return { kind: "client API", method: route === "status" || route === "runs" ? "GET" as const : "POST" as const, path, headers, ...(body !== undefined && route !== "status" && route !== "runs" ? { body } : {}) };
});

async function storedCounts(): Promise<{ events: number; runs: number }> {
  const events = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM received_events");
  const runs = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM runs");
  return { events: Number(events.rows[0]!.n), runs: Number(runs.rows[0]!.n) };
}

test(`${PAYLOADS.toLocaleString("en-US")} malformed or hostile payloads: each answered 4xx, no crash, nothing stored`, async () => {
  const before = await storedCounts();
  const pid = world.relay.pid;
  const payloads = fc.sample(fc.oneof(webhook(world), step, clientApi), { numRuns: PAYLOADS, seed: Number(process.env.PCR_FUZZ_SEED ?? 8) });
  const byKind = new Map<string, Map<number, number>>();
  const wrong: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) {
      const p = payloads[next++]!;
      let status: number;
      try {
        const answer = await request(`${world.relayUrl}${p.path}`, { method: p.method, headers: p.headers, ...(p.body !== undefined ? { body: p.body } : {}), headersTimeout: 30_000, bodyTimeout: 30_000 });
        await answer.body.dump();
        status = answer.statusCode;
      } catch (error) {
        status = 0;
        wrong.push(`${p.kind} ${p.method} ${p.path}: no answer (${(error as Error).message})`);
      }
      const counts = byKind.get(p.kind) ?? new Map<number, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      byKind.set(p.kind, counts);
      if (status !== 0 && (status < 400 || status >= 500)) wrong.push(`${p.kind} ${p.method} ${p.path} answered ${status}: ${String(p.body ?? "").slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  const after = await storedCounts();
  const health = await request(`${world.relayUrl}/healthz`);
  await health.body.dump();
  const summary = [...byKind].map(([kind, counts]) => `  ${kind.padEnd(28)} ${[...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s} ×${n}`).join(", ")}`);
  console.log([
    `── hostile payloads: ${payloads.length} sent ──`,
    ...summary,
    `  answered outside 4xx: ${wrong.length}; received_events ${before.events} → ${after.events}, runs ${before.runs} → ${after.runs}; relay pid ${pid} → ${world.relay.alive() ? world.relay.pid : "exited"}`,
    ...wrong.slice(0, 20).map((w) => `  ✖ ${w}`),
  ].join("\n"));
  expect(wrong).toEqual([]);
  expect(world.relay.alive()).toBe(true);
  expect(world.relay.pid).toBe(pid);
  expect(health.statusCode).toBe(200);
  expect(after).toEqual(before);
  // Every kind was tried, the step with the right key included.
  expect([...byKind.keys()].sort()).toEqual(["client API", "step (no or wrong key)", "step (right key)", "webhook"]);
}, 600_000);

// 5. Malformed and hostile payloads against the running relay (a real `relay start` child): Partner Center
// webhook bodies with missing, forged or foreign signatures; Dataverse step deliveries without the step
// key, with a wrong one, and with the right key but a body that is no RemoteExecutionContext; client API
// calls without a token, with a forged one, from a foreign origin, with bad ids. And with valid credentials:
// Partner Center webhooks correctly signed with the sandbox's webhook signing certificate (as the Partner
// Center sandbox signs its deliveries: RSA-SHA256 over the exact bytes, X-MS-Certificate-Url to its
// certificate) whose body is no event the relay can take, or whose bytes were changed after signing; and
// client API calls with valid Entra ID tokens issued by the identity sandbox (the seller's, and those of a
// user in another business unit) for ids that are no opportunity, records the user cannot read, runs that do
// not exist, bodies that are not JSON, foreign origins, and the same tokens misused (another resource's
// audience, changed after signing). Every one is answered 4xx, the relay never crashes (same process,
// /healthz still 200) and nothing is stored: received_events, runs and the queue's jobs are as they were.
// PCR_FUZZ_PAYLOADS sets the number (default 10,000).
import { constants, createPrivateKey, randomUUID, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { request } from "undici";
import { DEMO_APPS, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { readyWorld, rows, type World } from "./harness.ts";

const PAYLOADS = Math.max(100, Number(process.env.PCR_FUZZ_PAYLOADS ?? 10_000) || 10_000);
const CONCURRENCY = 16;

let world: World;
let stepKey: string;
/** The Partner Center sandbox's webhook signing key (its certificate is what X-MS-Certificate-Url serves). */
let signingKey: KeyObject;
/** Access tokens the identity sandbox issued: for the relay's API (the seller, a user of another business unit), and for other resources. */
let tokens: { seller: string; otherUnit: string; dataverse: string; otherApi: string };
/** The seller's opportunity: the user of the other business unit cannot read it. */
let sellersOpportunity: string;

const API_SCOPE = `api://${DEMO_APPS.card.clientId}/user_impersonation`;

async function issuedToken(scope: string, user: { username: string; password: string }, client: { clientId: string; clientSecret?: string } = DEMO_APPS.card): Promise<string> {
  const form: Record<string, string> = { grant_type: "password", client_id: client.clientId, username: user.username, password: user.password, scope };
  if (client.clientSecret) form.client_secret = client.clientSecret;
  const answer = await request(world.sandboxes.endpoints.tokenEndpoint, {
    method: "POST", body: new URLSearchParams(form).toString(), headers: { "content-type": "application/x-www-form-urlencoded" }, dispatcher: world.agent,
  });
  const body = (await answer.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`the identity sandbox issued no token for ${user.username} (${scope}): ${body.error_description}`);
  return body.access_token;
}

beforeAll(async () => {
  world = await readyWorld({ kind: "cli" });
  stepKey = (JSON.parse(readFileSync(join(dirname(world.endpointsFile), "relay-secrets.json"), "utf8")) as { stepKey: string }).stepKey;
  signingKey = createPrivateKey(readFileSync(join(world.stateDir, "tls", "webhook-signing-key.pem"), "utf8"));
  tokens = {
    seller: await issuedToken(API_SCOPE, DEMO_USERS.seller),
    otherUnit: await issuedToken(API_SCOPE, DEMO_USERS.noReferralRole),
    dataverse: await issuedToken(world.sandboxes.endpoints.dataverseScope, DEMO_USERS.seller, DEMO_APPS.script),
    otherApi: await issuedToken(`api://${DEMO_APPS.script.clientId}/user_impersonation`, DEMO_USERS.seller),
  };
  // An opportunity of the seller's that is not shared (Sync = No): nothing of it reaches Partner Center. The
  // other user moves to another business unit, where Dataverse no longer lets him read what the seller owns.
  ({ id: sellersOpportunity } = await world.seller.create("opportunities", { name: `Not for the other unit ${randomUUID().slice(0, 8)}` }));
  const unit = await world.dataverse.create("businessunits", { name: `Other division ${randomUUID().slice(0, 6)}` });
  const [other] = await rows(world, "systemusers", `azureactivedirectoryobjectid eq ${DEMO_USERS.noReferralRole.oid}`, ["systemuserid"]);
  await world.dataverse.update("systemusers", String(other!.systemuserid), { "businessunitid@odata.bind": `/businessunits(${unit.id})` });
  await world.control("dataverse", "/sandbox/webhooks/drain", {});
  await settled();
}, 120_000);
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
  // A body with the members a context must have, well typed, could be a real delivery: keep one broken. Mode,
  // Depth, InputParameters and the images may be absent from a context (they have defaults), never of another type.
  .filter((v) => typeof v.MessageName !== "string" || typeof v.PrimaryEntityName !== "string" || !Number.isInteger(v.Stage)
    || (v.Mode !== undefined && !Number.isInteger(v.Mode)) || (v.Depth !== undefined && !Number.isInteger(v.Depth))
    || (v.InputParameters !== undefined && !Array.isArray(v.InputParameters)))
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

// ---- correctly signed Partner Center deliveries ----

const EVENTS = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated"] as const;
const KNOWN_EVENTS: readonly string[] = [...EVENTS, "test-created"];
const REFERRALS = "https://api.partner.microsoft.com/v1.0/engagements/referrals";
/** A member name as Partner Center spells it, or in another case (the relay reads members case-insensitively). */
const spelled = (name: string) => fc.constantFrom(name, name.toLowerCase(), name[0]!.toLowerCase() + name.slice(1), name.toUpperCase());
const referralUri = fc.uuid().map((id) => `${REFERRALS}/${id}`);
const referralEvent = fc.constantFrom(...EVENTS);
/** The members a pointer may also carry, some hostile. */
const extras = fc.record({
  ResourceName: fc.oneof(fc.constant("referral"), fc.string({ maxLength: 10 }), fc.integer()),
  AuditUri: fc.oneof(fc.constant(null), fc.webUrl()),
  ResourceChangeUtcDate: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 20 })),
}, { requiredKeys: [] });
/** Members that pollute a prototype when a parser merges them carelessly: written into the JSON text as they are. */
const pollution = fc.constantFrom("", "\"__proto__\":{\"polluted\":true},", "\"constructor\":{\"prototype\":{\"polluted\":true}},");
const pointer = (eventName: fc.Arbitrary<unknown>, resourceUri: fc.Arbitrary<unknown>) =>
  fc.tuple(spelled("EventName"), eventName, spelled("ResourceUri"), resourceUri, extras, pollution).map(([e, event, r, uri, more, polluted]) => {
    const body: Record<string, unknown> = { ...more };
    if (event !== undefined) body[e] = event;
    if (uri !== undefined) body[r] = uri;
    return `{${polluted}${JSON.stringify(body).slice(1)}`.replace(/,}$/, "}");
  });
// Not empty: the relay refuses an empty delivery before it looks at a signature (401 empty-body).
const notJson = fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), bytes.filter((b) => b.length > 0).map((b) => b.toString("latin1")), fc.constantFrom("{", "{\"EventName\":", "\u0000", "NaN", "{'EventName':'referral-created'}"))
  .filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });
const notURL = fc.string({ maxLength: 40 }).filter((text) => !URL.canParse(text));
/** ResourceUri URLs that name no referral: no id, another collection, an id the relay does not take, a broken escape. */
const namesNoReferral = fc.oneof(
  fc.constant(REFERRALS),
  fc.tuple(fc.stringMatching(/^[a-z]{1,12}$/).filter((c) => c !== "referrals"), fc.uuid()).map(([collection, id]) => `https://api.partner.microsoft.com/v1.0/engagements/${collection}/${id}`),
  fc.string({ minLength: 1, maxLength: 30 }).filter((id) => /[^A-Za-z0-9-]/.test(id) && !/[/?#]/.test(id) && id.trim() === id && id !== "." && id !== "..").map((id) => `${REFERRALS}/${encodeURIComponent(id)}`),
  fc.constant(`${REFERRALS}/${"a".repeat(101)}`),
  fc.constantFrom(`${REFERRALS}/%E0%A4%A`, `${REFERRALS}/%`, `${REFERRALS}/%zz`, `${REFERRALS}/%2e%2e`, `${REFERRALS}/..%2F..%2Fadmin`, `${REFERRALS}/%00`),
);
/** Bodies a correctly signed delivery may carry that are no event the relay takes (each one broken on purpose). */
const signedMalformed = fc.oneof(
  notJson,
  fc.oneof(fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== "object" || v === null || Array.isArray(v)), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })).map((v) => JSON.stringify(v)),
  pointer(fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.constantFrom("", " ", "\t\n"), fc.constant(["referral-created"]), fc.constant({ name: "referral-created" })), referralUri),
  pointer(referralEvent, fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), notURL, fc.constant({ href: `${REFERRALS}/x` }))),
  pointer(fc.string({ minLength: 1, maxLength: 30 }).filter((e) => e.trim() !== "" && !KNOWN_EVENTS.includes(e.trim())), referralUri),
  pointer(referralEvent, namesNoReferral),
);
/** A body as the sandbox's deliveries have it, to change after signing. */
const wellFormed = pointer(referralEvent, referralUri);

function signed(world: World): fc.Arbitrary<Hostile> {
  const certificateUrl = `${new URL(world.sandboxes.endpoints.partnerCenter).origin}/cert/pcnotifications-dispatch.microsoft.com.cer`;
  const carried = fc.constantFrom("authorization", "x-ms-signature", "x-ms-signature bare");
  const headersFor = (signature: string, where: string, more: Record<string, string> = {}): Record<string, string> => ({
    "content-type": "application/json", "x-ms-signature-algorithm": "rsa-sha256", "x-ms-certificate-url": certificateUrl,
    ...(where === "authorization" ? { authorization: `Signature ${signature}` } : { "x-ms-signature": where === "x-ms-signature" ? `Signature ${signature}` : signature }),
    ...more,
  });
  const sig = (body: Buffer) => sign("sha256", body, { key: signingKey, padding: constants.RSA_PKCS1_PADDING }).toString("base64");
  // The signature is right; the body is no event the relay can take: 400.
  const malformed = fc.tuple(signedMalformed, carried).map(([text, where]): Hostile => {
    const body = Buffer.from(text, "utf8");
    return { kind: "webhook, signed (malformed)", method: "POST", path: "/webhooks/partner-center", headers: headersFor(sig(body), where), body };
  });
  // Signed by the sandbox's key, then changed on the way, or sent with what does not go with it: 401.
  const altered = fc.tuple(fc.oneof(wellFormed, signedMalformed), carried, fc.constantFrom("appended", "flipped", "re-encoded", "sha1", "foreign certificate", "other body's signature"), fc.nat())
    .map(([text, where, how, at]): Hostile => {
      const original = Buffer.from(text, "utf8");
      let body = original;
      let more: Record<string, string> = {};
      let signature = sig(original);
      if (how === "appended") body = Buffer.concat([original, Buffer.from(" ")]);
      if (how === "flipped") {
        body = Buffer.from(original.length ? original : Buffer.from("{}"));
        const i = at % body.length;
        body[i] = body[i]! ^ 0x01;
        if (!original.length) signature = sig(Buffer.alloc(0));
      }
      if (how === "re-encoded") body = Buffer.from(JSON.stringify({ wrapped: text }), "utf8");
      if (how === "sha1") more = { "x-ms-signature-algorithm": "rsa-sha1" };
      if (how === "foreign certificate") more = { "x-ms-certificate-url": "https://certificates.example.invalid/cert/pcnotifications-dispatch.microsoft.com.cer" };
      if (how === "other body's signature") signature = sig(Buffer.from(`${text} `, "utf8"));
      return { kind: "webhook, signed then altered", method: "POST", path: "/webhooks/partner-center", headers: headersFor(signature, where, more), body };
    });
  return fc.oneof({ weight: 3, arbitrary: malformed }, { weight: 2, arbitrary: altered });
}

// ---- the client API with valid Entra ID tokens ----

/** A JWT changed after the identity sandbox signed it. */
function tampered(token: string, how: "payload" | "signature" | "alg none" | "appended"): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  if (how === "payload") return `${header}.${Buffer.from(JSON.stringify({ ...claims, oid: DEMO_USERS.seller.oid, roles: ["admin"] })).toString("base64url")}.${signature}`;
  if (how === "signature") return `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
  if (how === "alg none") return `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
  return `${token}.${signature}`;
}

/** Calls with a token the identity sandbox issued for the relay's API: each for something the user may not have. */
function signedIn(): fc.Arbitrary<Hostile> {
  const junkId = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom("../../../etc/passwd", "' or 1=1 --", "00000000-0000-0000-0000-00000000000g", "{00000000-0000-0000-0000-000000000000}", "%00"));
  return fc.record({
    who: fc.constantFrom<"seller" | "otherUnit">("seller", "otherUnit"),
    route: fc.constantFrom("status", "sync", "retry", "runs"),
    // Not an id; an id nobody has (no opportunity, no run); the seller's opportunity (only for the user who cannot read it).
    target: fc.oneof({ weight: 2, arbitrary: fc.uuid().map((id) => ({ kind: "unknown", id })) }, { weight: 2, arbitrary: junkId.map((id) => ({ kind: "junk", id })) }, fc.constant({ kind: "sellers", id: "" })),
    origin: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, fc.constantFrom("https://attacker.example", "null", `${new URL(world.sandboxes.endpoints.dataverse).origin}.attacker.example`)),
    body: fc.option(fc.oneof(anyBody, jsonText), { nil: undefined }),
  }).map(({ who, route, target, origin, body }): Hostile => {
    const id = target.kind === "sellers" ? (who === "otherUnit" ? sellersOpportunity : randomUUID()) : target.id;
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[who]}` };
    if (origin) headers.origin = origin;
    const post = route === "sync" || route === "retry";
    if (post && body !== undefined) headers["content-type"] = "application/json";
    const segment = encodeURIComponent(id) || "x";
    const path = route === "runs" ? `/api/runs/${segment}` : `/api/opportunities/${segment}/${route}`;
    return { kind: "client API, valid token", method: post ? "POST" : "GET", path, headers, ...(post && body !== undefined ? { body } : {}) };
  });
}

/** The same issued tokens misused: for another resource (Dataverse, another app's API), or changed after signing. */
function misused(): fc.Arbitrary<Hostile> {
  return fc.record({
    token: fc.oneof(
      fc.constantFrom("dataverse", "otherApi").map((k) => tokens[k as "dataverse" | "otherApi"]),
      fc.tuple(fc.constantFrom("seller", "otherUnit"), fc.constantFrom("payload", "signature", "alg none", "appended")).map(([who, how]) => tampered(tokens[who as "seller" | "otherUnit"], how as "payload")),
    ),
    route: fc.constantFrom("status", "sync", "retry"),
    sellers: fc.boolean(),
  }).map(({ token, route, sellers }): Hostile => ({
    kind: "client API, token misused", method: route === "status" ? "GET" : "POST",
    path: `/api/opportunities/${sellers ? sellersOpportunity : randomUUID()}/${route}`, headers: { authorization: `Bearer ${token}` },
  }));
}

async function storedCounts(): Promise<{ events: number; runs: number; jobs: number }> {
  const events = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM received_events");
  const runs = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM runs");
  // The queue's jobs, in every state (pg-boss keeps completed ones): a sync requested by a payload would show here.
  const jobs = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM pgboss.job");
  return { events: Number(events.rows[0]!.n), runs: Number(runs.rows[0]!.n), jobs: Number(jobs.rows[0]!.n) };
}

/** Nothing queued or running, and the counts stay put for a moment (the relay's own work after init is done). */
async function settled(): Promise<void> {
  let last = "";
  for (let stable = 0, tries = 0; stable < 3 && tries < 120; tries++) {
    const open = await world.store.query<{ n: string }>("SELECT count(*) AS n FROM runs WHERE state IN ('queued', 'running', 'retrying')");
    const now = JSON.stringify(await storedCounts());
    stable = Number(open.rows[0]!.n) === 0 && now === last ? stable + 1 : 0;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test(`${PAYLOADS.toLocaleString("en-US")} malformed or hostile payloads: each answered 4xx, no crash, nothing stored`, async () => {
  const before = await storedCounts();
  const pid = world.relay.pid;
  const payloads = fc.sample(fc.oneof(webhook(world), signed(world), step, clientApi, { weight: 1, arbitrary: fc.oneof({ weight: 3, arbitrary: signedIn() }, misused()) }), { numRuns: PAYLOADS, seed: Number(process.env.PCR_FUZZ_SEED ?? 8) });
  const byKind = new Map<string, Map<number, number>>();
  const wrong: string[] = [];
  // The valid credentials get past the gate: the signed bodies are read (400, never 401), and the issued
  // tokens are accepted (the answers are about the ids, the records and the origins, never 401).
  const EXPECTED: Record<string, number[]> = {
    "webhook, signed (malformed)": [400], "webhook, signed then altered": [401], "client API, valid token": [400, 403, 404], "client API, token misused": [401],
  };
  const unexpected: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) {
      const p = payloads[next++]!;
      let status: number;
      try {
        const answer = await request(`${world.relayUrl}${p.path}`, { method: p.method, headers: p.headers, ...(p.body !== undefined ? { body: p.body } : {}), headersTimeout: 30_000, bodyTimeout: 30_000 });
        const text = await answer.body.text();
        status = answer.statusCode;
        const expected = EXPECTED[p.kind];
        if (expected && !expected.includes(status)) unexpected.push(`${p.kind} ${p.method} ${p.path} answered ${status} (${text.slice(0, 160)}): ${JSON.stringify(p.headers).slice(0, 160)} ${String(p.body ?? "").slice(0, 160)}`);
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
    `  answered outside 4xx: ${wrong.length}; received_events ${before.events} → ${after.events}, runs ${before.runs} → ${after.runs}, queue jobs ${before.jobs} → ${after.jobs}; relay pid ${pid} → ${world.relay.alive() ? world.relay.pid : "exited"}`,
    ...wrong.slice(0, 20).map((w) => `  ✖ ${w}`),
    ...unexpected.slice(0, 10).map((w) => `  ✖ ${w}`),
  ].join("\n"));
  expect(wrong).toEqual([]);
  expect(world.relay.alive()).toBe(true);
  expect(world.relay.pid).toBe(pid);
  expect(health.statusCode).toBe(200);
  expect(after).toEqual(before);
  // Every kind was tried, the step with the right key, the signed deliveries and the issued tokens included.
  expect([...byKind.keys()].sort()).toEqual([
    "client API", "client API, token misused", "client API, valid token", "step (no or wrong key)", "step (right key)", "webhook", "webhook, signed (malformed)", "webhook, signed then altered",
  ]);
  expect(unexpected).toEqual([]);
  // And each answer the signed-in calls can have came: bad ids (400), records the user cannot read or foreign origins (403), unknown ids (404).
  expect([...byKind.get("client API, valid token")!.keys()].sort()).toEqual([400, 403, 404]);
}, 600_000);

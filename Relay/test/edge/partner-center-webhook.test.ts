// Partner Center → relay, over real HTTP: the Partner Center sandbox delivers signed events to the relay's
// /webhooks/partner-center; an accepted event is persisted before the answer and a sync of its referral is
// queued. Forged deliveries (tampered body, a certificate from another host, no signature, a wrong
// algorithm) get 401 and a log line saying why, and nothing is stored or queued; signed bodies that are
// not a usable event get 400 with a clear message.
import { REFERRAL_WEBHOOK_EVENTS } from "../../src/clients/partner-center.ts";
import { METRIC_NAMES } from "../../src/metrics.ts";
import { referralIdFrom, readEvent } from "../../src/routes/partner-center-webhook.ts";
import {
  control, countRows, get, post, queuedSubjects, sign, startSandboxesForRelay, startTestRelay, waitFor, type Sandboxes, type TestRelay,
} from "./helpers.ts";

let sandboxes: Sandboxes;
let t: TestRelay;
let hook: string;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes);
  hook = `${t.relay.url}/webhooks/partner-center`;
  await t.relay.clients.partnerCenter.createRegistration({ webhookUrl: hook, webhookEvents: REFERRAL_WEBHOOK_EVENTS });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sandboxes?.close();
});
afterEach(async () => {
  await control(sandboxes, "partnerCenter", "/sandbox/faults", undefined, "DELETE");
});

interface Delivery { payload: { EventName: string; ResourceUri: string }; state: string; attempts: unknown[] }

async function settle(): Promise<void> {
  await control(sandboxes, "partnerCenter", "/sandbox/deliveries/settle", {});
}

/** Microsoft sends the partner a referral: the sandbox delivers `referral-created` for it. */
async function newReferral(): Promise<string> {
  const created = await control<{ id: string }>(sandboxes, "partnerCenter", "/sandbox/microsoft/referrals", { name: "Woodgrove lead", customerProfile: { name: "Woodgrove", address: { country: "NL" } } });
  expect(created.status).toBe(201);
  return created.body.id;
}

function signedHeaders(body: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Signature ${sign(body, sandboxes.signingKeyPem)}`,
    "x-ms-signature-algorithm": "rsa-sha256",
    "x-ms-certificate-url": sandboxes.certificateUrl,
    ...overrides,
  };
}

const eventBody = (eventName: string, referralId: string) => JSON.stringify({
  EventName: eventName, ResourceUri: `${sandboxes.running.endpoints.partnerCenter}/engagements/v1/referrals/${referralId}`,
  ResourceName: "referral", AuditUri: null, ResourceChangeUtcDate: "2026-01-02T03:04:05.6780000+00:00",
});

async function refusalLines(): Promise<Array<Record<string, unknown>>> {
  return t.lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("Partner Center delivery refused"));
}

test("a real delivery is verified, persisted with its run, and its referral queued; the answer is 200", async () => {
  const id = await newReferral();
  await settle();
  const subject = `referral:${id}`;
  const row = await waitFor("the received event", async () => (await t.relay.clients.db.query<{ kind: string; subject: string; source: string; run_id: string | null; payload: { EventName: string } }>(
    "SELECT kind, subject, source, run_id, payload FROM received_events WHERE subject = $1", [subject])).rows[0]);
  expect(row).toMatchObject({ kind: "referral-created", source: "partner-center", payload: { EventName: "referral-created" } });
  expect(row.run_id).toEqual(expect.any(String));
  const run = (await t.relay.clients.db.query<{ state: string; subject: string; direction: string }>("SELECT state, subject, direction FROM runs WHERE id = $1", [row.run_id])).rows[0];
  expect(run).toEqual({ state: "queued", subject, direction: "inbound" });
  expect(await queuedSubjects(t.relay)).toContain(subject);

  const deliveries = await control<Delivery[]>(sandboxes, "partnerCenter", "/sandbox/deliveries");
  const ours = deliveries.body.find((d) => d.payload.ResourceUri.endsWith(`/${id}`));
  expect(ours).toMatchObject({ state: "delivered", attempts: [expect.anything()] });

  const metrics = await get(`${t.relay.url}/metrics`);
  expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksReceived}\\{source="partner-center",event="referral-created"\\} [1-9]`));
});

test("duplicate deliveries are answered 200 and coalesce into the waiting sync", async () => {
  const body = eventBody("referral-updated", "5eed0002-0000-4000-8000-000000000002");
  const first = await post(hook, body, signedHeaders(body));
  const second = await post(hook, body, signedHeaders(body));
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(first.body).toMatchObject({ status: "accepted", coalesced: false });
  expect(second.body).toEqual({ status: "accepted", runId: first.body.runId, coalesced: true });
  const queued = (await queuedSubjects(t.relay)).filter((s) => s === "referral:5eed0002-0000-4000-8000-000000000002");
  expect(queued).toHaveLength(1);
});

test("Partner Center's test event is recorded and answered 200", async () => {
  const { correlationId } = await t.relay.clients.partnerCenter.sendTestEvent();
  const status = await waitFor("the test event's result", async () => {
    const s = await t.relay.clients.partnerCenter.getTestEventStatus(correlationId);
    return s.results.length ? s : undefined;
  });
  expect(status.results[0]).toMatchObject({ responseCode: "OK", systemError: false });
  const recorded = await t.relay.clients.db.query("SELECT subject FROM received_events WHERE kind = 'test-created'");
  expect(recorded.rows).toEqual([{ subject: null }]);
});

describe("forged deliveries: 401, a log line with the reason, nothing stored or queued", () => {
  test.each([
    ["a tampered body", () => {
      const body = eventBody("referral-updated", "11111111-1111-4111-8111-111111111111");
      return { body: body.replace("referral-updated", "referral-created"), headers: signedHeaders(body) };
    }, "signature-mismatch"],
    ["a certificate from a host that is not allow-listed", () => {
      const body = eventBody("referral-updated", "11111111-1111-4111-8111-111111111111");
      return { body, headers: signedHeaders(body, { "x-ms-certificate-url": "https://3psostorageacct.blob.core.windows.net.evil.example/cert/pcnotifications-dispatch.microsoft.com.cer" }) };
    }, "certificate-host-not-allowed"],
    ["no signature", () => {
      const body = eventBody("referral-updated", "11111111-1111-4111-8111-111111111111");
      const { authorization: _none, ...headers } = signedHeaders(body);
      return { body, headers };
    }, "missing-signature"],
    ["another algorithm", () => {
      const body = eventBody("referral-updated", "11111111-1111-4111-8111-111111111111");
      return { body, headers: signedHeaders(body, { "x-ms-signature-algorithm": "rsa-sha1" }) };
    }, "bad-algorithm"],
    ["an empty body", () => ({ body: "", headers: signedHeaders("x") }), "empty-body"],
  ])("%s", async (_name, make, reason) => {
    const events = await countRows(t.relay, "received_events");
    const runs = await countRows(t.relay, "runs");
    const queued = await queuedSubjects(t.relay);
    const before = (await refusalLines()).length;
    const { body, headers } = make();
    const answer = await post(hook, body, headers);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: reason, message: "The delivery's signature could not be verified." } });
    const lines = (await refusalLines()).slice(before);
    expect(lines).toEqual([expect.objectContaining({ reason, detail: expect.any(String), level: 40 })]);
    // The log line says why, and never echoes the body.
    expect(JSON.stringify(lines)).not.toContain("11111111-1111-4111-8111-111111111111");
    expect(await countRows(t.relay, "received_events")).toBe(events);
    expect(await countRows(t.relay, "runs")).toBe(runs);
    expect(await queuedSubjects(t.relay)).toEqual(queued);
  });

  test.each([
    ["tamper", "signature-mismatch"],
    ["foreignCertUrl", "certificate-host-not-allowed"],
    ["wrongAlgorithm", "bad-algorithm"],
  ])("a real delivery the sandbox forges (%s) is refused", async (kind, reason) => {
    await control(sandboxes, "partnerCenter", "/sandbox/faults", { kind, count: 1 });
    const before = (await refusalLines()).length;
    const id = await newReferral();
    await settle();
    const lines = await waitFor("the refusal", async () => {
      const found = (await refusalLines()).slice(before);
      return found.length ? found : undefined;
    });
    expect(lines[0]).toMatchObject({ reason });
    expect((await t.relay.clients.db.query("SELECT 1 FROM received_events WHERE subject = $1", [`referral:${id}`])).rowCount).toBe(0);
  });

  test("refusals are counted by reason", async () => {
    const metrics = await get(`${t.relay.url}/metrics`);
    expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksRefused}\\{source="partner-center",reason="signature-mismatch"\\} [1-9]`));
    expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksRefused}\\{source="partner-center",reason="missing-signature"\\} 1`));
  });
});

describe("signed bodies that are not a usable event: 400 with a clear message", () => {
  test.each([
    ["not JSON", "{\"EventName\": ", "The body is not JSON."],
    ["a JSON array", "[]", "The body is not a JSON object."],
    ["no EventName", JSON.stringify({ ResourceUri: "https://api.partnercenter.microsoft.com/engagements/v1/referrals/x" }), "The body has no EventName."],
    ["no ResourceUri", JSON.stringify({ EventName: "referral-created" }), "The body has no ResourceUri URL."],
    ["a ResourceUri that names no referral", JSON.stringify({ EventName: "referral-created", ResourceUri: "https://api.partnercenter.microsoft.com/engagements/v1/other/x" }), "ResourceUri does not name a referral (…/referrals/{id})."],
  ])("%s", async (_name, body, message) => {
    const events = await countRows(t.relay, "received_events");
    const answer = await post(hook, body, signedHeaders(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: "malformed", message } });
    expect(await countRows(t.relay, "received_events")).toBe(events);
  });

  test("an event the relay does not handle", async () => {
    const body = eventBody("subscription-updated", "x");
    const answer = await post(hook, body, signedHeaders(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: "unknown-event", message: expect.stringContaining("not 'subscription-updated'") } });
  });
});

test("reading events: case-insensitive members, the id from the last segment of …/referrals/{id}", () => {
  expect(readEvent({ eventName: "referral-updated", resourceUri: "https://h/engagements/v1/referrals/ABC-1" })).toMatchObject({ ok: true, event: { eventName: "referral-updated", resourceUri: "https://h/engagements/v1/referrals/ABC-1" } });
  expect(referralIdFrom("https://api.partner.microsoft.com/v1.0/engagements/referrals/ABC-1")).toBe("abc-1");
  expect(referralIdFrom("https://h/engagements/v1/referrals/")).toBeUndefined();
  expect(referralIdFrom("https://h/engagements/v1/referrals/a%2Fb")).toBeUndefined();
});

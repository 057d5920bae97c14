// Webhook delivery over real HTTPS (partner-center-webhooks.md §2-§4): the payload, the signature a plain
// crypto.verify accepts with the certificate from X-MS-Certificate-Url, the chain to the sandbox CA,
// every change producing its event, retries and giving up, and delivery faults.
import { X509Certificate, verify } from "node:crypto";
import type { PartnerCenterSandbox } from "../server.ts";
import { REFERRALS, bearer, coSellDeal, freePort, httpsGet, json, privateDeal, receiver, register, sandbox, testEnvironment, token, type Receiver, type ReceivedDelivery, type TestEnvironment } from "./helpers.ts";
import type { PartnerCenterSandboxOptions } from "../server.ts";

let env: TestEnvironment;
let hook: Receiver;
let app: PartnerCenterSandbox;
let baseUrl: string;
let auth: Record<string, string>;

beforeAll(async () => {
  env = await testEnvironment();
  hook = await receiver(env);
  auth = bearer(await token(env));
});
afterAll(async () => {
  await hook.close();
  env.cleanup();
});

async function start(options: Partial<PartnerCenterSandboxOptions> = {}): Promise<void> {
  const port = await freePort();
  baseUrl = `https://127.0.0.1:${port}`;
  app = await sandbox(env, { baseUrl, delivery: { backoffMs: [10] }, ...options });
  await app.listen({ port, host: "127.0.0.1" });
}

beforeEach(() => {
  hook.received.length = 0;
  hook.respond = [];
  hook.defaultStatus = 200;
});
afterEach(async () => {
  await app.close();
});

const createReferral = async (body: unknown = privateDeal()) => {
  const response = await app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(body) });
  expect(response.statusCode).toBe(200);
  return json<{ id: string; engagementId: string; eTag: string }>(response);
};
const patchReferral = (id: string, operations: unknown) =>
  app.inject({ method: "PATCH", url: `${REFERRALS}/${id}`, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(operations) });
const control = (url: string, payload: unknown = {}) => app.inject({ method: "POST", url, payload: JSON.stringify(payload), headers: { "content-type": "application/json" } });
const events = (received: ReceivedDelivery[]) => received.map((d) => [d.body.EventName, String(d.body.ResourceUri).split("/").pop()]);

/** What a receiver does (webhooks §4.3): signature over the raw bytes with the certificate from the header URL. */
async function verifyDelivery(delivery: ReceivedDelivery, body: Buffer = delivery.raw): Promise<{ signatureValid: boolean; certificate: X509Certificate }> {
  const header = String(delivery.headers["x-ms-signature"] ?? delivery.headers.authorization ?? "");
  const signature = Buffer.from(header.replace(/^Signature\s+/i, ""), "base64");
  expect(String(delivery.headers["x-ms-signature-algorithm"]).toLowerCase()).toBe("rsa-sha256");
  const download = await httpsGet(String(delivery.headers["x-ms-certificate-url"]), env.ca.certPem);
  expect(download.status).toBe(200);
  const certificate = new X509Certificate(download.body);
  return { signatureValid: verify("RSA-SHA256", body, certificate.publicKey, signature), certificate };
}

describe("a delivered event (§2.2, §3, §4)", () => {
  test("is the compact pointer payload, signed RSA-SHA256 by a certificate that chains to the sandbox CA", async () => {
    await start();
    await register(app, env, hook.url);
    const referral = await createReferral();
    const [delivery] = await hook.waitFor(1);

    expect(delivery!.raw.toString("utf8")).toBe(
      JSON.stringify({
        EventName: "referral-created",
        ResourceUri: `${baseUrl}/engagements/v1/referrals/${referral.id}`,
        ResourceName: "referral",
        AuditUri: null,
        ResourceChangeUtcDate: delivery!.body.ResourceChangeUtcDate,
      }),
    );
    expect(delivery!.body.ResourceChangeUtcDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    expect(delivery!.headers["content-type"]).toBe("application/json");
    expect(delivery!.headers["x-ms-certificate-url"]).toBe(`${baseUrl}/cert/pcnotifications-dispatch.microsoft.com.cer`);
    expect(delivery!.headers.authorization).toMatch(/^Signature [A-Za-z0-9+/]+=*$/);
    expect(delivery!.headers["x-ms-signature"]).toBeUndefined();

    const { signatureValid, certificate } = await verifyDelivery(delivery!);
    expect(signatureValid).toBe(true);
    expect(Buffer.from(String(delivery!.headers.authorization).slice("Signature ".length), "base64")).toHaveLength(256); // RSA-2048
    const ca = new X509Certificate(env.ca.certPem);
    expect(certificate.checkIssued(ca)).toBe(true);
    expect(certificate.verify(ca.publicKey)).toBe(true);
    expect(certificate.subject).toContain("CN=pcnotifications-dispatch.microsoft.com");
    expect(Date.parse(certificate.validFrom)).toBeLessThan(Date.now());
    expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
  });

  test("a tampered body fails the same check", async () => {
    await start();
    await register(app, env, hook.url);
    await createReferral();
    const [delivery] = await hook.waitFor(1);
    const tampered = Buffer.from(delivery!.raw.toString("utf8").replace("referral-created", "referral-updated"));
    expect((await verifyDelivery(delivery!, tampered)).signatureValid).toBe(false);
    const whitespace = Buffer.from(JSON.stringify(delivery!.body, null, 2));
    expect((await verifyDelivery(delivery!, whitespace)).signatureValid).toBe(false);
  });

  test("SignatureTokenToMsSignatureHeader moves the signature to x-ms-signature (Signature <b64>, or bare when configured)", async () => {
    await start();
    await register(app, env, hook.url, { SignatureTokenToMsSignatureHeader: true });
    await createReferral();
    const [delivery] = await hook.waitFor(1);
    expect(delivery!.headers.authorization).toBeUndefined();
    expect(delivery!.headers["x-ms-signature"]).toMatch(/^Signature [A-Za-z0-9+/]+=*$/);
    expect((await verifyDelivery(delivery!)).signatureValid).toBe(true);
    await app.close();

    await start({ delivery: { backoffMs: [10], msSignatureFormat: "bare" } });
    await register(app, env, hook.url, { SignatureTokenToMsSignatureHeader: true });
    await createReferral();
    const [, bare] = await hook.waitFor(2);
    expect(bare!.headers["x-ms-signature"]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((await verifyDelivery(bare!)).signatureValid).toBe(true);
  });

  test("the certificate can be served DER-encoded", async () => {
    await start({ certificateEncoding: "der" });
    const download = await httpsGet(`${baseUrl}/cert/pcnotifications-dispatch.microsoft.com.cer`, env.ca.certPem);
    expect(download.headers["content-type"]).toBe("application/pkix-cert");
    expect(new X509Certificate(download.body).raw.equals(new X509Certificate(env.ca.webhookSigning.certPem).raw)).toBe(true);
  });
});

describe("every change is delivered, whoever made it (§2.1)", () => {
  test("the partner through the API: referral-created, referral-updated; the referral for Microsoft: related-referral-created", async () => {
    await start();
    await register(app, env, hook.url);
    const mine = await createReferral(coSellDeal());
    expect((await patchReferral(mine.id, [{ op: "replace", path: "/details/notes", value: "changed" }])).statusCode).toBe(204);
    const forMicrosoft = await createReferral({ ...coSellDeal(), engagementId: mine.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] });
    const received = await hook.waitFor(3);
    // Events of one referral arrive in order; different referrals are delivered in parallel.
    expect(events(received.filter((d) => String(d.body.ResourceUri).endsWith(mine.id)))).toEqual([
      ["referral-created", mine.id],
      ["referral-updated", mine.id],
    ]);
    expect(events(received.filter((d) => String(d.body.ResourceUri).endsWith(forMicrosoft.id)))).toEqual([["related-referral-created", forMicrosoft.id]]);
  });

  test("Microsoft through the control API: a new incoming referral, then its seller accepting, updating and closing", async () => {
    await start();
    await register(app, env, hook.url);
    const incoming = json<{ id: string; engagementId: string }>(await control("/sandbox/microsoft/referrals", { type: "Shared", name: "Co-sell invitation" }));
    const firstTwo = await hook.waitFor(2);
    expect(events(firstTwo).sort()).toEqual([
      ["referral-created", incoming.id],
      ["related-referral-created", expect.not.stringMatching(incoming.id)],
    ]);

    const mine = await createReferral(coSellDeal());
    await createReferral({ ...coSellDeal(), engagementId: mine.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] });
    await hook.waitFor(4);
    expect((await control(`/sandbox/microsoft/referrals/${mine.id}/accept`)).statusCode).toBe(200);
    expect((await control(`/sandbox/microsoft/referrals/${mine.id}/update`, { details: { notes: "Microsoft notes" } })).statusCode).toBe(200);
    expect((await control(`/sandbox/microsoft/referrals/${mine.id}/close`, { substatus: "Won" })).statusCode).toBe(200);
    const received = await hook.waitFor(7);
    expect(received.slice(4).map((d) => d.body.EventName)).toEqual(["related-referral-updated", "related-referral-updated", "related-referral-updated"]);
  });

  test("the clock: an unanswered incoming referral expires after 14 days and that is delivered", async () => {
    await start();
    await register(app, env, hook.url);
    const incoming = json<{ id: string }>(await control("/sandbox/microsoft/referrals", { name: "Lead" }));
    await hook.waitFor(1);
    await control("/sandbox/clock", { advance: "14d" });
    const received = await hook.waitFor(2);
    expect(events(received)).toEqual([
      ["referral-created", incoming.id],
      ["referral-updated", incoming.id],
    ]);
  });

  test("only the registered events are delivered", async () => {
    await start();
    await app.inject({ method: "POST", url: "/webhooks/v1/registration", headers: { ...bearer(await token(env, { appOnly: true })), "content-type": "application/json" }, payload: { WebhookUrl: hook.url, WebhookEvents: ["referral-updated"] } });
    const referral = await createReferral();
    await patchReferral(referral.id, [{ op: "replace", path: "/name", value: "x" }]);
    const [only] = await hook.waitFor(1);
    expect(only!.body.EventName).toBe("referral-updated");
    await app.partnerCenter.dispatcher.settled();
    expect(hook.received).toHaveLength(1);
    expect(json<{ deliveries: { notSubscribed: number } }>(await app.inject({ method: "GET", url: "/sandbox/stats" })).deliveries.notSubscribed).toBe(1);
  });
});

describe("retries (§3)", () => {
  test("a failing receiver is retried with backoff until it answers 2xx", async () => {
    await start({ delivery: { backoffMs: [30, 60] } });
    await register(app, env, hook.url);
    hook.respond = [500, 503, 404];
    await createReferral();
    const received = await hook.waitFor(4);
    expect(received.map((d) => d.raw.toString())).toEqual(Array(4).fill(received[0]!.raw.toString()));
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(25);
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(55);
    await app.partnerCenter.dispatcher.settled();
    const [delivery] = app.partnerCenter.dispatcher.list();
    expect(delivery).toMatchObject({ state: "delivered" });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 503, 404, 200]);
  });

  test("after 10 attempts Partner Center gives up", async () => {
    await start({ delivery: { backoffMs: [1] } });
    await register(app, env, hook.url);
    hook.defaultStatus = 500;
    await createReferral();
    await hook.waitFor(10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hook.received).toHaveLength(10);
    const stats = json<{ deliveries: { attempts: number; givenUp: number; delivered: number; pending: number } }>(await app.inject({ method: "GET", url: "/sandbox/stats" }));
    expect(stats.deliveries).toMatchObject({ attempts: 10, givenUp: 1, delivered: 0, pending: 0 });
  });

  test("the default schedule runs on the sandbox clock: moving it sends the next attempt at once", async () => {
    await start({ delivery: {} });
    await register(app, env, hook.url);
    hook.respond = [500];
    await createReferral();
    await hook.waitFor(1);
    await app.partnerCenter.dispatcher.settled();
    expect(hook.received).toHaveLength(1); // next attempt a minute away
    await control("/sandbox/clock", { advance: "1m" });
    await hook.waitFor(2);
  });

  test("deliveries go to loopback only: another host is given up at once without a request", async () => {
    await start();
    await register(app, env, "https://partner.example.com/callback");
    await createReferral();
    await app.partnerCenter.dispatcher.settled();
    const [delivery] = app.partnerCenter.dispatcher.list();
    expect(delivery).toMatchObject({ state: "failed" });
    expect(delivery!.attempts[0]).toMatchObject({ status: null, systemError: true });
  });
});

describe("delivery faults (POST /sandbox/faults)", () => {
  test("drop, duplicate, delay", async () => {
    await start();
    await register(app, env, hook.url);
    await control("/sandbox/faults", { kind: "drop", route: "referral-created", count: 1 });
    await createReferral();
    await app.partnerCenter.dispatcher.settled();
    expect(hook.received).toHaveLength(0);

    await control("/sandbox/faults", { kind: "duplicate", count: 1 });
    const second = await createReferral();
    const twice = await hook.waitFor(2);
    expect(twice.map((d) => d.raw.toString())).toEqual([twice[0]!.raw.toString(), twice[0]!.raw.toString()]);
    expect(String(twice[0]!.body.ResourceUri)).toContain(second.id);

    await control("/sandbox/faults", { kind: "delay", delayMs: 3_600_000, count: 1 });
    await createReferral();
    await app.partnerCenter.dispatcher.settled();
    expect(hook.received).toHaveLength(2);
    await control("/sandbox/clock", { advance: "1h" });
    await hook.waitFor(3);

    const stats = json<{ deliveries: { dropped: number; duplicated: number } }>(await app.inject({ method: "GET", url: "/sandbox/stats" }));
    expect(stats.deliveries).toMatchObject({ dropped: 1, duplicated: 1 });
  });

  test("reorder: the held event arrives after the next one", async () => {
    await start();
    await register(app, env, hook.url);
    await control("/sandbox/faults", { kind: "reorder", count: 1 });
    const referral = await createReferral();
    await patchReferral(referral.id, [{ op: "replace", path: "/name", value: "renamed" }]);
    const received = await hook.waitFor(2);
    expect(received.map((d) => d.body.EventName)).toEqual(["referral-updated", "referral-created"]);
  });

  test("tamper, wrongAlgorithm, foreignCertUrl and bareSignature make receiver-side failures on demand", async () => {
    await start();
    await register(app, env, hook.url);
    await control("/sandbox/faults", [{ kind: "tamper", count: 1 }]);
    await createReferral();
    const [tampered] = await hook.waitFor(1);
    expect((await verifyDelivery(tampered!)).signatureValid).toBe(false);

    await control("/sandbox/faults", { kind: "wrongAlgorithm", count: 1 });
    await createReferral();
    expect((await hook.waitFor(2))[1]!.headers["x-ms-signature-algorithm"]).toBe("rsa-sha1");

    await control("/sandbox/faults", { kind: "foreignCertUrl", count: 1 });
    await createReferral();
    expect(new URL(String((await hook.waitFor(3))[2]!.headers["x-ms-certificate-url"])).hostname).toBe("certificates.example.invalid");

    await control("/sandbox/faults", { kind: "bareSignature", count: 1 });
    await createReferral();
    const bare = (await hook.waitFor(4))[3]!;
    expect(bare.headers["x-ms-signature"]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((await verifyDelivery(bare)).signatureValid).toBe(true);
  });
});

// The webhook signature verifier on real deliveries: the Partner Center sandbox delivers to a small
// local HTTPS receiver, the test keeps the raw body and headers, and the verifier (sandbox policy:
// the sandbox's certificate host and CA) accepts them, and refuses tampered bodies, foreign certificate
// hosts, a wrong algorithm and a missing signature, each with its reason. The pure checks are tested
// on their own below.
import { X509Certificate, createSign, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PartnerCenterClient, REFERRAL_WEBHOOK_EVENTS } from "../../src/clients/partner-center.ts";
import {
  CertificateCache, PRODUCTION_SIGNATURE_POLICY, WebhookSignatureVerifier, buildChain, checkCertificateUrl, nameAttribute, parseCertificates,
  readSignatureHeaders, type SignaturePolicy, type SignatureVerdict,
} from "../../src/intake/webhook-signature.ts";
import { addFault, clearFaults, privateDeal, sandboxTokens, startEnvironment, startReceiver, type CapturedDelivery, type Environment, type Receiver } from "./helpers.ts";

let env: Environment;
let receiver: Receiver;
let partnerCenter: PartnerCenterClient;
let policy: SignaturePolicy;
let certificates: CertificateCache;
let verifier: WebhookSignatureVerifier;
let signingCertificatePem: string;
let certificateUrl: string;

beforeAll(async () => {
  env = await startEnvironment();
  receiver = await startReceiver(env.serverTls);
  partnerCenter = new PartnerCenterClient({ referralsBaseUrl: env.referralsBaseUrl, webhooksBaseUrl: env.webhooksBaseUrl, agent: env.agent, getToken: sandboxTokens(env) });
  await partnerCenter.createRegistration({ webhookUrl: receiver.url, webhookEvents: REFERRAL_WEBHOOK_EVENTS });
  // The sandbox's leaf mirrors Microsoft's subject (O=Microsoft Corporation) but is issued by the sandbox CA.
  policy = {
    allowedCertificateHosts: [new URL(env.endpoints.partnerCenter).host],
    trustAnchors: [env.caPem],
    subjectOrganization: "Microsoft Corporation",
    issuerOrganization: "Co-sell Relay sandbox",
    subjectCommonName: "pcnotifications-dispatch.microsoft.com",
  };
  certificates = new CertificateCache({ agent: env.agent });
  verifier = new WebhookSignatureVerifier({ policy, certificates });
  signingCertificatePem = readFileSync(join(dirname(env.endpoints.caFile), "webhook-signing.pem"), "utf8");
  certificateUrl = `${env.endpoints.partnerCenter}/cert/pcnotifications-dispatch.microsoft.com.cer`;
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await env?.close();
});
afterEach(async () => {
  await clearFaults(env);
});

/** Makes a change in Partner Center and waits for its delivery. */
async function delivery(): Promise<CapturedDelivery> {
  const { referral } = await partnerCenter.createReferral(privateDeal());
  return receiver.next((d) => d.event.EventName === "referral-created" && String(d.event.ResourceUri).endsWith(`/${referral.id}`));
}

const failed = (verdict: SignatureVerdict) => (verdict.ok ? { ok: true } : { ok: false, code: verdict.code, reason: verdict.reason });

describe("real deliveries from the Partner Center sandbox", () => {
  test("a delivery verifies; the certificate is downloaded once and reused", async () => {
    const first = await delivery();
    expect(first.headers.authorization).toMatch(/^Signature /);
    expect(await verifier.verify({ headers: first.headers, rawBody: first.rawBody })).toEqual({ ok: true, certificateUrl });
    const second = await delivery();
    expect(await verifier.verify({ headers: second.headers, rawBody: second.rawBody })).toEqual({ ok: true, certificateUrl });
    expect(certificates.downloads).toBe(1);
  });

  test("a tampered body fails, whether changed in transit or re-serialised", async () => {
    const real = await delivery();
    const changed = Buffer.from(real.rawBody.toString("utf8").replace("referral-created", "referral-updated"));
    expect(failed(await verifier.verify({ headers: real.headers, rawBody: changed }))).toEqual({
      ok: false, code: "signature-mismatch", reason: "the signature does not match the body (tampered, re-encoded, or signed by another key)",
    });
    const pretty = Buffer.from(JSON.stringify(real.event, null, 2));
    expect(failed(await verifier.verify({ headers: real.headers, rawBody: pretty }))).toMatchObject({ code: "signature-mismatch" });

    await addFault(env, { kind: "tamper", count: 1 });
    const tampered = await delivery();
    expect(failed(await verifier.verify({ headers: tampered.headers, rawBody: tampered.rawBody }))).toMatchObject({ code: "signature-mismatch" });
  });

  test("a certificate URL on a host that is not allow-listed is refused before anything is fetched", async () => {
    await addFault(env, { kind: "foreignCertUrl", count: 1 });
    const foreign = await delivery();
    const downloads = certificates.downloads;
    expect(failed(await verifier.verify({ headers: foreign.headers, rawBody: foreign.rawBody }))).toEqual({
      ok: false, code: "certificate-host-not-allowed", reason: "certificate host certificates.example.invalid is not allow-listed",
    });
    // The production allow-list does not include the sandbox either.
    const real = await delivery();
    const production = new WebhookSignatureVerifier({ policy: PRODUCTION_SIGNATURE_POLICY, certificates });
    expect(failed(await production.verify({ headers: real.headers, rawBody: real.rawBody }))).toMatchObject({ code: "certificate-host-not-allowed" });
    expect(certificates.downloads).toBe(downloads);
  });

  test("a wrong algorithm is refused", async () => {
    await addFault(env, { kind: "wrongAlgorithm", count: 1 });
    const sha1 = await delivery();
    expect(sha1.headers["x-ms-signature-algorithm"]).toBe("rsa-sha1");
    expect(failed(await verifier.verify({ headers: sha1.headers, rawBody: sha1.rawBody }))).toEqual({ ok: false, code: "bad-algorithm", reason: "algorithm 'rsa-sha1' is not rsa-sha256" });
  });

  test("a missing signature is refused", async () => {
    const real = await delivery();
    const { authorization: _signature, ...unsigned } = real.headers;
    expect(failed(await verifier.verify({ headers: unsigned, rawBody: real.rawBody }))).toEqual({
      ok: false, code: "missing-signature", reason: "no signature: neither Authorization: Signature … nor x-ms-signature was sent",
    });
    expect(failed(await verifier.verify({ headers: { ...unsigned, authorization: "Bearer abc" }, rawBody: real.rawBody }))).toMatchObject({ code: "bad-signature-header" });
    expect(failed(await verifier.verify({ headers: real.headers, rawBody: Buffer.alloc(0) }))).toMatchObject({ code: "empty-body" });
  });

  test("x-ms-signature, with the Signature prefix or bare, verifies too", async () => {
    await partnerCenter.replaceRegistration({ webhookUrl: receiver.url, webhookEvents: REFERRAL_WEBHOOK_EVENTS, signatureTokenToMsSignatureHeader: true });
    try {
      const prefixed = await delivery();
      expect(prefixed.headers.authorization).toBeUndefined();
      expect(prefixed.headers["x-ms-signature"]).toMatch(/^Signature /);
      expect(await verifier.verify({ headers: prefixed.headers, rawBody: prefixed.rawBody })).toEqual({ ok: true, certificateUrl });
      await addFault(env, { kind: "bareSignature", count: 1 });
      const bare = await delivery();
      expect(bare.headers["x-ms-signature"]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(await verifier.verify({ headers: bare.headers, rawBody: bare.rawBody })).toEqual({ ok: true, certificateUrl });
    } finally {
      await partnerCenter.replaceRegistration({ webhookUrl: receiver.url, webhookEvents: REFERRAL_WEBHOOK_EVENTS });
    }
  });

  test("the certificate's chain, organisations and dates are checked as configured", async () => {
    const real = await delivery();
    const check = (override: Partial<SignaturePolicy>, now?: number) =>
      new WebhookSignatureVerifier({ policy: { ...policy, ...override }, certificates, ...(now ? { now: () => now } : {}) }).verify({ headers: real.headers, rawBody: real.rawBody }).then(failed);
    // Production trust (system roots) does not trust the sandbox CA.
    expect(await check({ trustAnchors: "system" })).toEqual({ ok: false, code: "untrusted-chain", reason: "the certificate does not chain to a trusted root" });
    // Microsoft's sample check (issuer O=Microsoft Corporation) fails on the sandbox's issuer.
    expect(await check({ issuerOrganization: undefined })).toEqual({ ok: false, code: "wrong-organization", reason: "the signing certificate's issuer organisation is not 'Microsoft Corporation'" });
    expect(await check({ subjectOrganization: "Contoso" })).toMatchObject({ code: "wrong-organization" });
    expect(await check({ subjectCommonName: "other.example" })).toMatchObject({ code: "wrong-organization" });
    const leaf = new X509Certificate(signingCertificatePem);
    expect(await check({}, Date.parse(leaf.validTo) + 86_400_000)).toMatchObject({ code: "certificate-expired", reason: expect.stringMatching(/^the signing certificate expired on /) });
    expect(await check({}, Date.parse(leaf.validFrom) - 86_400_000)).toMatchObject({ code: "certificate-expired" });
  });

  test("a certificate that cannot be downloaded is named with its host and status", async () => {
    const real = await delivery();
    const missing = { ...real.headers, "x-ms-certificate-url": `${env.endpoints.partnerCenter}/cert/missing.cer` };
    expect(failed(await verifier.verify({ headers: missing, rawBody: real.rawBody }))).toMatchObject({
      code: "certificate-unavailable", reason: expect.stringMatching(/answered HTTP 404$/),
    });
    const closed = new WebhookSignatureVerifier({ policy: { ...policy, allowedCertificateHosts: ["127.0.0.1:1"] }, certificates });
    const refused = await closed.verify({ headers: { ...real.headers, "x-ms-certificate-url": "https://127.0.0.1:1/cert/pcnotifications-dispatch.microsoft.com.cer" }, rawBody: real.rawBody });
    expect(failed(refused)).toMatchObject({ code: "certificate-unavailable", reason: expect.stringMatching(/could not be downloaded from 127\.0\.0\.1:1/) });
  });
});

describe("pure checks", () => {
  const allowed = ["3psostorageacct.blob.core.windows.net", "127.0.0.1:4702"];

  test("certificate URLs: https, allow-listed host and port, no credentials, query or fragment, a /cert/*.cer path", () => {
    expect(checkCertificateUrl("https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer", allowed).ok).toBe(true);
    expect(checkCertificateUrl("https://3psostorageacct.blob.core.windows.net:443/cert/a.cer", allowed).ok).toBe(true);
    expect(checkCertificateUrl("https://127.0.0.1:4702/cert/a.cer", allowed).ok).toBe(true);
    const code = (url: string) => {
      const result = checkCertificateUrl(url, allowed);
      return result.ok ? "ok" : result.code;
    };
    expect(code("http://3psostorageacct.blob.core.windows.net/cert/a.cer")).toBe("bad-certificate-url");
    expect(code("https://3psostorageacct.blob.core.windows.net:8443/cert/a.cer")).toBe("certificate-host-not-allowed");
    expect(code("https://127.0.0.1/cert/a.cer")).toBe("certificate-host-not-allowed");
    expect(code("https://evil.example/cert/a.cer")).toBe("certificate-host-not-allowed");
    expect(code("https://3psostorageacct.blob.core.windows.net.evil.example/cert/a.cer")).toBe("certificate-host-not-allowed");
    expect(code("https://user:pw@3psostorageacct.blob.core.windows.net/cert/a.cer")).toBe("bad-certificate-url");
    expect(code("https://3psostorageacct.blob.core.windows.net/cert/a.cer?x=1")).toBe("bad-certificate-url");
    expect(code("https://3psostorageacct.blob.core.windows.net/cert/a.cer#f")).toBe("bad-certificate-url");
    expect(code("https://3psostorageacct.blob.core.windows.net/other/a.cer")).toBe("bad-certificate-url");
    expect(code("https://3psostorageacct.blob.core.windows.net/cert/../a.cer")).toBe("bad-certificate-url");
    expect(code("not a url")).toBe("bad-certificate-url");
  });

  test("signature headers: either carrier, strict base64, one value each", () => {
    const b64 = Buffer.alloc(256, 7).toString("base64");
    const base = { "x-ms-signature-algorithm": "RSA-SHA256", "x-ms-certificate-url": "https://127.0.0.1:4702/cert/a.cer" };
    const read = (headers: Record<string, string | string[]>) => {
      const result = readSignatureHeaders(headers, { allowedCertificateHosts: allowed });
      return result.ok ? result.value.signature.length : result.code;
    };
    expect(read({ ...base, authorization: `Signature ${b64}` })).toBe(256);
    expect(read({ ...base, "x-ms-signature": `Signature ${b64}` })).toBe(256);
    expect(read({ ...base, "x-ms-signature": b64 })).toBe(256);
    expect(read({ ...base, "X-MS-Signature": b64 })).toBe(256);
    expect(read({ ...base, authorization: `Bearer ${b64}` })).toBe("bad-signature-header");
    expect(read({ ...base, authorization: "Signature not*base64" })).toBe("bad-signature-header");
    expect(read({ ...base, authorization: "Signature AAAA" })).toBe("bad-signature-header");
    expect(read({ ...base, "x-ms-signature": [b64, b64] })).toBe("duplicate-header");
    expect(read({ ...base, authorization: `Signature ${b64}`, "x-ms-signature-algorithm": "" })).toBe("bad-algorithm");
    expect(read({ authorization: `Signature ${b64}`, "x-ms-signature-algorithm": "rsa-sha256" })).toBe("missing-certificate-url");
    expect(readSignatureHeaders(new Headers({ ...base, authorization: `Signature ${b64}` }), { allowedCertificateHosts: allowed }).ok).toBe(true);
  });

  test("certificates parse from PEM, DER and bare base64; names and chains read as expected", () => {
    const pem = signingCertificatePem;
    const der = new X509Certificate(pem).raw;
    for (const form of [Buffer.from(pem), der, Buffer.from(der.toString("base64"))]) {
      expect(parseCertificates(form)[0]!.fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
    }
    expect(parseCertificates(Buffer.from(pem + env.caPem))).toHaveLength(2);
    const leaf = new X509Certificate(pem);
    expect(nameAttribute(leaf.subject, "O")).toEqual(["Microsoft Corporation"]);
    expect(nameAttribute(leaf.issuer, "O")).toEqual(["Co-sell Relay sandbox"]);
    const ca = new X509Certificate(env.caPem);
    expect(buildChain(leaf, [], [ca], Date.now())).toEqual({ ok: true, depth: 1 });
    expect(buildChain(leaf, [], [], Date.now())).toMatchObject({ ok: false });
    // The CA bundled as an intermediate is not an anchor: still untrusted.
    expect(buildChain(leaf, [ca], [], Date.now())).toMatchObject({ ok: false });
  });

  test("a body signed by another key does not verify, even with a valid certificate", async () => {
    const real = await delivery();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = createSign("RSA-SHA256").update(real.rawBody).sign(privateKey).toString("base64");
    const verdict = await verifier.verify({ headers: { ...real.headers, authorization: `Signature ${forged}` }, rawBody: real.rawBody });
    expect(failed(verdict)).toMatchObject({ code: "signature-mismatch" });
  });

  test("the certificate cache keeps a download for its TTL only", async () => {
    let now = Date.now();
    const cache = new CertificateCache({ agent: env.agent, ttlMs: 1000, now: () => now });
    const url = new URL(certificateUrl);
    await cache.get(url);
    await cache.get(url);
    expect(cache.downloads).toBe(1);
    now += 1500;
    await cache.get(url);
    expect(cache.downloads).toBe(2);
  });
});

// Is this POST really from Partner Center? (partner-center-webhooks.md §4.1 contract, §4.3 receiver
// algorithm, §5.) Partner Center signs the raw body bytes with RSA PKCS#1 v1.5 / SHA-256 and says where
// its certificate is. The relay checks, in order: the body (present, bounded), the signature header
// (`Authorization: Signature <b64>`, or `x-ms-signature` with or without the `Signature ` prefix), the
// algorithm (`X-MS-Signature-Algorithm: rsa-sha256`), the certificate URL (https, an allow-listed host,
// no userinfo/query/fragment, a `/cert/<name>.cer` path: Microsoft's sample does not check the host, we
// do), then the certificate fetched from it (PEM or DER, cached by URL for a bounded time): validity
// dates, an RSA key of 2048 bits or more, the chain to the configured trust anchors (production: the
// system roots; sandbox: the sandbox CA), the leaf's subject and issuer organisations as configured, and
// finally `crypto.verify("RSA-SHA256", rawBody, cert.publicKey, signature)`.
//
// The pure checks are plain functions; only CertificateCache does I/O (through the configured agent,
// no redirects, a timeout and a size cap). Verdicts carry a reason a log line can print: no signature,
// body or key material in it. Revocation (OCSP/CRL) is not checked.
import { X509Certificate, verify as verifySignature } from "node:crypto";
import { getCACertificates } from "node:tls";
import { request, type Dispatcher } from "undici";

export const PRODUCTION_CERTIFICATE_HOST = "3psostorageacct.blob.core.windows.net";
export const SIGNATURE_ALGORITHM = "rsa-sha256";
export const MICROSOFT_ORGANIZATION = "Microsoft Corporation";
/** Microsoft's sample accepts any size; deliveries are a few hundred bytes (a pointer to the referral). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const CERTIFICATE_PATH = /^\/cert\/[A-Za-z0-9._-]+\.cer$/;

export type SignatureFailureCode =
  | "empty-body" | "body-too-large" | "missing-signature" | "bad-signature-header" | "duplicate-header"
  | "bad-algorithm" | "missing-certificate-url" | "bad-certificate-url" | "certificate-host-not-allowed"
  | "certificate-unavailable" | "certificate-invalid" | "certificate-expired" | "untrusted-chain"
  | "wrong-organization" | "signature-mismatch";

export type SignatureFailure = { ok: false; code: SignatureFailureCode; reason: string };
export type SignatureVerdict = { ok: true; certificateUrl: string } | SignatureFailure;

export interface SignaturePolicy {
  /** Hosts the certificate may come from: `host` (port 443 only) or `host:port`. */
  allowedCertificateHosts: readonly string[];
  /** "system": the roots Node trusts (bundled and the operating system's); or PEM anchors (the sandbox CA). */
  trustAnchors: "system" | readonly string[];
  /** Extra intermediate CA certificates (PEM) to build the chain with. */
  intermediates?: readonly string[];
  /** Hosts whose AIA "CA Issuers" URLs may be fetched for missing intermediates (the chain is still verified). */
  intermediateHosts?: readonly string[];
  /** The leaf's subject O=; null to skip. Default "Microsoft Corporation". */
  subjectOrganization?: string | null;
  /** The leaf's issuer O=; null to skip. Default "Microsoft Corporation" (Microsoft's sample check). */
  issuerOrganization?: string | null;
  /** The leaf's subject CN, when configured. */
  subjectCommonName?: string;
  maxBodyBytes?: number;
}

/**
 * Production: the documented certificate host, the system roots, Microsoft as subject and issuer.
 * Microsoft's real chain is not published (webhooks.md §4.1, unverified), so intermediates the .cer
 * does not carry may be fetched from Microsoft's PKI host named in the certificate's AIA.
 */
export const PRODUCTION_SIGNATURE_POLICY: SignaturePolicy = {
  allowedCertificateHosts: [PRODUCTION_CERTIFICATE_HOST],
  trustAnchors: "system",
  intermediateHosts: ["www.microsoft.com"],
  subjectOrganization: MICROSOFT_ORGANIZATION,
  issuerOrganization: MICROSOFT_ORGANIZATION,
};

export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

const fail = (code: SignatureFailureCode, reason: string): SignatureFailure => ({ ok: false, code, reason });

/** A short, printable rendering of a header value that is not what was expected. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

function header(headers: HeaderBag, name: string): { value?: string; duplicate?: boolean } {
  if (headers instanceof Headers) {
    const value = headers.get(name);
    return value === null ? {} : { value };
  }
  const bag = headers;
  let found: string | string[] | undefined = bag[name];
  if (found === undefined) {
    for (const [key, value] of Object.entries(bag)) if (key.toLowerCase() === name) found = value;
  }
  if (Array.isArray(found)) return found.length > 1 ? { duplicate: true } : found.length === 1 ? { value: found[0]! } : {};
  return found === undefined ? {} : { value: found };
}

export interface SignatureHeaders {
  signature: Buffer;
  certificateUrl: URL;
}

/** Reads and validates the signature, algorithm and certificate URL headers (no I/O). */
export function readSignatureHeaders(headers: HeaderBag, policy: Pick<SignaturePolicy, "allowedCertificateHosts">): { ok: true; value: SignatureHeaders } | SignatureFailure {
  const ms = header(headers, "x-ms-signature");
  const authorization = header(headers, "authorization");
  if (ms.duplicate || authorization.duplicate) return fail("duplicate-header", "the signature header was sent more than once");
  let encoded: string;
  if (ms.value !== undefined && ms.value.trim() !== "") {
    // Microsoft's sample expects `Signature <b64>`; a community verifier reads bare base64. Accept both.
    encoded = ms.value.trim().replace(/^Signature\s+/i, "");
  } else if (authorization.value !== undefined && authorization.value.trim() !== "") {
    const match = /^Signature\s+(\S+)\s*$/i.exec(authorization.value.trim());
    if (!match) return fail("bad-signature-header", `the Authorization header is not a Signature (scheme '${printable(authorization.value.trim().split(/\s+/)[0] ?? "")}')`);
    encoded = match[1]!;
  } else {
    return fail("missing-signature", "no signature: neither Authorization: Signature … nor x-ms-signature was sent");
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return fail("bad-signature-header", "the signature is not strict base64");
  const signature = Buffer.from(encoded, "base64");
  if (signature.length < 128 || signature.length > 1024) return fail("bad-signature-header", `the signature is ${signature.length} bytes: not an RSA signature of 1024 to 8192 bits`);

  const algorithm = header(headers, "x-ms-signature-algorithm");
  if (algorithm.duplicate) return fail("duplicate-header", "X-MS-Signature-Algorithm was sent more than once");
  if (algorithm.value === undefined || algorithm.value.trim() === "") return fail("bad-algorithm", "no X-MS-Signature-Algorithm header");
  if (algorithm.value.trim().toLowerCase() !== SIGNATURE_ALGORITHM) return fail("bad-algorithm", `algorithm '${printable(algorithm.value.trim())}' is not ${SIGNATURE_ALGORITHM}`);

  const certificateUrl = header(headers, "x-ms-certificate-url");
  if (certificateUrl.duplicate) return fail("duplicate-header", "X-MS-Certificate-Url was sent more than once");
  if (certificateUrl.value === undefined || certificateUrl.value.trim() === "") return fail("missing-certificate-url", "no X-MS-Certificate-Url header");
  const checked = checkCertificateUrl(certificateUrl.value.trim(), policy.allowedCertificateHosts);
  if (!checked.ok) return checked;
  return { ok: true, value: { signature, certificateUrl: checked.url } };
}

/** Whether `host` (URL.host: the port only when not the scheme's default) is on the list. */
function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.host.toLowerCase();
  return allowed.some((entry) => entry.trim().toLowerCase().replace(/:443$/, "") === host);
}

/** The certificate URL rules (§4.3): https, allow-listed host, no userinfo, query or fragment, a /cert/*.cer path. */
export function checkCertificateUrl(value: string, allowedHosts: readonly string[]): { ok: true; url: URL } | SignatureFailure {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail("bad-certificate-url", "X-MS-Certificate-Url is not a URL");
  }
  if (url.protocol !== "https:") return fail("bad-certificate-url", `the certificate URL must use https (it uses ${printable(url.protocol)})`);
  if (url.username || url.password) return fail("bad-certificate-url", "the certificate URL carries credentials");
  if (url.search || url.hash) return fail("bad-certificate-url", "the certificate URL has a query or fragment");
  if (!hostAllowed(url, allowedHosts)) return fail("certificate-host-not-allowed", `certificate host ${printable(url.host)} is not allow-listed`);
  if (!CERTIFICATE_PATH.test(url.pathname)) return fail("bad-certificate-url", `the certificate path ${printable(url.pathname)} is not /cert/<name>.cer`);
  return { ok: true, url };
}

/** Certificates from a download: PEM (one or more blocks: leaf first), DER, or bare base64 of DER. */
export function parseCertificates(bytes: Buffer): X509Certificate[] {
  const text = bytes.toString("latin1");
  if (text.includes("-----BEGIN CERTIFICATE-----")) {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.map((block) => new X509Certificate(block));
  }
  const compact = text.replace(/\s+/g, "");
  if (compact.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return [new X509Certificate(Buffer.from(compact, "base64"))];
  return [new X509Certificate(bytes)];
}

/** The values of one attribute (`O`, `CN`) in a distinguished name as Node prints it (one `K=V` a line). */
export function nameAttribute(name: string, attribute: string): string[] {
  return name.split("\n").map((line) => line.trim()).filter((line) => line.startsWith(`${attribute}=`)).map((line) => line.slice(attribute.length + 1));
}

function validAt(certificate: X509Certificate, now: number): boolean {
  return Date.parse(certificate.validFrom) <= now && now <= Date.parse(certificate.validTo);
}

export type ChainResult = { ok: true; depth: number } | { ok: false; missingIssuerOf?: X509Certificate; reason: string };

/** Builds leaf → intermediates → anchor, verifying every signature and validity period. */
export function buildChain(leaf: X509Certificate, pool: readonly X509Certificate[], anchors: readonly X509Certificate[], now: number): ChainResult {
  let current = leaf;
  const seen = new Set<string>([leaf.fingerprint256]);
  for (let depth = 0; depth < 6; depth++) {
    if (anchors.some((anchor) => anchor.fingerprint256 === current.fingerprint256)) return { ok: true, depth };
    const anchor = anchors.find((candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (anchor) {
      if (!validAt(anchor, now)) return { ok: false, reason: "the trust anchor that issued the chain has expired" };
      return { ok: true, depth: depth + 1 };
    }
    const issuer = pool.find((candidate) => !seen.has(candidate.fingerprint256) && candidate.ca && current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (!issuer) return { ok: false, missingIssuerOf: current, reason: "the certificate does not chain to a trusted root" };
    if (!validAt(issuer, now)) return { ok: false, reason: "an intermediate certificate of the chain is outside its validity period" };
    seen.add(issuer.fingerprint256);
    current = issuer;
  }
  return { ok: false, reason: "the certificate chain is too long" };
}

/** Leaf checks that need no chain: dates, key, organisations, common name. */
export function checkLeaf(leaf: X509Certificate, policy: SignaturePolicy, now: number): SignatureFailure | undefined {
  if (Date.parse(leaf.validFrom) > now) return fail("certificate-expired", `the signing certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`);
  if (Date.parse(leaf.validTo) < now) return fail("certificate-expired", `the signing certificate expired on ${new Date(leaf.validTo).toISOString()}`);
  if (leaf.ca) return fail("certificate-invalid", "the signing certificate is a CA certificate");
  const key = leaf.publicKey;
  if (key.asymmetricKeyType !== "rsa") return fail("certificate-invalid", `the signing certificate's key is ${key.asymmetricKeyType ?? "unknown"}, not RSA`);
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return fail("certificate-invalid", "the signing certificate's RSA key is shorter than 2048 bits");
  const subjectOrganization = policy.subjectOrganization === undefined ? MICROSOFT_ORGANIZATION : policy.subjectOrganization;
  if (subjectOrganization !== null && !nameAttribute(leaf.subject, "O").includes(subjectOrganization)) {
    return fail("wrong-organization", `the signing certificate's subject organisation is not '${subjectOrganization}'`);
  }
  const issuerOrganization = policy.issuerOrganization === undefined ? MICROSOFT_ORGANIZATION : policy.issuerOrganization;
  if (issuerOrganization !== null && !nameAttribute(leaf.issuer, "O").includes(issuerOrganization)) {
    return fail("wrong-organization", `the signing certificate's issuer organisation is not '${issuerOrganization}'`);
  }
  if (policy.subjectCommonName !== undefined && !nameAttribute(leaf.subject, "CN").includes(policy.subjectCommonName)) {
    return fail("wrong-organization", `the signing certificate's common name is not '${policy.subjectCommonName}'`);
  }
  return undefined;
}

/** RSA PKCS#1 v1.5 with SHA-256 over the exact body bytes. */
export function verifyBodySignature(rawBody: Uint8Array, certificate: X509Certificate, signature: Uint8Array): boolean {
  try {
    return verifySignature("RSA-SHA256", rawBody, certificate.publicKey, signature);
  } catch {
    return false;
  }
}

/** AIA "CA Issuers" URLs of a certificate. */
export function caIssuerUrls(certificate: X509Certificate): string[] {
  return (certificate.infoAccess ?? "")
    .split("\n")
    .map((line) => /^CA Issuers - URI:(\S+)$/.exec(line.trim())?.[1])
    .filter((url): url is string => url !== undefined);
}

let systemAnchors: X509Certificate[] | undefined;

/** The roots Node trusts by default plus the operating system's, parsed once. */
function systemTrustAnchors(): X509Certificate[] {
  if (!systemAnchors) {
    const pems = new Set([...getCACertificates("default"), ...getCACertificates("system")]);
    systemAnchors = [...pems].flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        return [];
      }
    });
  }
  return systemAnchors;
}

export interface CertificateCacheOptions {
  /** The relay's connection pool (with the sandbox CA only when configured). */
  agent: Dispatcher;
  /** How long a downloaded certificate is reused; capped at its expiry. Default 1 h. */
  ttlMs?: number;
  timeoutMs?: number;
  maxBytes?: number;
  maxEntries?: number;
  now?: () => number;
}

export class CertificateUnavailable extends Error {
  override name = "CertificateUnavailable";
}

/** Downloads certificates by URL and keeps them for a bounded time; one download at a time per URL. */
export class CertificateCache {
  readonly #agent: Dispatcher;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { expiresAt: number; certificates: Promise<X509Certificate[]> }>();
  /** Downloads made, for tests and metrics. */
  downloads = 0;

  constructor(options: CertificateCacheOptions) {
    this.#agent = options.agent;
    this.#ttlMs = Math.min(options.ttlMs ?? 3_600_000, 24 * 3_600_000);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024;
    this.#maxEntries = options.maxEntries ?? 16;
    this.#now = options.now ?? Date.now;
  }

  get(url: URL): Promise<X509Certificate[]> {
    const key = url.toString();
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (cached && cached.expiresAt > now) return cached.certificates;
    this.#entries.delete(key);
    const entry = { expiresAt: now + this.#ttlMs, certificates: this.#download(url) };
    entry.certificates.then(
      ([leaf]) => {
        // Never keep a certificate past its own expiry.
        if (leaf) entry.expiresAt = Math.min(entry.expiresAt, Date.parse(leaf.validTo));
      },
      () => this.#entries.delete(key),
    );
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return entry.certificates;
  }

  clear(): void {
    this.#entries.clear();
  }

  async #download(url: URL): Promise<X509Certificate[]> {
    this.downloads++;
    let response: Dispatcher.ResponseData;
    try {
      // undici's request follows no redirects: a 3xx is refused below.
      response = await request(url, {
        dispatcher: this.#agent,
        headers: { accept: "application/pkix-cert, application/x-x509-ca-cert, application/x-pem-file, */*" },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new CertificateUnavailable(`the certificate could not be downloaded from ${url.host}: ${cause}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.#maxBytes) {
          response.body.destroy();
          throw new CertificateUnavailable(`the certificate at ${url.host} is larger than ${this.#maxBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof CertificateUnavailable) throw error;
      throw new CertificateUnavailable(`the certificate download from ${url.host} failed: ${(error as Error).message}`);
    }
    if (response.statusCode !== 200) throw new CertificateUnavailable(`the certificate URL on ${url.host} answered HTTP ${response.statusCode}`);
    try {
      const certificates = parseCertificates(Buffer.concat(chunks));
      if (certificates.length === 0) throw new Error("no certificate in the download");
      return certificates;
    } catch (error) {
      throw new CertificateUnavailable(`the download from ${url.host} is not a certificate: ${(error as Error).message}`);
    }
  }
}

export interface WebhookSignatureVerifierOptions {
  policy: SignaturePolicy;
  /** Where certificates come from: a CertificateCache over the relay's agent. */
  certificates: Pick<CertificateCache, "get">;
  now?: () => number;
}

export interface Delivery {
  headers: HeaderBag;
  /** The exact body bytes as received, before any JSON parsing. */
  rawBody: Uint8Array;
}

export class WebhookSignatureVerifier {
  readonly #policy: SignaturePolicy;
  readonly #certificates: Pick<CertificateCache, "get">;
  readonly #now: () => number;
  readonly #anchors: X509Certificate[] | undefined;
  readonly #intermediates: X509Certificate[];

  constructor(options: WebhookSignatureVerifierOptions) {
    this.#policy = options.policy;
    this.#certificates = options.certificates;
    this.#now = options.now ?? Date.now;
    this.#anchors = options.policy.trustAnchors === "system" ? undefined : options.policy.trustAnchors.flatMap((pem) => parseCertificates(Buffer.from(pem)));
    this.#intermediates = (options.policy.intermediates ?? []).flatMap((pem) => parseCertificates(Buffer.from(pem)));
    if (options.policy.allowedCertificateHosts.length === 0) throw new Error("at least one certificate host must be allow-listed");
  }

  async verify(delivery: Delivery): Promise<SignatureVerdict> {
    const body = delivery.rawBody;
    const maxBytes = this.#policy.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (body.length === 0) return fail("empty-body", "the body is empty");
    if (body.length > maxBytes) return fail("body-too-large", `the body is larger than ${maxBytes} bytes`);
    const read = readSignatureHeaders(delivery.headers, this.#policy);
    if (!read.ok) return read;
    const { signature, certificateUrl } = read.value;

    let downloaded: X509Certificate[];
    try {
      downloaded = await this.#certificates.get(certificateUrl);
    } catch (error) {
      return fail("certificate-unavailable", error instanceof CertificateUnavailable ? error.message : `the certificate could not be read from ${certificateUrl.host}`);
    }
    const [leaf, ...bundled] = downloaded;
    if (!leaf) return fail("certificate-unavailable", `no certificate at ${certificateUrl.host}`);
    const now = this.#now();
    const leafProblem = checkLeaf(leaf, this.#policy, now);
    if (leafProblem) return leafProblem;

    const anchors = this.#anchors ?? systemTrustAnchors();
    const pool = [...bundled, ...this.#intermediates];
    let chain = buildChain(leaf, pool, anchors, now);
    // Fetch missing intermediates from allow-listed AIA hosts only; the chain is verified all the same.
    for (let fetches = 0; !chain.ok && chain.missingIssuerOf && fetches < 3; fetches++) {
      const aia = caIssuerUrls(chain.missingIssuerOf)
        .map((value) => URL.canParse(value) ? new URL(value) : undefined)
        .find((url) => url && (url.protocol === "http:" || url.protocol === "https:") && hostAllowed(url, this.#policy.intermediateHosts ?? []));
      if (!aia) break;
      try {
        pool.push(...(await this.#certificates.get(aia)));
      } catch {
        break;
      }
      chain = buildChain(leaf, pool, anchors, now);
    }
    if (!chain.ok) return fail("untrusted-chain", chain.reason);

    if (!verifyBodySignature(body, leaf, signature)) return fail("signature-mismatch", "the signature does not match the body (tampered, re-encoded, or signed by another key)");
    return { ok: true, certificateUrl: certificateUrl.toString() };
  }
}

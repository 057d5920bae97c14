// The sandboxes' local certificate authority. MSAL refuses http:// authorities, so every sandbox serves
// HTTPS with a server certificate from this CA, and clients trust the CA because they are configured to
// (its path is `caFile` in .sandbox/endpoints.json). Nothing turns TLS checks off.
// The CA and its keys are made on first start and kept under .sandbox/.
import { webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface SandboxCa extends KeyAndCert {
  /** Path of the CA certificate (PEM), for `caFile`. */
  caFile: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA. */
  server: KeyAndCert;
  /** The certificate Partner Center's sandbox signs webhooks with (RSA-SHA256), signed by the CA. */
  webhookSigning: KeyAndCert;
}

function pemKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PRIVATE KEY-----\n${b64.trim()}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, RSA, true, ["sign"]) as Promise<CryptoKey>;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");
}

async function issue(ca: KeyAndCert, subject: string, extensions: x509.Extension[], days: number): Promise<KeyAndCert> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const caCert = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + days * DAY),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.keyPem),
    extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(caCert), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: pemKey(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}

async function createCa(): Promise<KeyAndCert> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=Partner Center co-sell sandbox CA, O=Co-sell Relay sandbox",
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    signingAlgorithm: RSA,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: pemKey(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}

function readPair(dir: string, name: string): KeyAndCert | undefined {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  const pair = { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
  // Renew anything that expires within a week.
  return new x509.X509Certificate(pair.certPem).notAfter.getTime() - Date.now() > 7 * DAY ? pair : undefined;
}

function writePair(dir: string, name: string, pair: KeyAndCert): void {
  writeFileSync(join(dir, `${name}.pem`), pair.certPem);
  writeFileSync(join(dir, `${name}-key.pem`), pair.keyPem, { mode: 0o600 });
}

/** Loads the CA and leaf certificates from `dir` (default .sandbox/tls), creating what is missing. */
export async function ensureSandboxCa(dir: string): Promise<SandboxCa> {
  mkdirSync(dir, { recursive: true });
  let ca = readPair(dir, "ca");
  let fresh = false;
  if (!ca) {
    ca = await createCa();
    writePair(dir, "ca", ca);
    fresh = true;
  }
  let server = fresh ? undefined : readPair(dir, "server");
  if (!server) {
    server = await issue(ca, "CN=127.0.0.1, O=Co-sell Relay sandbox", [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }, { type: "dns", value: "localhost" }]),
    ], 825);
    writePair(dir, "server", server);
  }
  let webhookSigning = fresh ? undefined : readPair(dir, "webhook-signing");
  if (!webhookSigning) {
    // Mirrors Microsoft's signing certificate: CN pcnotifications-dispatch.microsoft.com, O Microsoft Corporation.
    webhookSigning = await issue(ca, "CN=pcnotifications-dispatch.microsoft.com, O=Microsoft Corporation, L=Redmond, ST=WA, C=US", [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ], 825);
    writePair(dir, "webhook-signing", webhookSigning);
  }
  return { ...ca, caFile: join(dir, "ca.pem"), server, webhookSigning };
}

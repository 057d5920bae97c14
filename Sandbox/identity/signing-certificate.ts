// Entra ID publishes its signing keys with a self-signed certificate (`x5c`) and its SHA-1 thumbprint
// (`x5t`); some token validators read those rather than `n`/`e`. The sandbox wraps the shared
// signing key in such a certificate, made once and kept beside the key.
import { X509Certificate, createHash, webcrypto } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import * as x509 from "@peculiar/x509";
import type { SigningKeySet } from "../shared/tokens.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface SigningCertificate {
  /** Base64 DER, as in `x5c`. */
  x5c: string;
  /** Base64url SHA-1 thumbprint, as in `x5t`. */
  x5t: string;
}

function describe(pem: string): SigningCertificate {
  const der = new X509Certificate(pem).raw;
  return { x5c: der.toString("base64"), x5t: createHash("sha1").update(der).digest("base64url") };
}

function matches(pem: string, keys: SigningKeySet): boolean {
  const certificate = new X509Certificate(pem);
  const jwk = certificate.publicKey.export({ format: "jwk" });
  return jwk.n === keys.publicJwk.n && new Date(certificate.validTo).getTime() - Date.now() > 30 * DAY;
}

export async function ensureSigningCertificate(keys: SigningKeySet, file: string): Promise<SigningCertificate> {
  if (existsSync(file)) {
    const pem = readFileSync(file, "utf8");
    if (matches(pem, keys)) return describe(pem);
  }
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey("jwk", keys.privateJwk as webcrypto.JsonWebKey, RSA, true, ["sign"]);
  const publicKey = await subtle.importKey("jwk", keys.publicJwk as webcrypto.JsonWebKey, RSA, true, ["verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: createHash("sha256").update(keys.kid).digest("hex").slice(0, 32).replace(/^[89a-f]/, "1"),
    name: "CN=accounts.accesscontrol.windows.net (identity sandbox)",
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 5 * 365 * DAY),
    signingAlgorithm: RSA,
    keys: { privateKey, publicKey } as CryptoKeyPair,
  });
  const pem = certificate.toString("pem") + "\n";
  writeFileSync(file, pem);
  return describe(pem);
}

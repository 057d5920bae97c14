// How Partner Center signs a webhook delivery (partner-center-webhooks.md §4.1, §4.4): RSA PKCS#1 v1.5 with
// SHA-256 over the raw body bytes, base64, carried in `Authorization: Signature <b64>` or, when the
// registration sets SignatureTokenToMsSignatureHeader, in `x-ms-signature` instead.
import { constants, createPrivateKey, sign, type KeyObject } from "node:crypto";

export function signingKey(keyPem: string): KeyObject {
  return createPrivateKey(keyPem);
}

export function signBody(body: Buffer, key: KeyObject): string {
  return sign("sha256", body, { key, padding: constants.RSA_PKCS1_PADDING }).toString("base64");
}

export interface SignatureHeaderOptions {
  signature: string;
  certificateUrl: string;
  /** The registration's SignatureTokenToMsSignatureHeader. */
  msSignatureHeader: boolean;
  /** `x-ms-signature` value form: `Signature <b64>` (Microsoft's sample parses that) or the bare base64. */
  msSignatureFormat: "prefixed" | "bare";
  algorithm?: string;
}

export function signatureHeaders(options: SignatureHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "X-MS-Signature-Algorithm": options.algorithm ?? "rsa-sha256",
    "X-MS-Certificate-Url": options.certificateUrl,
  };
  if (options.msSignatureHeader) headers["x-ms-signature"] = options.msSignatureFormat === "bare" ? options.signature : `Signature ${options.signature}`;
  else headers.Authorization = `Signature ${options.signature}`;
  return headers;
}

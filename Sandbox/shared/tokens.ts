// Signing keys of the identity sandbox and a verifier the other sandboxes use to check bearer tokens.
// Tokens are RS256 JWTs shaped like Entra ID v2.0 access tokens.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, createLocalJWKSet, type JWK, type JWTPayload } from "jose";

export interface SigningKeySet {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Loads the identity sandbox's signing key from `file`, creating it on first use. */
export async function ensureSigningKey(file: string): Promise<SigningKeySet> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as SigningKeySet;
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
  const kid = randomUUID().replace(/-/g, "");
  const set: SigningKeySet = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(set), { mode: 0o600 });
  return set;
}

/** Entra ID v2.0 issuer for a tenant at an authority base URL (https://login.microsoftonline.com in production). */
export function issuerFor(authorityBase: string, tenantId: string): string {
  return `${authorityBase.replace(/\/$/, "")}/${tenantId}/v2.0`;
}

export async function signToken(keys: SigningKeySet, claims: JWTPayload & { iss: string; aud: string }, lifetimeSeconds: number, now = Date.now()): Promise<string> {
  const key = await importJWK(keys.privateJwk, "RS256");
  const iat = Math.floor(now / 1000);
  return new SignJWT({ ...claims, iat, nbf: iat, exp: iat + lifetimeSeconds, uti: randomUUID(), ver: "2.0" })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.kid })
    .sign(key);
}

export interface VerifiedToken {
  claims: JWTPayload & Record<string, unknown>;
  /** True for app-only tokens (no user: client credentials). */
  appOnly: boolean;
}

export class TokenError extends Error {
  readonly code: "missing" | "invalid" | "expired" | "audience";
  constructor(message: string, code: TokenError["code"]) {
    super(message);
    this.code = code;
  }
}

/** Verifies bearer tokens the way a resource server does: signature against the JWKS, issuer, audience, lifetime. */
export function createTokenVerifier(options: { jwks: { keys: JWK[] }; issuer: string; audience: string | string[]; now?: () => number }) {
  const keySet = createLocalJWKSet(options.jwks);
  return async function verify(authorization: string | undefined): Promise<VerifiedToken> {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
    if (!match) throw new TokenError("no bearer token", "missing");
    try {
      const { payload } = await jwtVerify(match[1]!, keySet, {
        issuer: options.issuer,
        audience: options.audience,
        ...(options.now ? { currentDate: new Date(options.now()) } : {}),
      });
      const claims = payload as VerifiedToken["claims"];
      return { claims, appOnly: claims.idtyp === "app" || (!claims.scp && !claims.upn && !claims.preferred_username) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ERR_JWT_EXPIRED") throw new TokenError("token expired", "expired");
      if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && (error as { claim?: string }).claim === "aud") throw new TokenError("wrong audience", "audience");
      throw new TokenError(`invalid token: ${(error as Error).message}`, "invalid");
    }
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

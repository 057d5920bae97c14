// What the identity sandbox's routes share, and the small HTTP helpers that make answers look like
// Entra ID's (headers, error bodies, form parameters).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SigningKeySet } from "../shared/tokens.ts";
import type { Directory } from "./directory.ts";
import type { DeviceCodeStore } from "./device-codes.ts";
import type { BrowserSignIns } from "./authorize.ts";
import { EntraError, entraErrorBody } from "./entra-errors.ts";
import type { RefreshTokenStore } from "./refresh-tokens.ts";
import type { SigningCertificate } from "./signing-certificate.ts";
import type { TokenIssuer } from "./token-issuer.ts";

export interface RequestStats {
  record(key: string, status: number): void;
  snapshot(): { since: string; total: number; routes: Record<string, Record<string, number>> };
  clear(): void;
}

export interface IdentityContext {
  /** The sandbox's public URL (with the real port once listening, when it was configured as port 0). */
  baseUrl(): string;
  directory: Directory;
  keys: SigningKeySet;
  signingCertificate: SigningCertificate;
  issuer: TokenIssuer;
  refreshTokens: RefreshTokenStore;
  deviceCodes: DeviceCodeStore;
  /** Browser sessions, authorization codes, and sign-ins waiting on the sign-in page. */
  browserSignIns: BrowserSignIns;
  stats: RequestStats;
  deviceCode: { lifetimeSeconds: number; intervalSeconds: number };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Entra ID echoes the client's `client-request-id` and uses it as the correlation id. */
export function correlationId(request: FastifyRequest): string {
  const header = request.headers["client-request-id"];
  return typeof header === "string" && GUID.test(header) ? header.toLowerCase() : request.id;
}

/** Headers of the token and device code endpoints' answers. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "cache-control": "no-store, no-cache",
    pragma: "no-cache",
    expires: "-1",
    "content-type": "application/json; charset=utf-8",
  });
}

/** Headers of the discovery documents, which clients may cache for a day. */
export function cacheable(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "cache-control": "max-age=86400, private",
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, OPTIONS",
    "content-type": "application/json; charset=utf-8",
  });
}

export function sendEntraError(request: FastifyRequest, reply: FastifyReply, error: EntraError): FastifyReply {
  const body = entraErrorBody(error, { traceId: request.id, correlationId: correlationId(request) }, new Date());
  return noStore(reply).code(error.status).send(body);
}

export type FormParams = Record<string, string | undefined>;

/** The form parameters of a POST. Entra ID reads `application/x-www-form-urlencoded` only; any other body counts as empty. */
export function formParams(request: FastifyRequest): FormParams {
  const type = request.headers["content-type"] ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return {};
  const body = (request.body ?? {}) as Record<string, string | string[]>;
  const params: FormParams = {};
  for (const [name, value] of Object.entries(body)) params[name] = Array.isArray(value) ? value[0] : value;
  return params;
}

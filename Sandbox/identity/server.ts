// The identity sandbox: a local Entra ID for the demo tenant. OpenID metadata, signing keys, the
// v2.0 token endpoint (client credentials, device code, refresh token, and the password grant for the
// script and card clients) and the device code endpoint, over HTTPS with the sandbox CA's certificate.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Fastify from "fastify";
import formbody from "@fastify/formbody";
import { ensureSigningKey, issuerFor } from "../shared/tokens.ts";
import { Directory } from "./directory.ts";
import { DeviceCodeStore } from "./device-codes.ts";
import { RefreshTokenStore } from "./refresh-tokens.ts";
import { ensureSigningCertificate } from "./signing-certificate.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { discoveryRoutes } from "./discovery.ts";
import { tokenRoutes } from "./token-endpoint.ts";
import { controlRoutes } from "./control.ts";
import { authorizeRoutes, BrowserSignIns } from "./authorize.ts";
import type { IdentityContext, RequestStats } from "./context.ts";

export interface IdentitySandboxOptions {
  /** Public URL, e.g. https://127.0.0.1:4703. Port 0 means "the port it ends up listening on" (tests). */
  baseUrl: string;
  tls: { certPem: string; keyPem: string };
  /** Signing key, its certificate and the refresh tokens live here. */
  stateDir: string;
  /** The Dataverse organisation URL: the audience of Dataverse tokens. */
  dataverseUrl: string;
  /** Entra ID issues 60 to 90 minutes; default 3599 s. */
  accessTokenLifetimeSeconds?: number;
  /** Entra ID: 900 s. */
  deviceCodeLifetimeSeconds?: number;
  /** Entra ID: 5 s. */
  deviceCodeIntervalSeconds?: number;
  logger?: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

function createStats(): RequestStats {
  let since = new Date();
  let routes = new Map<string, Map<number, number>>();
  return {
    record(key, status) {
      const byStatus = routes.get(key) ?? new Map<number, number>();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      routes.set(key, byStatus);
    },
    snapshot() {
      let total = 0;
      const out: Record<string, Record<string, number>> = {};
      for (const [key, byStatus] of [...routes].sort(([a], [b]) => a.localeCompare(b))) {
        out[key] = {};
        for (const [status, count] of byStatus) {
          out[key][String(status)] = count;
          total += count;
        }
      }
      return { since: since.toISOString(), total, routes: out };
    },
    clear() {
      since = new Date();
      routes = new Map();
    },
  };
}

export async function createIdentitySandbox(options: IdentitySandboxOptions) {
  mkdirSync(options.stateDir, { recursive: true });
  const keys = await ensureSigningKey(join(options.stateDir, "signing-key.json"));
  const signingCertificate = await ensureSigningCertificate(keys, join(options.stateDir, "signing-cert.pem"));

  const app = Fastify({
    https: { cert: options.tls.certPem, key: options.tls.keyPem },
    logger: options.logger ?? false,
    // The request id is Entra ID's trace id (x-ms-request-id, trace_id in errors).
    genReqId: () => randomUUID(),
    requestIdHeader: false,
  });

  let resolvedBaseUrl: string | undefined;
  const baseUrl = (): string => {
    if (resolvedBaseUrl) return resolvedBaseUrl;
    const url = new URL(options.baseUrl);
    if (url.port === "0") {
      const address = app.server.address();
      if (!address || typeof address === "string") return url.origin;
      url.port = String(address.port);
    }
    resolvedBaseUrl = url.origin;
    return resolvedBaseUrl;
  };

  const directory = new Directory(options.dataverseUrl);
  const refreshTokens = new RefreshTokenStore(join(options.stateDir, "refresh-tokens.json"));
  const context: IdentityContext = {
    baseUrl,
    directory,
    keys,
    signingCertificate,
    refreshTokens,
    deviceCodes: new DeviceCodeStore(),
    browserSignIns: new BrowserSignIns(),
    stats: createStats(),
    deviceCode: { lifetimeSeconds: options.deviceCodeLifetimeSeconds ?? 900, intervalSeconds: options.deviceCodeIntervalSeconds ?? 5 },
    issuer: new TokenIssuer({
      keys,
      directory,
      refreshTokens,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3599,
      issuer: () => issuerFor(baseUrl(), directory.tenantId),
    }),
  };

  await app.register(formbody);

  app.addHook("onRequest", async (request, reply) => {
    if (request.url.startsWith("/sandbox/") || request.url === "/sandbox") {
      if (!LOOPBACK.has(request.socket.remoteAddress ?? "")) return reply.code(403).send({ error: "forbidden", message: "Control calls answer loopback callers only." });
      return;
    }
    reply.header("x-ms-request-id", request.id);
    reply.header("x-ms-ests-server", "identity-sandbox");
    reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
    reply.header("x-content-type-options", "nosniff");
    const clientRequestId = request.headers["client-request-id"];
    if (typeof clientRequestId === "string") reply.header("client-request-id", clientRequestId);
  });

  // Counts the Entra ID API's traffic (not the control calls) by route pattern and status.
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? request.url.split("?")[0]!;
    if (route.startsWith("/sandbox")) return;
    context.stats.record(`${request.method} ${route}`, reply.statusCode);
  });

  await app.register(async (entra) => {
    // Entra ID reads form posts only: any other body (JSON included) is taken as no parameters, not refused.
    entra.removeContentTypeParser("application/json");
    entra.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
    discoveryRoutes(entra, context);
    tokenRoutes(entra, context);
  });
  // The browser sign-in reads its sign-in page's form posts.
  await app.register(async (browser) => authorizeRoutes(browser, context));
  await app.register(async (control) => controlRoutes(control, context));
  return app;
}

export type IdentitySandbox = Awaited<ReturnType<typeof createIdentitySandbox>>;

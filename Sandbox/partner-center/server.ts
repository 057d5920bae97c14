// The Partner Center sandbox: one HTTPS server standing in for the three production hosts on separate
// paths (Referrals API, webhook registration API, signing certificate), plus webhook delivery and the
// /sandbox/ control API. State lives in memory. See README.md beside this file.
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { DEMO_PARTNER } from "../shared/demo-tenant.ts";
import { PartnerCenterAuth } from "./http/auth.ts";
import { REFERRALS_PATH, type SandboxContext, type SandboxSettings } from "./http/context.ts";
import { controlRoutes } from "./http/control-routes.ts";
import { referralRoutes } from "./http/referral-routes.ts";
import { webhookRoutes } from "./http/webhook-routes.ts";
import { SandboxClock } from "./model/clock.ts";
import { ApiError, type ApiErrorCode } from "./model/errors.ts";
import { FaultBook, type FaultRule } from "./model/faults.ts";
import { eventDate } from "./model/format.ts";
import { ReferralBook, type PartnerOrganization, type ReferralRules } from "./model/referrals.ts";
import { Stats } from "./model/stats.ts";
import { WebhookBook } from "./model/webhooks.ts";
import { DEFAULT_BACKOFF_MS, WebhookDispatcher, isLoopbackHost, type DeliverySettings } from "./webhooks/dispatcher.ts";
import { seedReferrals } from "./seed.ts";

export interface PartnerCenterSandboxOptions {
  /** Public URL of this sandbox (https://127.0.0.1:4702). */
  baseUrl: string;
  /** Server certificate and key from shared/tls.ts. */
  tls: { certPem: string; keyPem: string };
  /** The certificate webhooks are signed with, served at the certificate URL. */
  webhookSigning: { certPem: string; keyPem: string };
  /** The sandbox CA: deliveries to https URLs trust it. */
  caPem: string;
  stateDir: string;
  identity: { baseUrl: string; signingKeyFile: string };
  logger?: boolean;

  // Everything below is optional; defaults follow the docs or, where they are silent, README.md.
  /** Base URL the referrals host is reached at (links, nextLink); default `baseUrl`. */
  referralsBaseUrl?: string;
  /** Base URL the webhooks host is reached at; default `baseUrl`. */
  webhooksBaseUrl?: string;
  /** X-MS-Certificate-Url in deliveries; default `${baseUrl}/cert/pcnotifications-dispatch.microsoft.com.cer`. */
  certificateUrl?: string;
  /** How the certificate URL serves the certificate; default "pem". */
  certificateEncoding?: "pem" | "der";
  /** ResourceUri of referral events, `{id}` replaced; default `${webhooksBaseUrl}/engagements/v1/referrals/{id}` (the documented form). */
  resourceUriTemplate?: string;
  /** Webhook retry behaviour; tests shorten the backoff. */
  delivery?: Partial<DeliverySettings>;
  rules?: Partial<ReferralRules>;
  partner?: Partial<PartnerOrganization>;
  /** Refuse App+User tokens without MFA (401, 900421); default true. */
  enforceMfa?: boolean;
  createStatus?: 200 | 201;
  etagHeader?: boolean;
  /** Server page size of the list; default 100. */
  pageSize?: number;
  putCreatesRegistration?: boolean;
  /** Real-time interval of the expiry sweep; default 1000 ms. */
  expirySweepMs?: number;
  /** Seed the demo referrals at start (as `npm start` does). */
  seed?: boolean;
  /** Source of randomness for fault probabilities. */
  random?: () => number;
}

/** The fastify app (HTTPS, ready, not listening) with the sandbox's state on `partnerCenter` for tests and scripts. */
export type PartnerCenterSandbox = FastifyInstance<HttpsServer, IncomingMessage, ServerResponse, FastifyBaseLogger> & { partnerCenter: SandboxContext };

const trimSlash = (url: string) => url.replace(/\/+$/, "");

function family(url: string): "control" | "webhooks" | "api" {
  const path = url.toLowerCase();
  if (path.startsWith("/sandbox/") || path === "/sandbox") return "control";
  if (path.startsWith("/webhooks/")) return "webhooks";
  return "api";
}

function routeKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? "(no route)"}`;
}

const STATUS_CODES: Record<number, ApiErrorCode> = {
  400: "invalidRequest",
  401: "unauthenticated",
  403: "accessDenied",
  404: "itemNotFound",
  405: "methodNotAllowed",
  409: "conflict",
  412: "preconditionFailed",
  415: "unsupportedMediaType",
  429: "tooManyRequests",
  503: "serviceNotAvailable",
};

function faultError(rule: FaultRule): ApiError | undefined {
  const retryAfter = { "Retry-After": String(rule.retryAfterSeconds) };
  switch (rule.kind) {
    case "throttle":
      return new ApiError(429, "tooManyRequests", "Too many requests: slow down (sandbox fault)", { headers: retryAfter });
    case "revoked":
      return new ApiError(401, "unauthenticated", "the access token has been revoked (sandbox fault)", { target: "authorization", headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
    case "mfa":
      return new ApiError(401, "900421", "Multi-factor authentication is required (sandbox fault)", { target: "authorization" });
    case "forbidden":
      return new ApiError(403, "accessDenied", "access denied (sandbox fault)");
    case "error":
    case "status": {
      const status = rule.status ?? 500;
      const code = STATUS_CODES[status] ?? (status >= 500 ? "generalException" : "invalidRequest");
      const headers = status === 429 || status === 503 ? retryAfter : {};
      return new ApiError(status, code, `sandbox fault: ${status}`, { headers });
    }
    default:
      return undefined;
  }
}

function toApiError(error: FastifyError | ApiError | Error, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    const type = request.headers["content-type"];
    return new ApiError(415, "unsupportedMediaType", type ? `unsupported Content-Type '${type}': send application/json` : "the body has no Content-Type: send application/json");
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new ApiError(status, STATUS_CODES[status] ?? "invalidRequest", fastifyError.message);
  request.log.error({ err: error }, "unhandled error");
  return new ApiError(500, "generalException", "an unexpected error occurred");
}

function renderError(error: ApiError, request: FastifyRequest, reply: FastifyReply) {
  reply.code(error.status).headers(error.headers);
  if (family(request.url) === "webhooks") {
    // The main Partner Center API's error shape (Shape B).
    return { code: error.code, description: error.message, data: [], source: "PartnerCenterWebhooks" };
  }
  return { error: { code: error.code, message: error.message.slice(0, 1024), target: error.target ?? null } };
}

export async function createPartnerCenterSandbox(options: PartnerCenterSandboxOptions): Promise<PartnerCenterSandbox> {
  mkdirSync(options.stateDir, { recursive: true });
  const baseUrl = trimSlash(options.baseUrl);
  const webhooksBaseUrl = trimSlash(options.webhooksBaseUrl ?? baseUrl);
  const certificatePath = "/cert/pcnotifications-dispatch.microsoft.com.cer";
  const settings: SandboxSettings = {
    referralsBaseUrl: trimSlash(options.referralsBaseUrl ?? baseUrl),
    webhooksBaseUrl,
    certificatePath,
    certificateUrl: options.certificateUrl ?? `${baseUrl}${certificatePath}`,
    certificateEncoding: options.certificateEncoding ?? "pem",
    resourceUriTemplate: options.resourceUriTemplate ?? `${webhooksBaseUrl}/engagements/v1/referrals/{id}`,
    createStatus: options.createStatus ?? 200,
    etagHeader: options.etagHeader ?? true,
    pageSize: options.pageSize ?? 100,
    putCreatesRegistration: options.putCreatesRegistration ?? false,
  };
  const partner: PartnerOrganization = {
    organizationId: DEMO_PARTNER.organizationId,
    organizationName: DEMO_PARTNER.organizationName,
    mpnId: DEMO_PARTNER.mpnId,
    locationId: DEMO_PARTNER.organizationId,
    ...options.partner,
  };

  const clock = new SandboxClock();
  const stats = new Stats();
  const faults = new FaultBook(options.random);
  const referrals = new ReferralBook({ now: () => clock.now(), collectionUrl: `${settings.referralsBaseUrl}${REFERRALS_PATH}`, partner, ...(options.rules ? { rules: options.rules } : {}) });
  const webhooks = new WebhookBook({ now: () => clock.now(), partnerId: partner.organizationId });
  const dispatcher = new WebhookDispatcher({
    clock,
    caPem: options.caPem,
    signingKeyPem: options.webhookSigning.keyPem,
    certificateUrl: settings.certificateUrl,
    faults,
    stats,
    settings: { maxAttempts: 10, backoffMs: DEFAULT_BACKOFF_MS, timeoutMs: 30_000, msSignatureFormat: "prefixed", allowHost: isLoopbackHost, ...options.delivery },
    onAttempt: (delivery, attempt, final) => {
      if (delivery.correlationId) webhooks.recordAttempt(delivery.correlationId, { responseCode: attempt.responseCode, responseMessage: attempt.responseMessage, systemError: attempt.systemError }, attempt.at, final);
    },
  });
  const auth = await PartnerCenterAuth.create({ identity: options.identity, enforceMfa: options.enforceMfa ?? true });

  // Every change to a referral, whoever made it, goes to the registration if it listens for that event.
  referrals.onChange((change) => {
    const registration = webhooks.current();
    if (!registration || !registration.webhookEvents.includes(change.eventName)) {
      stats.notSubscribed();
      return;
    }
    dispatcher.enqueue(
      {
        EventName: change.eventName,
        ResourceUri: settings.resourceUriTemplate.replace("{id}", change.referralId),
        ResourceName: "referral",
        AuditUri: null,
        ResourceChangeUtcDate: eventDate(change.at),
      },
      registration,
    );
  });
  clock.onJump(() => referrals.expireDue());

  const context: SandboxContext = {
    settings,
    clock,
    referrals,
    webhooks,
    dispatcher,
    faults,
    stats,
    auth,
    webhookSigningCertPem: options.webhookSigning.certPem,
    reset: () => {
      dispatcher.reset();
      referrals.reset();
      webhooks.reset();
      faults.clear();
      stats.reset();
      clock.reset();
    },
    seed: () => seedReferrals(referrals),
  };
  if (options.seed) context.seed();

  const app = Fastify({
    https: { cert: options.tls.certPem, key: options.tls.keyPem },
    logger: options.logger ?? false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });

  // Bodies: JSON (also as application/json-patch+json and text/json); an empty body is no body.
  const json = app.getDefaultJsonParser("error", "ignore");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(["application/json", "application/json-patch+json", "text/json"], { parseAs: "string" }, (request, body, done) => {
    if (typeof body === "string" && body.trim() === "") return done(null, undefined);
    return json(request, body as string, done);
  });

  app.addHook("onRequest", async (request) => {
    if (family(request.url) === "control") {
      if (!isLoopbackHost(request.socket.remoteAddress ?? "")) throw new ApiError(403, "accessDenied", "the sandbox control API answers loopback callers only");
      return;
    }
    referrals.expireDue();
    const fired = faults.forRequest(routeKey(request));
    for (const rule of fired) if (rule.kind === "latency") await sleep(rule.delayMs);
    for (const rule of fired) {
      const error = faultError(rule);
      if (error) throw error;
    }
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("request-id", request.id);
    const clientRequestId = request.headers["client-request-id"];
    if (typeof clientRequestId === "string") reply.header("client-request-id", clientRequestId);
    if (family(request.url) === "webhooks") {
      const correlation = request.headers["ms-correlationid"];
      const requestId = request.headers["ms-requestid"];
      reply.header("MS-CorrelationId", typeof correlation === "string" ? correlation : randomUUID());
      reply.header("MS-RequestId", typeof requestId === "string" ? requestId : request.id);
      reply.header("X-Locale", "en-US");
    }
  });

  app.addHook("onResponse", async (request, reply) => {
    if (family(request.url) !== "control") stats.request(routeKey(request), reply.statusCode);
  });

  app.setErrorHandler((error, request, reply) => renderError(toApiError(error as Error, request), request, reply));
  app.setNotFoundHandler((request, reply) => reply.send(renderError(new ApiError(404, "itemNotFound", `no route ${request.method} ${request.url.split("?")[0]}`, { target: "url" }), request, reply)));

  referralRoutes(app, context);
  webhookRoutes(app, context);
  controlRoutes(app, context);

  const sweep = setInterval(() => referrals.expireDue(), options.expirySweepMs ?? 1000);
  sweep.unref();
  app.addHook("onClose", async () => {
    clearInterval(sweep);
    await dispatcher.stop();
  });

  app.decorate("partnerCenter", context);
  await app.ready();
  return app as unknown as PartnerCenterSandbox;
}

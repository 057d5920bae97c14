// The relay's HTTP edge (fastify 5), in tiers: external plugins (security headers, load shedding),
// then the app's services (store, engine, verifier, metrics) decorated on the instance, then routes.
// Every route declares its schema; one error handler logs the context and answers `{error:{code,
// message}}` without internals. Bodies are kept raw (Buffer) for the routes that take one: the
// Partner Center signature covers the exact bytes, and both intakes parse JSON themselves to say
// clearly what is wrong with a body.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import fastifyPlugin from "fastify-plugin";
import helmet from "@fastify/helmet";
import underPressure from "@fastify/under-pressure";
import type { StepModule, StepReader } from "../../Plugins/step.ts";
import type { WebhookSignatureVerifier } from "./intake/webhook-signature.ts";
import type { Logger } from "./logger.ts";
import type { RelayMetrics } from "./metrics.ts";
import type { Database } from "./store/database.ts";
import type { EventSource } from "./store/received-events.ts";
import { healthRoutes, type ReadinessCheck } from "./routes/health.ts";
import { partnerCenterWebhookRoutes } from "./routes/partner-center-webhook.ts";
import { pluginRoutes } from "./routes/plugins.ts";
import { clientApiRoutes, type ClientApiServices } from "./routes/client-api.ts";
import { statusPageRoutes, type StatusPageServices } from "./routes/status-page.ts";
import { StoreUnavailable, errorBody } from "./routes/schemas.ts";

/** What the edge needs of the sync engine (Relay/src/sync/engine.ts): asking for a sync. */
export interface SyncRequester {
  requestSync(subject: string, reason: string, source: EventSource): Promise<{ runId: string; coalesced: boolean }>;
}

export interface RelayServices {
  tenantId: string;
  db: Database;
  engine: SyncRequester;
  verifier: Pick<WebhookSignatureVerifier, "verify">;
  stepKey: string;
  steps: readonly StepModule[];
  /** What steps may read beyond their delivery (the rules step); without it such a step fails. */
  stepReader?: StepReader;
  metrics: RelayMetrics;
  checks: readonly ReadinessCheck[];
  /** The card's and the form's API (routes/client-api.ts); absent: not served. */
  clientApi?: ClientApiServices;
  /** The admin's /ui (routes/status-page.ts); absent: not served. */
  statusPage?: StatusPageServices;
}

export interface AppOptions {
  logger: Logger;
  https?: { certPem: string; keyPem: string };
  /** Largest body taken (default 2 MiB: Dataverse trims deliveries over 256 KB; Partner Center's are tiny). */
  bodyLimit?: number;
  /** Event loop delay above which the relay answers 503 (default 2 s); 0 turns load shedding off. */
  maxEventLoopDelayMs?: number;
}

declare module "fastify" {
  interface FastifyInstance {
    relay: RelayServices;
  }
}

/** The app tier: the services, shared with every route through the instance. */
const services = fastifyPlugin(async (app: FastifyInstance, options: { services: RelayServices }) => {
  app.decorate("relay", options.services);
}, { name: "relay-services" });

export async function buildApp(relayServices: RelayServices, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    ...(options.https ? { https: { cert: options.https.certPem, key: options.https.keyPem } } : {}),
    bodyLimit: options.bodyLimit ?? 2 * 1024 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    requestIdLogLabel: "requestId",
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  // External tier.
  await app.register(helmet, { global: true });
  const maxEventLoopDelay = options.maxEventLoopDelayMs ?? 2000;
  if (maxEventLoopDelay > 0) await app.register(underPressure, { maxEventLoopDelay, retryAfter: 5, exposeStatusRoute: false });

  // Bodies stay raw bytes, whatever their content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  // App tier.
  await app.register(services, { services: relayServices });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const context = { requestId: request.id, method: request.method, route: request.routeOptions.url };
    if (error instanceof StoreUnavailable) {
      request.log.error({ ...context, err: error.cause ?? error }, "the relay could not store or queue a delivery");
      return reply.code(503).header("retry-after", "30").send(errorBody("unavailable", "The relay could not store the delivery right now; send it again."));
    }
    if (error.validation) {
      request.log.warn({ ...context, detail: error.message }, "request refused: it does not fit the route's schema");
      return reply.code(400).send(errorBody("bad-request", error.message));
    }
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(errorBody("too-large", "The body is too large."));
    if (status >= 400 && status < 500) {
      request.log.warn({ ...context, status, code: error.code }, "request refused");
      return reply.code(status).send(errorBody(error.code ?? "bad-request", "The request could not be read."));
    }
    request.log.error({ ...context, err: error }, "unhandled error");
    return reply.code(500).send(errorBody("internal", `The relay could not handle the request (request id ${request.id}); its log says why.`));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody("not-found", `No route ${request.method} ${request.url.split("?")[0]}.`)));

  // Routes.
  await app.register(async (routes) => {
    healthRoutes(routes, { checks: routes.relay.checks, metrics: routes.relay.metrics });
    partnerCenterWebhookRoutes(routes, routes.relay);
    pluginRoutes(routes, routes.relay);
  });
  // The client API in a context of its own: its CORS, sign-in check and OpenAPI description stay there.
  const clientApi = relayServices.clientApi;
  if (clientApi) await app.register(async (api) => clientApiRoutes(api, clientApi));
  const statusPage = relayServices.statusPage;
  if (statusPage) await app.register(async (ui) => statusPageRoutes(ui, statusPage));
  await app.ready();
  return app;
}

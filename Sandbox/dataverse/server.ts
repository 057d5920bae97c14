// The Dataverse sandbox: a local Dataverse Web API (/api/data/v9.2/) whose custom tables and columns
// come from Solution/, with webhook steps, service protection limits and /sandbox/ control calls.
// The handlers here only translate HTTP; the rules live in engine/ (no I/O) and webhooks.ts (delivery).
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { readSolutionSource } from "../../scripts/solution/source.ts";
import { readSchema } from "../../scripts/solution/model.ts";
import { child, text, labelsOf } from "../../scripts/solution/xml.ts";
import { Metadata, stableId } from "./engine/metadata.ts";
import { Engine } from "./engine/engine.ts";
import { WebApi, parsePrefer, type ApiResponse } from "./engine/webapi.ts";
import { executeBatch } from "./engine/batch.ts";
import { DataverseError, ErrorCodes, odataError } from "./engine/errors.ts";
import { ServiceProtection, type Limits } from "./engine/limits.ts";
import { Authenticator } from "./engine/auth.ts";
import { WebhookDispatcher, type WebhookOptions } from "./webhooks.ts";
import { loadBaseline, loadSeed, ROOT_BUSINESS_UNIT_ID, type SolutionInfo } from "./seed.ts";

export interface DataverseSandboxOptions {
  /** The org URL clients use, e.g. https://127.0.0.1:4701; tokens must name it as their audience. */
  baseUrl: string;
  tls: { certPem: string; keyPem: string };
  /** The sandbox CA: webhook endpoints over HTTPS are trusted through it. */
  caPem: string;
  stateDir: string;
  /** The unpacked solution (Solution/) the custom tables and columns come from. */
  solutionDir: string;
  /**
   * More unpacked solutions loaded after it, playing a customer's own customizations (their tables, and
   * columns they added to standard tables), e.g. Sandbox/dataverse/test/fixtures/customer-solution.
   */
  extraSolutionDirs?: readonly string[];
  identity: { baseUrl: string; signingKeyFile: string };
  /** Service protection limits per user (defaults: 6000 requests and 20 minutes per 5 minutes, 52 concurrent). */
  limits?: Partial<Limits>;
  webhooks?: WebhookOptions;
  /** Also run Update steps when Win, Lose and QualifyLead change a record's state (default false). */
  stateChangesFireUpdate?: boolean;
  /** The organization's unique name, as in RemoteExecutionContext.OrganizationName. */
  organizationName?: string;
  logger?: boolean;
}

interface FaultConfig {
  /** 429 or a 5xx status. */
  status: number;
  /** Share of matching requests that fail (0..1). */
  share?: number;
  /** Fail the next N matching requests. */
  next?: number;
  /** Retry-After seconds for 429 (default 1). */
  retryAfter?: number;
  /** Only requests whose path contains this text. */
  match?: string;
}

class Faults {
  config: FaultConfig | undefined;

  take(path: string): FaultConfig | undefined {
    const config = this.config;
    if (!config || (config.match && !path.includes(config.match))) return undefined;
    if (config.next !== undefined) {
      if (config.next <= 0) return undefined;
      config.next -= 1;
      return config;
    }
    return Math.random() < (config.share ?? 1) ? config : undefined;
  }

  error(config: FaultConfig): DataverseError {
    if (config.status === 429) {
      return new DataverseError(429, ErrorCodes.RequestsLimit, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.", { "retry-after": String(config.retryAfter ?? 1) });
    }
    return new DataverseError(config.status, ErrorCodes.Unexpected, config.status === 503 ? "The service is temporarily unavailable. Try again later." : "An unexpected error occurred.");
  }
}

class Stats {
  total = 0;
  byRoute: Record<string, number> = {};
  byStatus: Record<string, number> = {};
  byUser: Record<string, { requests: number; byStatus: Record<string, number> }> = {};

  record(route: string, status: number, user: string): void {
    this.total += 1;
    this.byRoute[route] = (this.byRoute[route] ?? 0) + 1;
    this.byStatus[String(status)] = (this.byStatus[String(status)] ?? 0) + 1;
    const entry = (this.byUser[user] ??= { requests: 0, byStatus: {} });
    entry.requests += 1;
    entry.byStatus[String(status)] = (entry.byStatus[String(status)] ?? 0) + 1;
  }

  reset(): void {
    this.total = 0;
    this.byRoute = {};
    this.byStatus = {};
    this.byUser = {};
  }
}

function solutionInfo(dir: string): { info: SolutionInfo; source: ReturnType<typeof readSolutionSource> } {
  const source = readSolutionSource(dir);
  const schema = readSchema(source);
  const manifest = child(source.solution.doc.documentElement as never, "SolutionManifest");
  const publisher = manifest ? child(manifest, "Publisher") : undefined;
  const names = manifest ? labelsOf(child(manifest, "LocalizedNames")) : {};
  const publisherNames = publisher ? labelsOf(child(publisher, "LocalizedNames")) : {};
  return {
    source,
    info: {
      uniqueName: schema.uniqueName,
      version: schema.version,
      friendlyName: names["1033"] ?? schema.uniqueName,
      publisher: {
        uniqueName: (publisher ? text(child(publisher, "UniqueName")) : undefined) ?? schema.prefix,
        friendlyName: publisherNames["1033"] ?? schema.prefix,
        prefix: schema.prefix,
        optionValuePrefix: schema.optionValuePrefix,
      },
    },
  };
}

/** `GET /opportunities(…)` style keys for the request statistics. */
function routeKey(method: string, url: string): string {
  const pathname = url.split("?")[0]!.replace(/^\/api\/data\/v9\.\d\/?/, "");
  const name = pathname.replace(/\(.*?\)/g, "(…)");
  return `${method} /${decodeURIComponent(name)}`;
}

function isLoopback(ip: string): boolean {
  return ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1";
}

export async function createDataverseSandbox(options: DataverseSandboxOptions): Promise<FastifyInstance> {
  const baseUrl = options.baseUrl.replace(/\/$/, "");
  const { info, source } = solutionInfo(options.solutionDir);
  const schema = readSchema(source);
  for (const dir of options.extraSolutionDirs ?? []) {
    const extra = readSchema(readSolutionSource(dir));
    schema.tables.push(...extra.tables);
    schema.relationships.push(...extra.relationships);
    schema.optionSets.push(...extra.optionSets);
  }
  const meta = new Metadata(schema);
  const dispatcher = new WebhookDispatcher(options.caPem, options.webhooks);
  const engine = new Engine({
    meta,
    org: { id: stableId(`organization:${options.organizationName ?? "contososandbox"}`), name: options.organizationName ?? "contososandbox", url: baseUrl, businessUnitId: ROOT_BUSINESS_UNIT_ID },
    invoker: dispatcher,
    onAsync: (deliveries) => dispatcher.enqueue(deliveries),
    stateChangesFireUpdate: options.stateChangesFireUpdate ?? false,
  });
  dispatcher.attach(engine);
  loadBaseline(engine, info);
  const api = new WebApi(engine, baseUrl);
  const auth = new Authenticator(options.identity, baseUrl, engine);
  await auth.init();
  const protection = new ServiceProtection(options.limits);
  const stats = new Stats();
  const faults = new Faults();

  const app = fastify({
    https: { cert: options.tls.certPem, key: options.tls.keyPem },
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024 * 1024,
    routerOptions: { maxParamLength: 8192 },
  }) as unknown as FastifyInstance;

  // Bodies arrive as text: JSON is parsed in the handler so a malformed body gets Dataverse's error,
  // and $batch needs the raw multipart text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  const send = (reply: FastifyReply, response: ApiResponse): FastifyReply => {
    reply.code(response.status);
    for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
    if (response.body === undefined) return reply.send();
    // A Buffer keeps fastify from rewriting the content type (it would add a charset and quote parameters).
    return reply.send(Buffer.from(typeof response.body === "string" ? response.body : JSON.stringify(response.body)));
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(",") : v]));
    const prefer = parsePrefer(headers.prefer);
    const route = routeKey(request.method, request.url);
    let status = 500;
    let user = "anonymous";
    let admission: ReturnType<ServiceProtection["admit"]> | undefined;
    try {
      const caller = await auth.authenticate(headers.authorization, headers.callerobjectid);
      user = caller.initiatingUserId;
      admission = protection.admit(caller.initiatingUserId);
      const fault = faults.take(request.url);
      if (fault) throw faults.error(fault);
      const raw = typeof request.body === "string" ? request.body : "";
      let response: ApiResponse;
      if (/^\/api\/data\/v9\.\d\/\$batch(\?|$)/.test(request.url)) {
        if (request.method !== "POST") throw new DataverseError(405, ErrorCodes.NotSupported, "$batch needs POST.");
        response = await executeBatch(api, engine, caller, raw, headers["content-type"], headers);
      } else {
        let body: unknown;
        if (raw.trim()) {
          try {
            body = JSON.parse(raw);
          } catch (error) {
            throw odataError(`The request body is not valid JSON: ${(error as Error).message}`);
          }
        }
        response = await api.handle({ method: request.method, url: request.url, headers, ...(body !== undefined ? { body } : {}), caller });
      }
      response.headers = { ...admission.headers, ...response.headers };
      status = response.status;
      return send(reply, response);
    } catch (error) {
      if (!(error instanceof DataverseError)) throw error;
      status = error.status;
      return send(reply, api.error(error, prefer));
    } finally {
      admission?.end();
      stats.record(route, status, user);
    }
  };

  app.route({ method: ["GET", "POST", "PATCH", "PUT", "DELETE"], url: "/api/data/*", handler: handle });

  // ---------------------------------------------------------------- /sandbox/ control calls
  app.addHook("onRequest", async (request, reply) => {
    if (request.url.startsWith("/sandbox") && !isLoopback(request.ip)) {
      await reply.code(403).send({ error: { code: "", message: "Sandbox control calls answer loopback callers only." } });
    }
  });
  const jsonBody = (request: FastifyRequest): Record<string, unknown> => {
    const raw = typeof request.body === "string" ? request.body : "";
    if (!raw.trim()) return {};
    return JSON.parse(raw) as Record<string, unknown>;
  };

  app.get("/sandbox", async () => ({
    sandbox: "dataverse", baseUrl, webApi: `${baseUrl}/api/data/v9.2/`, solution: { uniqueName: info.uniqueName, version: info.version },
    calls: ["POST /sandbox/reset", "POST /sandbox/seed", "GET /sandbox/stats", "GET|POST|DELETE /sandbox/faults", "GET /sandbox/webhooks", "POST /sandbox/webhooks/drain"],
  }));
  app.post("/sandbox/reset", async () => {
    engine.store.clear();
    loadBaseline(engine, info);
    protection.reset();
    stats.reset();
    faults.config = undefined;
    dispatcher.clear();
    return { reset: true };
  });
  app.post("/sandbox/seed", async () => {
    loadSeed(engine);
    return { seeded: true, rows: engine.store.stats() };
  });
  app.get("/sandbox/stats", async () => ({
    requests: { total: stats.total, byRoute: stats.byRoute, byStatus: stats.byStatus, byUser: stats.byUser },
    webhooks: { delivered: dispatcher.log.filter((d) => d.ok).length, failed: dispatcher.log.filter((d) => !d.ok).length },
    rows: engine.store.stats(),
    limits: protection.limits,
  }));
  app.get("/sandbox/faults", async () => ({ fault: faults.config ?? null }));
  app.post("/sandbox/faults", async (request, reply) => {
    const body = jsonBody(request) as Partial<FaultConfig>;
    if (typeof body.status !== "number" || !(body.status === 429 || (body.status >= 500 && body.status <= 599))) {
      return reply.code(400).send({ error: { code: "", message: "status must be 429 or a 5xx code" } });
    }
    if (body.share === undefined && body.next === undefined) body.next = 1;
    faults.config = body as FaultConfig;
    return { fault: faults.config };
  });
  app.delete("/sandbox/faults", async () => {
    faults.config = undefined;
    return { fault: null };
  });
  app.get("/sandbox/webhooks", async () => ({ deliveries: dispatcher.log }));
  app.post("/sandbox/webhooks/drain", async () => {
    await dispatcher.drain();
    return { deliveries: dispatcher.log.length };
  });

  app.addHook("onClose", async () => {
    await dispatcher.close();
  });
  return app;
}

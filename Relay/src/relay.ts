// The composition root: everything the relay is made of, wired once. `openClients` opens the store and
// the two API clients (what the CLI's one-shot commands need); `startRelay` adds the queue, the sync
// engine, its worker and reconciler, and the HTTP edge, and returns `{ url, close() }`. `relay start`,
// the tests and (later) `npm start` all come through here.
//
// The sync engine, worker and reconciler live in ./sync/; tests may pass stand-ins.
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import { STEPS } from "../../Plugins/index.ts";
import type { StepModule } from "../../Plugins/step.ts";
import { buildApp } from "./app.ts";
import { createSyncEngine, type SyncDependencies, type SyncEngine } from "./sync/engine.ts";
import { startReconciler } from "./sync/reconciler.ts";
import { startWorker } from "./sync/worker.ts";
import { DataverseSide } from "./sync/dataverse-side.ts";
import { createStepReader } from "./sync/step-reader.ts";
import { UserTokenVerifier } from "./client-api/auth.ts";
import { signInSettings } from "./client-api/sign-in.ts";
import type { ClientApiServices } from "./routes/client-api.ts";
import type { RelayConfig } from "./config.ts";
import { describeConfig } from "./config.ts";
import { DataverseTokenProvider } from "./auth/dataverse-token.ts";
import { PartnerCenterSignIn } from "./auth/partner-center-signin.ts";
import { DataverseClient } from "./clients/dataverse.ts";
import { PartnerCenterClient } from "./clients/partner-center.ts";
import { createAgent } from "./http/agent.ts";
import { CertificateCache, WebhookSignatureVerifier } from "./intake/webhook-signature.ts";
import { createLogger, type Logger } from "./logger.ts";
import { RelayMetrics, type QueueDepth } from "./metrics.ts";
import { DEAD_LETTER_QUEUE, SYNC_QUEUE, startQueue } from "./queue.ts";
import { EnvironmentVariableReader } from "./settings/environment-variables.ts";
import { createDoctorReaders } from "./doctor/readers.ts";
import { runDoctor } from "./doctor/run.ts";
import { getRun, listRuns } from "./store/runs.ts";
import { openDatabase, type Database, type DatabaseLocation, type Queryable } from "./store/database.ts";
import type { Agent } from "undici";

export type { SyncDependencies, SyncEngine };

/** The engine, its worker and its reconciler (./sync/); tests may pass stand-ins. */
export interface SyncModules {
  createSyncEngine: typeof createSyncEngine;
  startWorker: typeof startWorker;
  startReconciler: typeof startReconciler;
}

export const SYNC_MODULES: SyncModules = { createSyncEngine, startWorker, startReconciler };

export interface ApiClients {
  dataverseTokens: DataverseTokenProvider;
  dataverse: DataverseClient;
  settings: EnvironmentVariableReader;
  signIn: PartnerCenterSignIn;
  partnerCenter: PartnerCenterClient;
  /** The connection pool toward Partner Center (and the signing certificate's host). */
  partnerCenterAgent: Agent;
  close(): Promise<void>;
}

export interface RelayClients extends ApiClients {
  config: RelayConfig;
  log: Logger;
  metrics: RelayMetrics;
  db: Database;
}

export interface OpenOptions {
  log?: Logger;
  metrics?: RelayMetrics;
  /** Another store than the configured one (tests). */
  database?: DatabaseLocation;
}

/**
 * Both API clients, signed in as configured. `tokenStore` keeps the Partner Center sign-in (App+User
 * tokens); commands that only use app-only tokens (webhook registration) pass none.
 */
export function openApiClients(config: RelayConfig, options: { metrics?: RelayMetrics; tokenStore?: Queryable } = {}): ApiClients {
  const metrics = options.metrics ?? new RelayMetrics({ defaultMetrics: false });
  const extra = config.extraCaPem ? { extraCaPem: config.extraCaPem } : {};
  const dataverseAgent = createAgent({ ...extra, connections: 8 });
  const partnerCenterAgent = createAgent({ ...extra, connections: 8 });
  const dataverseTokens = new DataverseTokenProvider({
    orgUrl: config.dataverse.url, tenant: config.entra.tenantId, authorityHost: config.entra.authorityHost,
    clientId: config.dataverse.clientId, clientSecret: config.dataverse.clientSecret, ...extra,
  });
  const dataverse = new DataverseClient({
    orgUrl: config.dataverse.url, getToken: dataverseTokens.getToken, agent: dataverseAgent,
    onRequest: (event) => metrics.outgoingRequest("dataverse", event.status, event.durationMs),
  });
  const settings = new EnvironmentVariableReader({ client: dataverse });
  const noStore: Queryable = {
    query: () => Promise.reject(new Error("this command does not open the relay's store, so it cannot use the Partner Center sign-in")),
  };
  const signIn = new PartnerCenterSignIn({
    tenantId: config.entra.tenantId, authorityHost: config.entra.authorityHost,
    clientId: config.partnerCenter.clientId, clientSecret: config.partnerCenter.clientSecret,
    db: options.tokenStore ?? noStore, tokenCacheKey: config.tokenCacheKey, previousTokenCacheKeys: config.previousTokenCacheKeys,
    storeTenantKey: config.tenantKey, ...extra,
  });
  const partnerCenter = new PartnerCenterClient({
    referralsBaseUrl: config.partnerCenter.referralsBaseUrl, webhooksBaseUrl: config.partnerCenter.webhooksBaseUrl,
    getToken: (resource) => signIn.getToken(resource), agent: partnerCenterAgent,
    onRequest: (event) => metrics.outgoingRequest(event.target === "referrals" ? "partner-center-referrals" : "partner-center-webhooks", event.status, event.ms),
  });
  let closed = false;
  return {
    dataverseTokens, dataverse, settings, signIn, partnerCenter, partnerCenterAgent,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([dataverse.close(), dataverseTokens.close(), signIn.close()]);
      await Promise.allSettled([dataverseAgent.close(), partnerCenterAgent.close()]);
    },
  };
}

/** The store and both API clients; nothing listens, nothing runs in the background. */
export async function openClients(config: RelayConfig, options: OpenOptions = {}): Promise<RelayClients> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics ?? new RelayMetrics({ defaultMetrics: false });
  const db = await openDatabase(options.database ?? config.database);
  const api = openApiClients(config, { metrics, tokenStore: db });
  return {
    ...api, config, log, metrics, db,
    async close() {
      await api.close();
      await db.close();
    },
  };
}

/** The queue depth gauge's reading: sync jobs by state, and dead letters. */
export async function queueDepth(boss: PgBoss): Promise<QueueDepth[]> {
  const rows: QueueDepth[] = [];
  for (const name of [SYNC_QUEUE, DEAD_LETTER_QUEUE]) {
    const queue = await boss.getQueue(name);
    if (!queue) continue;
    rows.push(
      { queue: name, state: "queued", count: queue.queuedCount },
      { queue: name, state: "active", count: queue.activeCount },
      { queue: name, state: "deferred", count: queue.deferredCount },
      { queue: name, state: "failed", count: queue.failedCount },
    );
  }
  return rows;
}

/** The application user the relay acts as in Dataverse: its own writes must not echo back as changes. */
export async function relayUserId(dataverse: DataverseClient, log: Logger): Promise<string> {
  try {
    return (await dataverse.whoAmI()).UserId.toLowerCase();
  } catch (error) {
    const whatToDo = (error as { whatToDo?: string }).whatToDo;
    log.error({ err: error }, "the relay could not sign in to Dataverse");
    throw new Error(`The relay could not sign in to Dataverse at ${dataverse.apiRoot}: ${(error as Error).message}${whatToDo ? `\n${whatToDo}` : ""}`, { cause: error });
  }
}

export interface StartOptions extends OpenOptions {
  /** The engine, worker and reconciler; default the real ones from ./sync/. */
  sync?: SyncModules;
  /** The steps the relay hosts (default Plugins/index.ts STEPS). */
  steps?: readonly StepModule[];
  /** Start the queue worker and the reconciler (default true). */
  background?: boolean;
}

export interface RunningRelay {
  /** Where the relay listens, e.g. http://127.0.0.1:4700. */
  url: string;
  app: FastifyInstance;
  clients: RelayClients;
  boss: PgBoss;
  engine: SyncEngine;
  metrics: RelayMetrics;
  close(): Promise<void>;
}

/** Starts the whole relay: store, queue, clients, engine, worker, reconciler and HTTP server. */
export async function startRelay(config: RelayConfig, options: StartOptions = {}): Promise<RunningRelay> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics ?? new RelayMetrics();
  log.info({ config: describeConfig(config) }, "relay starting");
  const stops: Array<() => Promise<unknown> | unknown> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        log.warn({ err: error }, "a part of the relay did not stop cleanly");
      }
    }
    stops.length = 0;
  };
  try {
    const clients = await openClients(config, { log, metrics, ...(options.database ? { database: options.database } : {}) });
    stops.push(() => clients.close());
    const boss = await startQueue(clients.db);
    let queueRunning = true;
    boss.on("error", (error: unknown) => log.error({ err: error }, "queue error"));
    stops.push(async () => {
      queueRunning = false;
      await boss.stop({ graceful: true, timeout: 10_000 });
    });
    metrics.setQueueDepthSource(() => queueDepth(boss));

    const userId = await relayUserId(clients.dataverse, log);
    const sync = options.sync ?? SYNC_MODULES;
    const deps: SyncDependencies = {
      tenantId: config.tenantKey, db: clients.db, dataverse: clients.dataverse, partnerCenter: clients.partnerCenter,
      settings: clients.settings, relayUserId: userId, boss, log: log.child({ part: "sync" }), metrics,
    };
    const engine = sync.createSyncEngine(deps);

    const verifier = new WebhookSignatureVerifier({ policy: config.signature, certificates: new CertificateCache({ agent: clients.partnerCenterAgent }) });
    // Steps and the client API read Dataverse as the engine does; the client API checks sellers' tokens against the tenant's keys.
    const dv = new DataverseSide(clients.dataverse, clients.settings);
    const identityAgent = createAgent({ ...(config.extraCaPem ? { extraCaPem: config.extraCaPem } : {}), connections: 2 });
    stops.push(() => identityAgent.close());
    const clientApi: ClientApiServices = {
      tenantId: config.tenantKey, db: clients.db, engine, dataverse: clients.dataverse, dv, partnerCenter: clients.partnerCenter,
      allowedOrigins: config.clientApi.allowedOrigins,
      tokens: config.clientApi.audience
        ? new UserTokenVerifier({ authorityHost: config.entra.authorityHost, tenant: config.entra.tenantId, audience: config.clientApi.audience, agent: identityAgent })
        : undefined,
      signIn: config.clientApi.audience && config.clientApi.spaClientId
        ? signInSettings({ authorityHost: config.entra.authorityHost, tenantId: config.entra.tenantId, audience: config.clientApi.audience, spaClientId: config.clientApi.spaClientId })
        : undefined,
    };
    const app = await buildApp({
      tenantId: config.tenantKey, db: clients.db, engine, verifier, stepKey: config.stepKey, steps: options.steps ?? STEPS, metrics,
      stepReader: createStepReader(dv, userId, clients.partnerCenter), clientApi,
      statusPage: {
        stepKey: config.stepKey,
        // Admins sign in with the client API's app registration (and its Relay.Admin app role) when it is configured.
        ...(clientApi.tokens && clientApi.signIn ? { entra: { tokens: clientApi.tokens, signIn: clientApi.signIn } } : {}),
        doctor: async () => {
          const readers = createDoctorReaders({ config, clients, db: clients.db, steps: options.steps ?? STEPS });
          try {
            return await runDoctor(readers);
          } finally {
            await readers.close();
          }
        },
        page: {
          recentRuns: (limit) => listRuns(clients.db, config.tenantKey, { limit }),
          run: (runId) => getRun(clients.db, config.tenantKey, runId).catch(() => undefined),
          queueDepth: () => queueDepth(boss),
          retry: async (runId) => {
            const run = await getRun(clients.db, config.tenantKey, runId).catch(() => undefined);
            return run ? engine.requestSync(run.subject, "retry", "cli") : undefined;
          },
        },
      },
      checks: [
        { name: "database", check: async () => void (await clients.db.query("SELECT 1")) },
        {
          name: "queue",
          check: async () => {
            if (!queueRunning) throw new Error("the queue is stopped");
            if (!(await boss.getQueue(SYNC_QUEUE))) throw new Error("the sync queue does not exist");
          },
        },
      ],
    }, { logger: log, ...(config.tls ? { https: config.tls } : {}) });
    stops.push(() => app.close());
    await app.listen({ host: config.listen.host, port: config.listen.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.listen.port;
    const host = config.listen.host.includes(":") ? `[${config.listen.host}]` : config.listen.host === "0.0.0.0" ? "127.0.0.1" : config.listen.host;
    const url = `${config.tls ? "https" : "http"}://${host}:${port}`;

    if (options.background !== false) {
      const worker = await sync.startWorker({ ...deps, engine, concurrency: config.workerConcurrency });
      // Stopped before the HTTP server closes (stops run in reverse): in-flight jobs finish first.
      stops.push(() => worker.stop());
      if (config.reconcileIntervalMs > 0) {
        const reconciler = sync.startReconciler({ engine, intervalMs: config.reconcileIntervalMs, log: log.child({ part: "reconciler" }) });
        stops.push(() => reconciler.stop());
      }
    }
    log.info({ url, publicUrl: config.publicUrl }, "relay started");
    let closing: Promise<void> | undefined;
    return {
      url, app, clients, boss, engine, metrics,
      close: () => {
        closing ??= (async () => {
          log.info("relay stopping");
          await stopAll();
          log.info("relay stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

// Test harness for the sync engine: the three sandboxes started in-process (startSandboxes on free
// loopback ports, as `npm start` runs them), the relay's real clients signed in as the relay (Dataverse
// client credentials; Partner Center App+User through the sandbox's password grant for the referrals
// admin, a sandbox-only shortcut for tests), a seller's Dataverse client, the queue on a test database,
// and small helpers that act as a seller, as Microsoft and as a partner user in Partner Center.
import { randomUUID } from "node:crypto";
import { request } from "undici";
import type { PgBoss } from "pg-boss";
import {
  EnvironmentVariables, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity, type EnvironmentVariableKey,
} from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { DataverseTokenProvider } from "../../src/auth/dataverse-token.ts";
import { DataverseClient, DataverseError, literal, type BatchOptions, type BatchOutcomes, type DataverseRequest, type Row } from "../../src/clients/dataverse.ts";
import { PartnerCenterClient } from "../../src/clients/partner-center.ts";
import { EnvironmentVariableReader, ENVIRONMENT_VARIABLE_TABLES as T } from "../../src/settings/environment-variables.ts";
import { SYNC_QUEUE, startQueue } from "../../src/queue.ts";
import { getRun, type Run } from "../../src/store/runs.ts";
import type { Database } from "../../src/store/database.ts";
import { createSyncEngine, type SyncDependencies, type SyncEngine } from "../../src/sync/engine.ts";
import { isMicrosoftsReferral } from "../../src/sync/partner-center-side.ts";
import { startWorker, type WorkerHandle } from "../../src/sync/worker.ts";
import { startEnvironment as startPartnerCenterEnvironment, sandboxTokens, control, type Environment } from "../partner-center/helpers.ts";

export const TENANT = "tenant-test";

export interface Harness {
  env: Environment;
  orgUrl: string;
  /** The relay's application user. */
  dataverse: DataverseClient;
  relayUserId: string;
  /** A relay Dataverse client whose change sets (the write-backs) all fail, as if the relay died there. */
  dying(): DataverseClient;
  /** A seller (Dana) through the Web API with her own token. */
  seller: DataverseClient;
  partnerCenter: PartnerCenterClient;
  /** Partner Center calls counted by the sandbox, by route and status. */
  pcCounts(): Promise<Record<string, Record<string, number>>>;
  pc<T = Record<string, unknown>>(path: string, body?: unknown, method?: "GET" | "POST" | "DELETE"): Promise<{ status: number; body: T }>;
  dv(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  setVariable(key: EnvironmentVariableKey, value: string): Promise<void>;
  close(): Promise<void>;
}

const FAST_BACKOFF = { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 200 };

async function passwordToken(env: Environment, scope: string, user: { username: string; password: string }): Promise<string> {
  const response = await request(env.endpoints.tokenEndpoint, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: DEMO_APPS.script.clientId, client_secret: DEMO_APPS.script.clientSecret, username: user.username, password: user.password, scope }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    dispatcher: env.agent,
  });
  const body = (await response.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${body.error_description}`);
  return body.access_token;
}

export async function startHarness(options: { extraSolutionDirs?: readonly string[] } = {}): Promise<Harness> {
  const env = await startPartnerCenterEnvironment(options);
  const orgUrl = env.endpoints.dataverse;
  const tokens = new DataverseTokenProvider({
    orgUrl, tenant: DEMO_TENANT_ID, authorityHost: env.endpoints.identity, extraCaPem: env.caPem,
    clientId: DEMO_APPS.relayDataverse.clientId, clientSecret: DEMO_APPS.relayDataverse.clientSecret,
  });
  const dataverse = new DataverseClient({ orgUrl, getToken: tokens.getToken, agent: env.agent, backoff: FAST_BACKOFF });
  let sellerToken: Promise<string> | undefined;
  const seller = new DataverseClient({ orgUrl, agent: env.agent, backoff: FAST_BACKOFF, getToken: () => (sellerToken ??= passwordToken(env, `${orgUrl}/.default`, DEMO_USERS.seller)) });
  const partnerCenter = new PartnerCenterClient({
    referralsBaseUrl: env.referralsBaseUrl, webhooksBaseUrl: env.webhooksBaseUrl, getToken: sandboxTokens(env), agent: env.agent,
    backoff: FAST_BACKOFF, maxRetryWaitMs: 3000,
  });
  const relayUserId = (await dataverse.whoAmI()).UserId;
  const dvApp = env.running.apps.dataverse;
  const dv = async (method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const response = await dvApp.inject({ method, url: path, remoteAddress: "127.0.0.1", ...(body !== undefined ? { payload: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}) });
    return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
  };
  const values = new Map<string, string>();
  return {
    dying: () => new DiesBeforeWriteBack({ orgUrl, getToken: tokens.getToken, agent: env.agent, backoff: FAST_BACKOFF }),
    env, orgUrl, dataverse, relayUserId, seller, partnerCenter,
    pcCounts: async () => (await control<{ requests: { byRoute: Record<string, Record<string, number>> } }>(env, "partnerCenter", "/sandbox/stats")).body.requests.byRoute,
    pc: (path, body, method) => control(env, "partnerCenter", path, body, method),
    dv,
    async setVariable(key, value) {
      const schemaName = EnvironmentVariables[key].schemaName;
      const existing = values.get(schemaName);
      if (existing) {
        await dataverse.update(T.values, existing, { [T.value]: value });
        return;
      }
      const definitions: Row[] = [];
      for await (const row of dataverse.retrieveMultiple(T.definitions, { select: [T.definitionId], filter: `${T.schemaName} eq ${literal(schemaName)}` })) definitions.push(row);
      const { id } = await dataverse.create(T.values, {
        [T.schemaName]: schemaName, [T.value]: value,
        [`${T.valueDefinitionNavigation}@odata.bind`]: `/${T.definitions}(${String(definitions[0]![T.definitionId])})`,
      });
      values.set(schemaName, id);
    },
    async close() {
      await Promise.allSettled([dataverse.close(), seller.close(), tokens.close()]);
      await env.close();
    },
  };
}

/** The relay's Dataverse client, killed (as far as Dataverse can tell) before its first write-back: every change set fails. */
export class DiesBeforeWriteBack extends DataverseClient {
  override async batch<const R extends readonly DataverseRequest<unknown>[]>(requests: R, options: BatchOptions = {}): Promise<BatchOutcomes<R>> {
    if (options.changeSet) throw new DataverseError({ status: 503, code: "", message: "the relay was stopped here (test)" });
    return super.batch(requests, options);
  }
}

/** Logger that keeps nothing (set PCR_TEST_LOG=1 to see the engine's lines). */
export const quietLog = {
  info: (o: object, m?: string) => { if (process.env.PCR_TEST_LOG) console.log("info", m, o); },
  warn: (o: object, m?: string) => { if (process.env.PCR_TEST_LOG) console.log("warn", m, o); },
  error: (o: object, m?: string) => { if (process.env.PCR_TEST_LOG) console.log("error", m, o); },
  debug: () => undefined,
};

export interface Relay {
  deps: SyncDependencies;
  engine: SyncEngine;
  boss: PgBoss;
  settings: EnvironmentVariableReader;
  worker?: WorkerHandle;
  startWorker(concurrency?: number): Promise<void>;
  /** Waits until the run reaches one of `states` (default: any final state). */
  waitForRun(runId: string, states?: Run["state"][], timeoutMs?: number): Promise<Run>;
  stop(): Promise<void>;
}

export async function startRelay(h: Harness, db: Database, options: { retryLimit?: number; settingsTtlMs?: number } = {}): Promise<Relay> {
  const boss = await startQueue(db, { retryLimit: options.retryLimit ?? 6, retryDelaySeconds: 1, expireInSeconds: 120 });
  await boss.updateQueue(SYNC_QUEUE, { retryBackoff: false, retryDelay: 1, retryLimit: options.retryLimit ?? 6 });
  const settings = new EnvironmentVariableReader({ client: h.dataverse, ttlMs: options.settingsTtlMs ?? 0 });
  const deps: SyncDependencies = {
    tenantId: TENANT, db, dataverse: h.dataverse, partnerCenter: h.partnerCenter, settings, relayUserId: h.relayUserId, boss, log: quietLog,
  };
  const engine = createSyncEngine(deps);
  const relay: Relay = {
    deps, engine, boss, settings,
    async startWorker(concurrency = 4) {
      relay.worker = await startWorker({ ...deps, engine, concurrency, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 });
    },
    async waitForRun(runId, states = ["succeeded", "skipped", "failed", "dead"], timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const run = await getRun(db, TENANT, runId);
        if (run && states.includes(run.state)) return run;
        if (Date.now() > until) throw new Error(`run ${runId} did not reach ${states.join("/")} in ${timeoutMs} ms (it is ${run?.state})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await relay.worker?.stop();
      await boss.stop({ graceful: false, close: true });
    },
  };
  return relay;
}

export const SOLUTION_DETAIL_ID = "SOL-AZ-MIGRATE";

export interface SellerDeal {
  accountId: string;
  contactId: string | null;
  opportunityId: string;
  name: string;
}

/** A seller's account (unique name) with a two-letter country, and its contact. */
export async function sellerAccount(h: Harness, options: { country?: string | null; contact?: boolean; postalCode?: string } = {}): Promise<{ accountId: string; contactId: string | null; name: string }> {
  const name = `Seller Co ${randomUUID().slice(0, 8)}`;
  const { id: accountId } = await h.seller.create("accounts", {
    name, address1_city: "Utrecht", address1_postalcode: options.postalCode ?? "3511 AB",
    ...(options.country === null ? {} : { address1_country: options.country ?? "NL" }),
  });
  let contactId: string | null = null;
  if (options.contact !== false) {
    contactId = (await h.seller.create("contacts", {
      firstname: "Eva", lastname: `Bakker ${name.slice(-4)}`, emailaddress1: `eva.${name.slice(-8)}@customer.example`, telephone1: "+31 30 123 4567",
      "parentcustomerid_account@odata.bind": `/accounts(${accountId})`,
    })).id;
  }
  return { accountId, contactId, name };
}

export async function currencyId(h: Harness, iso: string): Promise<string> {
  for await (const row of h.dataverse.retrieveMultiple("transactioncurrencies", { select: ["transactioncurrencyid"], filter: `isocurrencycode eq ${literal(iso)}` })) return String(row.transactioncurrencyid);
  throw new Error(`no currency ${iso}`);
}

export async function solutionDetailId(h: Harness, identifier = SOLUTION_DETAIL_ID): Promise<string> {
  const row = await h.dataverse.retrieve(MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: identifier }, { select: [MicrosoftSolutionDetail.primaryId] });
  return String(row![MicrosoftSolutionDetail.primaryId]);
}

/** The partner's referrals for a record (Microsoft's side of a co-sell carries the same externalReferenceId). */
export async function partnerReferralsFor(h: Harness, externalReferenceId: string): Promise<Referral[]> {
  return (await referralsFor(h, externalReferenceId)).filter((r) => !isMicrosoftsReferral(r));
}

/** A seller attaches a Microsoft solution (from the Solution Details catalog) to an opportunity. */
export async function sellerSolution(h: Harness, opportunityId: string, identifier = SOLUTION_DETAIL_ID): Promise<void> {
  await h.seller.create(MicrosoftSolution.entitySetName, {
    [MicrosoftSolution.columns.primaryName]: identifier,
    [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/opportunities(${opportunityId})`,
    [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${await solutionDetailId(h, identifier)})`,
  });
}

/** What a seller does on the form: an opportunity with Sync = Yes and, unless told otherwise, everything Partner Center needs. */
export async function sellerOpportunity(h: Harness, options: {
  help?: number | null; solution?: boolean; country?: string | null; contact?: boolean; dealValue?: number | null; currency?: string | null;
  closeDate?: string | null; sync?: boolean; notes?: string;
} = {}): Promise<SellerDeal> {
  const account = await sellerAccount(h, { country: options.country === undefined ? "NL" : options.country, contact: options.contact !== false });
  const name = `Co-sell ${randomUUID().slice(0, 8)}`;
  const c = Opportunity.columns;
  const body: Record<string, unknown> = {
    name,
    description: options.notes ?? "Data platform migration",
    ...(options.dealValue === null ? {} : { estimatedvalue: options.dealValue ?? 120000 }),
    ...(options.closeDate === null ? {} : { estimatedclosedate: options.closeDate ?? "2027-03-31" }),
    ...(options.currency === null ? {} : { "transactioncurrencyid@odata.bind": `/transactioncurrencies(${await currencyId(h, options.currency ?? "EUR")})` }),
    [c.syncWithPartnerCenter]: options.sync ?? true,
    ...(options.help === null ? {} : { [c.helpRequested]: options.help ?? 613750003 }),
    "parentaccountid@odata.bind": `/accounts(${account.accountId})`,
    "customerid_account@odata.bind": `/accounts(${account.accountId})`,
    ...(account.contactId && options.contact !== false ? { "parentcontactid@odata.bind": `/contacts(${account.contactId})` } : {}),
  };
  const { id } = await h.seller.create("opportunities", body);
  // Dataverse gives a new opportunity the base currency; a seller who wants none clears it.
  if (options.currency === null) await h.seller.update("opportunities", id, { "transactioncurrencyid@odata.bind": null });
  if (options.solution !== false) await sellerSolution(h, id);
  return { accountId: account.accountId, contactId: account.contactId, opportunityId: id, name };
}

export async function opportunity(h: Harness, id: string): Promise<Row> {
  const row = await h.dataverse.retrieve("opportunities", id, { formattedValues: false });
  if (!row) throw new Error(`no opportunity ${id}`);
  return row;
}

export async function referralsFor(h: Harness, externalReferenceId: string): Promise<Referral[]> {
  const found: Referral[] = [];
  for await (const r of h.partnerCenter.listReferrals({ filter: `externalReferenceId eq '${externalReferenceId}'` })) found.push(r);
  return found;
}

export async function referralsInEngagement(h: Harness, engagementId: string): Promise<Referral[]> {
  const found: Referral[] = [];
  for await (const r of h.partnerCenter.listReferrals({ filter: `engagementId eq '${engagementId}'` })) found.push(r);
  return found;
}

export async function syncEventsOf(h: Harness, opportunityId: string): Promise<Row[]> {
  const rows: Row[] = [];
  const { SyncEvent } = await import("../../../Core/generated/schema.ts");
  for await (const row of h.dataverse.retrieveMultiple(SyncEvent.entitySetName, {
    filter: `_${SyncEvent.lookups.opportunity.column}_value eq ${opportunityId}`, formattedValues: false,
  })) rows.push(row);
  return rows;
}

/** Runs a job through the queue and the worker: what a step or a webhook does through requestSync. */
export async function syncThroughQueue(relay: Relay, subject: string, reason = "test"): Promise<Run> {
  const { runId } = await relay.engine.requestSync(subject, reason, "cli");
  return relay.waitForRun(runId);
}

/** Sum of a route's calls in a stats snapshot, all statuses. */
export function calls(counts: Record<string, Record<string, number>>, route: string): number {
  return Object.values(counts[route] ?? {}).reduce((a, b) => a + b, 0);
}

export function writes(counts: Record<string, Record<string, number>>): number {
  return Object.entries(counts).filter(([route]) => /^(POST|PATCH|PUT) /.test(route)).reduce((sum, [route]) => sum + calls(counts, route), 0);
}

// Full-stack harness: the three sandboxes in this (the test's) process on free loopback ports, and the
// relay as a real child process (`node Relay/bin/relay.ts start --sandbox`, or ./launcher.ts when a test
// needs settings the CLI does not take) on a free port and a fresh Postgres database of its own, so its
// state survives `kill -9`. The service account signs in with `relay login` (its device code approved
// through the identity sandbox's control API), `relay init` registers the Dataverse steps and the Partner
// Center webhook against the child's URL. The test then acts only as people and services do: a seller
// through the Dataverse Web API (her own token), a partner user through the Partner Center API, Microsoft
// through the Partner Center sandbox's control API. Reads for assertions go through the Web API as an
// admin's script (an application user of its own) and the sandboxes' control APIs; the relay's store is
// read only for evidence (received events, runs).
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { request, type Agent } from "undici";
import { MicrosoftSolution, MicrosoftSolutionDetail, Opportunity } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { freePorts, startSandboxes, type RunningSandboxes, type StartOptions } from "../../../Sandbox/start.ts";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { DataverseTokenProvider } from "../../src/auth/dataverse-token.ts";
import { DataverseClient, DataverseError, DataverseErrorCodes, literal, type Row } from "../../src/clients/dataverse.ts";
import { PartnerCenterClient, REFERRALS_RESOURCE } from "../../src/clients/partner-center.ts";
import { createAgent } from "../../src/http/agent.ts";
import { POSTGRES_ADMIN_URL } from "../databases.ts";
import type { LauncherOptions } from "./launcher.ts";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const RELAY_BIN = join(REPO, "Relay", "bin", "relay.ts");
const LAUNCHER = join(REPO, "Relay", "test", "e2e", "launcher.ts");

/** Fast retries for the test's own clients (the relay keeps its production settings). */
const TEST_BACKOFF = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 1000 };

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface RelayProcess {
  pid: number;
  /** When it was spawned. */
  startedAt: Date;
  url: string;
  /** Every stdout line, parsed when it is JSON (pino), else `{ msg: <text> }`. */
  lines: LogLine[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** The first log line (from `from` on) that `match` accepts, waiting for it. */
  waitForLine(what: string, match: (line: LogLine) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<LogLine>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
  /** SIGTERM, waiting for a clean exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export type RelayMode = { kind: "cli" } | { kind: "launcher"; reconcileIntervalMs?: number; workerConcurrency?: number };

export interface CommandResult {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

export interface World {
  sandboxes: RunningSandboxes;
  endpointsFile: string;
  stateDir: string;
  agent: Agent;
  databaseUrl: string;
  /** The relay's own database, for evidence only (received events, runs, pg-boss jobs). */
  store: pg.Pool;
  port: number;
  relayUrl: string;
  /** The running relay child (the last one started). */
  relay: RelayProcess;
  /** Every relay child started so far, killed ones included. */
  generations: RelayProcess[];
  startRelay(): Promise<RelayProcess>;
  /** `kill -9` of the running relay. */
  killRelay(): Promise<void>;
  /** A one-shot `relay <args> --sandbox <endpoints>` as its own process. */
  cli(args: string[], options?: { onStdout?: (line: string) => void; timeoutMs?: number }): Promise<CommandResult>;
  login(): Promise<CommandResult>;
  init(): Promise<CommandResult>;
  /** What `relay init` printed when readyWorld ran it. */
  initOutput: string[];
  /**
   * An admin's script through the Web API (its own application user, so the test's reads never eat into
   * the relay's service protection budget): reads for assertions, lookups.
   */
  dataverse: DataverseClient;
  /** Dana, a seller, through the Web API with her own token. */
  seller: DataverseClient;
  /** Dana again, as a partner user in Partner Center (she has the Referrals User role). */
  partnerUser: PartnerCenterClient;
  control<T = Record<string, unknown>>(service: "partnerCenter" | "dataverse" | "identity", path: string, body?: unknown, method?: "GET" | "POST" | "DELETE"): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

async function passwordToken(agent: Agent, tokenEndpoint: string, scope: string, user: { username: string; password: string }): Promise<string> {
  const response = await request(tokenEndpoint, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: DEMO_APPS.script.clientId, client_secret: DEMO_APPS.script.clientSecret, username: user.username, password: user.password, scope }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    dispatcher: agent,
  });
  const body = (await response.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token for ${user.username}: ${body.error_description}`);
  return body.access_token;
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `relay_e2e_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // The child gets the machine's basics, not the test runner's PCR_* settings.
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PCR_") && key !== "DATABASE_URL" && key !== "NODE_OPTIONS") env[key] = value;
  return { ...env, NODE_NO_WARNINGS: "1", ...extra };
}

function lineReader(stream: Readable, onLine: (line: string) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    rest += chunk;
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (line.trim()) onLine(line);
    }
  });
  stream.on("end", () => {
    if (rest.trim()) onLine(rest);
    rest = "";
  });
}

function parseLine(text: string): LogLine {
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text) as LogLine;
    } catch {
      // not JSON after all
    }
  }
  return { msg: text };
}

const show = (prefix: string, text: string) => {
  if (process.env.PCR_TEST_LOG) process.stderr.write(`${prefix} ${text}\n`);
};

const began = Date.now();
/** A line about what the test is doing, among the relay's lines (PCR_TEST_LOG=1). */
export function note(text: string): void {
  show(`[test +${((Date.now() - began) / 1000).toFixed(1)}s]`, text);
}

function spawnRelay(world: { endpointsFile: string; port: number; databaseUrl: string }, mode: RelayMode, generation: number): RelayProcess {
  const env = mode.kind === "cli"
    ? childEnv({ PCR_LISTEN_PORT: String(world.port), DATABASE_URL: world.databaseUrl, PCR_LOG_LEVEL: "info" })
    : childEnv({
      PCR_E2E_RELAY: JSON.stringify({
        endpointsFile: world.endpointsFile, port: world.port, databaseUrl: world.databaseUrl, logLevel: "info",
        ...(mode.reconcileIntervalMs !== undefined ? { reconcileIntervalMs: mode.reconcileIntervalMs } : {}),
        ...(mode.workerConcurrency !== undefined ? { workerConcurrency: mode.workerConcurrency } : {}),
      } satisfies LauncherOptions),
    });
  const args = mode.kind === "cli" ? [RELAY_BIN, "start", "--sandbox", world.endpointsFile] : [LAUNCHER];
  const startedAt = new Date();
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, args, { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: LogLine[] = [];
  const stderr: string[] = [];
  let wake: Array<() => void> = [];
  const notify = () => {
    const waiting = wake;
    wake = [];
    for (const fn of waiting) fn();
  };
  lineReader(child.stdout, (text) => {
    show(`[relay#${generation}]`, text);
    lines.push(parseLine(text));
    notify();
  });
  lineReader(child.stderr, (text) => {
    show(`[relay#${generation} stderr]`, text);
    stderr.push(text);
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running = false;
      notify();
      resolve({ code, signal });
    });
  });
  const relay: RelayProcess = {
    pid: child.pid!,
    startedAt,
    url: `http://127.0.0.1:${world.port}`,
    lines, stderr, exited,
    alive: () => running,
    waitForLine(what, match, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 15_000);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for the relay to log ${what}`)), Math.max(0, deadline - Date.now()));
        const check = () => {
          const found = lines.slice(options.from ?? 0).find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else if (!running) {
            clearTimeout(timer);
            reject(new Error(`the relay exited before it logged ${what}; stderr: ${stderr.slice(-5).join(" | ")}`));
          } else wake.push(check);
        };
        check();
      });
    },
    async kill() {
      if (running) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (running) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return relay;
}

/** Polls `probe` until it answers something (not undefined or false), or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface WorldOptions {
  /** The Dataverse sandbox's service protection limits (default: the documented ones). */
  dataverseLimits?: StartOptions["dataverseLimits"];
}

export async function startWorld(mode: RelayMode, options: WorldOptions = {}): Promise<World> {
  const stateDir = mkdtempSync(join(tmpdir(), "pcr-relay-e2e-"));
  const [identityPort, partnerCenterPort, dataversePort, relayPort] = (await freePorts(4)) as [number, number, number, number];
  const sandboxes = await startSandboxes({ root: REPO, stateDir, ports: { identity: identityPort, partnerCenter: partnerCenterPort, dataverse: dataversePort },
    ...(options.dataverseLimits ? { dataverseLimits: options.dataverseLimits } : {}),
  });
  const { endpoints, endpointsFile } = sandboxes;
  const agent = createAgent({ extraCaPem: readFileSync(endpoints.caFile, "utf8") });
  const database = await createDatabase();
  const store = new pg.Pool({ connectionString: database.url, max: 2 });
  store.on("error", () => undefined);

  const orgUrl = endpoints.dataverse;
  const tokens = new DataverseTokenProvider({
    orgUrl, tenant: DEMO_TENANT_ID, authorityHost: endpoints.identity, extraCaPem: readFileSync(endpoints.caFile, "utf8"),
    clientId: DEMO_APPS.script.clientId, clientSecret: DEMO_APPS.script.clientSecret,
  });
  const dataverse = new DataverseClient({ orgUrl, getToken: tokens.getToken, agent, backoff: TEST_BACKOFF, timeoutMs: 30_000 });
  let sellerToken: Promise<string> | undefined;
  const seller = new DataverseClient({
    orgUrl, agent, backoff: TEST_BACKOFF, timeoutMs: 30_000,
    getToken: () => (sellerToken ??= passwordToken(agent, endpoints.tokenEndpoint, `${orgUrl}/.default`, DEMO_USERS.seller)),
  });
  let partnerToken: Promise<string> | undefined;
  const partnerUser = new PartnerCenterClient({
    referralsBaseUrl: `${endpoints.partnerCenter}/v1.0/engagements/referrals`, webhooksBaseUrl: `${endpoints.partnerCenter}/webhooks/v1/registration`,
    agent, backoff: TEST_BACKOFF, maxRetryWaitMs: 5000,
    getToken: (resource) => {
      if (resource !== REFERRALS_RESOURCE) return Promise.reject(new Error(`a partner user needs no token for ${resource}`));
      return (partnerToken ??= passwordToken(agent, endpoints.tokenEndpoint, `${REFERRALS_RESOURCE}/.default`, DEMO_USERS.seller));
    },
  });

  const where = { endpointsFile, port: relayPort, databaseUrl: database.url };
  const generations: RelayProcess[] = [];

  const cli: World["cli"] = (args, options = {}) => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RELAY_BIN, ...args, "--sandbox", endpointsFile], {
      cwd: REPO, stdio: ["ignore", "pipe", "pipe"],
      env: childEnv({ PCR_LISTEN_PORT: String(relayPort), DATABASE_URL: database.url, PCR_LOG_LEVEL: "warn" }),
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    lineReader(child.stdout, (line) => {
      show(`[relay ${args[0]}]`, line);
      stdout.push(line);
      options.onStdout?.(line);
    });
    lineReader(child.stderr, (line) => {
      show(`[relay ${args[0]} stderr]`, line);
      stderr.push(line);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`relay ${args.join(" ")} did not finish in time; stdout: ${stdout.join(" | ")}; stderr: ${stderr.join(" | ")}`));
    }, options.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

  const control: World["control"] = async (service, path, body, method) => {
    const response = await request(`${endpoints[service]}${path}`, {
      method: method ?? (body === undefined ? "GET" : "POST"), headersTimeout: 30_000, bodyTimeout: 30_000,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
      dispatcher: agent,
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as never };
  };

  const world: World = {
    sandboxes, endpointsFile, stateDir, agent, databaseUrl: database.url, store, port: relayPort, relayUrl: `http://127.0.0.1:${relayPort}`,
    relay: undefined as unknown as RelayProcess,
    generations, dataverse, seller, partnerUser, cli, control, initOutput: [],
    async startRelay() {
      if (world.relay?.alive()) throw new Error("a relay is already running");
      const relay = spawnRelay(where, mode, generations.length + 1);
      generations.push(relay);
      world.relay = relay;
      await relay.waitForLine("that it listens", (line) => line.msg === "relay started" || /^relay listening on /.test(line.msg ?? ""), { timeoutMs: 30_000 });
      await waitFor("the relay to be ready", async () => {
        const answer = await request(`${world.relayUrl}/readyz`).catch(() => undefined);
        if (!answer) return false;
        await answer.body.dump();
        return answer.statusCode === 200;
      }, 15_000);
      return relay;
    },
    async killRelay() {
      await world.relay.kill();
    },
    async login() {
      let approved: Promise<unknown> | undefined;
      const approve = async () => {
        const pending = await waitFor("the device code", async () => {
          const answer = await control<{ value: Array<{ user_code: string; status: string }> }>("identity", "/sandbox/device/pending");
          return answer.body.value.find((p) => p.status === "pending");
        }, 20_000);
        const answer = await control("identity", "/sandbox/device/approve", { user_code: pending.user_code, username: DEMO_USERS.referralsAdmin.username });
        if (answer.status !== 200) throw new Error(`the identity sandbox did not approve the device code: ${answer.status}`);
      };
      const result = await cli(["login"], {
        onStdout: () => {
          // The device code message is out: approve it as the admin would, in the identity sandbox.
          approved ??= approve();
        },
      });
      await approved;
      return result;
    },
    init: () => cli(["init", "--yes", "--replace-webhook"]),
    async close() {
      await Promise.allSettled(generations.map((relay) => relay.kill()));
      await Promise.allSettled([dataverse.close(), seller.close(), tokens.close()]);
      await store.end().catch(() => undefined);
      await sandboxes.close();
      await agent.close();
      await database.drop().catch((error: unknown) => console.warn(`could not drop the e2e database: ${(error as Error).message}`));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Sandboxes, a database, and the relay started, signed in and initialised: what `npm start` does, as separate processes. */
export async function readyWorld(mode: RelayMode, options: WorldOptions = {}): Promise<World> {
  const world = await startWorld(mode, options);
  try {
    const login = await world.login();
    if (login.code !== 0) throw new Error(`relay login failed (${login.code}): ${[...login.stdout, ...login.stderr].join("\n")}`);
    await world.startRelay();
    const init = await world.init();
    if (init.code !== 0) throw new Error(`relay init failed (${init.code}): ${[...init.stdout, ...init.stderr].join("\n")}`);
    world.initOutput = init.stdout;
    return world;
  } catch (error) {
    await world.close();
    throw error;
  }
}

// ---- the seller, through the Dataverse Web API ----

export const SOLUTION = "SOL-AZ-MIGRATE";
export const HELP_REQUESTED = 613750003; // Proof of concept or demo

export interface SellerDeal {
  opportunityId: string;
  accountId: string;
  contactId: string;
  name: string;
  company: string;
  email: string;
  dealValue: number;
  closeDate: string;
  notes: string;
}

const ids = new Map<string, string>();

const refusedSaves = new Set<string>();
/** How many of the seller's saves a synchronous step refused (at least once) so far in this test file. */
export function refusedSaveCount(): number {
  return refusedSaves.size;
}

/**
 * A save a synchronous step refused (the relay it calls is down, say) changed nothing: the seller saves
 * again, as she would, until Dataverse takes it.
 */
export async function saveAgainWhenRefused<T>(what: string, save: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await save();
    } catch (error) {
      const refusedByStep = error instanceof DataverseError && error.code === DataverseErrorCodes.IsvAborted;
      if (!refusedByStep || Date.now() > deadline) throw error;
      if (!refusedSaves.has(what)) note(`${what}: refused by a step (${error.message}); saving again until it is taken`);
      refusedSaves.add(what);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function lookupId(world: World, cacheKey: string, entitySet: string, key: Record<string, string>, idColumn: string): Promise<string> {
  const cached = ids.get(`${world.port}/${cacheKey}`);
  if (cached) return cached;
  const filter = Object.entries(key).map(([column, value]) => `${column} eq ${literal(value)}`).join(" and ");
  for await (const row of world.dataverse.retrieveMultiple(entitySet, { select: [idColumn], filter, top: 1 })) {
    const id = String(row[idColumn]);
    ids.set(`${world.port}/${cacheKey}`, id);
    return id;
  }
  throw new Error(`no ${entitySet} where ${filter}`);
}

/**
 * What a seller does on the form: an account and its contact, an opportunity with Sync = Yes, help
 * requested, a value, a close date, and a Microsoft solution from the catalog.
 */
export async function sellerShares(world: World, tag: string, options: { dealValue?: number } = {}): Promise<SellerDeal> {
  const company = `Fabrikam ${tag}`;
  const email = `eva.${tag.toLowerCase()}@fabrikam.example`;
  const { id: accountId } = await world.seller.create("accounts", { name: company, address1_line1: "Oudegracht 1", address1_city: "Utrecht", address1_postalcode: "3511 AB", address1_country: "NL" });
  const { id: contactId } = await world.seller.create("contacts", {
    firstname: "Eva", lastname: `Bakker ${tag}`, emailaddress1: email, telephone1: "+31 30 123 4567",
    "parentcustomerid_account@odata.bind": `/accounts(${accountId})`,
  });
  const name = `Co-sell ${tag}`;
  const dealValue = options.dealValue ?? 120_000;
  const closeDate = "2027-03-31";
  const notes = `Data platform migration for ${company}`;
  const currency = await lookupId(world, "EUR", "transactioncurrencies", { isocurrencycode: "EUR" }, "transactioncurrencyid");
  const { id: opportunityId } = await saveAgainWhenRefused(`the opportunity ${name}`, () => world.seller.create("opportunities", {
    name, description: notes, estimatedvalue: dealValue, estimatedclosedate: closeDate,
    "transactioncurrencyid@odata.bind": `/transactioncurrencies(${currency})`,
    [Opportunity.columns.syncWithPartnerCenter]: true,
    [Opportunity.columns.helpRequested]: HELP_REQUESTED,
    "parentaccountid@odata.bind": `/accounts(${accountId})`,
    "customerid_account@odata.bind": `/accounts(${accountId})`,
    "parentcontactid@odata.bind": `/contacts(${contactId})`,
  }));
  const detail = await lookupId(world, SOLUTION, MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: SOLUTION }, MicrosoftSolutionDetail.primaryId);
  await saveAgainWhenRefused(`the solution of ${name}`, () => world.seller.create(MicrosoftSolution.entitySetName, {
    [MicrosoftSolution.columns.primaryName]: SOLUTION,
    [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/opportunities(${opportunityId})`,
    [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${detail})`,
  }));
  return { opportunityId, accountId, contactId, name, company, email, dealValue, closeDate, notes };
}

// ---- Microsoft and Partner Center ----

export interface Customer {
  company: string;
  email: string;
  postalCode: string;
  profile: Referral["customerProfile"];
}

export function customer(tag: string): Customer {
  const company = `Woodgrove ${tag}`;
  const email = `kim.${tag.toLowerCase()}@woodgrove.example`;
  const postalCode = "1011 AB";
  return {
    company, email, postalCode,
    profile: {
      name: company, address: { addressLine1: "Damrak 1", city: "Amsterdam", postalCode, country: "NL" },
      team: [{ firstName: "Kim", lastName: `de Boer ${tag}`, email, phoneNumber: "+31 20 555 0100" }],
    },
  };
}

/** Microsoft sends the partner a co-sell invitation (Partner Center sandbox control API). */
export async function microsoftSends(world: World, name: string, who: Customer): Promise<Referral> {
  const answer = await world.control<Referral>("partnerCenter", "/sandbox/microsoft/referrals", {
    type: "Shared", name, customerProfile: who.profile,
    details: { notes: `${name}: Microsoft asks for help`, dealValue: 45_000, currency: "EUR", closingDateTime: "2027-05-31T00:00:00Z" },
  });
  if (answer.status !== 201) throw new Error(`the Partner Center sandbox did not take Microsoft's referral: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Every referral in the Partner Center sandbox (control API, no token). */
export async function allReferrals(world: World): Promise<Array<Referral & { organizationId?: string }>> {
  const answer = await world.control<Array<Referral & { organizationId?: string }> | { value: Array<Referral & { organizationId?: string }> }>("partnerCenter", "/sandbox/referrals");
  return Array.isArray(answer.body) ? answer.body : answer.body.value;
}

// ---- reads for assertions ----

export async function rows(world: World, entitySet: string, filter: string, select?: string[]): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of world.dataverse.retrieveMultiple(entitySet, { filter, formattedValues: false, ...(select ? { select } : {}) })) found.push(row);
  return found;
}

/** `(column eq v1 or column eq v2 …)`: text quoted; ids (a primary key column) bare. */
export function anyOf(column: string, values: readonly string[], kind: "text" | "id" = "text"): string {
  return `(${values.map((v) => `${column} eq ${kind === "id" ? v : literal(v)}`).join(" or ")})`;
}

/** Rows whose `column` is one of `values`, a few values per query. */
export async function rowsWhereAnyOf(world: World, entitySet: string, column: string, values: readonly string[], options: { select?: string[]; kind?: "text" | "id" } = {}): Promise<Row[]> {
  const found: Row[] = [];
  for (let i = 0; i < values.length; i += 15) found.push(...(await rows(world, entitySet, anyOf(column, values.slice(i, i + 15), options.kind), options.select)));
  return found;
}

export async function opportunity(world: World, id: string): Promise<Row> {
  const row = await world.dataverse.retrieve("opportunities", id, { formattedValues: false });
  if (!row) throw new Error(`no opportunity ${id}`);
  return row;
}

/** What the relay recorded receiving (webhooks and steps), for evidence of the path a change took. */
export async function receivedEvents(world: World, subject: string): Promise<Array<{ source: string; kind: string }>> {
  return (await world.store.query<{ source: string; kind: string }>("SELECT source, kind FROM received_events WHERE subject = $1 ORDER BY received_at", [subject])).rows;
}

/** Failed-delivery-proof: faults cleared on both sandboxes. */
export async function clearFaults(world: World): Promise<void> {
  await world.control("partnerCenter", "/sandbox/faults", undefined, "DELETE");
  await world.control("dataverse", "/sandbox/faults", undefined, "DELETE");
}

/** A line for the summary the tests print. */
export function summaryLine(name: string, counts: { expected: number; lost: number; duplicated: number; overwritten: number }, extra = ""): string {
  return `${name.padEnd(44)} expected ${String(counts.expected).padStart(3)}  lost ${counts.lost}  duplicated ${counts.duplicated}  wrongly overwritten ${counts.overwritten}${extra ? `  ${extra}` : ""}`;
}

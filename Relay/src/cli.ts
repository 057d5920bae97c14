// The `relay` command (commander). Exit codes: 0 done, 1 failed (the message says why and what to do),
// 2 usage: a wrong command line or an unusable configuration (every problem listed).
//
//   relay start                       run the relay until SIGINT/SIGTERM
//   relay init [--replace-webhook]    register the Dataverse steps and the Partner Center webhook, test them
//   relay init --guided [flags]       the whole setup (prompts or flags), ending with relay doctor
//   relay login                       sign the Partner Center service account in (device code)
//   relay doctor [--json]             check everything the sync needs; exit 1 when anything fails
//   relay sync <id>                   queue a sync of an opportunity, a lead or a referral
//   relay runs [--failed] [--json]    list sync runs
//   relay retry <runId> | --all-failed
//   relay reconcile                   queue whatever differs, now
//   relay backfill [--since <date>] [--status <s>] [--no-wait]
//                                     bring Partner Center's open referrals into Dynamics 365, with progress
//
// Every command takes `--sandbox [endpoints.json]` to run against the local sandboxes instead of the
// configuration in the environment.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { createInterface } from "node:readline/promises";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { request } from "undici";
import { STEPS } from "../../Plugins/index.ts";
import { ConfigError, loadConfig, sandboxConfig, type RelayConfig } from "./config.ts";
import { PartnerCenterAuthError } from "./auth/partner-center-signin.ts";
import { DataverseSignInError } from "./auth/dataverse-token.ts";
import { PartnerCenterError } from "./clients/partner-center-errors.ts";
import type { WebhookRegistration } from "./clients/partner-center.ts";
import { registerSteps, setEnvironmentVariable, setRelayUrl } from "./commands/dataverse-steps.ts";
import { parseSince, parseStatuses, progressLine, queueBackfill, summary, waitForRuns, type BackfillOptions } from "./commands/backfill.ts";
import { ensureWebhookRegistration, sendTestEvent, webhookUrl } from "./commands/partner-center-webhook.ts";
import { createLogger } from "./logger.ts";
import { createDoctorReaders } from "./doctor/readers.ts";
import { formatResult, runDoctor, type CheckResult, type DoctorReport } from "./doctor/run.ts";
import { createAgent } from "./http/agent.ts";
import { startQueue } from "./queue.ts";
import { SYNC_MODULES, openApiClients, openClients, relayUserId, startRelay, type RelayClients, type StartOptions, type SyncModules } from "./relay.ts";
import { openDatabase } from "./store/database.ts";
import { getRun, listRuns, type Run } from "./store/runs.ts";
import { listExpiringLinks } from "./sync/links.ts";
import { FieldMappingReader } from "./settings/field-mapping.ts";
import { EnvironmentVariables, Lead, Opportunity } from "../../Core/generated/schema.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks a yes/no question; absent when nobody can answer (no terminal). */
  ask?: (question: string) => Promise<boolean>;
  /** Asks for a value (guided init); absent when nobody can answer (no terminal). */
  prompt?: (question: string) => Promise<string>;
  /** Resolves when `relay start` should stop (SIGINT/SIGTERM by default). */
  untilStopped?: () => Promise<string>;
  /** For tests: stand-ins for the engine, worker and reconciler, and start options. */
  sync?: SyncModules;
  startOptions?: StartOptions;
  /** For tests: how long `init` and `doctor` wait for the test event (default 60 s, 30 s). */
  testEventTimeoutMs?: number;
  /** Transient progress (the check running now); absent: not shown. */
  progress?: (text: string) => void;
}

/** A failure with a message for the admin: printed as is, exit code 1 (or `code`). */
class CliFailure extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface GlobalOptions {
  sandbox?: string | boolean;
}

function configFrom(options: GlobalOptions, io: CliIo): RelayConfig {
  if (options.sandbox) {
    const file = typeof options.sandbox === "string" ? resolve(io.cwd, options.sandbox) : resolve(io.cwd, ".sandbox", "endpoints.json");
    const port = io.env.PCR_LISTEN_PORT ? Number(io.env.PCR_LISTEN_PORT) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new ConfigError(["PCR_LISTEN_PORT is not a port number"]);
    try {
      return sandboxConfig(file, {
        ...(port !== undefined ? { port } : {}),
        ...(io.env.PCR_PUBLIC_URL ? { publicUrl: io.env.PCR_PUBLIC_URL } : {}),
        ...(io.env.DATABASE_URL ? { database: { url: io.env.DATABASE_URL } } : {}),
        ...(io.env.PCR_LOG_LEVEL ? { logLevel: io.env.PCR_LOG_LEVEL as RelayConfig["logLevel"] } : {}),
      });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new CliFailure(`The sandboxes' endpoints could not be read from ${file} (${(error as Error).message}). Start them first with npm start.`);
    }
  }
  return loadConfig(io.env, { cwd: io.cwd });
}

/** Whether something accepts connections where this configuration says the relay listens. */
async function probeListener(config: RelayConfig): Promise<{ host: string; listening: boolean }> {
  const host = config.listen.host === "0.0.0.0" || config.listen.host === "::" ? "127.0.0.1" : config.listen.host;
  const listening = await new Promise<boolean>((done) => {
    const socket = connect({ host, port: config.listen.port, timeout: 1000 });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
    socket.once("timeout", () => {
      socket.destroy();
      done(false);
    });
  });
  return { host, listening };
}

/** The embedded store is one process's: with the relay running on it, one-shot commands must not open it too. */
async function refuseWhileRunningOnEmbeddedStore(config: RelayConfig, command: string): Promise<void> {
  if (!("dataDir" in config.database)) return;
  const { host, listening } = await probeListener(config);
  if (listening) {
    throw new CliFailure(`relay ${command} opens the relay's store, and a relay is running on ${host}:${config.listen.port} with the embedded store (${config.database.dataDir}), which only one process may open. Stop the relay first, or give the relay a Postgres database (DATABASE_URL) so both can use it.`);
  }
}

function quietLogger(config: RelayConfig) {
  return createLogger({ level: config.logLevel === "info" ? "warn" : config.logLevel });
}

function describeWebhook(registration: WebhookRegistration): string {
  return `${registration.webhookUrl} (${registration.webhookEvents.join(", ") || "no events"})`;
}

async function init(config: RelayConfig, options: InitOptions, io: CliIo): Promise<number> {
  const out = (line: string) => io.stdout(line);
  const clients = openApiClients(config);
  let problems = 0;
  try {
    out(`Dataverse ${config.dataverse.url}`);
    const settings = await clients.settings.get();
    const outcomes = await registerSteps(clients.dataverse, STEPS, { publicUrl: config.publicUrl, stepKey: config.stepKey, dealValueField: settings.dealValueField });
    for (const { step, result } of outcomes) {
      const images = result.steps.flatMap((s) => s.images).filter((i) => i.change !== "unchanged");
      out(`  ${step}: endpoint ${result.endpoint.change}, step ${result.steps.map((s) => s.change).join("/")}${images.length ? `, images ${images.map((i) => `${i.name} ${i.change}`).join(", ")}` : ""}`);
    }
    const relayUrl = await setRelayUrl(clients.dataverse, config.publicUrl);
    out(`  Relay URL environment variable: ${relayUrl === "unchanged" ? "already" : relayUrl === "created" ? "set to" : "changed to"} ${config.publicUrl}`);

    out(`Partner Center webhook ${webhookUrl(config.publicUrl)}`);
    const webhook = await ensureWebhookRegistration(clients.partnerCenter, {
      publicUrl: config.publicUrl,
      confirmReplace: async (current) => {
        out(`  The tenant's webhook registration points elsewhere: ${describeWebhook(current)}.`);
        out("  Partner Center keeps one registration per tenant: replacing it stops deliveries to that address (Microsoft's co-sell flow or another tool).");
        if (options.replaceWebhook) return true;
        if (options.yes || !io.ask) return false;
        return io.ask("  Replace it with the relay's? [y/N] ");
      },
    });
    switch (webhook.change) {
      case "created": out(`  registered for ${webhook.registration.webhookEvents.join(", ")}`); break;
      case "unchanged": out("  already registered"); break;
      case "widened": out(`  already registered; events added: now ${webhook.registration.webhookEvents.join(", ")}`); break;
      case "replaced": out(`  replaced ${webhook.previous ? describeWebhook(webhook.previous) : "the previous registration"}`); break;
      case "kept-foreign":
        problems++;
        out("  left as it is: run relay init --replace-webhook to replace it. Until then Partner Center's changes reach the relay only through the reconciler.");
        break;
    }
    if (webhook.change !== "kept-foreign" && options.testEvent !== false) {
      const test = await sendTestEvent(clients.partnerCenter, { timeoutMs: io.testEventTimeoutMs ?? 60_000 });
      if (test.arrived) out(`  test event: arrived (the relay ${test.detail})`);
      else {
        problems++;
        out(`  test event: did not arrive: the relay ${test.detail}. Is relay start running and ${config.publicUrl} reachable from the internet?`);
      }
    }
  } finally {
    await clients.close();
  }
  out(problems ? "relay init finished with problems (above)." : "relay init done.");
  return problems ? EXIT.failure : EXIT.ok;
}

/** Whether a relay listens where this configuration says (its /healthz answers). */
async function relayListening(config: RelayConfig): Promise<string | undefined> {
  const { host, listening } = await probeListener(config);
  return listening ? `${config.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${config.listen.port}` : undefined;
}

async function doctor(config: RelayConfig, options: { json?: boolean }, io: CliIo): Promise<number> {
  const progress = (text: string) => (options.json ? io.stderr(text) : io.stdout(text));
  const print = (result: CheckResult) => {
    if (!options.json) for (const line of formatResult(result)) io.stdout(line);
  };
  let report: DoctorReport;
  const running = "dataDir" in config.database ? await relayListening(config) : undefined;
  if (running) {
    // The embedded store is the running relay's alone: it runs the checks and answers the report.
    progress(`Asking the relay running at ${running} to run the checks (the embedded store is its alone)…`);
    const agent = createAgent({ ...(config.extraCaPem ? { extraCaPem: config.extraCaPem } : {}), connections: 1 });
    try {
      const answer = await request(`${running}/ui/api/doctor`, { headers: { authorization: `Bearer ${config.stepKey}` }, dispatcher: agent, headersTimeout: 180_000, bodyTimeout: 180_000 });
      const text = await answer.body.text();
      if (answer.statusCode !== 200) throw new CliFailure(`The relay at ${running} answered ${answer.statusCode}: ${text.slice(0, 200)}. Is it this configuration's relay (same PCR_STEP_KEY)?`);
      report = JSON.parse(text) as DoctorReport;
    } finally {
      await agent.close();
    }
    report.results.forEach(print);
  } else {
    const clients = await openClients(config, { log: quietLogger(config) });
    const readers = createDoctorReaders({ config, clients, db: clients.db, ...(io.testEventTimeoutMs ? { testEventTimeoutMs: io.testEventTimeoutMs } : {}) });
    try {
      report = await runDoctor(readers, {
        onStart: (check, index, total) => {
          const text = `[${index + 1}/${total}] ${check.name}…`;
          if (options.json) io.stderr(text);
          else io.progress?.(text);
        },
        onResult: print,
      });
    } finally {
      await readers.close();
      await clients.close();
    }
  }
  if (options.json) io.stdout(JSON.stringify(report, null, 2));
  else {
    const failed = report.results.filter((r) => !r.ok).length;
    io.stdout(failed ? `${failed} of ${report.results.length} checks failed: fix them as said above, then run relay doctor again.` : `All ${report.results.length} checks passed.`);
  }
  return report.ok ? EXIT.ok : EXIT.failure;
}

/** What guided `relay init` asks for (or takes from flags, for unattended use), as the relay's settings. */
const GUIDED_SETTINGS = [
  { env: "PCR_TENANT_ID", option: "tenant", question: "Entra ID tenant (id or domain)" },
  { env: "PCR_DATAVERSE_URL", option: "dataverseUrl", question: "Dynamics 365 environment URL (https://<org>.crm.dynamics.com)" },
  { env: "PCR_DATAVERSE_CLIENT_ID", option: "dataverseClientId", question: "Dataverse app registration: client id" },
  { env: "PCR_DATAVERSE_CLIENT_SECRET", option: "dataverseClientSecret", question: "Dataverse app registration: client secret" },
  { env: "PCR_PARTNER_CENTER_CLIENT_ID", option: "partnerCenterClientId", question: "Partner Center app registration: client id" },
  { env: "PCR_PARTNER_CENTER_CLIENT_SECRET", option: "partnerCenterClientSecret", question: "Partner Center app registration: client secret" },
  { env: "PCR_PUBLIC_URL", option: "publicUrl", question: "The relay's public HTTPS address" },
] as const;

type GuidedOption = (typeof GUIDED_SETTINGS)[number]["option"];

export interface InitOptions extends Partial<Record<GuidedOption, string>> {
  replaceWebhook?: boolean;
  yes?: boolean;
  testEvent?: boolean;
  guided?: boolean;
  dealValueField?: string;
  countryField?: string;
  writeConfig?: string;
}

/** Sandbox mode: the flags change the sandbox configuration (the rest comes from endpoints.json). */
function withOverrides(config: RelayConfig, options: InitOptions): RelayConfig {
  return {
    ...config,
    entra: { ...config.entra, ...(options.tenant ? { tenantId: options.tenant } : {}) },
    dataverse: {
      ...config.dataverse,
      ...(options.dataverseUrl ? { url: options.dataverseUrl.replace(/\/+$/, "") } : {}),
      ...(options.dataverseClientId ? { clientId: options.dataverseClientId } : {}),
      ...(options.dataverseClientSecret ? { clientSecret: options.dataverseClientSecret } : {}),
    },
    partnerCenter: {
      ...config.partnerCenter,
      ...(options.partnerCenterClientId ? { clientId: options.partnerCenterClientId } : {}),
      ...(options.partnerCenterClientSecret ? { clientSecret: options.partnerCenterClientSecret } : {}),
    },
    ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/+$/, "") } : {}),
  };
}

/**
 * The configuration guided init works with: flags first, then the environment (and PCR_CONFIG_FILE), then
 * answers to prompts. New secrets (token cache key, step key) are made when missing; with --write-config
 * everything is written to that JSON file (mode 600) for `PCR_CONFIG_FILE=<file> relay start`.
 */
async function guidedConfig(globals: GlobalOptions, options: InitOptions, io: CliIo): Promise<RelayConfig> {
  if (globals.sandbox) return withOverrides(configFrom(globals, io), options);
  const fileSettings: Record<string, string> = {};
  const env: NodeJS.ProcessEnv = { ...io.env };
  for (const setting of GUIDED_SETTINGS) {
    let value = options[setting.option] ?? env[setting.env];
    if (!value && io.prompt && !options.yes) value = (await io.prompt(`${setting.question}: `)).trim();
    if (value) {
      env[setting.env] = value;
      fileSettings[setting.env] = value;
    }
  }
  const missing = GUIDED_SETTINGS.filter((s) => !env[s.env]);
  if (missing.length) {
    throw new ConfigError(missing.map((s) => `${s.env} is not set: give --${s.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} or set the variable`));
  }
  if (!env.PCR_TOKEN_CACHE_KEY) fileSettings.PCR_TOKEN_CACHE_KEY = env.PCR_TOKEN_CACHE_KEY = randomBytes(32).toString("base64");
  if (!env.PCR_STEP_KEY) fileSettings.PCR_STEP_KEY = env.PCR_STEP_KEY = randomBytes(32).toString("base64url");
  const config = loadConfig(env, { cwd: io.cwd });
  if (options.writeConfig) {
    const file = resolve(io.cwd, options.writeConfig);
    writeFileSync(file, `${JSON.stringify(fileSettings, null, 2)}\n`, { mode: 0o600 });
    io.stdout(`Configuration written to ${file}: start the relay with PCR_CONFIG_FILE=${options.writeConfig} relay start`);
  } else if (fileSettings.PCR_TOKEN_CACHE_KEY || fileSettings.PCR_STEP_KEY) {
    io.stdout("New PCR_TOKEN_CACHE_KEY and PCR_STEP_KEY were made for this run: give --write-config <file> to keep them, or the relay cannot use this sign-in and these steps.");
  }
  return config;
}

/** Guided `relay init`: sign-in, steps, variables, webhook and test event, then the doctor. */
async function guidedInit(config: RelayConfig, options: InitOptions, io: CliIo): Promise<number> {
  io.stdout("1. Partner Center service account");
  await refuseWhileRunningOnEmbeddedStore(config, "init --guided");
  const clients = await openClients(config, { log: quietLogger(config) });
  try {
    const status = await clients.signIn.status();
    if (status.signedIn) io.stdout(`  signed in as ${status.username ?? "the service account"}`);
    else {
      io.stdout("  not signed in yet: sign in as the service account (with MFA)");
      const account = await clients.signIn.signIn({ onDeviceCode: (prompt) => io.stdout(`  ${prompt.message}`) });
      io.stdout(`  signed in as ${account.username}`);
    }
    io.stdout("2. Environment variables");
    for (const [variable, value] of [[EnvironmentVariables.dealValueField, options.dealValueField], [EnvironmentVariables.customerAccountCountryCodeField, options.countryField]] as const) {
      if (!value) continue;
      const change = await setEnvironmentVariable(clients.dataverse, variable.schemaName, value);
      io.stdout(`  ${variable.displayName["1033"]}: ${change === "unchanged" ? "already" : "set to"} ${value}`);
    }
  } finally {
    await clients.close();
  }
  io.stdout("3. Dataverse steps and Partner Center webhook");
  const registered = await init(config, options, io);
  io.stdout("4. relay doctor");
  const checked = await doctor(config, {}, io);
  return registered === EXIT.ok ? checked : registered;
}

async function login(config: RelayConfig, io: CliIo): Promise<number> {
  await refuseWhileRunningOnEmbeddedStore(config, "login");
  const clients = await openClients(config, { log: quietLogger(config) });
  try {
    const account = await clients.signIn.signIn({ onDeviceCode: (prompt) => io.stdout(prompt.message) });
    io.stdout(`Signed in as ${account.username}. The relay keeps this sign-in, encrypted, in its store; it refreshes it by itself.`);
    return EXIT.ok;
  } finally {
    await clients.close();
  }
}

/** What withEngine hands a command: to run a worker of its own while it waits (relay backfill). */
interface EngineExtras {
  startWorker(): ReturnType<SyncModules["startWorker"]>;
}

/** The store, the queue and the engine, without worker or HTTP: for commands that queue syncs. */
async function withEngine<T>(config: RelayConfig, io: CliIo, command: string, work: (engine: ReturnType<SyncModules["createSyncEngine"]>, clients: RelayClients, extras: EngineExtras) => Promise<T>): Promise<T> {
  await refuseWhileRunningOnEmbeddedStore(config, command);
  const log = quietLogger(config);
  const clients = await openClients(config, { log });
  try {
    const boss = await startQueue(clients.db);
    try {
      const sync = io.sync ?? SYNC_MODULES;
      const deps = {
        tenantId: config.tenantKey, db: clients.db, dataverse: clients.dataverse, partnerCenter: clients.partnerCenter,
        settings: clients.settings, relayUserId: await relayUserId(clients.dataverse, log), boss, log, metrics: clients.metrics,
      };
      const engine = sync.createSyncEngine(deps);
      return await work(engine, clients, { startWorker: () => sync.startWorker({ ...deps, engine, concurrency: config.workerConcurrency }) });
    } finally {
      await boss.stop({ graceful: true, timeout: 5000 });
    }
  } finally {
    await clients.close();
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `opportunity:<id>`, `lead:<id>`, `referral:<id>`, or a bare id: an opportunity's or lead's if Dataverse has one, else a referral's. */
async function subjectOf(id: string, clients: RelayClients): Promise<string> {
  if (/^(opportunity|lead|referral):.+$/.test(id)) return id;
  if (GUID.test(id)) {
    if (await clients.dataverse.retrieve(Opportunity.entitySetName, id, { select: ["opportunityid"] })) return `opportunity:${id.toLowerCase()}`;
    if (await clients.dataverse.retrieve(Lead.entitySetName, id, { select: ["leadid"] })) return `lead:${id.toLowerCase()}`;
  }
  if (!/^[A-Za-z0-9-]{1,100}$/.test(id)) throw new CliFailure(`'${id}' is not an opportunity, lead or referral id.`, EXIT.usage);
  return `referral:${id.toLowerCase()}`;
}

function runLine(run: Run): string {
  const when = run.queuedAt.toISOString().replace(/\.\d+Z$/, "Z");
  const error = run.lastError ? `  ${run.lastError.replace(/\s+/g, " ").slice(0, 120)}` : "";
  return `${run.id}  ${run.state.padEnd(9)}  ${String(run.attempts).padStart(2)}  ${when}  ${run.subject}${error}`;
}

function failureMessage(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliFailure) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof PartnerCenterAuthError) return { message: `${error.message}\n${error.whatToDo}`, exitCode: EXIT.failure };
  if (error instanceof DataverseSignInError) return { message: `${error.message}\n${error.whatToDo}`, exitCode: EXIT.failure };
  if (error instanceof PartnerCenterError) return { message: error.message, exitCode: EXIT.failure };
  const whatToDo = (error as { whatToDo?: unknown }).whatToDo;
  return { message: `${(error as Error)?.message ?? String(error)}${typeof whatToDo === "string" ? `\n${whatToDo}` : ""}`, exitCode: EXIT.failure };
}

function untilSignal(): Promise<string> {
  return new Promise((done) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // A second signal while stopping ends the process at once.
      process.once(signal, () => process.exit(EXIT.failure));
      done(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command("relay")
    .description("The Partner Center co-sell relay: keeps Partner Center referrals and Dynamics 365 opportunities in sync.")
    .addOption(new Option("--sandbox [endpoints]", "use the local sandboxes (.sandbox/endpoints.json) instead of the configuration in the environment"))
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text.replace(/\n$/, "")), writeErr: (text) => io.stderr(text.replace(/\n$/, "")) })
    .showHelpAfterError();
  const config = () => configFrom(program.opts<GlobalOptions>(), io);

  program.command("start").description("run the relay (HTTP edge, worker, reconciler) until stopped").action(async () => {
    const relay = await startRelay(config(), { ...(io.sync ? { sync: io.sync } : {}), ...io.startOptions });
    io.stdout(`relay listening on ${relay.url}`);
    const signal = await (io.untilStopped ?? untilSignal)();
    io.stdout(`${signal}: stopping`);
    await relay.close();
    setExit(EXIT.ok);
  });

  program.command("init")
    .description("register the Dataverse steps and the Partner Center webhook for this relay, and test them (safe to run again); --guided: the whole setup, ending with relay doctor")
    .option("--replace-webhook", "replace a Partner Center webhook registration that points elsewhere")
    .option("-y, --yes", "never ask: a registration that points elsewhere is kept unless --replace-webhook is given; --guided takes its values from flags and the environment only")
    .option("--no-test-event", "do not send Partner Center's test event")
    .option("--guided", "the whole setup: ask for (or take from the flags below) the tenant, Dataverse URL, app registrations and public URL; sign the service account in; register; set the variables; run relay doctor")
    .option("--tenant <tenant>", "Entra ID tenant id or domain (PCR_TENANT_ID)")
    .option("--dataverse-url <url>", "the Dynamics 365 environment (PCR_DATAVERSE_URL)")
    .option("--dataverse-client-id <id>", "the Dataverse app registration (PCR_DATAVERSE_CLIENT_ID)")
    .option("--dataverse-client-secret <secret>", "its secret (PCR_DATAVERSE_CLIENT_SECRET)")
    .option("--partner-center-client-id <id>", "the Partner Center app registration (PCR_PARTNER_CENTER_CLIENT_ID)")
    .option("--partner-center-client-secret <secret>", "its secret (PCR_PARTNER_CENTER_CLIENT_SECRET)")
    .option("--public-url <url>", "the relay's public HTTPS address (PCR_PUBLIC_URL)")
    .option("--deal-value-field <column>", "sets the Deal value field variable")
    .option("--country-field <column>", "sets the Customer Account Country Code field variable")
    .option("--write-config <file>", "with --guided: write the configuration (and new keys) to this JSON file for PCR_CONFIG_FILE")
    .action(async (options: InitOptions) => {
      const globals = program.opts<GlobalOptions>();
      if (!options.guided) {
        setExit(await init(withOverrides(config(), options), options, io));
        return;
      }
      setExit(await guidedInit(await guidedConfig(globals, options, io), options, io));
    });

  program.command("doctor")
    .description("check everything the sync needs, one line per check, with the fix for each failure")
    .option("--json", "the report as JSON (progress goes to stderr)")
    .action(async (options: { json?: boolean }) => {
      setExit(await doctor(config(), options, io));
    });

  program.command("login").description("sign the Partner Center service account in with a device code (MFA included)").action(async () => {
    setExit(await login(config(), io));
  });

  program.command("sync").argument("<id>", "opportunity, lead or referral id (or opportunity:<id>, lead:<id>, referral:<id>)")
    .description("queue a sync of one deal now").action(async (id: string) => {
      await withEngine(config(), io, "sync", async (engine, clients) => {
        const subject = await subjectOf(id, clients);
        const run = await engine.requestSync(subject, "cli", "cli");
        io.stdout(`${subject}: ${run.coalesced ? "a sync was already waiting" : "queued"} as run ${run.runId}; the relay's worker runs it.`);
      });
      setExit(EXIT.ok);
    });

  program.command("runs").description("list sync runs, newest first")
    .option("--failed", "only failed and dead runs")
    .option("--json", "as JSON")
    .option("--limit <n>", "at most this many", "50")
    .action(async (options: { failed?: boolean; json?: boolean; limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliFailure("--limit must be a whole number from 1 to 10000", EXIT.usage);
      const cfg = config();
      await refuseWhileRunningOnEmbeddedStore(cfg, "runs");
      const db = await openDatabase(cfg.database);
      try {
        const runs = await listRuns(db, cfg.tenantKey, { ...(options.failed ? { states: ["failed", "dead"] } : {}), limit });
        if (options.json) io.stdout(JSON.stringify(runs, null, 2));
        else if (runs.length === 0) io.stdout(options.failed ? "No failed runs." : "No runs yet.");
        else for (const run of runs) io.stdout(runLine(run));
        // Nothing expires unseen: referrals waiting for an answer that Partner Center closes within 3 days.
        const expiring = options.failed || options.json ? [] : await listExpiringLinks(db, cfg.tenantKey, new Date(Date.now() + 3 * 24 * 3600_000));
        if (expiring.length) {
          io.stdout("");
          io.stdout(`Referrals that expire within 3 days unless someone answers them (qualify the lead to accept, disqualify it to decline):`);
          for (const e of expiring) io.stdout(`  ${e.respondBy.toISOString().replace("T", " ").slice(0, 16)} UTC  referral ${e.referralId}  ${e.recordType} ${e.recordId}`);
        }
      } finally {
        await db.close();
      }
      setExit(EXIT.ok);
    });

  program.command("retry").argument("[runId]", "the run to do again")
    .option("--all-failed", "every failed and dead run (one sync per deal)")
    .description("queue failed runs again").action(async (runId: string | undefined, options: { allFailed?: boolean }) => {
      if (!runId === !options.allFailed) throw new CliFailure("Give a run id or --all-failed (not both).", EXIT.usage);
      const cfg = config();
      await withEngine(cfg, io, "retry", async (engine, clients) => {
        let subjects: string[];
        if (runId) {
          const run = await getRun(clients.db, cfg.tenantKey, runId).catch(() => undefined);
          if (!run) throw new CliFailure(`There is no run ${runId}; relay runs lists them.`);
          subjects = [run.subject];
        } else {
          subjects = [...new Set((await listRuns(clients.db, cfg.tenantKey, { states: ["failed", "dead"], limit: 10_000 })).map((r) => r.subject))];
          if (subjects.length === 0) io.stdout("No failed runs.");
        }
        for (const subject of subjects) {
          const run = await engine.requestSync(subject, "retry", "cli");
          io.stdout(`${subject}: ${run.coalesced ? "a sync was already waiting" : "queued"} as run ${run.runId}`);
        }
      });
      setExit(EXIT.ok);
    });

  program.command("reconcile").description("compare both sides now and queue whatever differs").action(async () => {
    await withEngine(config(), io, "reconcile", async (engine) => {
      const phases = { "partner-center": "Partner Center's open referrals", dataverse: "Dynamics 365's shared deals" } as const;
      const result = await engine.reconcile({
        onProgress: ({ phase, checked, enqueued }) => io.progress?.(`reconcile: ${phases[phase]}… checked ${checked}, queued ${enqueued}`),
      });
      io.stdout(`Checked ${result.checked}; queued ${result.enqueued}.`);
    });
    setExit(EXIT.ok);
  });

  program.command("backfill")
    .description("bring the referrals Partner Center already holds into Dynamics 365: queue a sync for each open one not linked yet, and follow them (safe to repeat)")
    .option("--since <date>", "only referrals created on or after this date (2026-01-31, or an ISO 8601 moment)")
    .option("--status <status...>", "only these statuses: New (waiting for an answer), Active (accepted), or both (default)")
    .option("--no-wait", "queue and stop; the relay's worker runs the syncs")
    .action(async (options: { since?: string; status?: string[]; wait: boolean }) => {
      const filter: BackfillOptions = {};
      try {
        if (options.since !== undefined) filter.since = parseSince(options.since);
        if (options.status !== undefined) filter.statuses = parseStatuses(options.status);
      } catch (error) {
        throw new CliFailure((error as Error).message, EXIT.usage);
      }
      const cfg = config();
      const failed = await withEngine(cfg, io, "backfill", async (engine, clients, extras) => {
        const show = (phase: "listing" | "syncing") => (counts: Parameters<typeof progressLine>[0]) => io.progress?.(progressLine(counts, phase));
        // The mapping as the sync will use it (checked; the last good one if the variable's value was rejected).
        const settings = await clients.settings.get();
        const { mapping } = await new FieldMappingReader({ client: clients.dataverse }).resolve(settings);
        const { counts, runIds } = await queueBackfill({
          db: clients.db, tenantId: cfg.tenantKey, partnerCenter: clients.partnerCenter,
          coSellOnly: settings.syncCoSellOpportunitiesOnly, mapping: mapping.config, requestSync: (subject, reason, source) => engine.requestSync(subject, reason, source),
        }, filter, show("listing"));
        if (options.wait && runIds.length) {
          // The syncs run here, in a worker of this process (with a relay on the same Postgres, its workers help).
          const worker = await extras.startWorker();
          try {
            show("syncing")(counts);
            await waitForRuns(clients.db, cfg.tenantKey, runIds, counts, show("syncing"));
          } finally {
            await worker.stop();
          }
        }
        for (const line of summary(counts, options.wait)) io.stdout(line);
        return counts.failed;
      });
      setExit(failed ? EXIT.failure : EXIT.ok);
    });

  return program;
}

/** Runs the command line; answers the exit code (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Asked-for help and the version are not failures; everything else commander refuses is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, exitCode: code } = failureMessage(error);
    io.stderr(message);
    return code;
  }
}

/** The process's terminal: answers yes/no questions when there is one. */
export function terminalIo(): CliIo {
  return {
    // On a terminal a line first clears the progress line it replaces.
    stdout: (text) => process.stdout.write(`${process.stdout.isTTY ? "\x1b[2K" : ""}${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    ...(process.stderr.isTTY ? { progress: (text: string) => process.stderr.write(`\r\x1b[2K${text}\r`) } : {}),
    env: process.env,
    cwd: process.cwd(),
    ...(process.stdin.isTTY ? {
      prompt: async (question: string) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return await rl.question(question);
        } finally {
          rl.close();
        }
      },
      ask: async (question: string) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      },
    } : {}),
  };
}

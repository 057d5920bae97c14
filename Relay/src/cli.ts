// The `relay` command (commander). Exit codes: 0 done, 1 failed (the message says why and what to do),
// 2 usage: a wrong command line or an unusable configuration (every problem listed).
//
//   relay start                       run the relay until SIGINT/SIGTERM
//   relay init [--replace-webhook]    register the Dataverse steps and the Partner Center webhook, test them
//   relay login                       sign the Partner Center service account in (device code)
//   relay sync <id>                   queue a sync of an opportunity, a lead or a referral
//   relay runs [--failed] [--json]    list sync runs
//   relay retry <runId> | --all-failed
//   relay reconcile                   queue whatever differs, now
//
// Every command takes `--sandbox [endpoints.json]` to run against the local sandboxes instead of the
// configuration in the environment.
import { connect } from "node:net";
import { createInterface } from "node:readline/promises";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { STEPS } from "../../Plugins/index.ts";
import { ConfigError, loadConfig, sandboxConfig, type RelayConfig } from "./config.ts";
import { PartnerCenterAuthError } from "./auth/partner-center-signin.ts";
import { DataverseSignInError } from "./auth/dataverse-token.ts";
import { PartnerCenterError } from "./clients/partner-center-errors.ts";
import type { WebhookRegistration } from "./clients/partner-center.ts";
import { registerSteps, setRelayUrl } from "./commands/dataverse-steps.ts";
import { ensureWebhookRegistration, sendTestEvent, webhookUrl } from "./commands/partner-center-webhook.ts";
import { createLogger } from "./logger.ts";
import { startQueue } from "./queue.ts";
import { SYNC_MODULES, openApiClients, openClients, relayUserId, startRelay, type RelayClients, type StartOptions, type SyncModules } from "./relay.ts";
import { openDatabase } from "./store/database.ts";
import { getRun, listRuns, type Run } from "./store/runs.ts";
import { listExpiringLinks } from "./sync/links.ts";
import { Lead, Opportunity } from "../../Core/generated/schema.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks a yes/no question; absent when nobody can answer (no terminal). */
  ask?: (question: string) => Promise<boolean>;
  /** Resolves when `relay start` should stop (SIGINT/SIGTERM by default). */
  untilStopped?: () => Promise<string>;
  /** For tests: stand-ins for the engine, worker and reconciler, and start options. */
  sync?: SyncModules;
  startOptions?: StartOptions;
  /** For tests: how long `init` waits for the test event (default 60 s). */
  testEventTimeoutMs?: number;
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

/** The embedded store is one process's: with the relay running on it, one-shot commands must not open it too. */
async function refuseWhileRunningOnEmbeddedStore(config: RelayConfig, command: string): Promise<void> {
  if (!("dataDir" in config.database)) return;
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

async function init(config: RelayConfig, options: { replaceWebhook?: boolean; yes?: boolean; testEvent?: boolean }, io: CliIo): Promise<number> {
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

/** The store, the queue and the engine, without worker or HTTP: for commands that queue syncs. */
async function withEngine<T>(config: RelayConfig, io: CliIo, command: string, work: (engine: ReturnType<SyncModules["createSyncEngine"]>, clients: RelayClients) => Promise<T>): Promise<T> {
  await refuseWhileRunningOnEmbeddedStore(config, command);
  const log = quietLogger(config);
  const clients = await openClients(config, { log });
  try {
    const boss = await startQueue(clients.db);
    try {
      const sync = io.sync ?? SYNC_MODULES;
      const engine = sync.createSyncEngine({
        tenantId: config.tenantKey, db: clients.db, dataverse: clients.dataverse, partnerCenter: clients.partnerCenter,
        settings: clients.settings, relayUserId: await relayUserId(clients.dataverse, log), boss, log, metrics: clients.metrics,
      });
      return await work(engine, clients);
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
    .description("register the Dataverse steps and the Partner Center webhook for this relay, and test them (safe to run again)")
    .option("--replace-webhook", "replace a Partner Center webhook registration that points elsewhere")
    .option("-y, --yes", "never ask: a registration that points elsewhere is kept unless --replace-webhook is given")
    .option("--no-test-event", "do not send Partner Center's test event")
    .action(async (options: { replaceWebhook?: boolean; yes?: boolean; testEvent?: boolean }) => {
      setExit(await init(config(), options, io));
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
      const result = await engine.reconcile();
      io.stdout(`Checked ${result.checked}; queued ${result.enqueued}.`);
    });
    setExit(EXIT.ok);
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
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    cwd: process.cwd(),
    ...(process.stdin.isTTY ? {
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

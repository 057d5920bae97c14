// The relay started in-process against the three sandboxes (started in-process too, on free loopback
// ports), configured exactly as sandbox mode configures it (sandboxConfig), with its log lines captured.
// The sync engine is the real one; the worker and reconciler stay off (background: false) so a test sees
// what the edge queued before anything runs it.
import { createSign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { freePorts, startSandboxes, type RunningSandboxes, type StartOptions as StartSandboxOptions } from "../../../Sandbox/start.ts";
import { sandboxConfig, type RelayConfig, type SandboxConfigOptions } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { startRelay, type RunningRelay, type StartOptions } from "../../src/relay.ts";
import { SYNC_QUEUE } from "../../src/queue.ts";
import { createAgent } from "../../src/http/agent.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose JSON lines land in `lines` (and, to watch a test, on stderr with PCR_TEST_LOG=1). */
export function capturingLogger(level = "info"): { log: Logger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n").filter(Boolean)) {
        raw.push(text);
        lines.push(JSON.parse(text) as LogLine);
        if (process.env.PCR_TEST_LOG) process.stderr.write(`${text}\n`);
      }
      done();
    },
  });
  return { log: createLogger({ level, stream }), lines, text: () => raw.join("\n") };
}

export interface Sandboxes {
  running: RunningSandboxes;
  endpointsFile: string;
  stateDir: string;
  caPem: string;
  /** The key the Partner Center sandbox signs deliveries with, to sign test bodies as it would. */
  signingKeyPem: string;
  certificateUrl: string;
  agent: ReturnType<typeof createAgent>;
  close(): Promise<void>;
}

export async function startSandboxesForRelay(options: Pick<StartSandboxOptions, "dataverseWebhooks"> = {}): Promise<Sandboxes> {
  const stateDir = mkdtempSync(join(tmpdir(), "pcr-relay-edge-"));
  const [identity, partnerCenter, dataverse] = await freePorts(3);
  const running = await startSandboxes({ root: repoRoot, stateDir, ports: { identity: identity!, partnerCenter: partnerCenter!, dataverse: dataverse! }, ...options });
  const tlsDir = dirname(running.endpoints.caFile);
  const caPem = readFileSync(running.endpoints.caFile, "utf8");
  const agent = createAgent({ extraCaPem: caPem });
  return {
    running, endpointsFile: running.endpointsFile, stateDir, caPem, agent,
    signingKeyPem: readFileSync(join(tlsDir, "webhook-signing-key.pem"), "utf8"),
    certificateUrl: `${running.endpoints.partnerCenter}/cert/pcnotifications-dispatch.microsoft.com.cer`,
    close: async () => {
      await running.close();
      await agent.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface TestRelay {
  relay: RunningRelay;
  config: RelayConfig;
  lines: LogLine[];
  logText: () => string;
  close(): Promise<void>;
}

export async function startTestRelay(sandboxes: Sandboxes, options: { config?: SandboxConfigOptions; start?: StartOptions } = {}): Promise<TestRelay> {
  const [port] = await freePorts(1);
  const config = sandboxConfig(sandboxes.endpointsFile, { port: port!, database: { memory: true }, reconcileIntervalMs: 0, ...options.config });
  const { log, lines, text } = capturingLogger();
  const relay = await startRelay(config, { log, background: false, ...options.start });
  return { relay, config, lines, logText: text, close: () => relay.close() };
}

/** Signs a body the way the Partner Center sandbox does (RSA PKCS#1 v1.5, SHA-256). */
export function sign(body: string | Buffer, keyPem: string): string {
  return createSign("RSA-SHA256").update(body).sign(keyPem, "base64");
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const text = await response.body.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.statusCode, body: parsed, text };
}

export async function get(url: string): Promise<Answer> {
  const response = await request(url);
  const text = await response.body.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // text
  }
  return { status: response.statusCode, body: parsed, text };
}

/** A call to a sandbox's /sandbox/ control API over HTTPS. */
export async function control<T = Record<string, unknown>>(sandboxes: Sandboxes, service: "partnerCenter" | "dataverse" | "identity", path: string, body?: unknown, method?: "GET" | "POST" | "DELETE"): Promise<{ status: number; body: T }> {
  const response = await request(`${sandboxes.running.endpoints[service]}${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    dispatcher: sandboxes.agent,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function countRows(relay: RunningRelay, table: "received_events" | "runs"): Promise<number> {
  return Number((await relay.clients.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

/** Sync jobs waiting in the queue, by subject. */
export async function queuedSubjects(relay: RunningRelay): Promise<string[]> {
  const rows = await relay.clients.db.query<{ data: { subject: string } | string }>(
    `SELECT data FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry')`, [SYNC_QUEUE],
  );
  return rows.rows.map((r) => (typeof r.data === "string" ? (JSON.parse(r.data) as { subject: string }) : r.data).subject).sort();
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The user code in Entra ID's device code sentence ("… and enter the code ABC-123 to authenticate."), if any. */
export function deviceUserCodeIn(text: string): string | undefined {
  return /enter the code (\S+) to authenticate/.exec(text)?.[1];
}

/** Signs in on the identity sandbox's device page as `username` would, for the code the relay was given. */
export async function approveDeviceCode(sandboxes: Sandboxes, userCode: string, username: string): Promise<void> {
  const answer = await control(sandboxes, "identity", "/sandbox/device/approve", { user_code: userCode, username });
  if (answer.status !== 200) throw new Error(`the identity sandbox did not approve device code ${userCode}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * Runs `sign` (a `relay login` or a signIn call) and approves the device code the moment the relay shows it:
 * `sign` gets the callback to hand the prompt's text to. No polling, so a slow machine cannot make the
 * approval miss the prompt.
 */
export async function withDeviceCodeApproved<T>(sandboxes: Sandboxes, username: string, sign: (show: (text: string) => void) => Promise<T>): Promise<T> {
  let approval: Promise<void> | undefined;
  const show = (text: string): void => {
    const userCode = deviceUserCodeIn(text);
    if (userCode && !approval) {
      approval = approveDeviceCode(sandboxes, userCode, username);
      approval.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    }
  };
  const result = await sign(show);
  if (!approval) throw new Error("the relay never showed a device code");
  await approval;
  return result;
}

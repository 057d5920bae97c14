// The `relay` command line against the sandboxes: login (device code approved on the identity sandbox),
// the guard that keeps one-shot commands off an embedded store a running relay holds, sync, runs, retry,
// reconcile, start and stop, and the exit codes (0 done, 1 failed, 2 usage).
import { freePorts } from "../../../Sandbox/start.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { Opportunity } from "../../../Core/generated/schema.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import { sandboxConfig } from "../../src/config.ts";
import { openApiClients } from "../../src/relay.ts";
import { capturingLogger, get, startSandboxesForRelay, startTestRelay, waitFor, withDeviceCodeApproved, type Sandboxes } from "./helpers.ts";

let sandboxes: Sandboxes;
let idlePort: number;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  [idlePort] = (await freePorts(1)) as [number];
}, 60_000);
afterAll(async () => {
  await sandboxes?.close();
});

async function relay(args: string[], options: { port?: number; io?: Partial<CliIo>; watch?: (text: string) => void } = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, "--sandbox", sandboxes.endpointsFile], {
    stdout: (text) => {
      out.push(text);
      options.watch?.(text);
    },
    stderr: (text) => err.push(text),
    env: { PCR_LISTEN_PORT: String(options.port ?? idlePort), PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir,
    ...options.io,
  });
  return { code, out, err };
}

test("usage errors exit 2, with commander's message", async () => {
  expect((await relay(["bogus"])).code).toBe(2);
  expect((await relay(["sync"])).code).toBe(2);
  const retry = await relay(["retry"]);
  expect([retry.code, retry.err]).toEqual([2, ["Give a run id or --all-failed (not both)."]]);
  expect((await relay(["runs", "--limit", "0"])).code).toBe(2);
  const err: string[] = [];
  expect(await runCli(["runs"], { stdout: () => undefined, stderr: (text) => err.push(text), env: {}, cwd: sandboxes.stateDir })).toBe(2);
  expect(err[0]).toMatch(/^The relay's configuration is not usable \(9 problems\):\n {2}- PCR_DATAVERSE_URL is not set/);
});

test("login: prints Entra ID's device code message, waits for the sign-in, keeps it", async () => {
  const { code, out, err } = await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => relay(["login"], { watch: show }));
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(out[0]).toMatch(/code/i);
  expect(out.at(-1)).toBe(`Signed in as ${DEMO_USERS.referralsAdmin.username}. The relay keeps this sign-in, encrypted, in its store; it refreshes it by itself.`);
}, 60_000);

test("sync, runs, retry and reconcile queue work for the relay's worker", async () => {
  const clients = openApiClients(sandboxConfig(sandboxes.endpointsFile));
  let opportunityId = "";
  try {
    for await (const row of clients.dataverse.retrieveMultiple(Opportunity.entitySetName, { select: ["opportunityid"], top: 1 })) opportunityId = String(row.opportunityid);
  } finally {
    await clients.close();
  }

  const sync = await relay(["sync", opportunityId]);
  expect(sync.err).toEqual([]);
  expect(sync.code).toBe(0);
  expect(sync.out[0]).toMatch(new RegExp(`^opportunity:${opportunityId}: queued as run [0-9a-f-]{36}; the relay's worker runs it\\.$`));
  const runId = /run ([0-9a-f-]{36})/.exec(sync.out[0]!)![1]!;

  const referral = await relay(["sync", "referral:5eed0002-0000-4000-8000-000000000002"]);
  expect(referral.out[0]).toMatch(/^referral:5eed0002-0000-4000-8000-000000000002: queued as run /);

  const runs = await relay(["runs", "--json"]);
  expect(runs.code).toBe(0);
  const listed = JSON.parse(runs.out.join("\n")) as Array<{ id: string; subject: string; state: string }>;
  expect(listed).toContainEqual(expect.objectContaining({ id: runId, subject: `opportunity:${opportunityId}`, state: "queued" }));
  const table = await relay(["runs"]);
  expect(table.out).toContainEqual(expect.stringContaining(`${runId}  queued`));
  expect((await relay(["runs", "--failed"])).out).toEqual(["No failed runs."]);

  const retry = await relay(["retry", runId]);
  expect([retry.code, retry.out]).toEqual([0, [`opportunity:${opportunityId}: a sync was already waiting as run ${runId}`]]);
  const missing = await relay(["retry", "00000000-0000-4000-8000-000000000000"]);
  expect([missing.code, missing.err]).toEqual([1, ["There is no run 00000000-0000-4000-8000-000000000000; relay runs lists them."]]);
  expect((await relay(["retry", "--all-failed"])).out).toEqual(["No failed runs."]);

  const reconcile = await relay(["reconcile"]);
  expect(reconcile.err).toEqual([]);
  expect(reconcile.code).toBe(0);
  expect(reconcile.out[0]).toMatch(/^Checked \d+; queued \d+\.$/);
}, 60_000);

test("one-shot commands refuse the embedded store while a relay holds it", async () => {
  const running = await startTestRelay(sandboxes);
  try {
    const { code, err } = await relay(["runs"], { port: running.config.listen.port });
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^relay runs opens the relay's store, and a relay is running on 127\.0\.0\.1:\d+ with the embedded store .*Stop the relay first, or give the relay a Postgres database \(DATABASE_URL\)/);
  } finally {
    await running.close();
  }
});

test("start runs the relay until told to stop", async () => {
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const { log } = capturingLogger();
  const done = relay(["start"], { io: { untilStopped: () => stopped, startOptions: { log, background: false } } });
  const url = `http://127.0.0.1:${idlePort}`;
  await waitFor("the relay", async () => (await get(`${url}/healthz`).catch(() => undefined))?.status === 200);
  expect((await get(`${url}/readyz`)).body).toMatchObject({ status: "ready" });
  stop("SIGTERM");
  const { code, out } = await done;
  expect([code, out]).toEqual([0, [`relay listening on ${url}`, "SIGTERM: stopping"]]);
  await expect(get(`${url}/healthz`)).rejects.toThrow();
}, 60_000);

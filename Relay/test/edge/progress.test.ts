// Long-running commands show progress on the terminal (io.progress, a transient line): relay reconcile
// as it compares referrals and deals; relay doctor check by check (test/doctor/doctor.test.ts).
import { freePorts } from "../../../Sandbox/start.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import { startSandboxesForRelay, withDeviceCodeApproved, type Sandboxes } from "./helpers.ts";

let sandboxes: Sandboxes;
let io: CliIo;
const progress: string[] = [];
const out: string[] = [];

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  const [port] = (await freePorts(1)) as [number];
  io = {
    stdout: (text) => out.push(text), stderr: () => undefined, progress: (text) => progress.push(text),
    env: { PCR_LISTEN_PORT: String(port), PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir,
  };
  const login = await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => runCli(["login", "--sandbox", sandboxes.endpointsFile], { ...io, stdout: show }));
  expect(login).toBe(0);
}, 180_000);
afterAll(async () => {
  await sandboxes?.close();
});

test("relay reconcile shows what it compares as it goes", async () => {
  expect(await runCli(["reconcile", "--sandbox", sandboxes.endpointsFile], io)).toBe(0);
  const checked = Number(/^Checked (\d+);/.exec(out.at(-1)!)![1]);
  expect(checked).toBeGreaterThan(0);
  expect(progress).toHaveLength(checked);
  expect(progress[0]).toMatch(/^reconcile: Partner Center's open referrals… checked 1, queued \d+$/);
  expect(progress.at(-1)).toMatch(new RegExp(`^reconcile: .*… checked ${checked}, queued \\d+$`));
}, 60_000);

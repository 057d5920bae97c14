// Long-running commands show progress on the terminal (io.progress, a transient line): relay reconcile
// as it compares referrals and deals; relay doctor check by check (test/doctor/doctor.test.ts).
import { freePorts } from "../../../Sandbox/start.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import { control, startSandboxesForRelay, waitFor, type Sandboxes } from "./helpers.ts";

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
  const approve = (async () => {
    const pending = await waitFor("the device code", async () => (await control<{ value: Array<{ user_code: string }> }>(sandboxes, "identity", "/sandbox/device/pending")).body.value[0], 20_000);
    await control(sandboxes, "identity", "/sandbox/device/approve", { user_code: pending.user_code, username: DEMO_USERS.referralsAdmin.username });
  })();
  expect(await runCli(["login", "--sandbox", sandboxes.endpointsFile], io)).toBe(0);
  await approve;
}, 60_000);
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

// Guided `relay init`, unattended (flags, --yes) against the sandboxes: it signs the service account in
// (the test approves the device code as the service account would), sets the variables, registers the
// steps and the webhook, and ends with relay doctor all green. The relay and the command share one
// Postgres database, as a relay and its admin's CLI do in production. Without a terminal, missing values
// are a usage error naming the flags.
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { DOCTOR_CHECKS } from "../../src/doctor/checks.ts";
import { runCli } from "../../src/cli.ts";
import { postgresDatabase, type TestDatabase } from "../databases.ts";
import { startSandboxesForRelay, startTestRelay, withDeviceCodeApproved, type Sandboxes, type TestRelay } from "./helpers.ts";

let sandboxes: Sandboxes;
let database: TestDatabase;
let t: TestRelay;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  database = await postgresDatabase();
  t = await startTestRelay(sandboxes, { config: { database: { url: database.url! } } });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await database?.drop();
  await sandboxes?.close();
});

test("unattended guided init against the sandboxes ends with relay doctor all green", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => runCli([
    "init", "--sandbox", sandboxes.endpointsFile, "--guided", "--yes", "--replace-webhook",
    "--public-url", t.config.publicUrl, "--deal-value-field", "estimatedvalue", "--country-field", "address1_country",
  ], {
    stdout: (text) => {
      out.push(text);
      show(text);
    },
    stderr: (text) => err.push(text),
    env: { PCR_LISTEN_PORT: String(t.config.listen.port), DATABASE_URL: database.url!, PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir, testEventTimeoutMs: 15_000,
  }));
  expect(err).toEqual([]);
  expect(out.filter((line) => line.startsWith("✖"))).toEqual([]);
  expect(code).toBe(0);
  expect(out).toContain("  not signed in yet: sign in as the service account (with MFA)");
  expect(out).toContain(`  signed in as ${DEMO_USERS.referralsAdmin.username}`);
  expect(out).toContain("  Deal value field: set to estimatedvalue");
  expect(out).toContain("relay init done.");
  expect(out.filter((line) => line.startsWith("✔"))).toHaveLength(DOCTOR_CHECKS.length);
  expect(out.at(-1)).toBe(`All ${DOCTOR_CHECKS.length} checks passed.`);
}, 120_000);

test("without a terminal, missing values are a usage error that names the flags", async () => {
  const err: string[] = [];
  const code = await runCli(["init", "--guided", "--yes", "--tenant", "contoso.onmicrosoft.com"], { stdout: () => undefined, stderr: (text) => err.push(text), env: {}, cwd: sandboxes.stateDir });
  expect(code).toBe(2);
  expect(err[0]).toContain("PCR_DATAVERSE_URL is not set: give --dataverse-url or set the variable");
  expect(err[0]).toContain("PCR_PUBLIC_URL is not set: give --public-url or set the variable");
  expect(err[0]).not.toContain("PCR_TENANT_ID");
});

test("prompts for what flags and environment leave out", async () => {
  const questions: string[] = [];
  const err: string[] = [];
  const answers: Record<string, string> = {
    "Dynamics 365 environment URL (https://<org>.crm.dynamics.com): ": "not a url",
  };
  const code = await runCli(["init", "--guided", "--tenant", "contoso.onmicrosoft.com"], {
    stdout: () => undefined, stderr: (text) => err.push(text), env: {}, cwd: sandboxes.stateDir,
    prompt: async (question) => (questions.push(question), answers[question] ?? ""),
  });
  expect(questions).toEqual([
    "Dynamics 365 environment URL (https://<org>.crm.dynamics.com): ", "Dataverse app registration: client id: ", "Dataverse app registration: client secret: ",
    "Partner Center app registration: client id: ", "Partner Center app registration: client secret: ", "The relay's public HTTPS address: ",
  ]);
  expect(code).toBe(2);
  expect(err[0]).not.toContain("PCR_DATAVERSE_URL is not set");
});

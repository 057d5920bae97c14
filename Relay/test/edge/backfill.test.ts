// relay backfill through runCli against the sandboxes (no relay running: the command runs the syncs in a
// worker of its own): it pages Partner Center's open referrals, queues those not linked yet, shows
// "found N, queued M, synced K of M, failed F" as it goes, and a second run queues nothing. A referral
// whose sync fails makes it exit 1, naming relay runs --failed.
import { freePorts } from "../../../Sandbox/start.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { Lead, Opportunity } from "../../../Core/generated/schema.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import { sandboxConfig } from "../../src/config.ts";
import { openApiClients } from "../../src/relay.ts";
import { control, startSandboxesForRelay, withDeviceCodeApproved, type Sandboxes } from "./helpers.ts";
import { setEnvironmentVariable } from "../../src/commands/dataverse-steps.ts";
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";

let sandboxes: Sandboxes;
let port: number;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  [port] = (await freePorts(1)) as [number];
  const login = await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => cli(["login"], show));
  expect(login).toMatchObject({ code: 0 });
}, 180_000);
afterAll(async () => {
  await sandboxes?.close();
});

async function cli(args: string[], watch?: (text: string) => void): Promise<{ code: number; out: string[]; err: string[]; progress: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io: CliIo = {
    stdout: (text) => {
      out.push(text);
      watch?.(text);
    }, stderr: (text) => err.push(text), progress: (text) => progress.push(text),
    env: { PCR_LISTEN_PORT: String(port), PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir,
  };
  return { code: await runCli([args[0]!, "--sandbox", sandboxes.endpointsFile, ...args.slice(1)], io), out, err, progress };
}

type Referral = { id: string; status: string; createdDateTime: string; direction: string };
const openReferrals = async () => (await control<Referral[]>(sandboxes, "partnerCenter", "/sandbox/referrals")).body.filter((r) => r.status !== "Closed");

/** The Dataverse records that carry a referral id, by referral id. */
async function recordsWithReferral(): Promise<Map<string, string>> {
  const clients = openApiClients(sandboxConfig(sandboxes.endpointsFile, { port }));
  const found = new Map<string, string>();
  try {
    for (const [table, type] of [[Opportunity, "opportunity"], [Lead, "lead"]] as const) {
      for await (const row of clients.dataverse.retrieveMultiple(table.entitySetName, { filter: `${table.columns.referralIdentifier} ne null`, select: [table.columns.referralIdentifier], formattedValues: false })) {
        found.set(String(row[table.columns.referralIdentifier]), type);
      }
    }
  } finally {
    await clients.close();
  }
  return found;
}

test("wrong options are usage errors", async () => {
  expect(await cli(["backfill", "--since", "last week"])).toMatchObject({ code: 2, err: [expect.stringContaining("--since takes a date")] });
  expect(await cli(["backfill", "--status", "Closed"])).toMatchObject({ code: 2, err: [expect.stringContaining("--status takes New or Active")] });
});

test("--since after every referral finds none and queues nothing", async () => {
  const { code, out } = await cli(["backfill", "--since", "2999-01-01"]);
  expect(code).toBe(0);
  expect(out).toEqual(["Found 0 referrals in Partner Center: 0 already in Dynamics 365, 0 not for Dynamics 365, 0 queued."]);
});

/** What the admin does in Power Apps: the Partner Center field mapping variable's value ("" for none). */
async function setFieldMapping(value: string): Promise<void> {
  const clients = openApiClients(sandboxConfig(sandboxes.endpointsFile, { port }));
  try {
    await setEnvironmentVariable(clients.dataverse, EnvironmentVariables.fieldMapping.schemaName, value);
  } finally {
    await clients.close();
  }
}

test("the admin's inbound routing decides what a backfill brings in", async () => {
  const accepted = (await openReferrals()).filter((r) => r.status === "Active");
  expect(accepted.length).toBeGreaterThan(0);
  await setFieldMapping(JSON.stringify({ inbound: { createAs: "none" } }));
  try {
    const { code, out } = await cli(["backfill", "--status", "Active", "--no-wait"]);
    expect(code).toBe(0);
    expect(out[0]).toBe(`Found ${accepted.length} referrals in Partner Center: 0 already in Dynamics 365, ${accepted.length} not for Dynamics 365, 0 queued.`);
  } finally {
    await setFieldMapping("");
  }
}, 60_000);

test("--status New --no-wait queues the referrals waiting for an answer and stops", async () => {
  const waiting = (await openReferrals()).filter((r) => r.status === "New");
  const { code, out, progress } = await cli(["backfill", "--status", "New", "--no-wait"]);
  expect(code).toBe(0);
  expect(out[0]).toMatch(new RegExp(`^Found ${waiting.length} referrals in Partner Center: 0 already in Dynamics 365, \\d+ not for Dynamics 365, \\d+ queued\\.$`));
  expect(out[1]).toMatch(/^Not waiting \(--no-wait\)/);
  expect(progress.every((line) => /^backfill: found \d+, queued \d+…$/.test(line))).toBe(true);
  expect(await recordsWithReferral()).toEqual(new Map());
}, 60_000);

test("the whole backfill: progress as it goes, every open referral for Dynamics 365 synced, exit 0", async () => {
  const open = await openReferrals();
  const { code, out, progress, err } = await cli(["backfill"]);
  expect(err).toEqual([]);
  expect(code).toBe(0);
  const found = /^Found (\d+) referrals in Partner Center: 0 already in Dynamics 365, (\d+) not for Dynamics 365, (\d+) queued\.$/.exec(out[0]!);
  expect(found).not.toBeNull();
  const [total, notFor, q] = [Number(found![1]), Number(found![2]), Number(found![3])];
  expect(total).toBe(open.length);
  expect(q).toBeGreaterThan(0);
  expect(notFor + q).toBe(total);
  expect(out[1]).toBe(`Synced ${q} of ${q}; failed 0.`);
  // The transient line: listing first (found 1 … found N), then the syncs counting up to all of them.
  expect(progress[0]).toMatch(/^backfill: found 1, queued [01]…$/);
  expect(progress).toContain(`backfill: found ${total}, queued ${q}, synced 0 of ${q}, failed 0`);
  expect(progress.at(-1)).toBe(`backfill: found ${total}, queued ${q}, synced ${q} of ${q}, failed 0`);
  const records = await recordsWithReferral();
  expect(records.size).toBe(q);
  for (const id of records.keys()) expect(open.map((r) => r.id)).toContain(id);
}, 90_000);

test("a second backfill queues nothing new", async () => {
  const { code, out, progress } = await cli(["backfill"]);
  expect(code).toBe(0);
  const found = /^Found (\d+) referrals in Partner Center: (\d+) already in Dynamics 365, (\d+) not for Dynamics 365, 0 queued\.$/.exec(out[0]!);
  expect(found).not.toBeNull();
  expect(Number(found![2])).toBeGreaterThan(0);
  expect(out).toHaveLength(1);
  expect(progress.at(-1)).toBe(`backfill: found ${found![1]}, queued 0…`);
}, 60_000);

test("a referral whose sync fails: exit 1, and where to look", async () => {
  // Microsoft sends a co-sell invitation whose customer name is longer than an account name may be (160).
  const customerProfile = {
    name: `Contoso ${"Very Long Name ".repeat(14)}`.trim(), address: { addressLine1: "1 Main St", city: "Seattle", state: "WA", postalCode: "98101", country: "US" },
    size: "51to250employees", team: [{ firstName: "Lee", lastName: "Long", email: "lee.long@contoso-long.example", phoneNumber: "+12065550100" }],
  };
  const sent = await control<{ id: string }>(sandboxes, "partnerCenter", "/sandbox/microsoft/referrals", { name: "Backfill failure", type: "Shared", customerProfile });
  expect(sent.status).toBe(201);
  {
    const { code, out, progress } = await cli(["backfill"]);
    expect(out[0]).toMatch(/, 1 queued\.$/);
    expect(out[1]).toBe("Synced 0 of 1; failed 1.");
    expect(out[2]).toBe("relay runs --failed says what each failed sync needs; fix it, then relay retry --all-failed (or relay backfill again).");
    expect(progress.at(-1)).toMatch(/, queued 1, synced 0 of 1, failed 1$/);
    expect(code).toBe(1);
  }
  const runs = await cli(["runs", "--failed"]);
  expect(runs.out.join("\n")).toContain(`referral:${sent.body.id}`);
}, 90_000);

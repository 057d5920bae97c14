// `relay init` against the sandboxes, with the relay running: it registers the service endpoints, the
// steps and their images in Dataverse, sets the Relay URL variable, registers the Partner Center webhook
// and proves it with the test event. A second run changes nothing. A registration that points elsewhere is
// kept unless the admin confirms (flag or interactive yes). And a Dataverse update of an opportunity fires
// the registered step to the relay, which queues the opportunity.
import { EnvironmentVariables, Opportunity } from "../../../Core/generated/schema.ts";
import { REFERRAL_WEBHOOK_EVENTS } from "../../src/clients/partner-center.ts";
import { literal, type Row } from "../../src/clients/dataverse.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import { STEPS } from "../../../Plugins/index.ts";
import { control, queuedSubjects, startSandboxesForRelay, startTestRelay, waitFor, type Sandboxes, type TestRelay } from "./helpers.ts";

let sandboxes: Sandboxes;
let t: TestRelay;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sandboxes?.close();
});

async function init(args: string[] = [], ask?: (question: string) => Promise<boolean>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (text) => out.push(text), stderr: (text) => err.push(text),
    env: { PCR_LISTEN_PORT: String(t.config.listen.port) }, cwd: sandboxes.stateDir, testEventTimeoutMs: 15_000,
    ...(ask ? { ask } : {}),
  };
  const code = await runCli(["init", "--sandbox", sandboxes.endpointsFile, ...args], io);
  return { code, out, err };
}

async function rows(entitySet: string, filter: string, select: string[]): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of t.relay.clients.dataverse.retrieveMultiple(entitySet, { filter, select, formattedValues: false })) found.push(row);
  return found;
}

const hook = () => `${t.config.publicUrl}/webhooks/partner-center`;

test("the first run registers everything and the test event arrives", async () => {
  const { code, out, err } = await init(["--yes"]);
  expect(err).toEqual([]);
  expect(code).toBe(0);
  for (const { registration } of STEPS) expect(out).toContain(`  ${registration.name}: endpoint created, step created${registration.images.length ? `, images ${registration.images.map((i) => `${i.name} created`).join(", ")}` : ""}`);
  expect(out).toContain(`  Relay URL environment variable: set to ${t.config.publicUrl}`);
  expect(out).toContain(`  registered for ${REFERRAL_WEBHOOK_EVENTS.join(", ")}`);
  expect(out).toContainEqual(expect.stringMatching(/^ {2}test event: arrived \(the relay answered OK\)$/));
  expect(out.at(-1)).toBe("relay init done.");

  const endpoints = await rows("serviceendpoints", "startswith(name,'CoSellRelay.')", ["name", "url", "authtype", "contract"]);
  expect(endpoints.map((e) => [e.name, e.url, e.authtype, e.contract]).sort()).toEqual(STEPS.map(({ registration }) => [
    `CoSellRelay.${registration.name}`, `${t.config.publicUrl}/plugins/${registration.name}`, 5, 8,
  ]).sort());
  const update = (await rows("sdkmessageprocessingsteps", `name eq ${literal("CoSellRelay.opportunity-update: Update of opportunity")}`, ["stage", "mode", "filteringattributes"]))[0];
  expect(update).toMatchObject({ stage: 40, mode: 1 });
  expect(String(update?.filteringattributes).split(",")).toEqual(expect.arrayContaining(["estimatedvalue", "budgetamount", Opportunity.columns.syncWithPartnerCenter]));

  const registration = await t.relay.clients.partnerCenter.getRegistration();
  expect(registration).toMatchObject({ webhookUrl: hook(), webhookEvents: [...REFERRAL_WEBHOOK_EVENTS] });
  const relayUrl = await rows("environmentvariabledefinitions", `schemaname eq ${literal(EnvironmentVariables.relayUrl.schemaName)}`, ["schemaname"]);
  expect(relayUrl).toHaveLength(1);
  expect(await t.relay.clients.settings.refresh()).toMatchObject({ relayUrl: t.config.publicUrl });
});

test("a second run changes nothing", async () => {
  const before = await control<{ requests: { byRoute: Record<string, number> } }>(sandboxes, "dataverse", "/sandbox/stats");
  const { code, out } = await init(["--yes"]);
  expect(code).toBe(0);
  for (const { registration } of STEPS) expect(out).toContain(`  ${registration.name}: endpoint unchanged, step unchanged`);
  expect(out).toContain(`  Relay URL environment variable: already ${t.config.publicUrl}`);
  expect(out).toContain("  already registered");
  const after = await control<{ requests: { byRoute: Record<string, number> } }>(sandboxes, "dataverse", "/sandbox/stats");
  const writes = (stats: Record<string, number>) => Object.entries(stats).filter(([route]) => /^(POST|PATCH|PUT|DELETE) /.test(route)).reduce((sum, [, n]) => sum + n, 0);
  expect(writes(after.body.requests.byRoute)).toBe(writes(before.body.requests.byRoute));
  expect(await t.relay.clients.partnerCenter.getRegistration()).toMatchObject({ webhookUrl: hook() });
});

describe("a registration that points elsewhere", () => {
  const foreign = "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke";
  beforeEach(async () => {
    await t.relay.clients.partnerCenter.replaceRegistration({ webhookUrl: foreign, webhookEvents: ["referral-created", "referral-updated"] });
  });

  test("is shown and kept with --yes (no prompt), and init says what to do", async () => {
    const { code, out } = await init(["--yes", "--no-test-event"]);
    expect(code).toBe(1);
    expect(out).toContain(`  The tenant's webhook registration points elsewhere: ${foreign} (referral-created, referral-updated).`);
    expect(out).toContainEqual(expect.stringContaining("left as it is: run relay init --replace-webhook to replace it"));
    expect(out.at(-1)).toBe("relay init finished with problems (above).");
    expect(await t.relay.clients.partnerCenter.getRegistration()).toMatchObject({ webhookUrl: foreign });
  });

  test("is kept when the admin answers no, replaced when yes", async () => {
    const questions: string[] = [];
    expect((await init(["--no-test-event"], async (q) => (questions.push(q), false))).code).toBe(1);
    expect(questions).toEqual(["  Replace it with the relay's? [y/N] "]);
    expect(await t.relay.clients.partnerCenter.getRegistration()).toMatchObject({ webhookUrl: foreign });
    const { code, out } = await init(["--no-test-event"], async () => true);
    expect(code).toBe(0);
    expect(out).toContain(`  replaced ${foreign} (referral-created, referral-updated)`);
    expect(await t.relay.clients.partnerCenter.getRegistration()).toMatchObject({ webhookUrl: hook(), webhookEvents: [...REFERRAL_WEBHOOK_EVENTS] });
  });

  test("is replaced with --replace-webhook", async () => {
    const { code } = await init(["--replace-webhook", "--yes", "--no-test-event"]);
    expect(code).toBe(0);
    expect(await t.relay.clients.partnerCenter.getRegistration()).toMatchObject({ webhookUrl: hook() });
  });
});

test("a Dataverse update of an opportunity fires the registered step to the relay, which queues the opportunity", async () => {
  const [opportunity] = await rows("opportunities", "statecode eq 0", ["opportunityid", "name"]);
  const id = String(opportunity!.opportunityid);
  const result = await t.relay.clients.dataverse.update(Opportunity.entitySetName, id, { name: "Renamed by the init test", [Opportunity.columns.syncWithPartnerCenter]: true });
  expect(result.updated).toBe(true);
  await control(sandboxes, "dataverse", "/sandbox/webhooks/drain", {});
  const event = await waitFor("the step delivery", async () => (await t.relay.clients.db.query<{ kind: string; run_id: string | null }>(
    "SELECT kind, run_id FROM received_events WHERE source = 'dataverse' AND subject = $1", [`opportunity:${id}`])).rows[0]);
  expect(event.kind).toBe("Update opportunity");
  expect(event.run_id).toEqual(expect.any(String));
  expect(await queuedSubjects(t.relay)).toContain(`opportunity:${id}`);
  const deliveries = await control<{ deliveries: Array<{ step: string; ok: boolean; status: number }> }>(sandboxes, "dataverse", "/sandbox/webhooks");
  expect(deliveries.body.deliveries).toContainEqual(expect.objectContaining({ step: "CoSellRelay.opportunity-update: Update of opportunity", ok: true, status: 200 }));
});

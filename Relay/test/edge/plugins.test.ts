// Dataverse → relay: step deliveries to /plugins/:step. The step key (header or ?code=) is compared in
// constant time: wrong or missing is 401 with a log line; an unknown step is 404; a RemoteExecutionContext
// is recorded and the step's decision acted on (the right subject requested); bodies that are not one are
// 400. Run against the whole relay (sandboxes, real engine, no worker).
import { randomUUID } from "node:crypto";
import { MicrosoftSolution, Opportunity } from "../../../Core/generated/schema.ts";
import { DEFAULT_STEP_KEY_HEADER } from "../../src/clients/dataverse-registration.ts";
import { METRIC_NAMES } from "../../src/metrics.ts";
import { stepKeyMatches } from "../../src/routes/plugins.ts";
import { countRows, get, post, queuedSubjects, startSandboxesForRelay, startTestRelay, type Sandboxes, type TestRelay } from "./helpers.ts";

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

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
const c = Opportunity.columns;

function opportunityContext(id: string, options: { message?: string; sync?: boolean } = {}) {
  return JSON.stringify({
    BusinessUnitId: randomUUID(), CorrelationId: randomUUID(), Depth: 1, InitiatingUserId: randomUUID(), UserId: randomUUID(),
    MessageName: options.message ?? "Update", Mode: 1, Stage: 40, OperationId: randomUUID(), OrganizationId: randomUUID(), OrganizationName: "sandbox",
    PrimaryEntityId: id, PrimaryEntityName: Opportunity.logicalName, SecondaryEntityName: "none", RequestId: null,
    OperationCreatedOn: `/Date(${Date.now()})/`,
    InputParameters: [{ key: "Target", value: { __type: `Entity:${CONTRACTS}`, Attributes: [{ key: "name", value: "Renamed" }], Id: id, LogicalName: Opportunity.logicalName, FormattedValues: [] } }],
    PostEntityImages: [{ key: "PostImage", value: { Attributes: [{ key: c.syncWithPartnerCenter, value: options.sync ?? true }], Id: id, LogicalName: Opportunity.logicalName, FormattedValues: [] } }],
    PreEntityImages: [], OutputParameters: [], SharedVariables: [], ParentContext: null,
  }).replace(/\//g, "\\/");
}

const stepUrl = (step: string, query = "") => `${t.relay.url}/plugins/${step}${query}`;
const withKey = (key: string = t.config.stepKey): Record<string, string> => ({ [DEFAULT_STEP_KEY_HEADER]: key });

test("the right key in the header: recorded, and the opportunity's sync requested and queued", async () => {
  const id = randomUUID();
  const answer = await post(stepUrl("opportunity-update"), opportunityContext(id), withKey());
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ status: "accepted", subjects: [`opportunity:${id}`], runIds: [expect.any(String)] });
  const event = (await t.relay.clients.db.query<{ source: string; kind: string; subject: string; run_id: string }>(
    "SELECT source, kind, subject, run_id FROM received_events WHERE subject = $1", [`opportunity:${id}`])).rows;
  expect(event).toEqual([{ source: "dataverse", kind: "Update opportunity", subject: `opportunity:${id}`, run_id: (answer.body.runIds as string[])[0] }]);
  expect(await queuedSubjects(t.relay)).toContain(`opportunity:${id}`);
});

test("the key as ?code= (WebhookKey auth) works too, and is never written to the log", async () => {
  const id = randomUUID();
  const answer = await post(stepUrl("opportunity-create", `?code=${encodeURIComponent(t.config.stepKey)}`), opportunityContext(id, { message: "Create" }), {});
  expect(answer).toMatchObject({ status: 200, body: { status: "accepted", subjects: [`opportunity:${id}`] } });
  expect(t.logText()).not.toContain(t.config.stepKey);
  expect(t.logText()).not.toContain(encodeURIComponent(t.config.stepKey));
});

test("a solution removed: the opportunity from the pre image is synced", async () => {
  const opportunityId = randomUUID();
  const body = JSON.stringify({
    MessageName: "Delete", Mode: 1, Stage: 40, PrimaryEntityId: randomUUID(), PrimaryEntityName: MicrosoftSolution.logicalName,
    InputParameters: [{ key: "Target", value: { __type: `EntityReference:${CONTRACTS}`, Id: randomUUID(), LogicalName: MicrosoftSolution.logicalName, Name: null } }],
    PreEntityImages: [{ key: "PreImage", value: { Attributes: [{ key: MicrosoftSolution.lookups.opportunity.column, value: { __type: `EntityReference:${CONTRACTS}`, Id: opportunityId, LogicalName: "opportunity", Name: "Deal" } }], Id: randomUUID(), LogicalName: MicrosoftSolution.logicalName } }],
  });
  const answer = await post(stepUrl("solution-delete"), body, withKey());
  expect(answer.body).toMatchObject({ status: "accepted", subjects: [`opportunity:${opportunityId}`] });
});

test("a deal that is none of Partner Center's business is recorded and answered 200, nothing queued", async () => {
  const id = randomUUID();
  const runs = await countRows(t.relay, "runs");
  const answer = await post(stepUrl("opportunity-update"), opportunityContext(id, { sync: false }), withKey());
  expect(answer).toMatchObject({ status: 200, body: { status: "ignored", reason: "Sync with Partner Center is No and the opportunity was never shared" } });
  expect(await countRows(t.relay, "runs")).toBe(runs);
  expect((await t.relay.clients.db.query("SELECT kind FROM received_events WHERE payload->>'PrimaryEntityId' = $1", [id])).rows).toEqual([{ kind: "Update opportunity" }]);
});

describe("wrong or missing key: 401 and a log line, nothing recorded", () => {
  test.each([
    ["a wrong key", withKey("x".repeat(43)), "wrong-step-key"],
    ["a key of another length", withKey("short"), "wrong-step-key"],
    ["an empty key header", { [DEFAULT_STEP_KEY_HEADER]: "" }, "missing-step-key"],
    ["no key", {}, "missing-step-key"],
  ])("%s", async (_name, headers, reason) => {
    const events = await countRows(t.relay, "received_events");
    const before = t.lines.length;
    const answer = await post(stepUrl("opportunity-update"), opportunityContext(randomUUID()), headers as Record<string, string>);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: reason, message: "The step key is missing or wrong." } });
    expect(t.lines.slice(before)).toContainEqual(expect.objectContaining({ level: 40, reason, msg: "Dataverse step delivery refused: the step key is missing or wrong" }));
    expect(await countRows(t.relay, "received_events")).toBe(events);
  });

  test("a wrong ?code= is refused too, and an unknown step does not reveal itself without the key", async () => {
    expect((await post(stepUrl("opportunity-update", "?code=nope"), opportunityContext(randomUUID()))).status).toBe(401);
    expect((await post(stepUrl("no-such-step"), opportunityContext(randomUUID()))).status).toBe(401);
  });

  test("the comparison takes any length without throwing, and only the exact key matches", () => {
    const key = "k".repeat(43);
    expect(stepKeyMatches(key, key)).toBe(true);
    expect(stepKeyMatches(`${key}x`, key)).toBe(false);
    expect(stepKeyMatches(key.slice(1), key)).toBe(false);
    expect(stepKeyMatches("", key)).toBe(false);
    expect(stepKeyMatches(undefined, key)).toBe(false);
  });
});

test("an unknown step (with the right key): 404", async () => {
  const answer = await post(stepUrl("no-such-step"), opportunityContext(randomUUID()), withKey());
  expect(answer).toMatchObject({ status: 404, body: { error: { code: "unknown-step", message: "The relay has no step 'no-such-step'. Run relay init to register the current steps." } } });
});

test.each([
  ["not JSON", "{", "The body is not JSON."],
  ["not a RemoteExecutionContext", JSON.stringify({ hello: "world" }), "The body is not a RemoteExecutionContext: the body has no MessageName: it is not a RemoteExecutionContext."],
  ["InputParameters as a map", JSON.stringify({ MessageName: "Update", PrimaryEntityName: "opportunity", Stage: 40, InputParameters: {} }), "The body is not a RemoteExecutionContext: the body.InputParameters is not a [{key, value}] list."],
])("a body that is %s: 400", async (_name, body, message) => {
  const answer = await post(stepUrl("opportunity-update"), body, withKey());
  expect(answer).toMatchObject({ status: 400, body: { error: { code: "malformed", message } } });
});

test("deliveries are counted by step, refusals by reason", async () => {
  const metrics = await get(`${t.relay.url}/metrics`);
  expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksReceived}\\{source="dataverse",event="opportunity-update"\\} [1-9]`));
  expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksRefused}\\{source="dataverse",reason="wrong-step-key"\\} [1-9]`));
  expect(metrics.text).toMatch(new RegExp(`${METRIC_NAMES.webhooksRefused}\\{source="dataverse",reason="unknown-step"\\} 1`));
});

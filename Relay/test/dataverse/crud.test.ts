// The Web API client against the Dataverse sandbox: CRUD on opportunity with generated names, the
// referral identifier alternate key, If-Match updates, upsert, one-request $expand, paging, $batch
// (reads in one round trip, Content-ID references, a failing change set rolling back) and actions.
import { randomUUID } from "node:crypto";
import { MicrosoftSolution, MicrosoftSolutionDetail, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import {
  DataverseError, createRequest, retrieveRequest, updateRequest, type DataverseClient, type Row,
} from "../../src/clients/dataverse.ts";
import { environmentVariablesRequest } from "../../src/settings/environment-variables.ts";
import { collect, routeDelta, startEnvironment, type TestEnvironment } from "./helpers.ts";

const OPPORTUNITIES = Opportunity.entitySetName;
const { referralIdentifier, syncWithPartnerCenter, syncStatus } = Opportunity.columns;

let env: TestEnvironment;
let client: DataverseClient;
let account: { accountid: string; name: string };
let contactId: string;

beforeAll(async () => {
  env = await startEnvironment();
  client = env.client();
  const accounts = await collect(client.retrieveMultiple<{ accountid: string; name: string; _primarycontactid_value: string } & Row>("accounts", {
    select: ["accountid", "name", "_primarycontactid_value"], filter: "address1_country eq 'NL'",
  }));
  account = accounts[0]!;
  contactId = accounts[0]!._primarycontactid_value;
}, 60_000);
afterAll(async () => {
  await env?.close();
});

function newOpportunity(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Relay test ${randomUUID().slice(0, 8)}`,
    estimatedvalue: 50000,
    [referralIdentifier]: randomUUID(),
    [syncWithPartnerCenter]: true,
    "parentaccountid@odata.bind": `/accounts(${account.accountid})`,
    "customerid_account@odata.bind": `/accounts(${account.accountid})`,
    "parentcontactid@odata.bind": `/contacts(${contactId})`,
    ...extra,
  };
}

test("create answers the id from OData-EntityId; retrieve answers the row with its ETag and formatted values; delete removes it", async () => {
  const body = newOpportunity({ [syncStatus]: PartnerCenterSyncStatus.Pending });
  const created = await client.create(OPPORTUNITIES, body);
  expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

  const row = await client.retrieve(OPPORTUNITIES, created.id, { select: ["name", "estimatedvalue", referralIdentifier, syncStatus] });
  expect(row).toMatchObject({ name: body.name, estimatedvalue: 50000, [referralIdentifier]: body[referralIdentifier], [syncStatus]: PartnerCenterSyncStatus.Pending });
  expect(row!["@odata.etag"]).toMatch(/^W\/"\d+"$/);
  expect(row![`${syncStatus}@OData.Community.Display.V1.FormattedValue`]).toBe("Pending");

  const withRepresentation = await client.create(OPPORTUNITIES, newOpportunity(), { returnRepresentation: true, select: ["name"] });
  expect(withRepresentation.row).toMatchObject({ name: expect.stringMatching(/^Relay test/) });
  expect(withRepresentation.etag).toMatch(/^W\//);

  expect(await client.delete(OPPORTUNITIES, created.id)).toEqual({ deleted: true });
  expect(await client.retrieve(OPPORTUNITIES, created.id)).toBeUndefined();
  expect(await client.delete(OPPORTUNITIES, created.id)).toEqual({ deleted: false, reason: "missing" });
});

test("retrieve by the referral identifier alternate key", async () => {
  const body = newOpportunity();
  const { id } = await client.create(OPPORTUNITIES, body);
  const byKey = await client.retrieve(OPPORTUNITIES, { [referralIdentifier]: body[referralIdentifier] as string }, { select: ["opportunityid", "name"] });
  expect(byKey).toMatchObject({ opportunityid: id, name: body.name });
  expect(await client.retrieve(OPPORTUNITIES, { [referralIdentifier]: "no-such-referral" })).toBeUndefined();
  // Quotes in a key value are escaped, not injected.
  expect(await client.retrieve(OPPORTUNITIES, { [referralIdentifier]: "it's 'quoted'" })).toBeUndefined();
  // Characters that mean something in a URL travel encoded.
  const odd = `a/b#c?d&e%f'g ${randomUUID().slice(0, 4)}`;
  const upserted = await client.upsert(OPPORTUNITIES, { [referralIdentifier]: odd }, { name: "Odd key" });
  expect(await client.retrieve(OPPORTUNITIES, { [referralIdentifier]: odd }, { select: ["opportunityid", referralIdentifier] }))
    .toMatchObject({ opportunityid: upserted.id, [referralIdentifier]: odd });
});

test("update with the current ETag succeeds; with a stale one it answers updated:false and changes nothing", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const read = await client.retrieve(OPPORTUNITIES, id, { select: ["name", "estimatedvalue"] });
  const staleEtag = read!["@odata.etag"];

  expect(await client.update(OPPORTUNITIES, id, { estimatedvalue: 60000 }, { ifMatch: staleEtag })).toEqual({ updated: true });
  const afterFirst = await client.retrieve(OPPORTUNITIES, id, { select: ["estimatedvalue"] });
  expect(afterFirst).toMatchObject({ estimatedvalue: 60000 });
  expect(afterFirst!["@odata.etag"]).not.toBe(staleEtag);

  expect(await client.update(OPPORTUNITIES, id, { estimatedvalue: 1 }, { ifMatch: staleEtag })).toEqual({ updated: false, reason: "changed" });
  const afterStale = await client.retrieve(OPPORTUNITIES, id, { select: ["estimatedvalue"] });
  expect(afterStale).toMatchObject({ estimatedvalue: 60000 });
  expect(afterStale!["@odata.etag"]).toBe(afterFirst!["@odata.etag"]);

  const withRow = await client.update(OPPORTUNITIES, id, { name: "Renamed" }, { ifMatch: afterStale!["@odata.etag"], returnRepresentation: true, select: ["name"] });
  expect(withRow).toMatchObject({ updated: true, row: { name: "Renamed" }, etag: expect.stringMatching(/^W\//) });
});

test("update defaults to If-Match: * so a missing record is never created", async () => {
  const missing = randomUUID();
  expect(await client.update(OPPORTUNITIES, missing, { name: "Ghost" })).toEqual({ updated: false, reason: "missing" });
  expect(await client.update(OPPORTUNITIES, { [referralIdentifier]: `ghost-${missing}` }, { name: "Ghost" })).toEqual({ updated: false, reason: "missing" });
  expect(await client.retrieve(OPPORTUNITIES, missing)).toBeUndefined();
});

test("upsert by alternate key creates, then updates the same record", async () => {
  const referral = randomUUID();
  const key = { [referralIdentifier]: referral };
  const first = await client.upsert(OPPORTUNITIES, key, { name: "Upserted", estimatedvalue: 10 }, { returnRepresentation: true, select: ["name"] });
  expect(first).toMatchObject({ created: true, row: { name: "Upserted" } });
  const second = await client.upsert(OPPORTUNITIES, key, { estimatedvalue: 20 });
  expect(second.id).toBe(first.id);
  expect(await client.retrieve(OPPORTUNITIES, key, { select: ["name", "estimatedvalue"] })).toMatchObject({ name: "Upserted", estimatedvalue: 20 });
});

test("opportunity, account, contact and Microsoft solutions in one request with $expand", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const detail = await client.retrieve(MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: "SOL-AZ-MIGRATE" });
  await client.create(MicrosoftSolution.entitySetName, {
    [MicrosoftSolution.columns.primaryName]: "Azure migration",
    [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/${OPPORTUNITIES}(${id})`,
    [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${String(detail![MicrosoftSolutionDetail.primaryId])})`,
  });

  const before = await env.stats();
  const row = await client.retrieve(OPPORTUNITIES, id, {
    select: ["name", "estimatedvalue", syncWithPartnerCenter],
    expand: [
      { property: "parentaccountid", select: ["name", "address1_country"] },
      { property: "parentcontactid", select: ["fullname", "emailaddress1"] },
      {
        property: Opportunity.collections.microsoftPartnerCenterSolutions,
        select: [MicrosoftSolution.columns.primaryName],
        expand: [{ property: MicrosoftSolution.lookups.solutionDetail.navigationProperty, select: [MicrosoftSolutionDetail.columns.solutionIdentifier] }],
      },
    ],
  });
  const after = await env.stats();
  expect(after.requests.total - before.requests.total).toBe(1);
  expect(row).toMatchObject({
    parentaccountid: { name: account.name, address1_country: "NL" },
    parentcontactid: { fullname: expect.any(String) },
    [Opportunity.collections.microsoftPartnerCenterSolutions]: [{
      [MicrosoftSolution.columns.primaryName]: "Azure migration",
      [MicrosoftSolution.lookups.solutionDetail.navigationProperty]: { [MicrosoftSolutionDetail.columns.solutionIdentifier]: "SOL-AZ-MIGRATE" },
    }],
  });
});

test("the worker's read in one round trip: opportunity with $expand and the environment variables in one $batch", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const before = await env.stats();
  const [opportunity, settings] = await client.batch([
    retrieveRequest(OPPORTUNITIES, id, { select: ["name"], expand: [{ property: "parentaccountid", select: ["name"] }] }),
    environmentVariablesRequest(),
  ]);
  const after = await env.stats();
  expect(after.requests.total - before.requests.total).toBe(1);
  expect(routeDelta(before, after, "POST /$batch")).toBe(1);
  expect(opportunity).toMatchObject({ outcome: "ok", value: { parentaccountid: { name: account.name } } });
  expect(opportunity.outcome === "ok" && opportunity.value?.["@odata.etag"]).toMatch(/^W\//);
  expect(settings).toMatchObject({ outcome: "ok", value: { dealValueField: "estimatedvalue", displayCheckMarkInName: false } });
});

test("paging follows @odata.nextLink with a small odata.maxpagesize until every row is read", async () => {
  const tag = `Paging ${randomUUID().slice(0, 6)}`;
  const creates = Array.from({ length: 23 }, (_, i) => createRequest("accounts", { name: `${tag} ${String(i).padStart(2, "0")}` }));
  const outcomes = await client.batch(creates, { changeSet: true });
  expect(outcomes.every((o) => o.outcome === "ok")).toBe(true);

  const before = await env.stats();
  const pages = await collect(client.pages("accounts", { select: ["name"], filter: `startswith(name,'${tag}')`, orderBy: ["name"], maxPageSize: 5 }));
  const after = await env.stats();
  expect(pages.map((p) => p.value.length)).toEqual([5, 5, 5, 5, 3]);
  expect(pages.slice(0, -1).every((p) => typeof p.nextLink === "string" && p.nextLink.includes("skiptoken"))).toBe(true);
  expect(routeDelta(before, after, "GET /accounts")).toBe(5);

  const names = (await collect(client.retrieveMultiple<{ name: string } & Row>("accounts", { select: ["name"], filter: `startswith(name,'${tag}')`, orderBy: ["name"], maxPageSize: 4 }))).map((r) => r.name);
  expect(names).toHaveLength(23);
  expect(names[22]).toBe(`${tag} 22`);
});

test("a $batch change set refers to earlier parts with $n", async () => {
  const name = `Batch parent ${randomUUID().slice(0, 6)}`;
  const [parent, child] = await client.batch([
    createRequest("accounts", { name }),
    createRequest("contacts", { firstname: "Batch", lastname: "Child", "parentcustomerid_account@odata.bind": "$1" }),
  ], { changeSet: true });
  expect(parent.outcome).toBe("ok");
  expect(child.outcome).toBe("ok");
  if (parent.outcome !== "ok" || child.outcome !== "ok") return;
  const contact = await client.retrieve("contacts", child.value.id, { select: ["_parentcustomerid_value"] });
  expect(contact?._parentcustomerid_value).toBe(parent.value.id);
});

test("a $batch change set that fails rolls back as a whole", async () => {
  const name = `Rolled back ${randomUUID().slice(0, 6)}`;
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const outcomes = await client.batch([
    createRequest("accounts", { name }),
    updateRequest(OPPORTUNITIES, id, { estimatedvalue: 777 }),
    updateRequest(OPPORTUNITIES, id, { no_such_column: 1 }),
  ], { changeSet: true });
  expect(outcomes.map((o) => o.outcome)).toEqual(["rolledBack", "rolledBack", "failed"]);
  const failed = outcomes[2];
  expect(failed.outcome === "failed" && failed.error).toBeInstanceOf(DataverseError);
  expect(await collect(client.retrieveMultiple("accounts", { select: ["name"], filter: `name eq '${name}'` }))).toEqual([]);
  expect(await client.retrieve(OPPORTUNITIES, id, { select: ["estimatedvalue"] })).toMatchObject({ estimatedvalue: 50000 });
});

test("without a change set a batch stops at the first failure; later requests are reported as not run", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const outcomes = await client.batch([
    retrieveRequest(OPPORTUNITIES, id, { select: ["name"] }),
    retrieveRequest(OPPORTUNITIES, id, { select: ["no_such_column"] }),
    retrieveRequest(OPPORTUNITIES, id, { select: ["name"] }),
  ]);
  expect(outcomes.map((o) => o.outcome)).toEqual(["ok", "failed", "notRun"]);
  const continued = await client.batch([
    retrieveRequest(OPPORTUNITIES, id, { select: ["no_such_column"] }),
    retrieveRequest(OPPORTUNITIES, id, { select: ["name"] }),
  ], { continueOnError: true });
  expect(continued.map((o) => o.outcome)).toEqual(["failed", "ok"]);
});

test("WinOpportunity through executeAction closes the opportunity as won", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const answer = await client.executeAction("WinOpportunity", {
    Status: 3,
    OpportunityClose: { subject: "Won with Microsoft", "opportunityid@odata.bind": `/${OPPORTUNITIES}(${id})` },
  });
  expect(answer).toBeUndefined();
  expect(await client.retrieve(OPPORTUNITIES, id, { select: ["statecode", "statuscode"] })).toMatchObject({ statecode: 1, statuscode: 3 });
  const again = await client.executeAction("WinOpportunity", { Status: 3, OpportunityClose: { subject: "Twice", "opportunityid@odata.bind": `/${OPPORTUNITIES}(${id})` } }).catch((e: unknown) => e);
  expect(again).toBeInstanceOf(DataverseError);
  expect((again as DataverseError).status).toBe(400);
});

test("QualifyLead as a bound action answers the records it created", async () => {
  const { id } = await client.create("leads", { subject: "Relay lead", firstname: "Quinn", lastname: "Lead", companyname: `Qualify ${randomUUID().slice(0, 6)}` });
  const answer = await client.executeAction<{ value: Array<Record<string, unknown>> }>("QualifyLead",
    { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 },
    { bound: { entitySet: "leads", key: id } });
  expect(answer?.value.map((r) => r["@odata.type"]).sort()).toEqual(["#Microsoft.Dynamics.CRM.account", "#Microsoft.Dynamics.CRM.contact", "#Microsoft.Dynamics.CRM.opportunity"]);
  expect(await client.retrieve("leads", id, { select: ["statecode"] })).toMatchObject({ statecode: 1 });
});

test("a column that does not exist is a DataverseError that points at the environment variables", async () => {
  const { id } = await client.create(OPPORTUNITIES, newOpportunity());
  const error = await client.retrieve(OPPORTUNITIES, id, { select: ["estimatedvalue_typo"] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataverseError);
  expect(error).toMatchObject({ code: "0x80060888", whatToDo: expect.stringMatching(/'estimatedvalue_typo' does not exist.*Deal value field/) });
  const table = await client.retrieve("no_such_things", id).catch((e: unknown) => e);
  expect(table).toMatchObject({ status: 404, whatToDo: expect.stringMatching(/solution is imported/) });
});

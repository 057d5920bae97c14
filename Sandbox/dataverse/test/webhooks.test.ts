// Webhook steps (dataverse.md §8): service endpoints, steps and images registered through the Web API
// fire on Create, Update, Delete, Win, Lose and QualifyLead, posting the RemoteExecutionContext with the
// endpoint's auth and the x-ms-dynamics-* headers. Synchronous steps that fail cancel the operation;
// asynchronous ones are sent after the commit, retried after 502/503/504 and recorded as system jobs.
import { Opportunity, Lead } from "../../../Core/generated/schema.ts";
import { startSandbox, startReceiver, kv, type TestSandbox, type Receiver, type Received, ORG_URL } from "./helpers.ts";

let sandbox: TestSandbox;
let receiver: Receiver;
beforeAll(async () => {
  sandbox = await startSandbox();
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.control("POST", "/sandbox/reset");
  await sandbox.control("POST", "/sandbox/seed");
  receiver.received.length = 0;
  receiver.respond = () => 200;
});

const idFrom = (entityId: unknown): string => /\(([0-9a-f-]{36})\)$/.exec(String(entityId))![1]!;
const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";

interface StepOptions {
  mode?: 0 | 1;
  stage?: 10 | 20 | 40;
  filteringattributes?: string;
  images?: Array<{ type: 0 | 1 | 2; alias: string; attributes?: string }>;
  endpoint?: string;
  asyncautodelete?: boolean;
}

async function endpoint(path: string, authtype: number, authvalue: string, url = receiver.url): Promise<string> {
  const res = await sandbox.api("POST", "serviceendpoints", { body: { name: `hook ${path}`, contract: 8, url: `${url}${path}`, authtype, authvalue, messageformat: 2 } });
  expect(res.status).toBe(204);
  return idFrom(res.headers["odata-entityid"]);
}

async function step(message: string, table: string, endpointId: string, options: StepOptions = {}): Promise<string> {
  const messageId = (await sandbox.api("GET", `sdkmessages?$select=name&$filter=name eq '${message}'`)).body.value[0].sdkmessageid;
  const filters = await sandbox.api("GET", `sdkmessagefilters?$select=sdkmessagefilterid&$filter=primaryobjecttypecode eq '${table}' and _sdkmessageid_value eq ${messageId}`);
  expect(filters.body.value.length).toBe(1);
  const res = await sandbox.api("POST", "sdkmessageprocessingsteps", {
    body: {
      name: `hook: ${message} of ${table}`, mode: options.mode ?? 1, rank: 1, stage: options.stage ?? 40, supporteddeployment: 0, asyncautodelete: options.asyncautodelete ?? false,
      ...(options.filteringattributes ? { filteringattributes: options.filteringattributes } : {}),
      "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${endpointId})`,
      "sdkmessageid@odata.bind": `/sdkmessages(${messageId})`,
      "sdkmessagefilterid@odata.bind": `/sdkmessagefilters(${filters.body.value[0].sdkmessagefilterid})`,
    },
  });
  expect(res.status).toBe(204);
  const stepId = idFrom(res.headers["odata-entityid"]);
  for (const image of options.images ?? []) {
    const created = await sandbox.api("POST", "sdkmessageprocessingstepimages", {
      body: { name: image.alias, entityalias: image.alias, imagetype: image.type, messagepropertyname: "Target", ...(image.attributes ? { attributes: image.attributes } : {}), "sdkmessageprocessingstepid@odata.bind": `/sdkmessageprocessingsteps(${stepId})` },
    });
    expect(created.status).toBe(204);
  }
  return stepId;
}

async function drained(): Promise<Received[]> {
  await sandbox.control("POST", "/sandbox/webhooks/drain");
  return receiver.received;
}

async function userId(who: "seller" | "relay"): Promise<string> {
  return (await sandbox.api("GET", "WhoAmI", { as: who })).body.UserId;
}

function image(context: Record<string, unknown>, kind: "PreEntityImages" | "PostEntityImages", alias: string): Record<string, unknown> {
  return kv(context[kind] as Array<{ key: string; value: unknown }>, alias) as Record<string, unknown>;
}

function attr(entity: Record<string, unknown>, name: string): unknown {
  return kv(entity.Attributes as Array<{ key: string; value: unknown }>, name);
}

test("QualifyLead fires its step with the message, input parameters, images and the caller; the records it creates fire Create", async () => {
  const hook = await endpoint("/qualify", 5, '<settings><setting name="x-api-key" value="s3cret"/><setting name="x-other" value="two"/></settings>');
  const stepId = await step("QualifyLead", Lead.logicalName, hook, { images: [{ type: 0, alias: "pre", attributes: "statecode,subject" }, { type: 1, alias: "post" }] });
  await step("Create", Opportunity.logicalName, hook);
  const lead = idFrom((await sandbox.api("POST", "leads", { as: "seller", body: { subject: "Qualify me", lastname: "Visser", companyname: "Visser BV", [Lead.columns.referralIdentifier]: "REF-Q" } })).headers["odata-entityid"]);
  const res = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { as: "seller", body: { CreateAccount: true, CreateContact: false, CreateOpportunity: true, Status: 3 } });
  expect(res.status).toBe(200);
  const received = await drained();
  expect(received.map((r) => r.headers["x-ms-dynamics-request-name"]).sort()).toEqual(["Create", "QualifyLead"]);
  const qualify = received.find((r) => r.headers["x-ms-dynamics-request-name"] === "QualifyLead")!;
  expect(qualify.method).toBe("POST");
  expect(qualify.url).toBe("/qualify");
  expect(qualify.headers).toMatchObject({
    "content-type": "application/json", "x-api-key": "s3cret", "x-other": "two", "x-ms-dynamics-entity-name": "lead",
    "x-ms-dynamics-organization": new URL(ORG_URL).hostname, "x-ms-correlation-request-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
  });
  expect(qualify.text).toContain("\\/Date("); // DataContract JSON escapes '/'
  const context = qualify.body;
  const seller = await userId("seller");
  expect(context).toMatchObject({
    MessageName: "QualifyLead", PrimaryEntityName: "lead", PrimaryEntityId: lead, Stage: 40, Mode: 1, Depth: 1,
    InitiatingUserId: seller, UserId: seller, CorrelationId: qualify.headers["x-ms-correlation-request-id"], SecondaryEntityName: "none",
    OwningExtension: { Id: stepId, LogicalName: "sdkmessageprocessingstep" }, OrganizationName: "contososandbox",
  });
  expect(kv(context.InputParameters, "LeadId")).toEqual({ __type: `EntityReference:${CONTRACTS}`, Id: lead, KeyAttributes: [], LogicalName: "lead", Name: null, RowVersion: null });
  expect(kv(context.InputParameters, "CreateAccount")).toBe(true);
  expect(kv(context.InputParameters, "Status")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 3 });
  const createdEntities = kv(context.OutputParameters, "CreatedEntities") as Array<{ LogicalName: string }>;
  expect(createdEntities.map((e) => e.LogicalName)).toEqual(["account", "opportunity"]);
  const pre = image(context, "PreEntityImages", "pre");
  expect(pre.Attributes).toEqual([{ key: "statecode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 0 } }, { key: "subject", value: "Qualify me" }]);
  const post = image(context, "PostEntityImages", "post");
  expect(attr(post, "statecode")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 1 });
  expect(attr(post, Lead.columns.referralIdentifier)).toBe("REF-Q");
  expect(post.FormattedValues).toEqual(expect.arrayContaining([{ key: "statecode", value: "Qualified" }]));
  const create = received.find((r) => r.headers["x-ms-dynamics-request-name"] === "Create")!.body;
  expect(create.PrimaryEntityName).toBe("opportunity");
  expect(create.ParentContext.MessageName).toBe("QualifyLead");
  const target = kv(create.InputParameters, "Target") as Record<string, unknown>;
  expect(target.__type).toBe(`Entity:${CONTRACTS}`);
  expect(attr(target, "originatingleadid")).toMatchObject({ LogicalName: "lead", Id: lead });
  expect(attr(target, "createdby")).toMatchObject({ LogicalName: "systemuser", Id: seller });
});

test("WinOpportunity fires a synchronous pre-operation and an asynchronous post-operation Win step with images and WebhookKey auth", async () => {
  const hook = await endpoint("/win", 4, "key-123");
  await step("Win", Opportunity.logicalName, hook, { mode: 0, stage: 20, images: [{ type: 0, alias: "pre" }] });
  await step("Win", Opportunity.logicalName, hook, { images: [{ type: 2, alias: "both", attributes: "statecode,statuscode,actualvalue,estimatedvalue" }] });
  await step("Lose", Opportunity.logicalName, hook);
  const id = idFrom((await sandbox.api("POST", "opportunities", { as: "seller", body: { name: "Win me", estimatedvalue: 900 } })).headers["odata-entityid"]);
  expect(receiver.received.length).toBe(0);
  const res = await sandbox.api("POST", "WinOpportunity", { as: "relay", body: { Status: 3, OpportunityClose: { subject: "Won", actualrevenue: 950, "opportunityid@odata.bind": `/opportunities(${id})` } } });
  expect(res.status).toBe(204);
  expect(receiver.received.length).toBe(1); // the synchronous step ran inside the request
  const received = await drained();
  expect(received.length).toBe(2);
  for (const r of received) {
    expect(r.url).toBe("/win?code=key-123");
    expect(r.headers["x-ms-dynamics-request-name"]).toBe("Win");
    expect(r.headers["x-ms-dynamics-entity-name"]).toBe("opportunity");
  }
  const [sync, async] = received.map((r) => r.body);
  const relay = await userId("relay");
  expect(sync).toMatchObject({ MessageName: "Win", Stage: 20, Mode: 0, IsInTransaction: true, PrimaryEntityId: id, InitiatingUserId: relay, UserId: relay, PostEntityImages: [] });
  expect(attr(image(sync, "PreEntityImages", "pre"), "statecode")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 0 });
  const close = kv(sync.InputParameters, "OpportunityClose") as Record<string, unknown>;
  expect(close.LogicalName).toBe("opportunityclose");
  expect(attr(close, "actualrevenue")).toEqual({ __type: `Money:${CONTRACTS}`, Value: 950 });
  expect(attr(close, "opportunityid")).toMatchObject({ Id: id, LogicalName: "opportunity" });
  expect(kv(sync.InputParameters, "Status")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 3 });
  expect(async).toMatchObject({ MessageName: "Win", Stage: 40, Mode: 1, IsInTransaction: false });
  expect(async.OperationId).not.toBe("00000000-0000-0000-0000-000000000000");
  expect(attr(image(async, "PreEntityImages", "both"), "statecode")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 0 });
  const post = image(async, "PostEntityImages", "both");
  expect(attr(post, "statecode")).toEqual({ __type: `OptionSetValue:${CONTRACTS}`, Value: 1 });
  expect(attr(post, "actualvalue")).toEqual({ __type: `Money:${CONTRACTS}`, Value: 950 });
  expect((post.Attributes as unknown[]).length).toBe(4);
});

test("a lead disqualification fires the Update step whose filtering attributes it touches, with pre and post images and query-string auth", async () => {
  const hook = await endpoint("/lead", 6, '<settings><setting name="tenant" value="contoso"/><setting name="sig" value="abc"/></settings>');
  const stepId = await step("Update", Lead.logicalName, hook, { filteringattributes: "statecode,statuscode", images: [{ type: 0, alias: "PreImage", attributes: "statecode,statuscode" }, { type: 1, alias: "PostImage", attributes: "statecode,statuscode" }] });
  await step("Update", Lead.logicalName, hook, { filteringattributes: "subject" });
  const lead = idFrom((await sandbox.api("POST", "leads", { as: "seller", body: { subject: "Not now", lastname: "Smit" } })).headers["odata-entityid"]);
  expect((await sandbox.api("PATCH", `leads(${lead})`, { as: "seller", body: { statecode: 2, statuscode: 6 } })).status).toBe(204);
  const received = await drained();
  expect(received.length).toBe(1);
  const delivery = received[0]!;
  expect(delivery.url).toBe("/lead?tenant=contoso&sig=abc");
  const context = delivery.body;
  expect(context).toMatchObject({ MessageName: "Update", PrimaryEntityName: "lead", PrimaryEntityId: lead, Stage: 40, Mode: 1, OwningExtension: { Id: stepId } });
  const target = kv(context.InputParameters, "Target") as Record<string, unknown>;
  expect((target.Attributes as Array<{ key: string }>).map((a) => a.key).sort()).toEqual(["leadid", "modifiedby", "modifiedon", "modifiedonbehalfby", "statecode", "statuscode"]);
  expect(attr(target, "modifiedon")).toMatch(/^\/Date\(\d+\)\/$/);
  expect(image(context, "PreEntityImages", "PreImage").Attributes).toEqual([{ key: "statecode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 0 } }, { key: "statuscode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 1 } }]);
  expect(image(context, "PostEntityImages", "PostImage").Attributes).toEqual([{ key: "statecode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 2 } }, { key: "statuscode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 6 } }]);
  expect(context.ParentContext).toMatchObject({ Stage: 30, MessageName: "Update" });
});

test("a failing synchronous step cancels the operation and the caller gets the step's error", async () => {
  const hook = await endpoint("/veto", 4, "k");
  await step("Update", Opportunity.logicalName, hook, { mode: 0, stage: 10 });
  const id = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "Guarded" } })).headers["odata-entityid"]);
  receiver.respond = () => 500;
  const res = await sandbox.api("PATCH", `opportunities(${id})`, { body: { name: "Changed" } });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe("0x80040265");
  expect(res.body.error.message).toBe("The webhook 'hook /veto' registered for step 'hook: Update of opportunity' failed: HTTP status 500.");
  expect((await sandbox.api("GET", `opportunities(${id})?$select=name`)).body.name).toBe("Guarded");
});

test("a failing synchronous post-operation step rolls back the write it follows", async () => {
  const hook = await endpoint("/post", 4, "k");
  await step("Create", "account", hook, { mode: 0, stage: 40 });
  receiver.respond = () => ({ status: 400, body: "refused" });
  const res = await sandbox.api("POST", "accounts", { body: { name: "Never stored" } });
  expect(res.status).toBe(400);
  expect((await sandbox.api("GET", "accounts?$filter=name eq 'Never stored'")).body.value).toEqual([]);
});

test("the endpoint's answer can be passed back when configured (syncFailureMessage: body)", async () => {
  const other = await startSandbox({ webhooks: { syncFailureMessage: "body", retryDelayMs: 10 } });
  try {
    const res0 = await other.api("POST", "serviceendpoints", { body: { name: "veto", contract: 8, url: `${receiver.url}/veto`, authtype: 4, authvalue: "k", messageformat: 2 } });
    const hook = idFrom(res0.headers["odata-entityid"]);
    const messageId = (await other.api("GET", "sdkmessages?$filter=name eq 'Create'")).body.value[0].sdkmessageid;
    await other.api("POST", "sdkmessageprocessingsteps", { body: { name: "veto", mode: 0, stage: 20, rank: 1, "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${hook})`, "sdkmessageid@odata.bind": `/sdkmessages(${messageId})` } });
    receiver.respond = () => ({ status: 422, body: JSON.stringify({ message: "Referral is locked in Partner Center." }) });
    const res = await other.api("POST", "accounts", { body: { name: "x" } });
    expect(res.body.error.message).toBe("Referral is locked in Partner Center.");
  } finally {
    await other.close();
  }
});

test("asynchronous steps: one more attempt after 503, recorded as system jobs (30 Succeeded, 31 Failed)", async () => {
  const hook = await endpoint("/flaky", 4, "k");
  const stepId = await step("Create", "contact", hook);
  let calls = 0;
  receiver.respond = () => (++calls === 1 ? 503 : 200);
  await sandbox.api("POST", "contacts", { body: { lastname: "Retry" } });
  await drained();
  expect(receiver.received.length).toBe(2);
  receiver.respond = () => 503;
  await sandbox.api("POST", "contacts", { body: { lastname: "Fails" } });
  await drained();
  expect(receiver.received.length).toBe(4);
  const jobs = await sandbox.api("GET", `asyncoperations?$select=statuscode,statecode,retrycount,message&$filter=_owningextensionid_value eq ${stepId}&$orderby=createdon`);
  expect(jobs.body.value.map((j: { statuscode: number }) => j.statuscode).sort()).toEqual([30, 31]);
  expect(jobs.body.value.find((j: { statuscode: number }) => j.statuscode === 31).message).toMatch(/HTTP status 503/);
  receiver.respond = () => 500; // not retried
  await sandbox.api("POST", "contacts", { body: { lastname: "Once" } });
  await drained();
  expect(receiver.received.length).toBe(5);
});

test("asyncautodelete removes the system job of a successful delivery", async () => {
  const hook = await endpoint("/auto", 4, "k");
  const stepId = await step("Create", "contact", hook, { asyncautodelete: true });
  await sandbox.api("POST", "contacts", { body: { lastname: "Gone" } });
  await drained();
  expect(receiver.received.length).toBe(1);
  expect((await sandbox.api("GET", `asyncoperations?$filter=_owningextensionid_value eq ${stepId}`)).body.value).toEqual([]);
});

test("Create and Delete contexts: Create has the new record as Target and id as output; Delete a Target reference and a pre image", async () => {
  const hook = await endpoint("/crud", 4, "k");
  await step("Create", "account", hook, { images: [{ type: 1, alias: "post" }] });
  await step("Delete", "account", hook, { images: [{ type: 0, alias: "pre", attributes: "name" }] });
  const id = idFrom((await sandbox.api("POST", "accounts", { body: { name: "Short-lived" } })).headers["odata-entityid"]);
  await sandbox.api("DELETE", `accounts(${id})`);
  const [create, remove] = (await drained()).map((r) => r.body);
  expect(create.MessageName).toBe("Create");
  expect(kv(create.OutputParameters, "id")).toBe(id);
  expect(attr(kv(create.InputParameters, "Target") as Record<string, unknown>, "name")).toBe("Short-lived");
  expect(attr(image(create, "PostEntityImages", "post"), "name")).toBe("Short-lived");
  expect(remove.MessageName).toBe("Delete");
  expect(kv(remove.InputParameters, "Target")).toMatchObject({ __type: `EntityReference:${CONTRACTS}`, Id: id, LogicalName: "account" });
  expect(image(remove, "PreEntityImages", "pre").Attributes).toEqual([{ key: "name", value: "Short-lived" }]);
  expect(remove.PostEntityImages).toEqual([]);
});

test("disabled steps and MSCRM.BypassCustomPluginExecution do not fire", async () => {
  const hook = await endpoint("/quiet", 4, "k");
  const stepId = await step("Create", "account", hook);
  await sandbox.api("POST", "accounts", { body: { name: "Bypass" }, headers: { "mscrm.bypasscustompluginexecution": "true" } });
  await sandbox.api("PATCH", `sdkmessageprocessingsteps(${stepId})`, { body: { statecode: 1, statuscode: 2 } });
  await sandbox.api("POST", "accounts", { body: { name: "Disabled" } });
  expect(await drained()).toEqual([]);
});

test("HTTPS endpoints are trusted through the sandbox CA", async () => {
  const secure = await startReceiver({ certPem: sandbox.ca.server.certPem, keyPem: sandbox.ca.server.keyPem });
  try {
    const hook = await endpoint("/tls", 4, "k", secure.url);
    await step("Create", "account", hook, { mode: 0, stage: 40 });
    const res = await sandbox.api("POST", "accounts", { body: { name: "Over TLS" } });
    expect(res.status).toBe(204);
    expect(secure.received.length).toBe(1);
    expect(secure.received[0]!.body.MessageName).toBe("Create");
  } finally {
    await secure.close();
  }
});

test("the authvalue can be written but never read back", async () => {
  const hook = await endpoint("/secret", 4, "do-not-show");
  const res = await sandbox.api("GET", `serviceendpoints(${hook})`);
  expect(res.status).toBe(200);
  expect(res.body).not.toHaveProperty("authvalue");
  expect((await sandbox.api("GET", `serviceendpoints(${hook})?$select=authvalue`)).status).toBe(400);
});

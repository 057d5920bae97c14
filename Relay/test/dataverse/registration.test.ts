// Registering the relay's webhook through the Web API: a second run changes nothing, a changed key or
// URL is written, and a registered step fires on an opportunity update to a small local receiver.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import { Opportunity } from "../../../Core/generated/schema.ts";
import { literal, type DataverseClient } from "../../src/clients/dataverse.ts";
import {
  DEFAULT_STEP_KEY_HEADER, authSettings, registerWebhook, type WebhookEndpointSpec, type WebhookStepSpec,
} from "../../src/clients/dataverse-registration.ts";
import { collect, startEnvironment, type TestEnvironment } from "./helpers.ts";

interface Delivery {
  url: string;
  headers: IncomingMessage["headers"];
  body: { MessageName?: string; PrimaryEntityName?: string; PrimaryEntityId?: string; PostEntityImages?: Array<{ key: string; value: { Attributes: Array<{ key: string; value: unknown }> } }> };
}

let env: TestEnvironment;
let client: DataverseClient;
let receiver: Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  env = await startEnvironment();
  client = env.client();
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      deliveries.push({ url: request.url ?? "", headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Delivery["body"] });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/dataverse`;
}, 60_000);
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await env?.close();
});

const steps: WebhookStepSpec[] = [
  {
    message: "Update", table: Opportunity.logicalName, mode: "Asynchronous",
    filteringAttributes: [Opportunity.columns.syncWithPartnerCenter, "name", "estimatedvalue"],
    images: [{ name: "PostImage", type: "Post", attributes: ["name", Opportunity.columns.syncWithPartnerCenter] }],
  },
  { message: "Create", table: Opportunity.logicalName, mode: "Asynchronous" },
];

async function countNamed(entitySet: string, name: string): Promise<number> {
  return (await collect(client.retrieveMultiple(entitySet, { select: ["name"], filter: `name eq ${literal(name)}` }))).length;
}

async function drain(): Promise<void> {
  await env.control("POST", "/sandbox/webhooks/drain");
}

test("the HttpHeader key is written as the settings XML Dataverse expects, escaped", () => {
  expect(authSettings({ kind: "httpHeader", value: 'a"<b>&' })).toEqual({
    authtype: 5, authvalue: `<settings><setting name="${DEFAULT_STEP_KEY_HEADER}" value="a&quot;&lt;b&gt;&amp;"/></settings>`,
  });
  expect(authSettings({ kind: "webhookKey", value: "k" })).toEqual({ authtype: 4, authvalue: "k" });
});

test("registering twice creates the endpoint and steps once; a registered step fires on an opportunity update", async () => {
  const key = randomBytes(24).toString("base64url");
  const endpoint: WebhookEndpointSpec = { name: `relay-${randomUUID().slice(0, 8)}`, url: receiverUrl, auth: { kind: "httpHeader", value: key } };

  const first = await registerWebhook(client, { endpoint, steps });
  expect(first.endpoint.change).toBe("created");
  expect(first.steps.map((s) => [s.name, s.change])).toEqual([
    [`${endpoint.name}: Update of opportunity`, "created"],
    [`${endpoint.name}: Create of opportunity`, "created"],
  ]);
  expect(first.steps[0]!.images.map((i) => i.change)).toEqual(["created"]);

  const rowsBefore = (await env.stats()).rows;
  const etags = async (): Promise<unknown[]> => [
    (await client.retrieve("serviceendpoints", first.endpoint.id, { select: ["name"] }))?.["@odata.etag"],
    ...(await Promise.all(first.steps.map(async (s) => (await client.retrieve("sdkmessageprocessingsteps", s.id, { select: ["name"] }))?.["@odata.etag"]))),
  ];
  const etagsBefore = await etags();
  const second = await registerWebhook(client, { endpoint, steps });
  expect(second.endpoint).toEqual({ ...first.endpoint, change: "unchanged" });
  expect(second.steps.map((s) => s.change)).toEqual(["unchanged", "unchanged"]);
  expect(second.steps[0]!.images.map((i) => i.change)).toEqual(["unchanged"]);
  expect(second.steps.map((s) => s.id)).toEqual(first.steps.map((s) => s.id));
  expect((await env.stats()).rows).toEqual(rowsBefore);
  expect(await etags()).toEqual(etagsBefore);
  expect(await countNamed("serviceendpoints", endpoint.name)).toBe(1);
  expect(await countNamed("sdkmessageprocessingsteps", `${endpoint.name}: Update of opportunity`)).toBe(1);

  const step = await client.retrieve("sdkmessageprocessingsteps", first.steps[0]!.id, { select: ["stage", "mode", "filteringattributes", "_eventhandler_value", "asyncautodelete"] });
  expect(step).toMatchObject({ stage: 40, mode: 1, _eventhandler_value: first.endpoint.id, asyncautodelete: true });

  // A seller's change to a filtered column reaches the receiver with the key header and the post image.
  const { id } = await client.create(Opportunity.entitySetName, { name: "Webhook target", estimatedvalue: 1000 });
  await drain();
  deliveries.length = 0;
  await client.update(Opportunity.entitySetName, id, { [Opportunity.columns.syncWithPartnerCenter]: true });
  await drain();
  const updates = deliveries.filter((d) => d.body.MessageName === "Update");
  expect(updates).toHaveLength(1);
  expect(updates[0]!.headers[DEFAULT_STEP_KEY_HEADER]).toBe(key);
  expect(updates[0]!.headers["x-ms-dynamics-entity-name"]).toBe(Opportunity.logicalName);
  expect(updates[0]!.body).toMatchObject({ PrimaryEntityName: Opportunity.logicalName, PrimaryEntityId: id });
  const image = updates[0]!.body.PostEntityImages?.find((i) => i.key === "PostImage")?.value.Attributes ?? [];
  expect(image).toEqual(expect.arrayContaining([{ key: Opportunity.columns.syncWithPartnerCenter, value: true }]));

  // A column outside the filtering attributes does not fire the step.
  deliveries.length = 0;
  await client.update(Opportunity.entitySetName, id, { description: "not mapped" });
  await drain();
  expect(deliveries.filter((d) => d.body.MessageName === "Update")).toHaveLength(0);
});

test("a new key, URL or filter is written on the next run; images no longer asked for are removed", async () => {
  const endpoint: WebhookEndpointSpec = { name: `relay-${randomUUID().slice(0, 8)}`, url: receiverUrl, auth: { kind: "httpHeader", value: "first-key-0123456789" } };
  const first = await registerWebhook(client, { endpoint, steps });

  const rotated = { ...endpoint, url: `${receiverUrl}?v=2`, auth: { kind: "httpHeader" as const, value: "second-key-0123456789" } };
  const changedSteps: WebhookStepSpec[] = [{ ...steps[0]!, filteringAttributes: ["name"], images: [] }, steps[1]!];
  const second = await registerWebhook(client, { endpoint: rotated, steps: changedSteps });
  expect(second.endpoint).toEqual({ ...first.endpoint, change: "updated" });
  expect(second.steps.map((s) => s.change)).toEqual(["updated", "unchanged"]);
  expect(second.steps[0]!.images).toEqual([{ name: "PostImage", id: first.steps[0]!.images[0]!.id, change: "deleted" }]);

  const third = await registerWebhook(client, { endpoint: rotated, steps: changedSteps });
  expect([third.endpoint.change, ...third.steps.map((s) => s.change)]).toEqual(["unchanged", "unchanged", "unchanged"]);

  const { id } = await client.create(Opportunity.entitySetName, { name: "Rotated" });
  await drain();
  const created = deliveries.filter((d) => d.body.MessageName === "Create" && d.body.PrimaryEntityId === id && d.url.endsWith("?v=2"));
  expect(created.map((d) => d.headers[DEFAULT_STEP_KEY_HEADER])).toEqual(["second-key-0123456789"]);
});

test("an unknown message or table is a clear error", async () => {
  const endpoint: WebhookEndpointSpec = { name: `relay-${randomUUID().slice(0, 8)}`, url: receiverUrl, auth: { kind: "webhookKey", value: "k-0123456789" } };
  await expect(registerWebhook(client, { endpoint, steps: [{ message: "Frobnicate", table: Opportunity.logicalName }] })).rejects.toThrow(/no SDK message named 'Frobnicate'/);
  await expect(registerWebhook(client, { endpoint, steps: [{ message: "Update", table: "no_such_table" }] })).rejects.toThrow(/does not offer the 'Update' message for the table 'no_such_table'/);
  await expect(registerWebhook(client, { endpoint, steps: [{ message: "Update", table: Opportunity.logicalName, stage: 20 }] })).rejects.toThrow(/post-operation/);
});

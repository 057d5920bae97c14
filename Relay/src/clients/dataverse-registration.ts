// Registering the relay's webhook in an environment through the Web API (dataverse.md §8), for
// `relay init`: a service endpoint (contract 8 Webhook) and the steps that post to it, with their
// images. Everything is found by name first and changed only where it differs, so running the
// registration again changes nothing.
//
// The endpoint's `authvalue` can be written but never read back, so the endpoint's description carries
// a short SHA-256 fingerprint of it: a changed key is noticed and written, an unchanged one is not.
// The key must be a random secret (relay init makes one), never a password.
import { createHash } from "node:crypto";
import type { DataverseClient } from "./dataverse.ts";
import { literal } from "./dataverse-query.ts";
import type { Row } from "./dataverse-query.ts";

/** The header the relay's step intake checks (dataverse.md §8.1, auth type 5). */
export const DEFAULT_STEP_KEY_HEADER = "x-pcr-step-key";

export const ServiceEndpointContract = { Webhook: 8 } as const;
export const ServiceEndpointAuthType = { WebhookKey: 4, HttpHeader: 5 } as const;
export const ServiceEndpointMessageFormat = { Json: 2 } as const;
export const StepStage = { PreValidation: 10, PreOperation: 20, PostOperation: 40 } as const;
export const StepMode = { Synchronous: 0, Asynchronous: 1 } as const;
export const ImageType = { Pre: 0, Post: 1, Both: 2 } as const;

export type WebhookAuth =
  /** Sent as a header on every delivery (auth type 5). */
  | { kind: "httpHeader"; header?: string; value: string }
  /** Sent as `?code=<value>` (auth type 4). */
  | { kind: "webhookKey"; value: string };

export interface WebhookEndpointSpec {
  /** Unique name; the registration finds the endpoint by it. */
  name: string;
  url: string;
  auth: WebhookAuth;
  description?: string;
}

export interface WebhookStepImageSpec {
  name: string;
  /** Key of the image in Pre/PostEntityImages (default: the name). */
  entityAlias?: string;
  type: keyof typeof ImageType;
  /** Columns in the image; all columns when absent. */
  attributes?: readonly string[];
  /** Default: `Target` for Create and Update, `Id` for Delete and the rest. */
  messagePropertyName?: string;
}

export interface WebhookStepSpec {
  /** Unique name; default `<endpoint name>: <message> of <table>`. */
  name?: string;
  /** SDK message: Create, Update, Delete, Win, Lose, QualifyLead… */
  message: string;
  /** Logical name of the table (the message filter's primaryobjecttypecode). */
  table: string;
  stage?: (typeof StepStage)[keyof typeof StepStage];
  mode?: keyof typeof StepMode;
  rank?: number;
  /** Update steps fire only when one of these columns is in the request. */
  filteringAttributes?: readonly string[];
  /** Delete the system job when an asynchronous delivery succeeded (default true). */
  asyncAutoDelete?: boolean;
  description?: string;
  images?: readonly WebhookStepImageSpec[];
}

export type Change = "created" | "updated" | "unchanged";

export interface RegisteredImage {
  name: string;
  id: string;
  change: Change | "deleted";
}

export interface RegisteredStep {
  name: string;
  id: string;
  change: Change;
  images: RegisteredImage[];
}

export interface RegistrationResult {
  endpoint: { name: string; id: string; change: Change };
  steps: RegisteredStep[];
}

const SET = {
  endpoints: "serviceendpoints",
  messages: "sdkmessages",
  filters: "sdkmessagefilters",
  steps: "sdkmessageprocessingsteps",
  images: "sdkmessageprocessingstepimages",
} as const;

type Client = Pick<DataverseClient, "retrieveMultiple" | "create" | "update" | "delete">;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** `authtype` and `authvalue` for an endpoint's auth (HttpHeader settings XML, or the webhook key). */
export function authSettings(auth: WebhookAuth): { authtype: number; authvalue: string } {
  if (auth.kind === "webhookKey") return { authtype: ServiceEndpointAuthType.WebhookKey, authvalue: auth.value };
  const header = auth.header ?? DEFAULT_STEP_KEY_HEADER;
  if (!/^[A-Za-z0-9-]+$/.test(header)) throw new TypeError(`Not an HTTP header name: ${header}`);
  return { authtype: ServiceEndpointAuthType.HttpHeader, authvalue: `<settings><setting name="${header}" value="${escapeXml(auth.value)}"/></settings>` };
}

function describeEndpoint(spec: WebhookEndpointSpec, auth: { authtype: number; authvalue: string }): string {
  const fingerprint = createHash("sha256").update(`${auth.authtype}\n${auth.authvalue}`).digest("hex").slice(0, 16);
  return `${spec.description ?? "Partner Center co-sell relay webhook"} [key sha256:${fingerprint}]`;
}

function normalizeAttributes(value: unknown): string {
  if (typeof value !== "string" && !Array.isArray(value)) return "";
  const list = Array.isArray(value) ? value.map(String) : value.split(",");
  return [...new Set(list.map((a) => a.trim().toLowerCase()).filter(Boolean))].sort().join(",");
}

/** Columns of `wanted` whose value differs from `row` (attribute lists compared as sets). */
function differences(row: Row, wanted: Record<string, unknown>, lists: readonly string[] = []): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(wanted)) {
    const current = row[column];
    const same = lists.includes(column) ? normalizeAttributes(current) === normalizeAttributes(value) : (current ?? null) === (value ?? null);
    if (!same) changed[column] = value;
  }
  return changed;
}

async function findByName(client: Client, entitySet: string, name: string, select: readonly string[], extraFilter?: string): Promise<Row | undefined> {
  const rows: Row[] = [];
  for await (const row of client.retrieveMultiple(entitySet, { select, filter: `name eq ${literal(name)}${extraFilter ? ` and ${extraFilter}` : ""}`, formattedValues: false })) rows.push(row);
  if (rows.length > 1) throw new Error(`There are ${rows.length} ${entitySet} named '${name}'; delete all but one in the Plugin Registration Tool, then run the registration again.`);
  return rows[0];
}

async function updateOrThrow(client: Client, entitySet: string, id: string, changes: Record<string, unknown>, etag: string | undefined, what: string): Promise<void> {
  const result = await client.update(entitySet, id, changes, { ifMatch: etag ?? "*" });
  if (!result.updated) throw new Error(`Could not update ${what}: it was ${result.reason === "changed" ? "changed by someone else meanwhile" : "deleted meanwhile"}. Run the registration again.`);
}

/** Creates the webhook service endpoint, or brings the existing one of that name up to date. */
export async function ensureServiceEndpoint(client: Client, spec: WebhookEndpointSpec): Promise<RegistrationResult["endpoint"]> {
  const auth = authSettings(spec.auth);
  const wanted = {
    contract: ServiceEndpointContract.Webhook,
    url: spec.url,
    authtype: auth.authtype,
    messageformat: ServiceEndpointMessageFormat.Json,
    description: describeEndpoint(spec, auth),
  };
  const existing = await findByName(client, SET.endpoints, spec.name, ["serviceendpointid", "name", ...Object.keys(wanted)]);
  if (!existing) {
    const { id } = await client.create(SET.endpoints, { name: spec.name, ...wanted, authvalue: auth.authvalue });
    return { name: spec.name, id, change: "created" };
  }
  const id = String(existing.serviceendpointid);
  const changed = differences(existing, wanted);
  if (Object.keys(changed).length === 0) return { name: spec.name, id, change: "unchanged" };
  // The key cannot be compared (it is never readable); the fingerprint in the description stands for it.
  if ("description" in changed || "authtype" in changed) changed.authvalue = auth.authvalue;
  await updateOrThrow(client, SET.endpoints, id, changed, existing["@odata.etag"], `service endpoint '${spec.name}'`);
  return { name: spec.name, id, change: "updated" };
}

class MessageLookup {
  readonly #client: Client;
  readonly #messages = new Map<string, string>();
  readonly #filters = new Map<string, string>();

  constructor(client: Client) {
    this.#client = client;
  }

  async message(name: string): Promise<string> {
    const known = this.#messages.get(name);
    if (known) return known;
    const found: Row[] = [];
    for await (const row of this.#client.retrieveMultiple(SET.messages, { select: ["sdkmessageid", "name"], filter: `name eq ${literal(name)}`, formattedValues: false })) found.push(row);
    const id = found[0]?.sdkmessageid;
    if (typeof id !== "string") throw new Error(`Dataverse has no SDK message named '${name}'.`);
    this.#messages.set(name, id);
    return id;
  }

  async filter(messageId: string, message: string, table: string): Promise<string> {
    const key = `${messageId}:${table}`;
    const known = this.#filters.get(key);
    if (known) return known;
    const found: Row[] = [];
    for await (const row of this.#client.retrieveMultiple(SET.filters, {
      select: ["sdkmessagefilterid"], filter: `primaryobjecttypecode eq ${literal(table)} and _sdkmessageid_value eq ${messageId}`, formattedValues: false,
    })) found.push(row);
    const id = found[0]?.sdkmessagefilterid;
    if (typeof id !== "string") throw new Error(`Dataverse does not offer the '${message}' message for the table '${table}'.`);
    this.#filters.set(key, id);
    return id;
  }
}

function stepName(endpoint: WebhookEndpointSpec, step: WebhookStepSpec): string {
  return step.name ?? `${endpoint.name}: ${step.message} of ${step.table}`;
}

async function ensureImages(client: Client, stepId: string, step: WebhookStepSpec): Promise<RegisteredImage[]> {
  const existing: Row[] = [];
  for await (const row of client.retrieveMultiple(SET.images, {
    select: ["sdkmessageprocessingstepimageid", "name", "entityalias", "imagetype", "messagepropertyname", "attributes"],
    filter: `_sdkmessageprocessingstepid_value eq ${stepId}`, formattedValues: false,
  })) existing.push(row);
  const results: RegisteredImage[] = [];
  const wantedNames = new Set<string>();
  for (const image of step.images ?? []) {
    wantedNames.add(image.name);
    const wanted = {
      entityalias: image.entityAlias ?? image.name,
      imagetype: ImageType[image.type],
      messagepropertyname: image.messagePropertyName ?? (step.message === "Create" || step.message === "Update" ? "Target" : "Id"),
      attributes: image.attributes?.length ? normalizeAttributes([...image.attributes]) : null,
    };
    const current = existing.find((row) => row.name === image.name);
    if (!current) {
      const { id } = await client.create(SET.images, { name: image.name, ...wanted, "sdkmessageprocessingstepid@odata.bind": `/${SET.steps}(${stepId})` });
      results.push({ name: image.name, id, change: "created" });
      continue;
    }
    const id = String(current.sdkmessageprocessingstepimageid);
    const changed = differences(current, wanted, ["attributes"]);
    if (Object.keys(changed).length) {
      await updateOrThrow(client, SET.images, id, changed, current["@odata.etag"], `image '${image.name}'`);
      results.push({ name: image.name, id, change: "updated" });
    } else {
      results.push({ name: image.name, id, change: "unchanged" });
    }
  }
  // Images the relay no longer asks for would only make deliveries bigger.
  for (const row of existing) {
    if (typeof row.name === "string" && !wantedNames.has(row.name)) {
      const id = String(row.sdkmessageprocessingstepimageid);
      await client.delete(SET.images, id);
      results.push({ name: row.name, id, change: "deleted" });
    }
  }
  return results;
}

/** Creates a step posting to the endpoint, or brings the existing one of that name up to date. */
export async function ensureWebhookStep(client: Client, endpointId: string, endpoint: WebhookEndpointSpec, step: WebhookStepSpec, lookup = new MessageLookup(client)): Promise<RegisteredStep> {
  const name = stepName(endpoint, step);
  const messageId = await lookup.message(step.message);
  const filterId = await lookup.filter(messageId, step.message, step.table);
  const mode = StepMode[step.mode ?? "Asynchronous"];
  const stage = step.stage ?? StepStage.PostOperation;
  if (mode === StepMode.Asynchronous && stage !== StepStage.PostOperation) throw new TypeError(`Step '${name}': asynchronous steps run in the post-operation stage (40) only.`);
  const wanted = {
    stage,
    mode,
    rank: step.rank ?? 1,
    supporteddeployment: 0,
    asyncautodelete: mode === StepMode.Asynchronous ? (step.asyncAutoDelete ?? true) : false,
    filteringattributes: step.filteringAttributes?.length ? normalizeAttributes([...step.filteringAttributes]) : null,
    description: step.description ?? `${step.message} of ${step.table}, posted to the Partner Center co-sell relay`,
  };
  const links = {
    _eventhandler_value: endpointId,
    _sdkmessageid_value: messageId,
    _sdkmessagefilterid_value: filterId,
  };
  const binds = {
    "eventhandler_serviceendpoint@odata.bind": `/${SET.endpoints}(${endpointId})`,
    "sdkmessageid@odata.bind": `/${SET.messages}(${messageId})`,
    "sdkmessagefilterid@odata.bind": `/${SET.filters}(${filterId})`,
  };
  const existing = await findByName(client, SET.steps, name, ["sdkmessageprocessingstepid", "name", ...Object.keys(wanted), ...Object.keys(links)]);
  let id: string;
  let change: Change;
  if (!existing) {
    id = (await client.create(SET.steps, { name, ...wanted, ...binds })).id;
    change = "created";
  } else {
    id = String(existing.sdkmessageprocessingstepid);
    const changed = differences(existing, wanted, ["filteringattributes"]);
    const relinks = differences(Object.fromEntries(Object.entries(existing).map(([k, v]) => [k, typeof v === "string" ? v.toLowerCase() : v])), links);
    if ("_eventhandler_value" in relinks) changed["eventhandler_serviceendpoint@odata.bind"] = binds["eventhandler_serviceendpoint@odata.bind"];
    if ("_sdkmessageid_value" in relinks) changed["sdkmessageid@odata.bind"] = binds["sdkmessageid@odata.bind"];
    if ("_sdkmessagefilterid_value" in relinks) changed["sdkmessagefilterid@odata.bind"] = binds["sdkmessagefilterid@odata.bind"];
    if (Object.keys(changed).length) {
      await updateOrThrow(client, SET.steps, id, changed, existing["@odata.etag"], `step '${name}'`);
      change = "updated";
    } else {
      change = "unchanged";
    }
  }
  return { name, id, change, images: await ensureImages(client, id, step) };
}

/** The endpoint and all its steps; safe to run again (a second run reports everything unchanged). */
export async function registerWebhook(client: Client, registration: { endpoint: WebhookEndpointSpec; steps: readonly WebhookStepSpec[] }): Promise<RegistrationResult> {
  const endpoint = await ensureServiceEndpoint(client, registration.endpoint);
  const lookup = new MessageLookup(client);
  const steps: RegisteredStep[] = [];
  for (const step of registration.steps) steps.push(await ensureWebhookStep(client, endpoint.id, registration.endpoint, step, lookup));
  return { endpoint, steps };
}

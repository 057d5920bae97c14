// Webhook steps: which registered sdkmessageprocessingsteps match an operation, and the
// RemoteExecutionContext each one is sent (dataverse.md §8.3, §8.4). Pure: building a delivery
// does no I/O; webhooks.ts sends it.
import { DOMParser } from "@xmldom/xmldom";
import type { Metadata, TableDef } from "./metadata.ts";
import type { Store } from "./store.ts";
import { isLookupType, isRef, formattedValue, type Row, type Value, type EntityRef } from "./values.ts";

export const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
export const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";
/** Above this size Dataverse drops ParentContext, InputParameters and the images (§8.4). */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface RegisteredStep {
  id: string;
  name: string;
  stage: number;
  mode: number;
  rank: number;
  filteringAttributes: string[];
  asyncAutoDelete: boolean;
  endpoint: { id: string; name: string; url: string; authType: number; authValue: string | null };
  images: Array<{ name: string; alias: string; type: number; attributes: string[] }>;
}

/** Parameters and images of one message execution, as the steps see them. */
export interface MessageExecution {
  message: string;
  table: TableDef;
  primaryId: string;
  /** The columns named in the request; Update steps with filtering attributes fire only when one of these is there. */
  changedAttributes: string[];
  inputParameters: Array<{ key: string; value: unknown }>;
  outputParameters: Array<{ key: string; value: unknown }>;
  pre?: Row;
  post?: Row;
  correlationId: string;
  depth: number;
  userId: string;
  initiatingUserId: string;
  userAadObjectId?: string;
  initiatingUserAadObjectId?: string;
  businessUnitId: string;
  requestId: string | null;
  operationCreatedOn: number;
  parent?: MessageExecution;
}

export interface Organization {
  id: string;
  name: string;
  /** The org URL, e.g. https://contoso.crm.dynamics.com (the sandbox's baseUrl). */
  url: string;
}

export interface Delivery {
  step: RegisteredStep;
  stage: number;
  mode: number;
  message: string;
  entity: string;
  primaryId: string;
  correlationId: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The system job (asyncoperation) of an asynchronous step. */
  asyncOperationId?: string;
}

const ref = (r: EntityRef | null): unknown =>
  r === null ? null : { __type: `EntityReference:${CONTRACTS}`, Id: r.id, KeyAttributes: [], LogicalName: r.logicalName, Name: null, RowVersion: null };

export function dataContractDate(value: string): string {
  return `/Date(${Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)})/`;
}

/** A stored value in DataContract JSON: EntityReference, OptionSetValue and Money objects, /Date(ms)/ dates. */
export function dataContractValue(table: TableDef, column: string, value: Value | undefined): unknown {
  if (value === undefined || value === null) return null;
  const def = table.columns.get(column);
  if (isRef(value)) return ref(value);
  switch (def?.type) {
    case "Picklist":
    case "State":
    case "Status":
      return { __type: `OptionSetValue:${CONTRACTS}`, Value: value };
    case "Money":
      return { __type: `Money:${CONTRACTS}`, Value: value };
    case "DateTime":
      return dataContractDate(String(value));
    case "MultiSelectPicklist":
      return String(value).split(",").filter(Boolean).map((v) => ({ __type: `OptionSetValue:${CONTRACTS}`, Value: Number(v) }));
    default:
      return value;
  }
}

export function dataContractEntity(meta: Metadata, table: TableDef, id: string, row: Row, attributes: string[] | undefined, options: { typed: boolean; formatted: boolean; lookupName?: (r: EntityRef) => string | null }): Record<string, unknown> {
  const names = (attributes?.length ? attributes : Object.keys(row)).filter((n) => table.columns.has(n) && table.columns.get(n)!.validForRead && n in row);
  const formatted: Array<{ key: string; value: string }> = [];
  if (options.formatted) {
    for (const name of names) {
      const column = table.columns.get(name)!;
      const value = row[name] ?? null;
      if (value === null || isLookupType(column.type)) continue;
      const text = formattedValue(column, value, {});
      if (text !== undefined) formatted.push({ key: name, value: text });
    }
  }
  return {
    ...(options.typed ? { __type: `Entity:${CONTRACTS}` } : {}),
    Attributes: names.map((name) => {
      const value = dataContractValue(table, name, row[name]);
      const r = row[name];
      if (isRef(r) && options.lookupName && value && typeof value === "object") (value as Record<string, unknown>).Name = options.lookupName(r);
      return { key: name, value };
    }),
    EntityState: null,
    FormattedValues: formatted,
    Id: id,
    KeyAttributes: [],
    LogicalName: table.logicalName,
    RelatedEntities: [],
    RowVersion: row.versionnumber !== undefined && row.versionnumber !== null ? String(row.versionnumber) : null,
  };
}

export function entityReference(r: EntityRef | null): unknown {
  return ref(r);
}

export function optionSetValue(value: number): unknown {
  return { __type: `OptionSetValue:${CONTRACTS}`, Value: value };
}

function csv(text: Value | undefined): string[] {
  return typeof text === "string" ? text.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean) : [];
}

/** Steps registered for `message` on `table` whose handler is a webhook service endpoint, in stage and rank order. */
export function findSteps(store: Store, message: string, table: string, changedAttributes: string[]): RegisteredStep[] {
  const messageIds = new Set(store.all("sdkmessage").filter((m) => String(m.name).toLowerCase() === message.toLowerCase()).map((m) => String(m.sdkmessageid)));
  if (!messageIds.size) return [];
  const steps: RegisteredStep[] = [];
  for (const step of store.all("sdkmessageprocessingstep")) {
    if (step.statecode !== 0) continue;
    const messageRef = step.sdkmessageid;
    if (!isRef(messageRef) || !messageIds.has(messageRef.id)) continue;
    const filterRef = step.sdkmessagefilterid;
    if (isRef(filterRef)) {
      const filter = store.get("sdkmessagefilter", filterRef.id);
      if (!filter || String(filter.primaryobjecttypecode) !== table) continue;
    }
    const handler = step.eventhandler;
    if (!isRef(handler) || handler.logicalName !== "serviceendpoint") continue;
    const endpoint = store.get("serviceendpoint", handler.id);
    if (!endpoint || endpoint.contract !== 8 || typeof endpoint.url !== "string") continue;
    const filtering = csv(step.filteringattributes);
    if (message === "Update" && filtering.length && !changedAttributes.some((a) => filtering.includes(a.toLowerCase()))) continue;
    const stepId = String(step.sdkmessageprocessingstepid);
    const images = store.all("sdkmessageprocessingstepimage")
      .filter((i) => isRef(i.sdkmessageprocessingstepid) && i.sdkmessageprocessingstepid.id === stepId)
      .map((i) => ({ name: String(i.name ?? i.entityalias ?? "Image"), alias: String(i.entityalias ?? i.name ?? "Image"), type: Number(i.imagetype ?? 0), attributes: csv(i.attributes) }));
    steps.push({
      id: stepId,
      name: String(step.name ?? ""),
      stage: Number(step.stage ?? 40),
      mode: Number(step.mode ?? 0),
      rank: Number(step.rank ?? 1),
      filteringAttributes: filtering,
      asyncAutoDelete: step.asyncautodelete === true,
      endpoint: {
        id: String(endpoint.serviceendpointid),
        name: String(endpoint.name ?? ""),
        url: endpoint.url,
        authType: Number(endpoint.authtype ?? 0),
        authValue: typeof endpoint.authvalue === "string" ? endpoint.authvalue : null,
      },
      images,
    });
  }
  return steps.sort((a, b) => a.stage - b.stage || a.rank - b.rank);
}

/** Name/value pairs of `<settings><setting name="…" value="…"/></settings>` (authtype 5 and 6). */
export function parseSettings(xml: string | null): Array<[string, string]> {
  if (!xml) return [];
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, "text/xml");
    const settings = doc.getElementsByTagName("setting");
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < settings.length; i++) {
      const s = settings.item(i)!;
      const name = s.getAttribute("name");
      if (name) pairs.push([name, s.getAttribute("value") ?? ""]);
    }
    return pairs;
  } catch {
    return [];
  }
}

function contextOf(meta: Metadata, org: Organization, exec: MessageExecution, step: RegisteredStep | undefined, stage: number, mode: number, operationId: string, lookupName: (r: EntityRef) => string | null): Record<string, unknown> {
  const images = (kind: "pre" | "post"): Array<{ key: string; value: unknown }> => {
    if (!step) return [];
    const row = kind === "pre" ? exec.pre : exec.post;
    if (!row) return [];
    if (kind === "post" && stage < 40) return [];
    return step.images
      .filter((i) => i.type === 2 || i.type === (kind === "pre" ? 0 : 1))
      .map((i) => ({ key: i.alias, value: dataContractEntity(meta, exec.table, exec.primaryId, row, i.attributes, { typed: false, formatted: true, lookupName }) }));
  };
  return {
    BusinessUnitId: exec.businessUnitId,
    CorrelationId: exec.correlationId,
    Depth: exec.depth,
    InitiatingUserAzureActiveDirectoryObjectId: exec.initiatingUserAadObjectId ?? EMPTY_GUID,
    InitiatingUserId: exec.initiatingUserId,
    InputParameters: exec.inputParameters,
    IsExecutingOffline: false,
    IsInTransaction: mode === 0 && stage !== 10,
    IsOfflinePlayback: false,
    IsolationMode: 1,
    MessageName: exec.message,
    Mode: mode,
    OperationCreatedOn: `/Date(${exec.operationCreatedOn})/`,
    OperationId: operationId,
    OrganizationId: org.id,
    OrganizationName: org.name,
    OutputParameters: stage >= 40 ? exec.outputParameters : [],
    OwningExtension: step
      ? { Id: step.id, KeyAttributes: [], LogicalName: "sdkmessageprocessingstep", Name: step.name, RowVersion: null }
      : { Id: EMPTY_GUID, KeyAttributes: [], LogicalName: "sdkmessageprocessingstep", Name: null, RowVersion: null },
    ParentContext: exec.parent
      ? contextOf(meta, org, exec.parent, undefined, 30, 0, EMPTY_GUID, lookupName)
      : mode === 1 ? contextOf(meta, org, { ...exec, parent: undefined }, undefined, 30, 0, EMPTY_GUID, lookupName) : null,
    PostEntityImages: images("post"),
    PreEntityImages: images("pre"),
    PrimaryEntityId: exec.primaryId,
    PrimaryEntityName: exec.table.logicalName,
    RequestId: exec.requestId,
    SecondaryEntityName: "none",
    SharedVariables: [],
    Stage: stage,
    UserAzureActiveDirectoryObjectId: exec.userAadObjectId ?? EMPTY_GUID,
    UserId: exec.userId,
  };
}

/** The JSON text .NET's DataContractJsonSerializer writes: `/` escaped as `\/` ("\/Date(…)\/"). */
export function dataContractJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, "\\/");
}

/** Builds the HTTP request one step's endpoint receives for one execution. */
export function buildDelivery(meta: Metadata, org: Organization, exec: MessageExecution, step: RegisteredStep, lookupName: (r: EntityRef) => string | null, asyncOperationId?: string): Delivery {
  const context = contextOf(meta, org, exec, step, step.stage, step.mode, asyncOperationId ?? EMPTY_GUID, lookupName);
  let body = dataContractJson(context);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-ms-dynamics-organization": new URL(org.url).hostname,
    "x-ms-dynamics-entity-name": exec.table.logicalName,
    "x-ms-dynamics-request-name": exec.message,
    "x-ms-correlation-request-id": exec.correlationId,
  };
  if (Buffer.byteLength(body) > MAX_WEBHOOK_BYTES) {
    body = dataContractJson({ ...context, ParentContext: null, InputParameters: [], PreEntityImages: [], PostEntityImages: [] });
    headers["x-ms-dynamics-msg-size-exceeded"] = "true";
  }
  const url = new URL(step.endpoint.url);
  if (step.endpoint.authType === 4 && step.endpoint.authValue) url.searchParams.set("code", step.endpoint.authValue);
  if (step.endpoint.authType === 5) for (const [name, value] of parseSettings(step.endpoint.authValue)) headers[name.toLowerCase()] = value;
  if (step.endpoint.authType === 6) for (const [name, value] of parseSettings(step.endpoint.authValue)) url.searchParams.set(name, value);
  return {
    step, stage: step.stage, mode: step.mode, message: exec.message, entity: exec.table.logicalName, primaryId: exec.primaryId,
    correlationId: exec.correlationId, url: url.toString(), headers, body, ...(asyncOperationId ? { asyncOperationId } : {}),
  };
}

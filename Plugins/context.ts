// A typed decoder of the RemoteExecutionContext JSON Dataverse posts to a webhook step (dataverse.md §8.4).
// The body is .NET DataContract JSON: parameters, images, attributes and shared variables are
// `[{key, value}]` lists, not maps; dates are `/Date(ms)/` or `/Date(ms±hhmm)/` (the offset is only a
// display hint: ms is UTC); references, choices and money are objects tagged with `__type`
// (`EntityReference:…`, `OptionSetValue:…`, `Money:…`, `Entity:…`, `EntityCollection:…`).
// Pure: JSON in, typed values out; a body that is not a RemoteExecutionContext throws a
// ContextDecodeError whose message says what is wrong (never echoing values).

export interface EntityReference {
  kind: "reference";
  logicalName: string;
  id: string;
  name: string | null;
}

export interface OptionSetValue {
  kind: "option";
  value: number;
}

export interface Money {
  kind: "money";
  value: number;
}

export interface Entity {
  kind: "entity";
  logicalName: string;
  /** The record id; the empty GUID for a record not created yet (PreValidation Create). */
  id: string;
  attributes: Record<string, Value>;
  formattedValues: Record<string, string>;
  rowVersion: string | null;
}

export type Value = string | number | boolean | null | Date | EntityReference | OptionSetValue | Money | Entity | Value[];

export interface RemoteExecutionContext {
  messageName: string;
  primaryEntityName: string;
  primaryEntityId: string;
  secondaryEntityName: string;
  /** 10 PreValidation, 20 PreOperation, 30 MainOperation (parent contexts), 40 PostOperation. */
  stage: number;
  /** 0 synchronous, 1 asynchronous. */
  mode: number;
  depth: number;
  userId: string;
  initiatingUserId: string;
  businessUnitId: string;
  correlationId: string;
  operationId: string;
  organizationId: string;
  organizationName: string;
  requestId: string | null;
  operationCreatedOn: Date | null;
  isInTransaction: boolean;
  /** The step that sent this (`sdkmessageprocessingstep`), with its name when Dataverse sends one. */
  owningExtension: EntityReference | null;
  inputParameters: Record<string, Value>;
  outputParameters: Record<string, Value>;
  preEntityImages: Record<string, Entity>;
  postEntityImages: Record<string, Entity>;
  sharedVariables: Record<string, Value>;
  parentContext: RemoteExecutionContext | null;
}

export class ContextDecodeError extends Error {
  override name = "ContextDecodeError";
}

const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";
const DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The `__type` tag without its namespace: `EntityReference:http://…` → `EntityReference`. */
function typeTag(value: Json): string | undefined {
  const tag = value.__type;
  return typeof tag === "string" ? tag.split(":")[0] : undefined;
}

/** `/Date(1506409448000-0700)/` → the instant (ms since the epoch, UTC); anything else → undefined. */
export function parseDataContractDate(text: string): Date | undefined {
  const match = DATE.exec(text);
  return match ? new Date(Number(match[1])) : undefined;
}

function lowerGuid(value: unknown): string {
  return typeof value === "string" ? value.toLowerCase() : "";
}

function decodeReference(value: Json): EntityReference {
  return { kind: "reference", logicalName: String(value.LogicalName ?? ""), id: lowerGuid(value.Id), name: typeof value.Name === "string" ? value.Name : null };
}

function decodeEntity(value: Json, where: string): Entity {
  const attributes = decodeList(value.Attributes, `${where}.Attributes`);
  const formatted: Record<string, string> = {};
  if (Array.isArray(value.FormattedValues)) {
    for (const pair of value.FormattedValues) if (isObject(pair) && typeof pair.key === "string") formatted[pair.key] = String(pair.value ?? "");
  }
  return {
    kind: "entity",
    logicalName: String(value.LogicalName ?? ""),
    id: lowerGuid(value.Id) || EMPTY_GUID,
    attributes,
    formattedValues: formatted,
    rowVersion: typeof value.RowVersion === "string" ? value.RowVersion : null,
  };
}

/** One DataContract value as a typed value. */
export function decodeValue(value: unknown, where = "value"): Value {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return parseDataContractDate(value) ?? value;
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item, i) => decodeValue(item, `${where}[${i}]`));
  if (!isObject(value)) throw new ContextDecodeError(`${where} is not a value Dataverse sends`);
  const tag = typeTag(value);
  if (tag === "EntityReference" || (tag === undefined && "LogicalName" in value && "Id" in value && !("Attributes" in value))) return decodeReference(value);
  if (tag === "Entity" || (tag === undefined && Array.isArray(value.Attributes))) return decodeEntity(value, where);
  if (tag === "EntityCollection") return (Array.isArray(value.Entities) ? value.Entities : []).map((e, i) => decodeValue(e, `${where}.Entities[${i}]`));
  if (tag === "OptionSetValueCollection" && Array.isArray(value.Values)) return value.Values.map((v, i) => decodeValue(v, `${where}.Values[${i}]`));
  if ("Value" in value && typeof value.Value === "number") {
    if (tag === "Money") return { kind: "money", value: value.Value };
    // OptionSetValue, or an untagged {Value} (the documented shape is unverified): a choice.
    return { kind: "option", value: value.Value };
  }
  if (tag === "Money" && typeof value.Value === "string" && Number.isFinite(Number(value.Value))) return { kind: "money", value: Number(value.Value) };
  throw new ContextDecodeError(`${where} has a shape the relay does not know${tag ? ` (${tag})` : ""}`);
}

/** A `[{key, value}]` list as a record of typed values. */
function decodeList(list: unknown, where: string): Record<string, Value> {
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw new ContextDecodeError(`${where} is not a [{key, value}] list`);
  const out: Record<string, Value> = {};
  list.forEach((pair, i) => {
    if (!isObject(pair) || typeof pair.key !== "string") throw new ContextDecodeError(`${where}[${i}] is not a {key, value} pair`);
    out[pair.key] = decodeValue(pair.value, `${where}.${pair.key}`);
  });
  return out;
}

function decodeImages(list: unknown, where: string): Record<string, Entity> {
  const values = decodeList(list, where);
  const images: Record<string, Entity> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!isEntity(value)) throw new ContextDecodeError(`${where}.${key} is not an entity image`);
    images[key] = value;
  }
  return images;
}

function text(context: Json, name: string, required: boolean): string {
  const value = context[name];
  if (typeof value === "string") return value;
  if (value === undefined || value === null) {
    if (required) throw new ContextDecodeError(`the body has no ${name}: it is not a RemoteExecutionContext`);
    return "";
  }
  throw new ContextDecodeError(`${name} is not text`);
}

function integer(context: Json, name: string, fallback: number | undefined): number {
  const value = context[name];
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw new ContextDecodeError(`${name} is ${value === undefined ? "missing" : "not a whole number"}`);
}

function decodeContext(json: unknown, where: string): RemoteExecutionContext {
  if (!isObject(json)) throw new ContextDecodeError(`${where} is not a JSON object`);
  const owning = json.OwningExtension;
  const created = typeof json.OperationCreatedOn === "string" ? parseDataContractDate(json.OperationCreatedOn) ?? null : null;
  return {
    messageName: text(json, "MessageName", true),
    primaryEntityName: text(json, "PrimaryEntityName", true),
    primaryEntityId: lowerGuid(json.PrimaryEntityId) || EMPTY_GUID,
    secondaryEntityName: text(json, "SecondaryEntityName", false) || "none",
    stage: integer(json, "Stage", undefined),
    mode: integer(json, "Mode", 0),
    depth: integer(json, "Depth", 1),
    userId: lowerGuid(json.UserId),
    initiatingUserId: lowerGuid(json.InitiatingUserId),
    businessUnitId: lowerGuid(json.BusinessUnitId),
    correlationId: lowerGuid(json.CorrelationId),
    operationId: lowerGuid(json.OperationId),
    organizationId: lowerGuid(json.OrganizationId),
    organizationName: text(json, "OrganizationName", false),
    requestId: typeof json.RequestId === "string" ? json.RequestId.toLowerCase() : null,
    operationCreatedOn: created,
    isInTransaction: json.IsInTransaction === true,
    owningExtension: isObject(owning) ? decodeReference(owning) : null,
    inputParameters: decodeList(json.InputParameters, `${where}.InputParameters`),
    outputParameters: decodeList(json.OutputParameters, `${where}.OutputParameters`),
    preEntityImages: decodeImages(json.PreEntityImages, `${where}.PreEntityImages`),
    postEntityImages: decodeImages(json.PostEntityImages, `${where}.PostEntityImages`),
    sharedVariables: decodeList(json.SharedVariables, `${where}.SharedVariables`),
    parentContext: isObject(json.ParentContext) ? decodeContext(json.ParentContext, `${where}.ParentContext`) : null,
  };
}

/** Decodes the posted body (already parsed JSON). Throws ContextDecodeError when it is not a RemoteExecutionContext. */
export function decodeRemoteExecutionContext(json: unknown): RemoteExecutionContext {
  return decodeContext(json, "the body");
}

export function isEntity(value: Value | undefined): value is Entity {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && value.kind === "entity";
}

export function isReference(value: Value | undefined): value is EntityReference {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && value.kind === "reference";
}

/** The `Target` input parameter: an Entity for Create and Update, an EntityReference for Delete and most others. */
export function target(context: RemoteExecutionContext): Entity | EntityReference | undefined {
  const value = context.inputParameters.Target;
  return isEntity(value) || isReference(value) ? value : undefined;
}

/** A column's value from the Target, else from a post image, else from a pre image: what the record holds after the operation. */
export function currentValue(context: RemoteExecutionContext, column: string): Value | undefined {
  const t = target(context);
  if (t?.kind === "entity" && column in t.attributes) return t.attributes[column];
  for (const image of Object.values(context.postEntityImages)) if (column in image.attributes) return image.attributes[column];
  for (const image of Object.values(context.preEntityImages)) if (column in image.attributes) return image.attributes[column];
  return undefined;
}

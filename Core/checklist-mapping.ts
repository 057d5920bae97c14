// The readiness checklist through the admin's field mapping, for the card and the form scripts: which
// opportunity column holds the deal value, and where the customer's country is (a text column on the
// account, or a lookup on the account to a country table and that table's ISO code column).
//
// The effective mapping is the "Partner Center field mapping" JSON variable over the seed's variables
// (Deal value field, Customer Account Country Code field), as the relay makes it
// (Relay/src/settings/field-mapping.ts). An invalid JSON value is not used: the checklist follows the
// seed's variables and the problem is reported, in the words and JSON paths of the relay's check.
//
// Why not parseFieldMappingConfig (Core/field-mapping-config.ts) here: it is zod, which would more than
// double the card's bundle (≈ 76 KB today, limit 80 KB). This file reads just the two parts the
// checklist needs, with the schema's own rules and messages (Core/test/checklist-mapping.test.ts holds
// the two to the same answers). The columns it names are then checked against Dataverse's metadata
// (checkMappedColumns: they exist, with a fitting type) before the checklist reads them; a mapping that
// fails is not used, as the relay does not use it. The full check of the other parts stays the relay's.
// Pure: no I/O (the metadata comes through an injected reader), no zod, safe in the browser.
import { EnvironmentVariables } from "./generated/schema.ts";
import { checkReadiness, type DealFacts, type Readiness } from "./readiness.ts";

/** A column's logical name, as Dataverse writes it (lower case, publisher prefix and underscore allowed); Core/field-mapping-config.ts uses it too. */
export const COLUMN_NAME = /^[a-z][a-z0-9_]{0,99}$/;

export type ChecklistCountry =
  | { kind: "column"; column: string }
  /** A lookup on account to a country table, and that table's column holding the ISO code. */
  | { kind: "lookup"; lookup: string; isoCodeColumn: string };

export interface ChecklistMapping {
  /** Opportunity column holding the deal value. */
  dealValue: string;
  country: ChecklistCountry;
}

/** The three environment variables' values (current value, else default), null when unset. */
export interface ChecklistMappingInputs {
  fieldMapping: string | null;
  dealValueField: string | null;
  countryField: string | null;
}

export type SeedVariable = "dealValueField" | "countryField";

export interface EffectiveChecklistMapping {
  mapping: ChecklistMapping;
  /** Why the JSON variable is not used, each problem with its JSON path; empty when it is used (or empty). */
  fieldMappingProblems: string[];
  /** Seed variables in use that do not name a column: what they should name cannot be read. */
  invalidSeed: SeedVariable[];
  /** The columns the JSON variable names for the checklist and `mapping` uses: what checkMappedColumns checks. */
  named: { dealValue?: string; country?: ChecklistCountry };
  /** The seed's variables alone: what the checklist follows when a named column cannot be used. */
  fallback: { mapping: ChecklistMapping; invalidSeed: SeedVariable[] };
}

/** The seed variables' own defaults, when a variable has no value at all. */
const SEED_DEFAULTS: Record<SeedVariable, string> = {
  dealValueField: EnvironmentVariables.dealValueField.defaultValue,
  countryField: EnvironmentVariables.customerAccountCountryCodeField.defaultValue,
};

export const COLUMN_MESSAGE = "must be a column's logical name (lower case letters, digits and _), not its display name";
export const COUNTRY_MESSAGE = 'must be {"column": …} or {"lookup": …, "isoCodeColumn": …}';

type Parsed = { ok: true; dealValue?: string; country?: ChecklistCountry } | { ok: false; problems: string[] };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The JSON variable's deal value column and country, or its problems at those paths. Empty, "{}" and
 * values without those parts are the standard mapping. Other parts are the relay's to check.
 */
export function readChecklistConfig(raw: string | null | undefined): Parsed {
  const text = raw?.trim() ?? "";
  if (!text) return { ok: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`(the whole value): is not valid JSON (${(error as Error).message})`] };
  }
  if (value === null) return { ok: true };
  if (!isObject(value)) return { ok: false, problems: ["(the whole value): must be an object"] };
  const problems: string[] = [];
  let dealValue: string | undefined;
  let country: ChecklistCountry | undefined;

  const opportunity = value.opportunity;
  if (opportunity !== undefined && !isObject(opportunity)) problems.push("opportunity: must be an object");
  else if (opportunity?.dealValue !== undefined) {
    const column = opportunity.dealValue;
    if (typeof column === "string" && COLUMN_NAME.test(column)) dealValue = column;
    else problems.push(`opportunity.dealValue: ${COLUMN_MESSAGE}`);
  }

  const account = value.account;
  if (account !== undefined && !isObject(account)) problems.push("account: must be an object");
  else if (account?.country !== undefined) {
    const given = account.country;
    const keys = isObject(given) ? Object.keys(given).sort().join(",") : "";
    const name = (key: string): string | undefined => {
      const column = isObject(given) ? given[key] : undefined;
      return typeof column === "string" && COLUMN_NAME.test(column) ? column : undefined;
    };
    if (keys === "column" && name("column")) country = { kind: "column", column: name("column")! };
    else if (keys === "isoCodeColumn,lookup" && name("lookup") && name("isoCodeColumn")) country = { kind: "lookup", lookup: name("lookup")!, isoCodeColumn: name("isoCodeColumn")! };
    else if (keys === "column") problems.push(`account.country.column: ${COLUMN_MESSAGE}`);
    else if (keys === "isoCodeColumn,lookup") {
      for (const key of ["lookup", "isoCodeColumn"]) if (!name(key)) problems.push(`account.country.${key}: ${COLUMN_MESSAGE}`);
    } else problems.push(`account.country: ${COUNTRY_MESSAGE}`);
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, ...(dealValue ? { dealValue } : {}), ...(country ? { country } : {}) };
}

/** The seed variable's column: its value (else its default) when that is a column name, else the default, reported. */
function seedColumn(inputs: ChecklistMappingInputs, variable: SeedVariable, invalid: SeedVariable[]): string {
  const value = inputs[variable]?.trim() || SEED_DEFAULTS[variable];
  // Dataverse names are lower case; the seed's variables have always been read case-insensitively.
  if (COLUMN_NAME.test(value.toLowerCase())) return value.toLowerCase();
  invalid.push(variable);
  return SEED_DEFAULTS[variable];
}

/**
 * The mapping the checklist follows: the JSON variable's columns over the seed's variables. Whether the
 * columns the JSON names exist (with a fitting type) is checkMappedColumns's question.
 */
export function effectiveChecklistMapping(inputs: ChecklistMappingInputs): EffectiveChecklistMapping {
  const config = readChecklistConfig(inputs.fieldMapping);
  const named: EffectiveChecklistMapping["named"] = config.ok ? { ...(config.dealValue ? { dealValue: config.dealValue } : {}), ...(config.country ? { country: config.country } : {}) } : {};
  const invalidSeed: SeedVariable[] = [];
  const dealValue = named.dealValue ?? seedColumn(inputs, "dealValueField", invalidSeed);
  const country = named.country ?? { kind: "column" as const, column: seedColumn(inputs, "countryField", invalidSeed) };
  const fallbackInvalid: SeedVariable[] = [];
  const fallback = {
    mapping: { dealValue: seedColumn(inputs, "dealValueField", fallbackInvalid), country: { kind: "column" as const, column: seedColumn(inputs, "countryField", fallbackInvalid) } },
    invalidSeed: fallbackInvalid,
  };
  return { mapping: { dealValue, country }, fieldMappingProblems: config.ok ? [] : config.problems, invalidSeed, named, fallback };
}

// ---------------------------------------------------------------- the named columns against Dataverse's metadata

/** What the metadata says of one column: its AttributeType by name ("Money", "String", "Lookup", …) and a lookup's tables. */
export interface ColumnFacts {
  type: string;
  targets: readonly string[];
}

/**
 * One table's metadata as far as it was asked for: the asked columns that exist, by logical name (one
 * asked for and left out does not exist), or why it could not be read.
 */
export type TableFacts = { columns: Readonly<Record<string, ColumnFacts>> } | { error: string };
export type ChecklistMetadata = Readonly<Record<string, TableFacts>>;

/** The table's metadata, limited to these columns (Xrm.Utility / context.utils getEntityMetadata); rejects when it cannot be read. */
export type DescribeColumns = (table: string, columns: string[]) => Promise<Record<string, ColumnFacts>>;

/** XrmEnum.AttributeTypeCode by value: getEntityMetadata gives AttributeType as this number. */
const ATTRIBUTE_TYPES = [
  "Boolean", "Customer", "DateTime", "Decimal", "Double", "Integer", "Lookup", "Memo", "Money", "Owner", "PartyList", "Picklist", "State", "Status",
  "String", "Uniqueidentifier", "CalendarRules", "Virtual", "BigInt", "ManagedProperty", "EntityName",
] as const;

/** The type words an admin knows from the maker portal. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  Boolean: "Yes/No", Customer: "customer", DateTime: "date and time", Decimal: "decimal", Double: "floating point", Integer: "whole number",
  Lookup: "lookup", Memo: "multiline text", Money: "currency", Owner: "owner", Picklist: "choice", State: "status", Status: "status reason",
  String: "text", Uniqueidentifier: "unique identifier", BigInt: "big integer",
};

function attributeType(value: unknown): string {
  if (typeof value === "number") return ATTRIBUTE_TYPES[value] ?? String(value);
  if (typeof value !== "string") return "";
  return ATTRIBUTE_TYPES.find((name) => name.toLowerCase() === value.toLowerCase()) ?? value;
}

/**
 * The facts of the asked columns from what getEntityMetadata resolved with: its Attributes collection
 * (get(name), as the Client API's collections answer, else indexed by name, else an array), each
 * attribute's AttributeType (XrmEnum.AttributeTypeCode, or its name) and a lookup's Targets.
 */
export function columnFactsOf(entityMetadata: unknown, columns: readonly string[]): Record<string, ColumnFacts> {
  const attributes = isObject(entityMetadata) ? (entityMetadata.Attributes as unknown) : undefined;
  const find = (name: string): unknown => {
    if (Array.isArray(attributes)) return attributes.find((a) => isObject(a) && a.LogicalName === name);
    if (!isObject(attributes)) return undefined;
    if (typeof attributes.get === "function") return (attributes.get as (n: string) => unknown)(name);
    return attributes[name];
  };
  const facts: Record<string, ColumnFacts> = {};
  for (const name of columns) {
    const attribute = find(name);
    if (!isObject(attribute)) continue;
    const targets = Array.isArray(attribute.Targets) ? attribute.Targets : [];
    facts[name] = { type: attributeType(attribute.AttributeType), targets: targets.filter((t): t is string => typeof t === "string") };
  }
  return facts;
}

const NUMBER_TYPES = new Set(["Money", "Decimal", "Integer", "Double", "BigInt"]);
const TEXT_TYPES = new Set(["String", "Memo"]);
const LOOKUP_TYPES = new Set(["Lookup"]);

/** The tables and columns whose metadata decides the named columns (the lookup's table comes second: countryTableToCheck). */
export function columnsToCheck(named: EffectiveChecklistMapping["named"]): Array<{ table: string; columns: string[] }> {
  const requests: Array<{ table: string; columns: string[] }> = [];
  if (named.dealValue) requests.push({ table: "opportunity", columns: [named.dealValue] });
  if (named.country) requests.push({ table: "account", columns: [named.country.kind === "column" ? named.country.column : named.country.lookup] });
  return requests;
}

/** The table a named country lookup points to, with its ISO code column, once the account's metadata is known. */
export function countryTableToCheck(named: EffectiveChecklistMapping["named"], metadata: ChecklistMetadata): { table: string; columns: string[] } | null {
  const country = named.country;
  if (country?.kind !== "lookup") return null;
  const account = metadata.account;
  const lookup = account && "columns" in account ? account.columns[country.lookup] : undefined;
  const table = lookup?.type === "Lookup" ? lookup.targets[0] : undefined;
  return table && COLUMN_NAME.test(table) ? { table, columns: [country.isoCodeColumn] } : null;
}

/** What is wrong with one named column, in words an admin can act on; null when it fits. */
function columnProblem(path: string, table: string, column: string, metadata: ChecklistMetadata, fits: ReadonlySet<string>, expected: string): string | null {
  const facts = metadata[table];
  if (!facts) return `${path} names ${column}, which could not be checked (the metadata of ${table} was not read)`;
  if ("error" in facts) return `${path} names ${column}, which could not be checked (the metadata of ${table} could not be read: ${facts.error})`;
  const found = facts.columns[column];
  if (!found) return `${path} names ${column}, which is not a column of ${table}`;
  if (!fits.has(found.type)) return `${path} names ${column}, a ${TYPE_WORDS[found.type] ?? (found.type || "unknown")} column of ${table}; it must be ${expected}`;
  return null;
}

/**
 * The decision: the named columns against the metadata. Each must exist with a fitting type (the deal
 * value a number, the country a text column, or a lookup whose table has a text ISO code column), as the
 * relay checks them. When one does not, none of the JSON's columns is used (never half a mapping): the
 * checklist follows the seed's variables and the problems say why.
 */
export function checkMappedColumns(effective: EffectiveChecklistMapping, metadata: ChecklistMetadata): EffectiveChecklistMapping {
  const { named } = effective;
  const problems: string[] = [];
  const add = (problem: string | null): void => {
    if (problem) problems.push(problem);
  };
  if (named.dealValue) add(columnProblem("opportunity.dealValue", "opportunity", named.dealValue, metadata, NUMBER_TYPES, "a number (currency, decimal, whole number or floating point)"));
  const country = named.country;
  if (country?.kind === "column") add(columnProblem("account.country.column", "account", country.column, metadata, TEXT_TYPES, "a text column"));
  else if (country) {
    const lookupProblem = columnProblem("account.country.lookup", "account", country.lookup, metadata, LOOKUP_TYPES, "a lookup");
    add(lookupProblem);
    const target = countryTableToCheck(named, metadata);
    if (!lookupProblem && !target) add(`account.country.lookup names ${country.lookup}, a lookup of account that points to no table`);
    if (target) add(columnProblem("account.country.isoCodeColumn", target.table, country.isoCodeColumn, metadata, TEXT_TYPES, "a text column"));
  }
  if (!problems.length) return effective;
  return { ...effective, mapping: effective.fallback.mapping, invalidSeed: effective.fallback.invalidSeed, named: {}, fieldMappingProblems: problems };
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : isObject(error) && typeof error.message === "string" ? error.message : String(error);

/**
 * Asks the metadata about the named columns (the account's, then the lookup's table) and decides with
 * checkMappedColumns. Nothing is asked when the JSON names none. Never rejects: a table whose metadata
 * cannot be read leaves its columns unconfirmed, so they are not used.
 */
export async function checkChecklistMapping(effective: EffectiveChecklistMapping, describe: DescribeColumns): Promise<EffectiveChecklistMapping> {
  const metadata: Record<string, TableFacts> = {};
  const read = async (table: string, columns: string[]): Promise<void> => {
    let facts: TableFacts;
    try {
      facts = { columns: await describe(table, columns) };
    } catch (error) {
      facts = { error: messageOf(error) };
    }
    const known = metadata[table];
    // The same table twice (a lookup to account itself): keep what both answers say.
    metadata[table] = known && "columns" in known && "columns" in facts ? { columns: { ...known.columns, ...facts.columns } } : facts;
  };
  await Promise.all(columnsToCheck(effective.named).map((request) => read(request.table, request.columns)));
  const next = countryTableToCheck(effective.named, metadata);
  if (next) await read(next.table, next.columns);
  return checkMappedColumns(effective, metadata);
}

// ---------------------------------------------------------------- reading the records

type Row = Readonly<Record<string, unknown>>;

/** The Web API's name of a lookup's value on the row that holds it. */
export const lookupValueName = (lookup: string): string => `_${lookup}_value`;
const LOOKUP_TABLE = "@Microsoft.Dynamics.CRM.lookuplogicalname";

/** The account columns to select for the country: the text column, or the lookup's value. */
export function accountCountryColumn(mapping: ChecklistMapping): string {
  return mapping.country.kind === "column" ? mapping.country.column : lookupValueName(mapping.country.lookup);
}

/** The country row to read next when the country is behind a lookup: table (from the row's annotation), id and ISO column. */
export type CountryRead =
  | { read: "none" }
  | { read: "row"; table: string; id: string; column: string }
  /** The Web API did not say which table the lookup points to. */
  | { read: "unknownTable"; lookup: string };

export function countryRowToRead(mapping: ChecklistMapping, account: Row | null): CountryRead {
  if (mapping.country.kind !== "lookup" || !account) return { read: "none" };
  const name = lookupValueName(mapping.country.lookup);
  const id = account[name];
  if (typeof id !== "string" || !id.trim()) return { read: "none" };
  const table = account[`${name}${LOOKUP_TABLE}`];
  if (typeof table !== "string" || !COLUMN_NAME.test(table)) return { read: "unknownTable", lookup: mapping.country.lookup };
  return { read: "row", table, id: id.replace(/[{}]/g, "").toLowerCase(), column: mapping.country.isoCodeColumn };
}

/** The customer's country as the mapping finds it: the account's text column, or the looked-up row's ISO column. */
export function countryOf(mapping: ChecklistMapping, account: Row | null, country: Row | null): string | null {
  if (!account) return null;
  const value = mapping.country.kind === "column" ? account[mapping.country.column] : country ? country[mapping.country.isoCodeColumn] : null;
  return typeof value === "string" ? value : null;
}

function numberOrNull(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** The standard opportunity column the checklist reads besides the mapped ones. */
export const CLOSE_DATE = "estimatedclosedate";

/** What the checklist runs on, as read from Dataverse (or from the form) through the mapping. */
export interface ChecklistRecords {
  solutionCount: number;
  helpRequested: boolean;
  /** The opportunity's values by logical name: the mapped deal value column and estimatedclosedate (text or Date). */
  opportunity: Row;
  /** The account with its mapped country column or lookup value; null when the deal has none. */
  account: Row | null;
  /** The row the account's country lookup points to (lookup mapping only); null when there is none. */
  country: Row | null;
  contact: DealFacts["contact"];
  currencyCode: string | null;
}

export function mappedDealFacts(mapping: ChecklistMapping, records: ChecklistRecords): DealFacts {
  const close = records.opportunity[CLOSE_DATE];
  const closeDate = close instanceof Date ? (Number.isNaN(close.getTime()) ? null : close.toISOString()) : typeof close === "string" && close.trim() ? close : null;
  return {
    solutionCount: records.solutionCount,
    hasAccount: records.account !== null,
    customerCountry: countryOf(mapping, records.account, records.country),
    helpRequested: records.helpRequested,
    contact: records.contact,
    dealValue: numberOrNull(records.opportunity[mapping.dealValue]),
    currencyCode: records.currencyCode,
    closeDate,
  };
}

/** The checklist of a deal read through the mapping: the one function the card and the form scripts share. */
export function mappedChecklist(mapping: ChecklistMapping, records: ChecklistRecords): Readiness {
  return checkReadiness(mappedDealFacts(mapping, records));
}

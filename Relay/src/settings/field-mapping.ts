// The field mapping the relay uses: the seed's variables (Deal value field, Customer Account Country
// Code field) refined by the "Partner Center field mapping" JSON variable (Core/field-mapping-config.ts).
// A configuration is checked before it is used: against its schema, then against Dataverse metadata
// (each named column exists on the right table with a fitting type). A bad one is reported with the
// exact problem and the last good mapping stays in force, so sync never stops silently and never writes
// with half a mapping. checkFieldMapping is the pure decision; FieldMappingReader does the metadata reads.
import {
  COLUMN_NAME, defaultsFor, parseFieldMappingConfig, type FieldMappingConfig, type MappedTable, type ReferralSource,
} from "../../../Core/field-mapping-config.ts";
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";
import { DataverseError, type DataverseClient } from "../clients/dataverse.ts";
import { retrieveMultipleRequest, retrieveRequest } from "../clients/dataverse-retrieve.ts";
import { anyOf } from "../clients/dataverse-query.ts";
import type { EnvironmentSettings } from "./environment-variables.ts";

export type CountryMapping =
  | { kind: "column"; column: string }
  /** A lookup on account (its navigation property) to a table whose column holds the ISO code. */
  | { kind: "lookup"; column: string; navigation: string; table: string; entitySet: string; isoColumn: string };

export type AccountMatch = { by: "nameAndPostalCode" } | { by: "customerNumber"; column: string; idType: "External" | "Duns" };

/** A mapping the relay may use: every column in it was checked (or is the standard one). */
export interface FieldMapping {
  /** The inputs it was made from; equal keys, equal mappings. */
  key: string;
  dealValue: string;
  country: CountryMapping;
  accountMatch: AccountMatch;
  config: FieldMappingConfig;
}

/** A configuration that cannot be used, in words an admin can act on. */
export interface FieldMappingProblem {
  key: string;
  message: string;
}

/** One column's metadata, as EntityDefinitions(…)/Attributes gives it. */
export interface AttributeInfo {
  logicalName: string;
  schemaName: string;
  type: string;
  validForCreate: boolean;
  targets: string[];
}

export interface TableInfo {
  logicalName: string;
  entitySetName: string;
  attributes: ReadonlyMap<string, AttributeInfo>;
}

type SeedSettings = Pick<EnvironmentSettings, "dealValueField" | "customerAccountCountryCodeField" | "fieldMapping">;

const LABEL = `"${EnvironmentVariables.fieldMapping.displayName["1033"]}" (${EnvironmentVariables.fieldMapping.schemaName})`;

export function mappingKey(settings: SeedSettings): string {
  const raw = settings.fieldMapping instanceof Error ? `invalid:${settings.fieldMapping.message}` : settings.fieldMapping ?? null;
  return JSON.stringify([settings.dealValueField, settings.customerAccountCountryCodeField, raw]);
}

/** The standard mapping: the seed's variables alone (today's behaviour, checked by `relay doctor`). */
export function standardMapping(settings: SeedSettings, key = mappingKey(settings)): FieldMapping {
  return {
    key,
    dealValue: settings.dealValueField.toLowerCase(),
    country: { kind: "column", column: settings.customerAccountCountryCodeField.toLowerCase() },
    accountMatch: { by: "nameAndPostalCode" },
    config: {},
  };
}

const NUMERIC = new Set(["Money", "Decimal", "Integer", "Double", "BigInt"]);
const TEXT = new Set(["String", "Memo"]);
const SOURCE_IS_NUMBER: ReadonlySet<ReferralSource> = new Set(["/details/dealValue"]);

/** Which tables and columns a configuration names, so the reader asks Dataverse about exactly those. */
export function namedColumns(config: FieldMappingConfig): Map<string, Set<string>> {
  const named = new Map<string, Set<string>>();
  const add = (table: string, column: string): void => {
    const set = named.get(table) ?? new Set<string>();
    set.add(column);
    named.set(table, set);
  };
  if (config.opportunity?.dealValue) add("opportunity", config.opportunity.dealValue);
  const country = config.account?.country;
  if (country) add("account", "column" in country ? country.column : country.lookup);
  if (config.account?.match?.by === "customerNumber") add("account", config.account.match.column);
  for (const table of ["opportunity", "lead", "account", "contact"] as const) {
    for (const column of Object.keys(config[table]?.defaults ?? {})) add(table, column);
  }
  return named;
}

/**
 * The mapping a configuration gives, or every problem with it. `tables` holds the metadata of the
 * tables it names (missing = the table does not exist) and of the lookup country's table.
 */
export function checkFieldMapping(settings: SeedSettings, tables: ReadonlyMap<string, TableInfo>): { ok: true; mapping: FieldMapping } | { ok: false; problem: FieldMappingProblem } {
  const key = mappingKey(settings);
  const fail = (problems: string[]): { ok: false; problem: FieldMappingProblem } => ({
    ok: false, problem: { key, message: `Environment variable ${LABEL} is not used: ${problems.join("; ")}.` },
  });
  if (settings.fieldMapping instanceof Error) return fail([settings.fieldMapping.message.replace(/^Environment variable .*? (is not valid JSON)/, "$1").replace(/\.$/, "")]);
  const parsed = parseFieldMappingConfig(settings.fieldMapping);
  if (!parsed.ok) return fail(parsed.problems);
  const config = parsed.config;
  const standard = standardMapping(settings, key);
  const problems: string[] = [];
  const attribute = (table: string, column: string, what: string, types: ReadonlySet<string>): AttributeInfo | undefined => {
    const info = tables.get(table);
    if (!info) {
      problems.push(`${what}: the table ${table} does not exist in this environment`);
      return undefined;
    }
    const found = info.attributes.get(column);
    if (!found) {
      problems.push(`${what}: ${table} has no column ${column}`);
      return undefined;
    }
    if (!types.has(found.type)) {
      problems.push(`${what}: ${table}.${column} is a ${found.type} column; it must be ${[...types].join(" or ")}`);
      return undefined;
    }
    return found;
  };

  const dealValue = config.opportunity?.dealValue
    ? attribute("opportunity", config.opportunity.dealValue, "opportunity.dealValue", NUMERIC)?.logicalName
    : standard.dealValue;

  let country: CountryMapping | undefined = standard.country;
  const countryConfig = config.account?.country;
  if (countryConfig && "column" in countryConfig) {
    const found = attribute("account", countryConfig.column, "account.country.column", TEXT);
    country = found ? { kind: "column", column: found.logicalName } : undefined;
  } else if (countryConfig) {
    const lookup = attribute("account", countryConfig.lookup, "account.country.lookup", new Set(["Lookup"]));
    country = undefined;
    if (lookup) {
      const target = lookup.targets[0];
      const targetInfo = target ? tables.get(target) : undefined;
      if (!target || !targetInfo) problems.push(`account.country.lookup: account.${lookup.logicalName} points to no table this relay can read`);
      else {
        const iso = attribute(target, countryConfig.isoCodeColumn, "account.country.isoCodeColumn", TEXT);
        if (iso) country = { kind: "lookup", column: lookup.logicalName, navigation: lookup.schemaName, table: target, entitySet: targetInfo.entitySetName, isoColumn: iso.logicalName };
      }
    }
  }

  let accountMatch: AccountMatch | undefined = standard.accountMatch;
  const match = config.account?.match;
  if (match?.by === "customerNumber") {
    const found = attribute("account", match.column, "account.match.column", TEXT);
    accountMatch = found ? { by: "customerNumber", column: found.logicalName, idType: match.idType } : undefined;
  }

  for (const table of ["opportunity", "lead", "account", "contact"] as const) {
    for (const [column, value] of Object.entries(config[table]?.defaults ?? {})) {
      const what = `${table}.defaults.${column}`;
      const isNumber = typeof value === "number" || (typeof value === "object" && SOURCE_IS_NUMBER.has(value.fromReferral));
      const types = typeof value === "boolean" ? new Set(["Boolean"])
        : isNumber ? new Set([...NUMERIC, "Picklist"])
          : new Set([...TEXT, "DateTime"]);
      const found = attribute(table, column, what, types);
      if (found && !found.validForCreate) problems.push(`${what}: ${table}.${column} cannot be set when a row is created`);
      if (found?.type === "Integer" || found?.type === "Picklist") {
        if (typeof value === "number" && !Number.isInteger(value)) problems.push(`${what}: ${table}.${column} takes whole numbers, not ${value}`);
      }
    }
  }

  if (problems.length || !dealValue || !country || !accountMatch) return fail(problems);
  return { ok: true, mapping: { key, dealValue, country, accountMatch, config } };
}

/** The default column values of a row the relay creates from a referral. */
export function createDefaults(mapping: FieldMapping, table: MappedTable, referral: unknown): Record<string, unknown> {
  return defaultsFor(mapping.config, table, referral);
}

export interface FieldMappingLog {
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
}

export interface Resolved {
  mapping: FieldMapping;
  /** Why the current configuration is not in force (the last good one is). */
  problem?: FieldMappingProblem;
}

/** Checks each new configuration once (schema + metadata) and keeps the last good mapping. */
export class FieldMappingReader {
  readonly #client: Pick<DataverseClient, "send">;
  readonly #log: FieldMappingLog | undefined;
  #lastGood: FieldMapping | undefined;
  #checked: Resolved | undefined;
  #pending: { key: string; promise: Promise<Resolved> } | undefined;
  readonly #reported = new Set<string>();

  constructor(options: { client: Pick<DataverseClient, "send">; log?: FieldMappingLog }) {
    this.#client = options.client;
    this.#log = options.log;
  }

  /** The mapping for these settings: the checked one, or the last good one and why. */
  async resolve(settings: SeedSettings): Promise<Resolved> {
    const key = mappingKey(settings);
    if (this.#checked && this.#checked.mapping.key === key && !this.#checked.problem) return this.#checked;
    if (this.#checked?.problem?.key === key) return this.#checked;
    if (this.#pending?.key === key) return this.#pending.promise;
    const promise = this.#check(settings).finally(() => {
      if (this.#pending?.key === key) this.#pending = undefined;
    });
    this.#pending = { key, promise };
    return promise;
  }

  /** The mapping in force now (the standard one before any check): enough to name the columns of a query. */
  known(settings: SeedSettings): FieldMapping {
    return this.#checked?.mapping ?? standardMapping(settings);
  }

  /** The problem not yet reported on a record, once: the caller writes it where the admin sees it. */
  takeUnreported(): FieldMappingProblem | undefined {
    const problem = this.#checked?.problem;
    if (!problem || this.#reported.has(problem.key)) return undefined;
    this.#reported.add(problem.key);
    return problem;
  }

  /** Gives a taken problem back (writing it failed), so the next record reports it. */
  untake(problem: FieldMappingProblem): void {
    this.#reported.delete(problem.key);
  }

  async #check(settings: SeedSettings): Promise<Resolved> {
    const key = mappingKey(settings);
    const empty = settings.fieldMapping === undefined || settings.fieldMapping === null || settings.fieldMapping === ""
      || (typeof settings.fieldMapping === "object" && !(settings.fieldMapping instanceof Error) && Object.keys(settings.fieldMapping).length === 0);
    let result: ReturnType<typeof checkFieldMapping>;
    if (empty) result = { ok: true, mapping: standardMapping(settings, key) };
    else {
      const parsed = settings.fieldMapping instanceof Error ? undefined : parseFieldMappingConfig(settings.fieldMapping);
      const tables = parsed?.ok ? await this.#tables(parsed.config) : new Map<string, TableInfo>();
      result = checkFieldMapping(settings, tables);
    }
    if (result.ok) {
      const changed = this.#lastGood?.key !== result.mapping.key;
      this.#lastGood = result.mapping;
      this.#checked = { mapping: result.mapping };
      if (changed && !empty) this.#log?.info({ fieldMapping: result.mapping.config }, "field mapping checked and in force");
      return this.#checked;
    }
    const lastGood = this.#lastGood ?? standardMapping(settings);
    this.#checked = { mapping: lastGood, problem: result.problem };
    this.#log?.warn({ problem: result.problem.message }, "field mapping rejected; the last good configuration stays in force");
    return this.#checked;
  }

  /** Metadata of the named tables (their named columns only), and of the lookup country's table. */
  async #tables(config: FieldMappingConfig): Promise<Map<string, TableInfo>> {
    const tables = new Map<string, TableInfo>();
    const named = namedColumns(config);
    for (const [table, columns] of named) {
      const info = await this.#table(table, [...columns]);
      if (info) tables.set(table, info);
    }
    const country = config.account?.country;
    if (country && "lookup" in country) {
      const target = tables.get("account")?.attributes.get(country.lookup)?.targets[0];
      if (target && COLUMN_NAME.test(target)) {
        const info = await this.#table(target, [country.isoCodeColumn]);
        if (info) tables.set(target, info);
      }
    }
    return tables;
  }

  async #table(logicalName: string, columns: string[]): Promise<TableInfo | undefined> {
    let entity: Record<string, unknown> | undefined;
    try {
      entity = await this.#client.send(retrieveRequest<Record<string, unknown>>("EntityDefinitions", { LogicalName: logicalName }, { select: ["LogicalName", "EntitySetName"], formattedValues: false }));
    } catch (error) {
      if (error instanceof DataverseError && error.status === 404) return undefined;
      throw error;
    }
    if (!entity) return undefined;
    const page = await this.#client.send(retrieveMultipleRequest<Record<string, unknown>>(`EntityDefinitions(LogicalName='${logicalName}')/Attributes`, {
      filter: anyOf("LogicalName", columns), formattedValues: false,
    }));
    const attributes = new Map<string, AttributeInfo>();
    for (const row of page.value) {
      const name = String(row.LogicalName ?? "");
      attributes.set(name, {
        logicalName: name,
        schemaName: String(row.SchemaName ?? name),
        type: String(row.AttributeType ?? ""),
        validForCreate: row.IsValidForCreate !== false,
        targets: Array.isArray(row.Targets) ? row.Targets.map(String) : [],
      });
    }
    return { logicalName, entitySetName: String(entity.EntitySetName ?? ""), attributes };
  }
}

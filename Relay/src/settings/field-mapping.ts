// The field mapping the relay uses: the seed's variables (Deal value field, Customer Account Country
// Code field) refined by the "Partner Center field mapping" JSON variable (Core/field-mapping-config.ts).
// A configuration is checked before it is used: against its schema, then against Dataverse (each named
// column exists on the right table with a fitting type; a choice default is one of its options; a closing
// status is a status reason of the table in the right state; a named owner is a user (enabled) or team
// that exists). A bad one is reported with the exact problem and the last good mapping stays in force,
// so sync never stops silently and never writes with half a mapping. checkFieldMapping is the pure
// decision; FieldMappingReader does the metadata and user/team reads.
import {
  COLUMN_NAME, defaultsFor, parseFieldMappingConfig, type FieldMappingConfig, type MappedTable, type PrincipalConfig, type ReferralSource,
} from "../../../Core/field-mapping-config.ts";
import { LeadStateCode, OpportunityStateCode, STANDARD_CLOSING_STATUSES, type ClosingStatuses } from "../../../Core/lifecycle.ts";
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";
import { DataverseError, type DataverseClient } from "../clients/dataverse.ts";
import { retrieveMultipleRequest, retrieveRequest } from "../clients/dataverse-retrieve.ts";
import { anyOf, isGuid, literal } from "../clients/dataverse-query.ts";
import { AccountTable, OpportunityTable, SystemUserTable, TeamTable } from "../sync/dataverse-columns.ts";
import type { EnvironmentSettings } from "./environment-variables.ts";

export type CountryMapping =
  | { kind: "column"; column: string }
  /** A lookup on account (its navigation property) to a table whose column holds the ISO code. */
  | { kind: "lookup"; column: string; navigation: string; table: string; entitySet: string; isoColumn: string };

export type AccountMatch = { by: "nameAndPostalCode" } | { by: "customerNumber"; column: string; idType: "External" | "Duns" };

/** A user or team that exists (and, a user, is enabled), ready for ownerid@odata.bind. */
export interface Principal {
  kind: "team" | "user";
  id: string;
  /** Its name, for the Audit line. */
  name: string;
}

/** Who owns the rows the relay creates: a fixed user or team, or the referral's team member's user. */
export type OwnerMapping =
  | { kind: "fixed"; principal: Principal }
  | { kind: "teamMember"; fallback?: Principal };

/** The opportunity's columns for the referral's name, notes and closing date. */
export interface OpportunityColumns {
  name: string;
  notes: string;
  closeDate: string;
}

/** The account's text columns for the rest of the customer's address (state: none in the standard mapping). */
export interface AddressColumns {
  line1: string;
  city: string;
  state?: string;
  postalCode: string;
}

export const STANDARD_OPPORTUNITY_COLUMNS: OpportunityColumns = {
  name: OpportunityTable.name, notes: OpportunityTable.description, closeDate: OpportunityTable.estimatedCloseDate,
};
export type CurrencyMapping = { kind: "lookup"; column: string; navigation: string } | { kind: "text"; column: string };
export const STANDARD_CURRENCY: CurrencyMapping = { kind: "lookup", column: OpportunityTable.currency, navigation: OpportunityTable.bind.currency };
export const STANDARD_CONTACT_LOOKUP = { column: OpportunityTable.parentContact, navigation: OpportunityTable.bind.parentContact } as const;
export const STANDARD_ADDRESS_COLUMNS: AddressColumns = {
  line1: AccountTable.addressLine1, city: AccountTable.city, postalCode: AccountTable.postalCode,
};

/** A mapping the relay may use: every column in it was checked (or is the standard one). */
export interface FieldMapping {
  /** The inputs it was made from; equal keys, equal mappings. */
  key: string;
  dealValue: string;
  opportunity: OpportunityColumns;
  /** The opportunity's currency: a lookup to transactioncurrency (its navigation property), or a text column with the ISO code. */
  currency: CurrencyMapping;
  /** The opportunity's lookup to the customer's contact (its navigation property for $expand and @odata.bind). */
  contact: { column: string; navigation: string };
  address: AddressColumns;
  country: CountryMapping;
  accountMatch: AccountMatch;
  /** Unset: the relay's application user owns what it creates (Dataverse's default). */
  owner?: OwnerMapping;
  /** The status reasons the relay closes or disqualifies with (checked against the table's statuscode). */
  statuses: ClosingStatuses;
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
  /** Choice, Yes/No, state and status reason columns: their values (status reasons with their state). */
  options?: Array<{ value: number; state?: number; label?: string }>;
}

/** A user or team as the reader found it by the configured id or name (undefined: none). */
export interface PrincipalInfo {
  kind: "team" | "user";
  id: string;
  name: string;
  disabled: boolean;
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
    opportunity: STANDARD_OPPORTUNITY_COLUMNS,
    currency: STANDARD_CURRENCY,
    contact: STANDARD_CONTACT_LOOKUP,
    address: STANDARD_ADDRESS_COLUMNS,
    country: { kind: "column", column: settings.customerAccountCountryCodeField.toLowerCase() },
    accountMatch: { by: "nameAndPostalCode" },
    statuses: STANDARD_CLOSING_STATUSES,
    config: {},
  };
}

const NUMERIC = new Set(["Money", "Decimal", "Integer", "Double", "BigInt"]);
const OPPORTUNITY_FIELDS = ["name", "notes", "closeDate"] as const;
const OPPORTUNITY_FIELD_TYPES: Record<(typeof OPPORTUNITY_FIELDS)[number], ReadonlySet<string>> = {
  name: new Set(["String"]), notes: new Set(["String", "Memo"]), closeDate: new Set(["DateTime"]),
};
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
  for (const field of OPPORTUNITY_FIELDS) {
    const named = config.opportunity?.[field];
    if (named) add("opportunity", named);
  }
  for (const column of Object.values(config.account?.address ?? {})) if (column) add("account", column);
  if (config.opportunity?.customerContact) add("opportunity", config.opportunity.customerContact);
  if (config.opportunity?.currency) add("opportunity", config.opportunity.currency);
  const country = config.account?.country;
  if (country) add("account", "column" in country ? country.column : country.lookup);
  if (config.account?.match?.by === "customerNumber") add("account", config.account.match.column);
  for (const table of ["opportunity", "lead", "account", "contact"] as const) {
    for (const column of Object.keys(config[table]?.defaults ?? {})) add(table, column);
  }
  if (config.opportunity?.statuses && Object.keys(config.opportunity.statuses).length) add("opportunity", "statuscode");
  if (config.lead?.statuses && Object.keys(config.lead.statuses).length) add("lead", "statuscode");
  return named;
}

/** The users and teams a configuration names (owner and its fallback), as `team:<value>` / `user:<value>`. */
export function namedPrincipals(config: FieldMappingConfig): PrincipalConfig[] {
  const owner = config.owner;
  if (!owner) return [];
  if ("matchPartnerCenterTeamMember" in owner) return owner.fallback ? [owner.fallback] : [];
  return [owner];
}

export function principalKey(principal: PrincipalConfig): string {
  return "team" in principal ? `team:${principal.team.toLowerCase()}` : `user:${principal.user.toLowerCase()}`;
}

/**
 * The mapping a configuration gives, or every problem with it. `tables` holds the metadata of the
 * tables it names (missing = the table does not exist) and of the lookup country's table.
 */
export function checkFieldMapping(
  settings: SeedSettings, tables: ReadonlyMap<string, TableInfo>, principals: ReadonlyMap<string, PrincipalInfo | undefined> = new Map(),
): { ok: true; mapping: FieldMapping } | { ok: false; problem: FieldMappingProblem } {
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

  const opportunity: OpportunityColumns = { ...standard.opportunity };
  for (const field of OPPORTUNITY_FIELDS) {
    const named = config.opportunity?.[field];
    if (!named) continue;
    const found = attribute("opportunity", named, `opportunity.${field}`, OPPORTUNITY_FIELD_TYPES[field]);
    if (found) opportunity[field] = found.logicalName;
  }
  let currency: CurrencyMapping = standard.currency;
  if (config.opportunity?.currency) {
    const found = attribute("opportunity", config.opportunity.currency, "opportunity.currency", new Set(["Lookup", "String"]));
    if (found?.type === "Lookup" && !found.targets.includes("transactioncurrency")) {
      problems.push(`opportunity.currency: opportunity.${found.logicalName} points to ${found.targets.join(", ") || "no table"}, not to transactioncurrency`);
    } else if (found) currency = found.type === "Lookup" ? { kind: "lookup", column: found.logicalName, navigation: found.schemaName } : { kind: "text", column: found.logicalName };
  }
  let contact: FieldMapping["contact"] = standard.contact;
  if (config.opportunity?.customerContact) {
    const found = attribute("opportunity", config.opportunity.customerContact, "opportunity.customerContact", new Set(["Lookup"]));
    if (found && !found.targets.includes("contact")) problems.push(`opportunity.customerContact: opportunity.${found.logicalName} points to ${found.targets.join(", ") || "no table"}, not to contact`);
    else if (found) contact = { column: found.logicalName, navigation: found.schemaName };
  }
  const address: AddressColumns = { ...standard.address };
  for (const [part, named] of Object.entries(config.account?.address ?? {}) as Array<[keyof AddressColumns, string | undefined]>) {
    if (!named) continue;
    const found = attribute("account", named, `account.address.${part}`, TEXT);
    if (found) address[part] = found.logicalName;
  }

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
        else if (found.type === "Picklist" && typeof value === "number" && found.options && !found.options.some((o) => o.value === value)) {
          problems.push(`${what}: ${value} is not a choice of ${table}.${column} (its values: ${describeOptions(found.options)})`);
        }
      }
    }
  }

  // The status reasons the relay closes with: each must be a statuscode value of the table in the right state.
  const statuses: ClosingStatuses = {
    opportunity: { ...STANDARD_CLOSING_STATUSES.opportunity },
    lead: { ...STANDARD_CLOSING_STATUSES.lead },
  };
  const statusChecks: Array<{ table: "opportunity" | "lead"; key: string; value: number; state: number; stateName: string }> = [];
  for (const [name, value] of Object.entries(config.opportunity?.statuses ?? {})) {
    if (value === undefined) continue;
    statusChecks.push({ table: "opportunity", key: name, value, state: name === "won" ? OpportunityStateCode.Won : OpportunityStateCode.Lost, stateName: name === "won" ? "Won" : "Lost" });
  }
  for (const [name, value] of Object.entries(config.lead?.statuses ?? {})) {
    if (value !== undefined) statusChecks.push({ table: "lead", key: name, value, state: LeadStateCode.Disqualified, stateName: "Disqualified" });
  }
  for (const check of statusChecks) {
    const what = `${check.table}.statuses.${check.key}`;
    const found = attribute(check.table, "statuscode", what, new Set(["Status"]));
    if (!found) continue;
    const option = found.options?.find((o) => o.value === check.value);
    if (!option) problems.push(`${what}: ${check.value} is not a status reason of ${check.table} (its ${check.stateName} ones: ${describeOptions((found.options ?? []).filter((o) => o.state === check.state))})`);
    else if (option.state !== undefined && option.state !== check.state) {
      problems.push(`${what}: ${check.value}${option.label ? ` (${option.label})` : ""} is not a ${check.stateName} status reason of ${check.table} (its ${check.stateName} ones: ${describeOptions((found.options ?? []).filter((o) => o.state === check.state))})`);
    } else if (check.table === "opportunity") (statuses.opportunity as Record<string, number>)[check.key] = check.value;
    else (statuses.lead as Record<string, number>)[check.key] = check.value;
  }

  // The owner of created rows: the named user or team must exist (and a user be enabled).
  let owner: OwnerMapping | undefined;
  const principal = (spec: PrincipalConfig, what: string): Principal | undefined => {
    const found = principals.get(principalKey(spec));
    const named = "team" in spec ? `team ${JSON.stringify(spec.team)}` : `user ${JSON.stringify(spec.user)}`;
    if (!found) {
      problems.push(`${what}: there is no ${named} in this environment${"team" in spec ? " (give its teamid or its exact name)" : " (give its systemuserid, sign-in name or primary e-mail)"}`);
      return undefined;
    }
    if (found.disabled) {
      problems.push(`${what}: the ${named} (${found.name}) is disabled and cannot own records`);
      return undefined;
    }
    return { kind: found.kind, id: found.id, name: found.name };
  };
  const ownerConfig = config.owner;
  if (ownerConfig && "matchPartnerCenterTeamMember" in ownerConfig) {
    const fallback = ownerConfig.fallback ? principal(ownerConfig.fallback, "owner.fallback") : undefined;
    owner = { kind: "teamMember", ...(fallback ? { fallback } : {}) };
  } else if (ownerConfig) {
    const fixed = principal(ownerConfig, "owner");
    if (fixed) owner = { kind: "fixed", principal: fixed };
  }

  if (problems.length || !dealValue || !country || !accountMatch) return fail(problems);
  return { ok: true, mapping: { key, dealValue, opportunity, currency, contact, address, country, accountMatch, ...(owner ? { owner } : {}), statuses, config } };
}

function describeOptions(options: ReadonlyArray<{ value: number; label?: string }>): string {
  return options.length ? options.map((o) => (o.label ? `${o.value} ${o.label}` : String(o.value))).join(", ") : "none";
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
      const principals = parsed?.ok ? await this.#principals(parsed.config) : new Map<string, PrincipalInfo | undefined>();
      result = checkFieldMapping(settings, tables, principals);
    }
    if (result.ok) {
      const changed = this.#lastGood?.key !== result.mapping.key;
      this.#lastGood = result.mapping;
      // A value rejected again after a good one is a new rejection: said again on the next record.
      this.#reported.clear();
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
    // Choices and status reasons: their values, as the typed metadata's OptionSet gives them.
    for (const [type, cast] of [["Picklist", "PicklistAttributeMetadata"], ["Status", "StatusAttributeMetadata"]] as const) {
      const names = [...attributes.values()].filter((a) => a.type === type).map((a) => a.logicalName);
      if (!names.length) continue;
      const typed = await this.#client.send(retrieveMultipleRequest<Record<string, unknown>>(`EntityDefinitions(LogicalName='${logicalName}')/Attributes/Microsoft.Dynamics.CRM.${cast}`, {
        select: ["LogicalName"], filter: anyOf("LogicalName", names), expand: [{ property: "OptionSet" }], formattedValues: false,
      }));
      for (const row of typed.value) {
        const info = attributes.get(String(row.LogicalName ?? ""));
        const set = row.OptionSet as { Options?: Array<Record<string, unknown>> } | null | undefined;
        if (!info || !Array.isArray(set?.Options)) continue;
        info.options = set.Options.filter((o) => typeof o.Value === "number").map((o) => {
          const label = (o.Label as { UserLocalizedLabel?: { Label?: unknown } } | undefined)?.UserLocalizedLabel?.Label;
          return { value: o.Value as number, ...(typeof o.State === "number" ? { state: o.State } : {}), ...(typeof label === "string" ? { label } : {}) };
        });
      }
    }
    return { logicalName, entitySetName: String(entity.EntitySetName ?? ""), attributes };
  }

  /** The users and teams the configuration names, found by id, or by name (team) / sign-in name or e-mail (user). */
  async #principals(config: FieldMappingConfig): Promise<Map<string, PrincipalInfo | undefined>> {
    const found = new Map<string, PrincipalInfo | undefined>();
    for (const spec of namedPrincipals(config)) {
      const key = principalKey(spec);
      if (found.has(key)) continue;
      if ("team" in spec) {
        const t = TeamTable;
        const filter = isGuid(spec.team) ? `${t.id} eq ${spec.team}` : `${t.name} eq ${literal(spec.team)}`;
        const page = await this.#client.send(retrieveMultipleRequest<Record<string, unknown>>(t.entitySet, { select: [t.id, t.name], filter, top: 1, formattedValues: false }));
        const row = page.value[0];
        found.set(key, row ? { kind: "team", id: String(row[t.id]), name: String(row[t.name] ?? spec.team), disabled: false } : undefined);
      } else {
        const u = SystemUserTable;
        const filter = isGuid(spec.user) ? `${u.id} eq ${spec.user}` : `${u.domainName} eq ${literal(spec.user)} or ${u.email} eq ${literal(spec.user)}`;
        const page = await this.#client.send(retrieveMultipleRequest<Record<string, unknown>>(u.entitySet, {
          select: [u.id, u.fullName, u.isDisabled], filter, orderBy: [`${u.isDisabled} asc`], top: 1, formattedValues: false,
        }));
        const row = page.value[0];
        found.set(key, row ? { kind: "user", id: String(row[u.id]), name: String(row[u.fullName] ?? spec.user), disabled: row[u.isDisabled] === true } : undefined);
      }
    }
    return found;
  }
}

// What the card reads from Dataverse through context.webAPI: the environment variables it needs, the
// deal the readiness checklist runs on (through the admin's field mapping), the latest status columns,
// and the sync history.
// Every logical name of the solution comes from Core/generated/schema.ts.
import {
  accountCountryColumn, checkChecklistMapping, CLOSE_DATE, countryRowToRead, effectiveChecklistMapping, type ChecklistMapping, type ChecklistRecords,
  type DescribeColumns, type SeedVariable,
} from "../../../Core/checklist-mapping.ts";
import { EnvironmentVariables, MicrosoftSolution, Opportunity, SyncEvent } from "../../../Core/generated/schema.ts";

/** The part of ComponentFramework.WebApi the card uses (so a test double needs only these two). */
export type CardWebApi = Pick<ComponentFramework.WebApi, "retrieveRecord" | "retrieveMultipleRecords">;

export interface CardSettings {
  /** Relay URL from the environment variable (current value, else default); "" when unset. */
  relayUrl: string;
  /**
   * Where the checklist reads the deal value and the country: the "Partner Center field mapping" JSON
   * variable over the seed's variables (Core/checklist-mapping.ts).
   */
  mapping: ChecklistMapping;
  /**
   * Why the field mapping variable is not used (the checklist follows the seed's variables): it is not
   * valid, or a column it names is not a column of its table with a fitting type. For the admin note.
   */
  fieldMappingProblems: string[];
  /** A variable that does not name a column: the deal cannot be read until the admin fixes it. */
  problem: SettingError | null;
}

/** A setting that cannot be used as it is, reported to the seller instead of a failing query. */
export class SettingError extends Error {
  readonly schemaName: string;
  readonly value: string;
  constructor(schemaName: string, value: string) {
    super(`${schemaName} holds "${value}", which is not a column name`);
    this.name = "SettingError";
    this.schemaName = schemaName;
    this.value = value;
  }
}

export interface DealRecord {
  /** What the checklist runs on (with the form's help choice): Core's mappedChecklist. */
  records: Omit<ChecklistRecords, "helpRequested">;
  /** The mapping the records were read through. */
  mapping: ChecklistMapping;
  accountId: string | null;
  contactId: string | null;
  /** The status columns as saved now; newer than the form's copy after a relay run. */
  status: StatusSnapshot;
}

export interface StatusSnapshot {
  syncStatus: number | null;
  lastSyncedOn: Date | null;
  lastSyncError: string | null;
  microsoftStatus: number | null;
  microsoftSubstatus: number | null;
  microsoftCrmIdentifier: string | null;
  referralLink: string | null;
}

export interface SyncEventRow {
  id: string;
  name: string;
  direction: number | null;
  outcome: number | null;
  message: string;
  occurredOn: Date | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record id without braces, lower case; null when it is not a GUID (for example a new record). */
export function normalizeId(id: string | null | undefined): string | null {
  const bare = (id ?? "").trim().replace(/^\{|\}$/g, "").toLowerCase();
  return GUID.test(bare) ? bare : null;
}

const VALUES_EXPAND = "environmentvariabledefinition_environmentvariablevalue";

const SEED_VARIABLES: Record<SeedVariable, { schemaName: string }> = {
  dealValueField: EnvironmentVariables.dealValueField,
  countryField: EnvironmentVariables.customerAccountCountryCodeField,
};

/**
 * Reads the four environment variables in one request (shared/docs/dataverse.md §4.4), then checks the
 * columns the field mapping names against the tables' metadata (`describe`: context.utils.getEntityMetadata),
 * so the deal is never read through a column that is not there.
 */
export async function readSettings(webAPI: CardWebApi, describe: DescribeColumns): Promise<CardSettings> {
  const wanted = [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField, EnvironmentVariables.fieldMapping];
  const filter = wanted.map((v) => `schemaname eq '${v.schemaName}'`).join(" or ");
  const result = await webAPI.retrieveMultipleRecords(
    "environmentvariabledefinition",
    `?$select=schemaname,defaultvalue&$filter=${filter}&$expand=${VALUES_EXPAND}($select=value)`,
  );
  const valueOf = (schemaName: string, fallback: string): string => {
    const definition = result.entities.find((e) => String(e.schemaname).toLowerCase() === schemaName.toLowerCase());
    if (!definition) return fallback;
    const values = definition[VALUES_EXPAND] as Array<{ value?: string | null }> | undefined;
    const current = values?.[0]?.value?.trim();
    return current || (typeof definition.defaultvalue === "string" ? definition.defaultvalue.trim() : "") || fallback;
  };
  const effective = await checkChecklistMapping(effectiveChecklistMapping({
    fieldMapping: valueOf(EnvironmentVariables.fieldMapping.schemaName, "") || null,
    dealValueField: valueOf(EnvironmentVariables.dealValueField.schemaName, "") || null,
    countryField: valueOf(EnvironmentVariables.customerAccountCountryCodeField.schemaName, "") || null,
  }), describe);
  const invalid = effective.invalidSeed[0];
  const schemaName = invalid ? SEED_VARIABLES[invalid].schemaName : "";
  return {
    relayUrl: valueOf(EnvironmentVariables.relayUrl.schemaName, ""),
    mapping: effective.mapping,
    fieldMappingProblems: effective.fieldMappingProblems,
    problem: invalid ? new SettingError(schemaName, valueOf(schemaName, "")) : null,
  };
}

const lookupFilter = (column: string, id: string): string => `_${column}_value eq ${id}`;

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}
function numberOrNull(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}
function dateOrNull(value: unknown): Date | null {
  if (typeof value !== "string" && !(value instanceof Date)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * The deal as Partner Center will see it, read through the mapping: the opportunity (with the mapped
 * deal value column) with its account, contact and currency (one request with $expand), how many
 * Microsoft solutions are attached, and, when the country is behind a lookup on the account, the row it
 * points to (a second retrieve: the table comes from the lookup's annotation, as a lookup's navigation
 * property name is not known here). The account and contact are the opportunity's Account
 * (parentaccountid) and Contact (parentcontactid).
 */
export async function readDeal(webAPI: CardWebApi, opportunityId: string, settings: Pick<CardSettings, "mapping">): Promise<DealRecord> {
  const c = Opportunity.columns;
  const { mapping } = settings;
  const select = [mapping.dealValue, CLOSE_DATE, c.syncStatus, c.lastSyncedOn, c.lastSyncError, c.microsoftStatus, c.microsoftSubstatus, c.microsoftCrmIdentifier, c.referralLink];
  const expand = [
    `parentaccountid($select=accountid,${accountCountryColumn(mapping)})`,
    "parentcontactid($select=contactid,emailaddress1,firstname,lastname)",
    "transactioncurrencyid($select=isocurrencycode)",
  ];
  const [opportunity, solutions] = await Promise.all([
    webAPI.retrieveRecord(Opportunity.logicalName, opportunityId, `?$select=${[...new Set(select)].join(",")}&$expand=${expand.join(",")}`),
    webAPI.retrieveMultipleRecords(
      MicrosoftSolution.logicalName,
      `?$select=${MicrosoftSolution.primaryId}&$filter=${lookupFilter(MicrosoftSolution.lookups.opportunity.column, opportunityId)}`,
      50,
    ),
  ]);
  const account = (opportunity.parentaccountid as Record<string, unknown> | null | undefined) ?? null;
  const contact = opportunity.parentcontactid as Record<string, unknown> | null | undefined;
  const currency = opportunity.transactioncurrencyid as Record<string, unknown> | null | undefined;
  const countryRead = countryRowToRead(mapping, account);
  if (countryRead.read === "unknownTable") throw new Error(`the account's lookup ${countryRead.lookup} did not say which table it points to`);
  const country = countryRead.read === "row" ? await webAPI.retrieveRecord(countryRead.table, countryRead.id, `?$select=${countryRead.column}`) : null;
  return {
    mapping,
    records: {
      solutionCount: solutions.entities.length,
      opportunity,
      account,
      country,
      contact: contact ? { email: text(contact.emailaddress1), firstName: text(contact.firstname), lastName: text(contact.lastname) } : null,
      currencyCode: currency ? text(currency.isocurrencycode) : null,
    },
    accountId: account ? normalizeId(String(account.accountid ?? "")) : null,
    contactId: contact ? normalizeId(String(contact.contactid ?? "")) : null,
    status: {
      syncStatus: numberOrNull(opportunity[c.syncStatus]),
      lastSyncedOn: dateOrNull(opportunity[c.lastSyncedOn]),
      lastSyncError: text(opportunity[c.lastSyncError]),
      microsoftStatus: numberOrNull(opportunity[c.microsoftStatus]),
      microsoftSubstatus: numberOrNull(opportunity[c.microsoftSubstatus]),
      microsoftCrmIdentifier: text(opportunity[c.microsoftCrmIdentifier]),
      referralLink: text(opportunity[c.referralLink]),
    },
  };
}

/** The latest sync events of the opportunity, newest first. */
export async function readHistory(webAPI: CardWebApi, opportunityId: string, top: number): Promise<SyncEventRow[]> {
  const c = SyncEvent.columns;
  const result = await webAPI.retrieveMultipleRecords(
    SyncEvent.logicalName,
    `?$select=${[SyncEvent.primaryId, c.primaryName, c.direction, c.outcome, c.message, c.occurredOn, c.createdOn].join(",")}` +
      `&$filter=${lookupFilter(SyncEvent.lookups.opportunity.column, opportunityId)}` +
      `&$orderby=${c.occurredOn} desc,${c.createdOn} desc&$top=${top}`,
  );
  return result.entities.slice(0, top).map((row) => ({
    id: String(row[SyncEvent.primaryId] ?? ""),
    name: text(row[c.primaryName]) ?? "",
    direction: numberOrNull(row[c.direction]),
    outcome: numberOrNull(row[c.outcome]),
    message: text(row[c.message]) ?? "",
    occurredOn: dateOrNull(row[c.occurredOn]) ?? dateOrNull(row[c.createdOn]),
  }));
}

/** A short, human message of whatever a Web API call rejected with. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === "object" && "message" in error && typeof (error as { message: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}

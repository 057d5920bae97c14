// What the card reads from Dataverse through context.webAPI: the environment variables it needs, the
// deal facts the readiness checklist runs on, the latest status columns, and the sync history.
// Every logical name of the solution comes from Core/generated/schema.ts.
import type { DealFacts } from "../../../Core/readiness.ts";
import { EnvironmentVariables, MicrosoftSolution, Opportunity, SyncEvent } from "../../../Core/generated/schema.ts";

/** The part of ComponentFramework.WebApi the card uses (so a test double needs only these two). */
export type CardWebApi = Pick<ComponentFramework.WebApi, "retrieveRecord" | "retrieveMultipleRecords">;

export interface CardSettings {
  /** Relay URL from the environment variable (current value, else default); "" when unset. */
  relayUrl: string;
  /** Account column holding the two-letter country code. */
  countryField: string;
  /** Opportunity column holding the deal value. */
  dealValueField: string;
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
  facts: Omit<DealFacts, "helpRequested">;
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
const COLUMN = /^[a-z][a-z0-9_]{0,99}$/i;

/** The record id without braces, lower case; null when it is not a GUID (for example a new record). */
export function normalizeId(id: string | null | undefined): string | null {
  const bare = (id ?? "").trim().replace(/^\{|\}$/g, "").toLowerCase();
  return GUID.test(bare) ? bare : null;
}

const VALUES_EXPAND = "environmentvariabledefinition_environmentvariablevalue";

/** Reads the three environment variables in one request (shared/docs/dataverse.md §4.4). */
export async function readSettings(webAPI: CardWebApi): Promise<CardSettings> {
  const wanted = [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField];
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
  let problem: SettingError | null = null;
  const column = (variable: { schemaName: string; defaultValue: string }): string => {
    const value = valueOf(variable.schemaName, variable.defaultValue);
    if (COLUMN.test(value)) return value.toLowerCase();
    problem ??= new SettingError(variable.schemaName, value);
    return variable.defaultValue;
  };
  return {
    relayUrl: valueOf(EnvironmentVariables.relayUrl.schemaName, ""),
    countryField: column(EnvironmentVariables.customerAccountCountryCodeField),
    dealValueField: column(EnvironmentVariables.dealValueField),
    problem,
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
 * The deal as Partner Center will see it: the opportunity with its account, contact and currency
 * (one request with $expand), and how many Microsoft solutions are attached. The account and contact
 * are the opportunity's Account (parentaccountid) and Contact (parentcontactid).
 */
export async function readDeal(webAPI: CardWebApi, opportunityId: string, settings: CardSettings): Promise<DealRecord> {
  const c = Opportunity.columns;
  const select = [settings.dealValueField, "estimatedclosedate", c.syncStatus, c.lastSyncedOn, c.lastSyncError, c.microsoftStatus, c.microsoftSubstatus, c.microsoftCrmIdentifier, c.referralLink];
  const expand = [
    `parentaccountid($select=accountid,${settings.countryField})`,
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
  const account = opportunity.parentaccountid as Record<string, unknown> | null | undefined;
  const contact = opportunity.parentcontactid as Record<string, unknown> | null | undefined;
  const currency = opportunity.transactioncurrencyid as Record<string, unknown> | null | undefined;
  const country = account ? account[settings.countryField] : null;
  return {
    facts: {
      solutionCount: solutions.entities.length,
      hasAccount: Boolean(account),
      customerCountry: typeof country === "string" ? country : null,
      contact: contact ? { email: text(contact.emailaddress1), firstName: text(contact.firstname), lastName: text(contact.lastname) } : null,
      dealValue: numberOrNull(opportunity[settings.dealValueField]),
      currencyCode: currency ? text(currency.isocurrencycode) : null,
      closeDate: text(opportunity.estimatedclosedate),
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

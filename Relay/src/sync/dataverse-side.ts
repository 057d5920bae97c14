// The sync engine's Dataverse side: reads an opportunity or a lead with everything the mapping needs
// (account, contact, currency, owner, Microsoft solutions with their details) and the environment
// variables in ONE $batch; turns the row into the synced fields and the readiness facts; writes a
// record's changes and its Sync Event together (one change set, If-Match); finds and creates the
// account, contact and records an incoming referral needs.
import {
  EnvironmentVariables, HowCanMicrosoftHelpOptions, Lead, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity,
  PartnerCenterSyncStatus, ReferralStatusOptions, ReferralSubstatusOptions, SolutionTypeOptions, SyncDirection,
  SyncEvent, SyncOutcome as SyncOutcomeChoice,
} from "../../../Core/generated/schema.ts";
import type { DealFacts } from "../../../Core/readiness.ts";
import { normalize, type DealForReferral, type SyncedFields } from "../../../Core/mapping.ts";
import type { AssistanceRequestCode, Member, Referral } from "../../../Core/referral.ts";
import { toCountryCode } from "../../../Core/iso.ts";
import {
  DataverseError, anyOf, createRequest, literal, retrieveMultipleRequest, retrieveRequest, updateRequest,
  type DataverseClient, type Expand, type Row,
} from "../clients/dataverse.ts";
import { environmentVariablesRequest, type EnvironmentSettings, type EnvironmentVariableReader } from "../settings/environment-variables.ts";
import {
  FieldMappingReader, STANDARD_ADDRESS_COLUMNS, createDefaults, type FieldMapping, type FieldMappingLog, type Principal,
} from "../settings/field-mapping.ts";
import {
  AccountTable, ContactTable, CurrencyTable, LeadTable, OWNER_BIND, OpportunityCloseTable, OpportunityTable, SystemUserTable, TeamTable, bind, isColumnName,
} from "./dataverse-columns.ts";
import type { RecordType } from "./links.ts";

const OC = Opportunity.columns;
const LC = Lead.columns;

/** The ✔ / ✖ the "Display check mark in the opportunity name" variable adds. */
export const CHECK_MARK = "✔";
export const CROSS_MARK = "✖";

export function stripMark(name: string): string {
  return name.replace(/\s*[✔✖]\s*$/u, "");
}

export function withMark(name: string, mark: typeof CHECK_MARK | typeof CROSS_MARK): string {
  return `${stripMark(name)} ${mark}`;
}

/** What every synced record (opportunity or lead) carries for the relay. */
export interface RecordStatus {
  sync: boolean;
  referralId: string | null;
  referralLink: string | null;
  syncStatus: number | null;
  lastSyncError: string | null;
  audit: string;
  referralStatus: number | null;
  referralSubstatus: number | null;
  statecode: number;
  statuscode: number | null;
  modifiedBy: string | null;
  /** The stored name/subject, marks included. */
  name: string;
}

export interface OpportunityRecord extends RecordStatus {
  type: "opportunity";
  id: string;
  etag: string;
  row: Row;
  fields: SyncedFields;
  facts: DealFacts;
  solutionDetails: DealForReferral["solutionDetails"];
  team: Member[];
  microsoftCrmId: string | null;
  microsoftStatus: number | null;
  microsoftSubstatus: number | null;
  /** Actual Revenue: the final deal value once the opportunity is won. */
  actualValue: number | null;
  settings: EnvironmentSettings;
  /** The field mapping in force when it was read (checked, or the last good one). */
  mapping: FieldMapping;
}

export interface LeadRecord extends RecordStatus {
  type: "lead";
  id: string;
  etag: string;
  row: Row;
  /** Only the fields a lead holds; the rest come from the link's base (or the referral). */
  partial: Partial<SyncedFields>;
  /** The opportunity a qualify created from it. */
  qualifyingOpportunityId: string | null;
  /** The seller's note on qualifying or disqualifying. */
  qualificationComments: string | null;
  respondBy: string | null;
  settings: EnvironmentSettings;
  mapping: FieldMapping;
}

export type SyncRecord = OpportunityRecord | LeadRecord;

export const entitySetOf = (type: RecordType): string => (type === "opportunity" ? OpportunityTable.entitySet : LeadTable.entitySet);

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const strOrNull = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);
const numOrNull = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : null);
const obj = (value: unknown): Row | null => (value && typeof value === "object" && !Array.isArray(value) ? (value as Row) : null);

export function helpCode(value: unknown): AssistanceRequestCode | null {
  const option = HowCanMicrosoftHelpOptions.find((o) => o.value === value);
  return option && option.externalValue ? (option.externalValue as AssistanceRequestCode) : null;
}

export function helpChoice(code: string | null | undefined): number | null {
  if (!code || code === "Unknown") return null;
  return HowCanMicrosoftHelpOptions.find((o) => o.externalValue === code)?.value ?? null;
}

export function statusChoice(status: string | null | undefined): number | null {
  return ReferralStatusOptions.find((o) => o.externalValue === status)?.value ?? null;
}

export function substatusChoice(substatus: string | null | undefined): number | null {
  return ReferralSubstatusOptions.find((o) => o.externalValue === substatus)?.value ?? null;
}

export function statusName(choice: number | null): string | null {
  return ReferralStatusOptions.find((o) => o.value === choice)?.externalValue ?? null;
}

export function substatusName(choice: number | null): string | null {
  return ReferralSubstatusOptions.find((o) => o.value === choice)?.externalValue ?? null;
}

/** The columns named by the environment variables, checked before they are spliced into a query. */
export function mappedColumns(settings: Pick<EnvironmentSettings, "dealValueField" | "customerAccountCountryCodeField">): { dealValue: string; country: string } {
  const check = (value: string, variable: { schemaName: string; displayName: Record<string, string> }): string => {
    if (!isColumnName(value)) {
      throw new DataverseError({ status: 400, code: "", message: `Environment variable "${variable.displayName["1033"]}" (${variable.schemaName}) is '${value}', which is not a column's logical name.` });
    }
    return value.toLowerCase();
  };
  return {
    dealValue: check(settings.dealValueField, EnvironmentVariables.dealValueField),
    country: check(settings.customerAccountCountryCodeField, EnvironmentVariables.customerAccountCountryCodeField),
  };
}

const STATUS_COLUMNS = [OC.syncWithPartnerCenter, OC.referralIdentifier, OC.referralLink, OC.syncStatus, OC.lastSyncError, OC.audit, OC.referralStatus, OC.referralSubstatus] as const;

/** The account's $expand: its address, and the country column (or the country row through the lookup). */
export function accountExpand(property: string, mapping: Pick<FieldMapping, "country"> & Partial<Pick<FieldMapping, "address">>): Expand {
  const country = mapping.country;
  const address = mapping.address ?? STANDARD_ADDRESS_COLUMNS;
  const select = [...new Set([
    AccountTable.id, AccountTable.name, address.line1, address.city, ...(address.state ? [address.state] : []), address.postalCode, AccountTable.country, country.column,
  ])];
  return {
    property, select,
    ...(country.kind === "lookup" ? { expand: [{ property: country.navigation, select: [country.isoColumn] }] } : {}),
  };
}

/** The ISO code an account row (as accountExpand reads it) holds, through the mapping. */
export function accountCountryOf(account: Row, mapping: Pick<FieldMapping, "country">): string | null {
  const country = mapping.country;
  if (country.kind === "column") return strOrNull(account[country.column]);
  const row = obj(account[country.navigation]);
  return row ? strOrNull(row[country.isoColumn]) : null;
}

function opportunityQuery(mapping: FieldMapping): { select: string[]; expand: Expand[] } {
  const detail = MicrosoftSolutionDetail.columns;
  return {
    select: [...new Set([
      OpportunityTable.name, OpportunityTable.description, OpportunityTable.estimatedCloseDate, mapping.dealValue, OpportunityTable.statecode, OpportunityTable.statuscode,
      mapping.opportunity.name, mapping.opportunity.notes, mapping.opportunity.closeDate, ...(mapping.currency.kind === "text" ? [mapping.currency.column] : []),
      OpportunityTable.actualValue, OpportunityTable.modifiedBy,
      ...STATUS_COLUMNS, OC.helpRequested, OC.referralVisibility, OC.microsoftCrmIdentifier, OC.microsoftStatus, OC.microsoftSubstatus,
    ])],
    expand: [
      accountExpand(OpportunityTable.parentAccount, mapping),
      accountExpand(OpportunityTable.customerAccount, mapping),
      { property: mapping.contact.navigation, select: [ContactTable.id, ContactTable.firstName, ContactTable.lastName, ContactTable.email, ContactTable.phone] },
      { property: OpportunityTable.currency, select: [CurrencyTable.id, CurrencyTable.isoCode] },
      ...(mapping.currency.kind === "lookup" && mapping.currency.navigation !== OpportunityTable.currency ? [{ property: mapping.currency.navigation, select: [CurrencyTable.id, CurrencyTable.isoCode] }] : []),
      { property: OpportunityTable.owningUser, select: [SystemUserTable.firstName, SystemUserTable.lastName, SystemUserTable.email] },
      {
        property: Opportunity.collections.microsoftPartnerCenterSolutions,
        select: [MicrosoftSolution.primaryId, MicrosoftSolution.columns.primaryName],
        expand: [{ property: MicrosoftSolution.lookups.solutionDetail.navigationProperty, select: [detail.solutionIdentifier, detail.primaryName, detail.solutionType, detail.publisherName] }],
      },
    ],
  };
}

const LEAD_SELECT = [
  LeadTable.subject, LeadTable.firstName, LeadTable.lastName, LeadTable.companyName, LeadTable.email, LeadTable.phone, LeadTable.description,
  LeadTable.estimatedAmount, LeadTable.estimatedCloseDate, LeadTable.statecode, LeadTable.statuscode, LeadTable.modifiedBy,
  LeadTable.qualifyingOpportunity, LeadTable.qualificationComments, LC.respondBy, LC.syncWithPartnerCenter, LC.referralIdentifier, LC.referralLink, LC.syncStatus, LC.lastSyncError, LC.audit, LC.referralStatus, LC.referralSubstatus, LC.helpRequested,
];

function recordStatus(row: Row, nameColumn: string): RecordStatus {
  return {
    sync: row[OC.syncWithPartnerCenter] === true,
    referralId: strOrNull(row[OC.referralIdentifier]),
    referralLink: strOrNull(row[OC.referralLink]),
    syncStatus: numOrNull(row[OC.syncStatus]),
    lastSyncError: strOrNull(row[OC.lastSyncError]),
    audit: str(row[OC.audit]),
    referralStatus: numOrNull(row[OC.referralStatus]),
    referralSubstatus: numOrNull(row[OC.referralSubstatus]),
    statecode: numOrNull(row[OpportunityTable.statecode]) ?? 0,
    statuscode: numOrNull(row[OpportunityTable.statuscode]),
    modifiedBy: strOrNull(row[OpportunityTable.modifiedBy]),
    name: str(row[nameColumn]),
  };
}

/** The opportunity row (as read with opportunityQuery) as synced fields, readiness facts and create details. */
export function opportunityFromRow(row: Row, settings: EnvironmentSettings, mapping: FieldMapping): Omit<OpportunityRecord, "etag"> {
  const account = obj(row[OpportunityTable.parentAccount]) ?? obj(row[OpportunityTable.customerAccount]);
  const contact = obj(row[mapping.contact.navigation]);
  // The deal's currency as the field mapping names it: the lookup's ISO code, or the text column's.
  const currencyRow = mapping.currency.kind === "lookup" ? obj(row[mapping.currency.navigation]) : null;
  const currencyCode = mapping.currency.kind === "lookup" ? (currencyRow ? strOrNull(currencyRow[CurrencyTable.isoCode]) : null) : strOrNull(row[mapping.currency.column])?.trim().toUpperCase() ?? null;
  const owner = obj(row[OpportunityTable.owningUser]);
  const solutionRows = Array.isArray(row[Opportunity.collections.microsoftPartnerCenterSolutions]) ? (row[Opportunity.collections.microsoftPartnerCenterSolutions] as Row[]) : [];
  const detailNav = MicrosoftSolution.lookups.solutionDetail.navigationProperty;
  const dc = MicrosoftSolutionDetail.columns;
  const solutionDetails = solutionRows
    .map((s) => obj(s[detailNav]))
    .filter((d): d is Row => !!d && typeof d[dc.solutionIdentifier] === "string" && (d[dc.solutionIdentifier] as string).trim() !== "")
    .map((d) => {
      const type = SolutionTypeOptions.find((o) => o.value === d[dc.solutionType])?.externalValue;
      return {
        id: (d[dc.solutionIdentifier] as string).trim(),
        ...(strOrNull(d[dc.primaryName]) ? { name: d[dc.primaryName] as string } : {}),
        ...(strOrNull(d[dc.publisherName]) ? { publisherName: d[dc.publisherName] as string } : {}),
        ...(type ? { solutionType: type } : {}),
      };
    });
  const status = recordStatus(row, OpportunityTable.name);
  const helpRequested = helpCode(row[OC.helpRequested]);
  const dealValue = numOrNull(row[mapping.dealValue]);
  const country = account ? accountCountryOf(account, mapping) : null;
  const contactFields = contact
    ? { firstName: str(contact[ContactTable.firstName]), lastName: str(contact[ContactTable.lastName]), email: str(contact[ContactTable.email]), phoneNumber: str(contact[ContactTable.phone]) }
    : null;
  const columns = mapping.opportunity;
  const address = mapping.address;
  const closeDate = strOrNull(row[columns.closeDate]);
  const fields = normalize({
    // The ✔ / ✖ of "Display check mark in the opportunity name" is only ever on the standard name.
    name: columns.name === OpportunityTable.name ? stripMark(status.name) : str(row[columns.name]),
    dealValue,
    currency: currencyCode,
    closeDate,
    notes: str(row[columns.notes]),
    helpRequested,
    visibleToMicrosoft: row[OC.referralVisibility] === true,
    customerName: account ? str(account[AccountTable.name]) : "",
    customerAddress: {
      addressLine1: account ? str(account[address.line1]) : "", addressLine2: "",
      city: account ? str(account[address.city]) : "", state: account && address.state ? str(account[address.state]) : "",
      postalCode: account ? str(account[address.postalCode]) : "", country: country ?? "",
    },
    customerContact: contactFields,
    solutions: solutionDetails.map((d) => d.id),
  });
  const facts: DealFacts = {
    solutionCount: solutionDetails.length,
    customerCountry: country,
    hasAccount: !!account,
    helpRequested: helpRequested !== null,
    contact: contact ? { email: strOrNull(contact[ContactTable.email]), firstName: strOrNull(contact[ContactTable.firstName]), lastName: strOrNull(contact[ContactTable.lastName]) } : null,
    dealValue,
    currencyCode,
    closeDate,
  };
  const team: Member[] = owner && strOrNull(owner[SystemUserTable.email])
    ? [{ firstName: str(owner[SystemUserTable.firstName]), lastName: str(owner[SystemUserTable.lastName]), email: str(owner[SystemUserTable.email]) }]
    : [];
  return {
    type: "opportunity", id: String(row[OpportunityTable.id]), row, ...status, fields, facts, solutionDetails, team,
    microsoftCrmId: strOrNull(row[OC.microsoftCrmIdentifier]), microsoftStatus: numOrNull(row[OC.microsoftStatus]), microsoftSubstatus: numOrNull(row[OC.microsoftSubstatus]),
    actualValue: numOrNull(row[OpportunityTable.actualValue]),
    settings, mapping,
  };
}

export function leadFromRow(row: Row, settings: EnvironmentSettings, mapping: FieldMapping): Omit<LeadRecord, "etag"> {
  const currency = obj(row[LeadTable.currency]);
  const status = recordStatus(row, LeadTable.subject);
  const partial: Partial<SyncedFields> = {
    name: stripMark(status.name),
    dealValue: numOrNull(row[LeadTable.estimatedAmount]),
    currency: currency ? strOrNull(currency[CurrencyTable.isoCode]) : null,
    closeDate: strOrNull(row[LeadTable.estimatedCloseDate]),
    notes: str(row[LeadTable.description]),
  };
  return {
    type: "lead", id: String(row[LeadTable.id]), row, ...status, partial,
    qualifyingOpportunityId: strOrNull(row[LeadTable.qualifyingOpportunity])?.toLowerCase() ?? null,
    qualificationComments: strOrNull(row[LeadTable.qualificationComments]),
    respondBy: strOrNull(row[LC.respondBy]),
    settings, mapping,
  };
}

/** The synced fields of a lead: its own columns over the base (or the referral) for what a lead does not hold. */
export function leadFields(record: LeadRecord, fallback: SyncedFields): SyncedFields {
  return normalize({ ...fallback, ...record.partial });
}

export function recordFields(record: SyncRecord, fallback: SyncedFields): SyncedFields {
  return record.type === "opportunity" ? record.fields : leadFields(record, fallback);
}

export interface SyncEventInput {
  direction: "outbound" | "inbound";
  outcome: "succeeded" | "failed" | "skipped" | "conflict";
  message: string;
  referralId: string | null;
  correlationId: string;
  occurredOn: Date;
}

const OUTCOME_CHOICE = { succeeded: SyncOutcomeChoice.Succeeded, failed: SyncOutcomeChoice.Failed, skipped: SyncOutcomeChoice.Skipped, conflict: SyncOutcomeChoice.Conflict } as const;
const OUTCOME_WORD = { succeeded: "succeeded", failed: "failed", skipped: "skipped", conflict: "succeeded with conflicts" } as const;

/** The pcr_syncevent row for a record. */
export function syncEventBody(recordType: RecordType, recordId: string, event: SyncEventInput): Record<string, unknown> {
  const c = SyncEvent.columns;
  const lookup = recordType === "opportunity" ? SyncEvent.lookups.opportunity : SyncEvent.lookups.lead;
  const firstLine = event.message.split("\n")[0] ?? "";
  return {
    [c.primaryName]: `${event.direction === "outbound" ? "Dynamics 365 → Partner Center" : "Partner Center → Dynamics 365"}: ${OUTCOME_WORD[event.outcome]}. ${firstLine}`.slice(0, 400),
    [c.direction]: event.direction === "outbound" ? SyncDirection.Outbound : SyncDirection.Inbound,
    [c.outcome]: OUTCOME_CHOICE[event.outcome],
    [c.message]: event.message.slice(0, 10_000),
    [c.referralIdentifier]: event.referralId,
    [c.correlationId]: event.correlationId,
    [c.occurredOn]: event.occurredOn.toISOString(),
    ...bind(lookup.navigationProperty, entitySetOf(recordType), recordId),
  };
}

/** Audit is newest first; the oldest lines go once it passes this many characters. */
export const AUDIT_LIMIT = 20_000;

export function auditLine(at: Date, direction: "outbound" | "inbound", text: string): string {
  const when = at.toISOString().replace("T", " ").replace(/:\d{2}\.\d{3}Z$/, " UTC");
  const arrow = direction === "outbound" ? "Dynamics 365 → Partner Center" : "Partner Center → Dynamics 365";
  return `${when} · ${arrow} · ${text.replace(/\s*\n\s*/g, " ")}`;
}

export function prependAudit(audit: string, line: string): string {
  let text = audit ? `${line}\n${audit}` : line;
  if (text.length > AUDIT_LIMIT) {
    text = text.slice(0, AUDIT_LIMIT);
    const cut = text.lastIndexOf("\n");
    if (cut > 0) text = text.slice(0, cut);
  }
  return text;
}

export type WriteResult = { result: "written"; etag?: string } | { result: "changed" } | { result: "missing" };

export class DataverseSide {
  readonly client: DataverseClient;
  readonly #reader: EnvironmentVariableReader;
  /** The admin's field mapping, checked before it is used; the last good one stays in force. */
  readonly mappings: FieldMappingReader;
  #known: EnvironmentSettings | undefined;
  readonly #currencies = new Map<string, { id: string; at: number }>();
  readonly #countries = new Map<string, { id: string | undefined; at: number }>();

  constructor(client: DataverseClient, reader: EnvironmentVariableReader, log?: FieldMappingLog) {
    this.client = client;
    this.#reader = reader;
    this.mappings = new FieldMappingReader({ client, ...(log ? { log } : {}) });
  }

  /** The settings and the field mapping in force with them. */
  async settingsAndMapping(): Promise<{ settings: EnvironmentSettings; mapping: FieldMapping }> {
    const settings = await this.settings();
    mappedColumns(settings); // the seed's variables name columns, never anything else
    return { settings, mapping: (await this.mappings.resolve(settings)).mapping };
  }

  /** The settings last read (the defaults before any read): enough to name the columns of a query. */
  get knownSettings(): EnvironmentSettings {
    return this.#known ?? {
      customerAccountCountryCodeField: EnvironmentVariables.customerAccountCountryCodeField.defaultValue,
      dealValueField: EnvironmentVariables.dealValueField.defaultValue,
      displayCheckMarkInName: false,
      fieldMapping: undefined,
      referralLinkTemplate: EnvironmentVariables.referralLinkTemplate.defaultValue,
      relayUrl: undefined,
      syncCoSellOpportunitiesOnly: true,
    };
  }

  async settings(): Promise<EnvironmentSettings> {
    this.#known = await this.#reader.get();
    return this.#known;
  }

  /**
   * One round trip: the record with its expansions and the environment variables. When the variables
   * name other columns than the query used, it reads once more with the right ones.
   */
  async #readWith<T>(build: (mapping: FieldMapping) => ReturnType<typeof retrieveRequest<Row>>, from: (row: Row, settings: EnvironmentSettings, mapping: FieldMapping) => T): Promise<(T & { etag: string }) | undefined> {
    const shape = (m: FieldMapping): string => JSON.stringify([m.dealValue, m.country, m.opportunity, m.currency, m.contact, m.address]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const used = this.mappings.known(this.knownSettings);
      const [record, variables] = await this.client.batch([build(used), environmentVariablesRequest()] as const);
      let settings: EnvironmentSettings;
      if (variables.outcome === "ok") settings = this.#reader.remember(variables.value);
      else settings = await this.#reader.get();
      this.#known = settings;
      mappedColumns(settings);
      const { mapping } = await this.mappings.resolve(settings);
      if (record.outcome !== "ok") throw record.outcome === "notRun" ? new Error("Dataverse did not run the read") : record.error;
      if (shape(used) !== shape(mapping)) continue;
      const row = record.value;
      if (!row) return undefined;
      return { ...from(row, settings, mapping), etag: row["@odata.etag"] };
    }
    throw new Error("The environment variables changed while the relay read the record; it will try again.");
  }

  readOpportunity(id: string): Promise<OpportunityRecord | undefined> {
    return this.#readWith((mapping) => retrieveRequest<Row>(OpportunityTable.entitySet, id, opportunityQuery(mapping)), opportunityFromRow);
  }

  readLead(id: string): Promise<LeadRecord | undefined> {
    return this.#readWith(
      () => retrieveRequest<Row>(LeadTable.entitySet, id, { select: LEAD_SELECT, expand: [{ property: LeadTable.currency, select: [CurrencyTable.id, CurrencyTable.isoCode] }] }),
      leadFromRow,
    );
  }

  readRecord(type: RecordType, id: string): Promise<SyncRecord | undefined> {
    return type === "opportunity" ? this.readOpportunity(id) : this.readLead(id);
  }

  /** Every open opportunity with Sync = Yes, read as the engine reads one (for the reconciler), a page at a time. */
  async *syncedOpportunities(pageSize = 100): AsyncGenerator<OpportunityRecord> {
    const { settings, mapping } = await this.settingsAndMapping();
    const query = opportunityQuery(mapping);
    for await (const row of this.client.retrieveMultiple<Row>(OpportunityTable.entitySet, {
      ...query, select: [...query.select, OpportunityTable.id],
      filter: `${OC.syncWithPartnerCenter} eq true and ${OpportunityTable.statecode} eq 0`, maxPageSize: pageSize, formattedValues: false,
    })) {
      yield { ...opportunityFromRow(row, settings, mapping), etag: String(row["@odata.etag"] ?? "") };
    }
  }

  /**
   * Records the seller answered in Dynamics 365 whose referral did not follow yet (a step lost while the
   * relay was down): closed opportunities and qualified or disqualified leads whose referral status is
   * still open. The reconciler queues them.
   */
  async *answeredRecords(pageSize = 100): AsyncGenerator<{ type: RecordType; id: string }> {
    const closed = statusChoice("Closed");
    const waiting = statusChoice("New");
    for await (const row of this.client.retrieveMultiple<Row>(OpportunityTable.entitySet, {
      select: [OpportunityTable.id], maxPageSize: pageSize, formattedValues: false,
      filter: `${OC.syncWithPartnerCenter} eq true and ${OpportunityTable.statecode} ne 0 and ${OC.referralIdentifier} ne null and ${OC.referralStatus} ne ${closed}`,
    })) yield { type: "opportunity", id: String(row[OpportunityTable.id]) };
    for await (const row of this.client.retrieveMultiple<Row>(LeadTable.entitySet, {
      select: [LeadTable.id], maxPageSize: pageSize, formattedValues: false,
      filter: `${LC.syncWithPartnerCenter} eq true and ${LeadTable.statecode} ne 0 and ${LC.referralIdentifier} ne null and ${LC.referralStatus} eq ${waiting}`,
    })) yield { type: "lead", id: String(row[LeadTable.id]) };
  }

  /** The opportunity or lead whose Referral Identifier (an alternate key) is this referral id, in one round trip. */
  async findByReferralId(referralId: string): Promise<{ type: RecordType; id: string } | undefined> {
    const [opportunity, lead] = await this.client.batch([
      retrieveRequest<Row>(OpportunityTable.entitySet, { [OC.referralIdentifier]: referralId }, { select: [OpportunityTable.id], formattedValues: false }),
      retrieveRequest<Row>(LeadTable.entitySet, { [LC.referralIdentifier]: referralId }, { select: [LeadTable.id], formattedValues: false }),
    ] as const, { continueOnError: true });
    for (const [type, outcome, idColumn, entitySet, column] of [
      ["opportunity", opportunity, OpportunityTable.id, OpportunityTable.entitySet, OC.referralIdentifier],
      ["lead", lead, LeadTable.id, LeadTable.entitySet, LC.referralIdentifier],
    ] as const) {
      if (outcome.outcome === "failed") throw outcome.error;
      if (outcome.outcome === "ok") {
        if (outcome.value) return { type, id: String(outcome.value[idColumn]) };
        continue;
      }
      // A part the batch did not run (a 404 before it stops a batch without continue-on-error): ask on its own.
      const row = await this.client.retrieve(entitySet, { [column]: referralId }, { select: [idColumn], formattedValues: false });
      if (row) return { type, id: String(row[idColumn]) };
    }
    return undefined;
  }

  /** Whether a record with this id exists (externalReferenceId of a referral the relay created). */
  async exists(type: RecordType, id: string): Promise<boolean> {
    const row = await this.client.retrieve(entitySetOf(type), id, { select: [type === "opportunity" ? OpportunityTable.id : LeadTable.id], formattedValues: false });
    return !!row;
  }

  /** The transactioncurrency id of an ISO code, or undefined when the environment has none (cached 10 minutes). */
  async currencyId(isoCode: string): Promise<string | undefined> {
    const code = isoCode.trim().toUpperCase();
    const cached = this.#currencies.get(code);
    if (cached && Date.now() - cached.at < 600_000) return cached.id;
    const page = await this.client.send(retrieveMultipleRequest<Row>(CurrencyTable.entitySet, { select: [CurrencyTable.id], filter: `${CurrencyTable.isoCode} eq ${literal(code)}`, top: 1, formattedValues: false }));
    const id = page.value[0]?.[CurrencyTable.id];
    if (typeof id !== "string") return undefined;
    this.#currencies.set(code, { id, at: Date.now() });
    return id;
  }

  /**
   * Updates the record with If-Match and creates its Sync Event, in one change set: both or neither.
   * "changed" means someone wrote in between: re-read and decide again.
   */
  async writeRecord(type: RecordType, id: string, etag: string, changes: Record<string, unknown>, event: SyncEventInput | undefined): Promise<WriteResult> {
    const entitySet = entitySetOf(type);
    const update = updateRequest(entitySet, id, changes, { ifMatch: etag, returnRepresentation: false });
    if (!event) {
      const result = await this.client.send(update);
      if (result.updated) return { result: "written", ...(result.etag ? { etag: result.etag } : {}) };
      return { result: result.reason };
    }
    const outcomes = await this.client.batch([update, createRequest(SyncEvent.entitySetName, syncEventBody(type, id, event))] as const, { changeSet: true });
    const [updated, created] = outcomes;
    if (updated.outcome === "ok") {
      if (!updated.value.updated) return { result: updated.value.reason };
      if (created.outcome === "ok") return { result: "written", ...(updated.value.etag ? { etag: updated.value.etag } : {}) };
    }
    for (const outcome of outcomes) {
      if (outcome.outcome === "failed" || outcome.outcome === "rolledBack") {
        if (outcome.error.status === 412) return { result: "changed" };
        if (outcome.error.status === 404 && outcome === updated) return { result: "missing" };
      }
    }
    const failed = outcomes.find((o) => o.outcome === "failed");
    if (failed && failed.outcome === "failed") throw failed.error;
    throw new Error("Dataverse did not apply the record's update and Sync Event");
  }

  /** The newest Opportunity Close activity of an opportunity: the seller's close reason and final revenue. */
  async latestOpportunityClose(opportunityId: string): Promise<{ description: string | null; actualRevenue: number | null } | undefined> {
    const page = await this.client.send(retrieveMultipleRequest<Row>(OpportunityCloseTable.entitySet, {
      select: [OpportunityCloseTable.description, OpportunityCloseTable.actualRevenue],
      filter: `${OpportunityCloseTable.opportunity} eq ${opportunityId}`, orderBy: [`${OpportunityCloseTable.createdOn} desc`], top: 1, formattedValues: false,
    }));
    const row = page.value[0];
    return row ? { description: strOrNull(row[OpportunityCloseTable.description]), actualRevenue: numOrNull(row[OpportunityCloseTable.actualRevenue]) } : undefined;
  }

  /** A Sync Event on its own (a skipped or failed run that changes nothing on the record). */
  async createSyncEvent(type: RecordType, id: string, event: SyncEventInput): Promise<void> {
    await this.client.create(SyncEvent.entitySetName, syncEventBody(type, id, event));
  }

  /**
   * The account for a referral's customer: by the customer's own number or D-U-N-S when the mapping says
   * so (customerProfile.ids), else by company name and postal code (name alone when the referral has
   * none); or a new one, with the mapping's country and defaults.
   */
  async matchOrCreateAccount(referral: Referral, mapping: FieldMapping, owner: Record<string, string> = {}): Promise<{ id: string; created: boolean; matchedBy?: string }> {
    const profile = referral.customerProfile;
    const name = (profile?.name ?? "").trim() || "Unknown customer";
    const address = profile?.address ?? {};
    const postalCode = (address.postalCode ?? "").trim();
    const columns = mapping.address;
    const match = mapping.accountMatch;
    const customerNumber = match.by === "customerNumber"
      ? (profile?.ids ?? []).find((i) => i.profileType.toLowerCase() === match.idType.toLowerCase() && i.id?.trim())?.id.trim()
      : undefined;
    const first = async (filter: string): Promise<string | undefined> => {
      const page = await this.client.send(retrieveMultipleRequest<Row>(AccountTable.entitySet, { select: [AccountTable.id], filter, orderBy: ["createdon asc"], top: 1, formattedValues: false }));
      const found = page.value[0]?.[AccountTable.id];
      return typeof found === "string" ? found : undefined;
    };
    if (match.by === "customerNumber" && customerNumber) {
      const found = await first(`${match.column} eq ${literal(customerNumber)}`);
      if (found) return { id: found, created: false, matchedBy: `${match.idType === "Duns" ? "D-U-N-S" : "customer number"} ${customerNumber}` };
    }
    const found = await first(postalCode
      ? `${AccountTable.name} eq ${literal(name)} and ${columns.postalCode} eq ${literal(postalCode)}`
      : `${AccountTable.name} eq ${literal(name)}`);
    if (found) return { id: found, created: false };
    const iso = address.country ? toCountryCode(address.country) ?? address.country : undefined;
    const country = mapping.country;
    let countryValue: Record<string, unknown> = {};
    if (iso && country.kind === "column") countryValue = { [country.column]: iso };
    else if (iso && country.kind === "lookup") {
      const countryId = await this.countryRowId(country, iso);
      if (countryId) countryValue = bind(country.navigation, country.entitySet, countryId);
    }
    const body: Record<string, unknown> = {
      ...createDefaults(mapping, "account", referral),
      [AccountTable.name]: name,
      ...(address.addressLine1 ? { [columns.line1]: address.addressLine1 } : {}),
      ...(address.city ? { [columns.city]: address.city } : {}),
      ...(address.state && columns.state ? { [columns.state]: address.state } : {}),
      ...(postalCode ? { [columns.postalCode]: postalCode } : {}),
      ...countryValue,
      ...(customerNumber && match.by === "customerNumber" ? { [match.column]: customerNumber } : {}),
      ...owner,
    };
    const { id } = await this.client.create(AccountTable.entitySet, body);
    return { id, created: true };
  }

  /**
   * The owner of the rows created from this referral, as the field mapping says (undefined: the relay's
   * application user, Dataverse's default): the fixed user or team, or the enabled user whose primary
   * e-mail is one of the referral's Partner Center team members (in their order), else the fallback.
   */
  async ownerFor(mapping: FieldMapping, referral: Referral): Promise<{ bind: Record<string, string>; why: string } | undefined> {
    const owner = mapping.owner;
    if (!owner) return undefined;
    const of = (p: Principal, why: string): { bind: Record<string, string>; why: string } => ({
      bind: bind(OWNER_BIND, p.kind === "team" ? TeamTable.entitySet : SystemUserTable.entitySet, p.id), why,
    });
    if (owner.kind === "fixed") return of(owner.principal, `${owner.principal.kind} ${owner.principal.name} (field mapping)`);
    const emails = [...new Set((referral.team ?? []).map((m) => (m.email ?? "").trim().toLowerCase()).filter((e) => e.includes("@")))];
    if (emails.length) {
      const u = SystemUserTable;
      const page = await this.client.send(retrieveMultipleRequest<Row>(u.entitySet, {
        select: [u.id, u.fullName, u.email], filter: `${u.isDisabled} eq false and (${anyOf(u.email, emails)})`, formattedValues: false,
      }));
      for (const email of emails) {
        const row = page.value.find((r) => str(r[u.email]).toLowerCase() === email);
        if (row) return of({ kind: "user", id: String(row[u.id]), name: str(row[u.fullName]) || email }, `${str(row[u.fullName]) || email}, the Partner Center team member ${email}`);
      }
    }
    if (owner.fallback) return of(owner.fallback, `${owner.fallback.kind} ${owner.fallback.name} (no Partner Center team member of the referral is a Dynamics 365 user)`);
    return undefined;
  }

  /** The row of the organisation's country table whose ISO column holds this code (cached 10 minutes). */
  async countryRowId(country: Extract<FieldMapping["country"], { kind: "lookup" }>, isoCode: string): Promise<string | undefined> {
    const code = isoCode.trim().toUpperCase();
    const cacheKey = `${country.entitySet}:${country.isoColumn}:${code}`;
    const cached = this.#countries.get(cacheKey);
    if (cached && Date.now() - cached.at < 600_000) return cached.id;
    const entity = await this.client.send(retrieveRequest<Row>("EntityDefinitions", { LogicalName: country.table }, { select: ["PrimaryIdAttribute"], formattedValues: false }));
    const primaryId = typeof entity?.PrimaryIdAttribute === "string" ? entity.PrimaryIdAttribute : `${country.table}id`;
    const page = await this.client.send(retrieveMultipleRequest<Row>(country.entitySet, { select: [primaryId], filter: `${country.isoColumn} eq ${literal(code)}`, top: 1, formattedValues: false }));
    const id = page.value[0]?.[primaryId];
    const value = typeof id === "string" ? id : undefined;
    this.#countries.set(cacheKey, { id: value, at: Date.now() });
    return value;
  }

  /** The contact with this e-mail address (else first and last name at the account), or a new one at the account. */
  async matchOrCreateContact(member: Member | undefined, accountId: string, defaults: Record<string, unknown> = {}): Promise<{ id: string; created: boolean } | undefined> {
    if (!member || (!member.email && !member.lastName)) return undefined;
    const email = (member.email ?? "").trim();
    const filter = email
      ? `${ContactTable.email} eq ${literal(email)}`
      : `${ContactTable.lastName} eq ${literal(member.lastName ?? "")} and ${ContactTable.firstName} eq ${literal(member.firstName ?? "")} and _parentcustomerid_value eq ${accountId}`;
    const page = await this.client.send(retrieveMultipleRequest<Row>(ContactTable.entitySet, { select: [ContactTable.id], filter, orderBy: ["createdon asc"], top: 1, formattedValues: false }));
    const found = page.value[0]?.[ContactTable.id];
    if (typeof found === "string") return { id: found, created: false };
    const body: Record<string, unknown> = {
      ...defaults,
      [ContactTable.firstName]: member.firstName ?? "",
      [ContactTable.lastName]: member.lastName || email || "Contact",
      ...(email ? { [ContactTable.email]: email } : {}),
      ...(member.phoneNumber ? { [ContactTable.phone]: member.phoneNumber } : {}),
      ...bind(ContactTable.bind.parentCustomerAccount, AccountTable.entitySet, accountId),
    };
    const { id } = await this.client.create(ContactTable.entitySet, body);
    return { id, created: true };
  }

  /**
   * Microsoft Partner Center Solution rows for the referral's solutions on a new opportunity; a solution
   * missing from the Microsoft Solution Details catalog is added to it.
   */
  async attachSolutions(opportunityId: string, solutions: NonNullable<NonNullable<Referral["details"]["requirements"]>["solutions"]>): Promise<void> {
    const dc = MicrosoftSolutionDetail.columns;
    const ids = [...new Set(solutions.map((s) => s.id?.trim()).filter((s): s is string => !!s))];
    if (!ids.length) return;
    const existing = await this.client.send(retrieveMultipleRequest<Row>(MicrosoftSolution.entitySetName, {
      select: [MicrosoftSolution.primaryId],
      filter: `_${MicrosoftSolution.lookups.opportunity.column}_value eq ${opportunityId}`,
      expand: [{ property: MicrosoftSolution.lookups.solutionDetail.navigationProperty, select: [dc.solutionIdentifier] }],
      formattedValues: false,
    }));
    const attached = new Set(existing.value.map((r) => obj(r[MicrosoftSolution.lookups.solutionDetail.navigationProperty])?.[dc.solutionIdentifier]).filter(Boolean));
    const details = await this.client.send(retrieveMultipleRequest<Row>(MicrosoftSolutionDetail.entitySetName, {
      select: [MicrosoftSolutionDetail.primaryId, dc.solutionIdentifier], filter: anyOf(dc.solutionIdentifier, ids), formattedValues: false,
    }));
    const detailIds = new Map(details.value.map((d) => [String(d[dc.solutionIdentifier]).toLowerCase(), String(d[MicrosoftSolutionDetail.primaryId])]));
    for (const id of ids) {
      if (attached.has(id)) continue;
      const tag = solutions.find((s) => s.id === id);
      let detailId = detailIds.get(id.toLowerCase());
      if (!detailId) {
        const type = SolutionTypeOptions.find((o) => o.externalValue === tag?.solutionType)?.value;
        detailId = (await this.client.create(MicrosoftSolutionDetail.entitySetName, {
          [dc.primaryName]: tag?.name || id, [dc.solutionIdentifier]: id,
          ...(tag?.publisherName ? { [dc.publisherName]: tag.publisherName } : {}), ...(type !== undefined ? { [dc.solutionType]: type } : {}),
        })).id;
      }
      await this.client.create(MicrosoftSolution.entitySetName, {
        [MicrosoftSolution.columns.primaryName]: tag?.name || id,
        ...bind(MicrosoftSolution.lookups.opportunity.navigationProperty, OpportunityTable.entitySet, opportunityId),
        ...bind(MicrosoftSolution.lookups.solutionDetail.navigationProperty, MicrosoftSolutionDetail.entitySetName, detailId),
      });
    }
  }
}

export { OC as OpportunityColumns, LC as LeadColumns, PartnerCenterSyncStatus };

// Deals the tests and the browser harness show: bound values for context.parameters and the rows the
// Web API fake holds. Names come from the generated schema, like everywhere else.
import {
  EnvironmentVariables,
  HowCanMicrosoftHelp,
  HowCanMicrosoftHelpOptions,
  Lead,
  MicrosoftSolution,
  Opportunity,
  PartnerCenterSyncStatus,
  PartnerCenterSyncStatusOptions,
  ReferralStatus,
  ReferralStatusOptions,
  ReferralSubstatus,
  ReferralSubstatusOptions,
  SyncDirection,
  SyncEvent,
  SyncOutcome,
} from "../../../Core/generated/schema.ts";
import type { IInputs } from "../generated/ManifestTypes";
import { BoundColumns, LeadBoundColumns, StandardLead, type BoundProperty, type LeadBoundProperty } from "../constants.ts";
import { dateTime, emptyInput, MockWebApi, optionSet, text, twoOptions, unbound, wholeNumber, type FieldOptions } from "./mocks.ts";

export const OPPORTUNITY_ID = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
export const ACCOUNT_ID = "0a1b2c3d-0000-4000-8000-000000000001";
export const CONTACT_ID = "0a1b2c3d-0000-4000-8000-000000000002";
export const RELAY_URL = "https://relay.contoso.test";
export const REFERRAL_LINK = "https://partner.microsoft.com/dashboard/referrals/v2/5a7c1e2b-1111-4222-8333-944455556666";

export interface CardValues {
  sync?: boolean;
  help?: number | null;
  visible?: boolean;
  link?: string | null;
  status?: number | null;
  lastSyncedOn?: Date | null;
  lastError?: string | null;
  microsoftStatus?: number | null;
  microsoftSubstatus?: number | null;
  crmId?: string | null;
  relayUrl?: string | null;
  historySize?: number | null;
  /** Field security per bound property. */
  security?: Partial<Record<BoundProperty, { readable?: boolean; editable?: boolean }>>;
  /** Bound properties the form editor left unbound. */
  unbound?: BoundProperty[];
}

/** context.parameters for the card, as a model-driven form hands them over. */
export function parameters(values: CardValues = {}): IInputs {
  const options = (name: BoundProperty): FieldOptions => ({ logicalName: BoundColumns[name].column, ...values.security?.[name] });
  const bound: Omit<IInputs, "relayUrl" | "historySize" | "respondBy" | "sentBy" | "referralStatus" | "referralSubstatus"> = {
    syncWithPartnerCenter: twoOptions(values.sync ?? true, options("syncWithPartnerCenter")),
    helpRequested: optionSet(values.help === undefined ? HowCanMicrosoftHelp.ProofOfConceptOrDemo : values.help, HowCanMicrosoftHelpOptions, options("helpRequested")),
    referralVisibility: twoOptions(values.visible ?? false, options("referralVisibility")),
    referralLink: text(values.link === undefined ? null : values.link, options("referralLink"), "SingleLine.URL"),
    syncStatus: optionSet(values.status === undefined ? PartnerCenterSyncStatus.NotShared : values.status, PartnerCenterSyncStatusOptions, options("syncStatus")),
    lastSyncedOn: dateTime(values.lastSyncedOn ?? null, options("lastSyncedOn")),
    lastSyncError: text(values.lastError ?? null, options("lastSyncError"), "Multiple"),
    microsoftStatus: optionSet(values.microsoftStatus ?? null, ReferralStatusOptions, options("microsoftStatus")),
    microsoftSubstatus: optionSet(values.microsoftSubstatus ?? null, ReferralSubstatusOptions, options("microsoftSubstatus")),
    microsoftCrmIdentifier: text(values.crmId ?? null, options("microsoftCrmIdentifier")),
  };
  for (const name of values.unbound ?? []) (bound as Record<string, ComponentFramework.PropertyTypes.Property>)[name] = unbound(BoundColumns[name].type);
  return {
    ...bound,
    // The opportunity form leaves the lead-only properties unbound.
    respondBy: unbound(LeadBoundColumns.respondBy.type),
    sentBy: unbound(LeadBoundColumns.sentBy.type),
    referralStatus: unbound(LeadBoundColumns.referralStatus.type),
    referralSubstatus: unbound(LeadBoundColumns.referralSubstatus.type),
    relayUrl: values.relayUrl ? text(values.relayUrl) : emptyInput(),
    historySize: values.historySize === undefined || values.historySize === null ? wholeNumber(null) : wholeNumber(values.historySize),
  };
}

export interface DealSeed {
  relayUrl?: string | null;
  /** Raw value of the country-field variable (default: unset, so address1_country). */
  countryFieldSetting?: string;
  /** Raw value of the "Partner Center field mapping" JSON variable (default: unset). */
  fieldMapping?: string;
  /** The opportunity's own columns besides the standard ones (a custom deal value column). */
  opportunityColumns?: Record<string, unknown>;
  /** The account's own columns besides the country column (a country lookup's value and its annotation). */
  accountColumns?: Record<string, unknown>;
  /** Extra tables (a custom country table). */
  tables?: Record<string, ComponentFramework.WebApi.Entity[]>;
  solutions?: number;
  hasAccount?: boolean;
  country?: string | null;
  hasContact?: boolean;
  contactEmail?: string | null;
  dealValue?: number | null;
  currency?: string | null;
  closeDate?: string | null;
  events?: ComponentFramework.WebApi.Entity[];
  /** Status columns as saved (what a reload after a relay run reads). */
  saved?: Partial<Record<string, unknown>>;
}

const variable = (schemaName: string, value: string | null, defaultValue: string | null = null): ComponentFramework.WebApi.Entity => ({
  schemaname: schemaName,
  defaultvalue: defaultValue,
  environmentvariabledefinition_environmentvariablevalue: value === null ? [] : [{ value }],
});

const opportunityLookup = (table: { lookups: { opportunity: { column: string } } }): string => `_${table.lookups.opportunity.column}_value`;

export function syncEvent(minutesAgo: number, direction: number, outcome: number, message: string, now = NOW): ComponentFramework.WebApi.Entity {
  const at = new Date(now.getTime() - minutesAgo * 60_000).toISOString();
  return {
    [SyncEvent.primaryId]: `9e000000-0000-4000-8000-${String(100000000000 + minutesAgo).slice(-12)}`,
    [SyncEvent.columns.primaryName]: `${direction === SyncDirection.Outbound ? "Outbound" : "Inbound"} ${at}`,
    [SyncEvent.columns.direction]: direction,
    [SyncEvent.columns.outcome]: outcome,
    [SyncEvent.columns.message]: message,
    [SyncEvent.columns.occurredOn]: at,
    [SyncEvent.columns.createdOn]: at,
    [opportunityLookup(SyncEvent)]: OPPORTUNITY_ID,
  };
}

/** A fixed "now" so screenshots and texts do not move. */
export const NOW = new Date("2026-11-20T14:05:00Z");

/** The Web API fake with the variables, the opportunity, its solutions and its sync events. */
export function seedWebApi(seed: DealSeed = {}): MockWebApi {
  const countryField = seed.countryFieldSetting ?? EnvironmentVariables.customerAccountCountryCodeField.defaultValue;
  const dealValueField = EnvironmentVariables.dealValueField.defaultValue;
  const opportunity: ComponentFramework.WebApi.Entity = {
    opportunityid: OPPORTUNITY_ID,
    [dealValueField]: seed.dealValue === undefined ? 120000 : seed.dealValue,
    estimatedclosedate: seed.closeDate === undefined ? "2027-03-31" : seed.closeDate,
    ...seed.opportunityColumns,
    parentaccountid: seed.hasAccount === false ? null : { accountid: ACCOUNT_ID, [countryField]: seed.country === undefined ? "NL" : seed.country, ...seed.accountColumns },
    parentcontactid: seed.hasContact === false ? null : { contactid: CONTACT_ID, firstname: "Femke", lastname: "de Vries", emailaddress1: seed.contactEmail === undefined ? "femke@contoso.nl" : seed.contactEmail },
    transactioncurrencyid: seed.currency === null ? null : { isocurrencycode: seed.currency ?? "EUR" },
    ...seed.saved,
  };
  const solutions = Array.from({ length: seed.solutions ?? 1 }, (_, i) => ({
    [MicrosoftSolution.primaryId]: `5e000000-0000-4000-8000-00000000000${i}`,
    [opportunityLookup(MicrosoftSolution)]: OPPORTUNITY_ID,
  }));
  return new MockWebApi({
    environmentvariabledefinition: [
      variable(EnvironmentVariables.relayUrl.schemaName, seed.relayUrl === undefined ? RELAY_URL : seed.relayUrl),
      variable(EnvironmentVariables.customerAccountCountryCodeField.schemaName, seed.countryFieldSetting ?? null, EnvironmentVariables.customerAccountCountryCodeField.defaultValue),
      variable(EnvironmentVariables.dealValueField.schemaName, null, EnvironmentVariables.dealValueField.defaultValue),
      variable(EnvironmentVariables.fieldMapping.schemaName, seed.fieldMapping ?? null),
    ],
    ...seed.tables,
    [Opportunity.logicalName]: [opportunity],
    [MicrosoftSolution.logicalName]: solutions,
    [SyncEvent.logicalName]: seed.events ?? [],
  });
}

export const SYNCED_EVENTS = [
  syncEvent(3, SyncDirection.Inbound, SyncOutcome.Succeeded, "Microsoft accepted the co-sell: status Active, Accepted."),
  syncEvent(18, SyncDirection.Outbound, SyncOutcome.Succeeded, "Deal value and close date sent to Partner Center."),
  syncEvent(65, SyncDirection.Outbound, SyncOutcome.Conflict, "Close date changed on both sides; Dynamics 365 kept it."),
  syncEvent(240, SyncDirection.Outbound, SyncOutcome.Succeeded, "Referral created in Partner Center."),
];

export const FAILED_ERROR = "Partner Center answered 400 Bad Request: details.dealValue must be greater than 0 (correlation 7d1f0c2a).";

export const FAILED_EVENTS = [
  syncEvent(2, SyncDirection.Outbound, SyncOutcome.Failed, FAILED_ERROR),
  syncEvent(30, SyncDirection.Outbound, SyncOutcome.Succeeded, "Referral created in Partner Center."),
];

export interface Scenario {
  values: CardValues;
  seed: DealSeed;
}

/** The states the card is shown in by the tests and in the screenshots. */
export const SCENARIOS = {
  synced: {
    values: {
      status: PartnerCenterSyncStatus.Synced,
      lastSyncedOn: new Date("2026-11-20T14:02:00Z"),
      link: REFERRAL_LINK,
      visible: true,
      microsoftStatus: ReferralStatus.Active,
      microsoftSubstatus: ReferralSubstatus.Accepted,
      crmId: "7-3FQ9K2LZ1",
    },
    seed: { events: SYNCED_EVENTS },
  },
  failed: {
    values: { status: PartnerCenterSyncStatus.Failed, lastError: FAILED_ERROR, link: REFERRAL_LINK, lastSyncedOn: new Date("2026-11-20T13:35:00Z") },
    seed: { events: FAILED_EVENTS, dealValue: 0 },
  },
  checklist: {
    values: { status: PartnerCenterSyncStatus.NotShared, sync: true },
    seed: { solutions: 0, country: "Netherlands", contactEmail: null, currency: null, events: [] },
  },
  pending: {
    values: { status: PartnerCenterSyncStatus.Pending },
    seed: { events: [] },
  },
  notShared: {
    values: { status: PartnerCenterSyncStatus.NotShared, sync: false, help: HowCanMicrosoftHelp.NoHelpNeeded },
    seed: { events: [] },
  },
} satisfies Record<string, Scenario>;
export type ScenarioName = keyof typeof SCENARIOS;

// ---------------------------------------------------------------- lead mode

export const LEAD_ID = "3c2b1a09-8e7d-4c6b-9a58-473625140abc";
export const LEAD_ACCOUNT_ID = "0a1b2c3d-0000-4000-8000-000000000011";
export const LEAD_CURRENCY_ID = "0a1b2c3d-0000-4000-8000-000000000012";
export const NEW_OPPORTUNITY_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
export const SENT_BY = "Microsoft (Lisa Jansen, lisa.jansen@microsoft.example)";

export interface LeadValues {
  sync?: boolean;
  help?: number | null;
  link?: string | null;
  status?: number | null;
  respondBy?: Date | null;
  sentBy?: string | null;
  referralStatus?: number | null;
  referralSubstatus?: number | null;
  /** Lead properties the form editor left unbound. */
  unbound?: LeadBoundProperty[];
}

/** context.parameters as the lead main form hands them over: the lead's columns, no Microsoft side. */
export function leadParameters(values: LeadValues = {}): IInputs {
  const options = (name: LeadBoundProperty): FieldOptions => ({ logicalName: LeadBoundColumns[name].column });
  const bound: Record<LeadBoundProperty, ComponentFramework.PropertyTypes.Property> = {
    syncWithPartnerCenter: twoOptions(values.sync ?? true, options("syncWithPartnerCenter")),
    helpRequested: optionSet(values.help === undefined ? HowCanMicrosoftHelp.CustomerTechnicalArchitecture : values.help, HowCanMicrosoftHelpOptions, options("helpRequested")),
    referralLink: text(values.link === undefined ? REFERRAL_LINK : values.link, options("referralLink"), "SingleLine.URL"),
    syncStatus: optionSet(values.status === undefined ? PartnerCenterSyncStatus.Synced : values.status, PartnerCenterSyncStatusOptions, options("syncStatus")),
    lastSyncedOn: dateTime(new Date("2026-11-20T09:30:00Z"), options("lastSyncedOn")),
    lastSyncError: text(null, options("lastSyncError"), "Multiple"),
    respondBy: dateTime(values.respondBy === undefined ? new Date("2026-11-22T17:00:00Z") : values.respondBy, options("respondBy")),
    sentBy: text(values.sentBy === undefined ? SENT_BY : values.sentBy, options("sentBy")),
    referralStatus: optionSet(values.referralStatus === undefined ? ReferralStatus.New : values.referralStatus, ReferralStatusOptions, options("referralStatus")),
    referralSubstatus: optionSet(values.referralSubstatus === undefined ? ReferralSubstatus.Pending : values.referralSubstatus, ReferralSubstatusOptions, options("referralSubstatus")),
  };
  for (const name of values.unbound ?? []) bound[name] = unbound(LeadBoundColumns[name].type);
  return {
    ...(bound as unknown as Pick<IInputs, LeadBoundProperty>),
    referralVisibility: unbound(BoundColumns.referralVisibility.type),
    microsoftStatus: unbound(BoundColumns.microsoftStatus.type),
    microsoftSubstatus: unbound(BoundColumns.microsoftSubstatus.type),
    microsoftCrmIdentifier: unbound(BoundColumns.microsoftCrmIdentifier.type),
    relayUrl: emptyInput(),
    historySize: wholeNumber(null),
  };
}

/** The Web API fake with the lead (its account and currency), for Accept and Decline. */
export function seedLeadWebApi(seed: { hasAccount?: boolean; hasCurrency?: boolean } = {}): MockWebApi {
  return new MockWebApi({
    [Lead.logicalName]: [
      {
        [StandardLead.id]: LEAD_ID,
        [`_${StandardLead.parentAccount}_value`]: seed.hasAccount === false ? null : LEAD_ACCOUNT_ID,
        [`_${StandardLead.currency}_value`]: seed.hasCurrency === false ? null : LEAD_CURRENCY_ID,
        [StandardLead.stateCode]: 0,
        [StandardLead.statusCode]: 1,
      },
    ],
  });
}

/** The lead states the tests and the screenshot show; "now" is NOW (2026-11-20 14:05 UTC). */
export const LEAD_SCENARIOS = {
  /** Sent 12 days ago: two days left, the reminder is on. */
  awaiting: {},
  plenty: { respondBy: new Date("2026-11-25T17:00:00Z") },
  today: { respondBy: new Date("2026-11-20T20:00:00Z") },
  passed: { respondBy: new Date("2026-11-19T10:00:00Z") },
  accepted: { referralStatus: ReferralStatus.Active, referralSubstatus: ReferralSubstatus.Accepted },
  declined: { referralStatus: ReferralStatus.Closed, referralSubstatus: ReferralSubstatus.Declined },
  expired: { referralStatus: ReferralStatus.Closed, referralSubstatus: ReferralSubstatus.Expired },
  notSynced: { sync: false, referralStatus: null, referralSubstatus: null, respondBy: null, sentBy: null, help: null, link: null, status: PartnerCenterSyncStatus.NotShared },
} satisfies Record<string, LeadValues>;

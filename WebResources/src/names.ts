// Names the form library uses. The solution's own names come from Core/generated/schema.ts; the
// standard Dataverse tables and columns it reads are spelled here, once.
import { Lead, Opportunity, Solution } from "../../Core/generated/schema.ts";

/** The web resource's name in Dataverse: the publisher prefix is its folder. */
export const WEB_RESOURCE_NAME = `${Solution.prefix}_/scripts/partnercenter.form.js`;

/** The global the compiled library assigns; form and ribbon XML call `PartnerCenter.<Table>.<function>`. */
export const GLOBAL_NAME = "PartnerCenter";

/** Standard tables and columns (system names, the same on every Dataverse environment). */
export const Standard = {
  opportunity: {
    /** The customer account, as the card reads it (not customerid). */
    account: "parentaccountid",
    /** The customer contact, as the card reads it. */
    contact: "parentcontactid",
    currency: "transactioncurrencyid",
    closeDate: "estimatedclosedate",
  },
  lead: {
    /** Est. Revenue and Est. Close Date: Partner Center needs both to accept a referral. */
    estimatedRevenue: "estimatedamount",
    estimatedCloseDate: "estimatedclosedate",
  },
  account: { logicalName: "account", id: "accountid" },
  contact: { logicalName: "contact", id: "contactid", email: "emailaddress1", firstName: "firstname", lastName: "lastname" },
  currency: { logicalName: "transactioncurrency", id: "transactioncurrencyid", isoCode: "isocurrencycode" },
  /** The signed-in user; domainname is the UPN Entra ID knows them by (the sign-in's login_hint). */
  systemUser: { logicalName: "systemuser", upn: "domainname" },
  environmentVariable: {
    definition: "environmentvariabledefinition",
    schemaName: "schemaname",
    defaultValue: "defaultvalue",
    /** The definition's values (0 or 1 row: the current value). */
    values: "environmentvariabledefinition_environmentvariablevalue",
    value: "value",
  },
} as const;

/** Columns the relay and Partner Center own: the seller reads them, never edits them. */
export const OPPORTUNITY_READ_ONLY: readonly string[] = [
  Opportunity.columns.referralIdentifier,
  Opportunity.columns.referralLink,
  Opportunity.columns.microsoftCrmIdentifier,
  Opportunity.columns.audit,
  Opportunity.columns.syncStatus,
  Opportunity.columns.microsoftStatus,
  Opportunity.columns.microsoftSubstatus,
  Opportunity.columns.referralStatus,
  Opportunity.columns.referralSubstatus,
  Opportunity.columns.lastSyncedOn,
  Opportunity.columns.lastSyncError,
];

export const LEAD_READ_ONLY: readonly string[] = [
  Lead.columns.referralIdentifier,
  Lead.columns.referralLink,
  Lead.columns.audit,
  Lead.columns.syncStatus,
  Lead.columns.referralStatus,
  Lead.columns.referralSubstatus,
  Lead.columns.lastSyncedOn,
  Lead.columns.lastSyncError,
  // Partner Center's deadline for accepting the referral: Microsoft sets it.
  Lead.columns.respondBy,
];

/** Form notification ids: one per message, so each can be replaced or cleared on its own. */
export const NotificationId = {
  lastSyncFailed: "partnercenter.lastSyncFailed",
  saveBlocked: "partnercenter.saveBlocked",
  visibility: "partnercenter.visibility",
  command: "partnercenter.command",
  neededPrefix: "partnercenter.needed.",
  respondBy: "partnercenter.respondBy",
} as const;

/** XrmEnum.SaveMode.AutoSave (a const enum, which isolated modules cannot read). */
export const SAVE_MODE_AUTOSAVE = 70;
/** XrmEnum.FormType.Create. */
export const FORM_TYPE_CREATE = 1;

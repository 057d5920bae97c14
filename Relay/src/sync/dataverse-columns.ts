// The standard Dataverse names the sync engine reads and writes (tables, columns, navigation
// properties, actions and option values that every Dynamics 365 Sales environment has). The solution's
// own names come from Core/generated/schema.ts; these are kept in this one module so a reader sees in
// one place which platform columns the relay depends on. The state and status reason values the
// lifecycle uses live in Core/lifecycle.ts (the card reads them too).
import { LEAD_DISQUALIFY_REASONS, LeadStateCode, OPPORTUNITY_LOSS_REASONS, OpportunityStateCode } from "../../../Core/lifecycle.ts";

export const OpportunityTable = {
  entitySet: "opportunities",
  id: "opportunityid",
  name: "name",
  description: "description",
  estimatedValue: "estimatedvalue",
  estimatedCloseDate: "estimatedclosedate",
  statecode: "statecode",
  statuscode: "statuscode",
  actualValue: "actualvalue",
  modifiedBy: "_modifiedby_value",
  parentAccount: "parentaccountid",
  customerAccount: "customerid_account",
  parentContact: "parentcontactid",
  currency: "transactioncurrencyid",
  owningUser: "owninguser",
  /** Lookup navigation properties for @odata.bind. */
  bind: { parentAccount: "parentaccountid", customerAccount: "customerid_account", parentContact: "parentcontactid", currency: "transactioncurrencyid" },
} as const;

/** opportunity.statecode (its status reasons when closing: Core/lifecycle.ts, OpportunityStatus). */
export const OpportunityState = OpportunityStateCode;

export const OpportunityClose = {
  subject: "subject",
  description: "description",
  actualRevenue: "actualrevenue",
  actualEnd: "actualend",
  opportunityBind: "opportunityid@odata.bind",
} as const;

export const Actions = { win: "WinOpportunity", lose: "LoseOpportunity" } as const;

export const LeadTable = {
  entitySet: "leads",
  id: "leadid",
  subject: "subject",
  firstName: "firstname",
  lastName: "lastname",
  companyName: "companyname",
  email: "emailaddress1",
  phone: "telephone1",
  addressLine1: "address1_line1",
  city: "address1_city",
  postalCode: "address1_postalcode",
  country: "address1_country",
  description: "description",
  estimatedAmount: "estimatedamount",
  estimatedCloseDate: "estimatedclosedate",
  statecode: "statecode",
  statuscode: "statuscode",
  /** The opportunity a qualify created (read as its value). */
  qualifyingOpportunity: "_qualifyingopportunityid_value",
  /** The seller's note when qualifying or disqualifying. */
  qualificationComments: "qualificationcomments",
  modifiedBy: "_modifiedby_value",
  currency: "transactioncurrencyid",
  bind: { parentAccount: "parentaccountid", parentContact: "parentcontactid", currency: "transactioncurrencyid" },
} as const;

/** lead.statecode */
export const LeadState = LeadStateCode;
/** The words Partner Center's statusReason gets for a lead's and an opportunity's status reason (Core/lifecycle.ts). */
export { LEAD_DISQUALIFY_REASONS, OPPORTUNITY_LOSS_REASONS };

export const OpportunityCloseTable = {
  entitySet: "opportunitycloses",
  description: "description",
  subject: "subject",
  actualRevenue: "actualrevenue",
  opportunity: "_opportunityid_value",
  createdOn: "createdon",
} as const;

export const AccountTable = {
  entitySet: "accounts",
  id: "accountid",
  name: "name",
  addressLine1: "address1_line1",
  city: "address1_city",
  postalCode: "address1_postalcode",
  country: "address1_country",
} as const;

export const ContactTable = {
  entitySet: "contacts",
  id: "contactid",
  firstName: "firstname",
  lastName: "lastname",
  email: "emailaddress1",
  phone: "telephone1",
  bind: { parentCustomerAccount: "parentcustomerid_account" },
} as const;

export const CurrencyTable = {
  entitySet: "transactioncurrencies",
  id: "transactioncurrencyid",
  isoCode: "isocurrencycode",
} as const;

export const SystemUserTable = {
  entitySet: "systemusers",
  id: "systemuserid",
  fullName: "fullname",
  domainName: "domainname",
  isDisabled: "isdisabled",
  firstName: "firstname",
  lastName: "lastname",
  email: "internalemailaddress",
} as const;

export const TeamTable = {
  entitySet: "teams",
  id: "teamid",
  name: "name",
} as const;

/** Every owned row's owner (a user or a team), set on create with ownerid@odata.bind. */
export const OWNER_BIND = "ownerid";

/** A column name from an environment variable is spliced into $select: only plain logical names pass. */
export function isColumnName(value: string): boolean {
  return /^[a-z_][a-z0-9_]{0,99}$/i.test(value);
}

/** `name@odata.bind` → `/entitySet(id)` */
export function bind(navigation: string, entitySet: string, id: string): Record<string, string> {
  return { [`${navigation}@odata.bind`]: `/${entitySet}(${id})` };
}

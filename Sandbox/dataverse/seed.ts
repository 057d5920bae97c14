// What an environment has before anyone writes to it (the baseline every reset returns to), and the
// small realistic dataset `POST /sandbox/seed` adds for `npm start`. Ids are stable (derived from
// names) so reruns, tests and docs agree.
import { DEMO_APPS, DEMO_TENANT_DOMAIN, DEMO_USERS } from "../shared/demo-tenant.ts";
import { MicrosoftSolutionDetail, Roles, SolutionType } from "../../Core/generated/schema.ts";
import type { Engine } from "./engine/engine.ts";
import { stableId } from "./engine/metadata.ts";
import type { Row } from "./engine/values.ts";

/** Platform message ids are the same in every environment (dataverse.md §8.3); the others are the sandbox's own. */
export const SDK_MESSAGE_IDS: Record<string, string> = {
  Create: "9ebdbb1b-ea3e-db11-86a7-000a3a5473e8",
  Update: "20bebb1b-ea3e-db11-86a7-000a3a5473e8",
  Delete: "a1bdbb1b-ea3e-db11-86a7-000a3a5473e8",
  Assign: "8cbdbb1b-ea3e-db11-86a7-000a3a5473e8",
  Retrieve: "f2bdbb1b-ea3e-db11-86a7-000a3a5473e8",
  RetrieveMultiple: "03bebb1b-ea3e-db11-86a7-000a3a5473e8",
  SetState: "1cbebb1b-ea3e-db11-86a7-000a3a5473e8",
  Win: stableId("sdkmessage:Win"),
  Lose: stableId("sdkmessage:Lose"),
  QualifyLead: stableId("sdkmessage:QualifyLead"),
};

/** Message filters: which messages a step may be registered for on which table. */
function filtersFor(engine: Engine): Array<{ message: string; table: string }> {
  const filters: Array<{ message: string; table: string }> = [];
  for (const table of engine.meta.tables.keys()) {
    for (const message of ["Create", "Update", "Delete", "Retrieve", "RetrieveMultiple", "Assign"]) filters.push({ message, table });
  }
  filters.push({ message: "Win", table: "opportunity" }, { message: "Lose", table: "opportunity" }, { message: "QualifyLead", table: "lead" });
  return filters;
}

export function sdkMessageFilterId(message: string, table: string): string {
  return stableId(`sdkmessagefilter:${message}:${table}`);
}

export const SYSTEM_USER_ID = stableId("systemuser:SYSTEM");
export const ROOT_BUSINESS_UNIT_ID = stableId("businessunit:root");
export const USD_ID = stableId("transactioncurrency:USD");
export const EUR_ID = stableId("transactioncurrency:EUR");

export function systemUserIdForOid(oid: string): string {
  return stableId(`systemuser:aad:${oid}`);
}

export function systemUserIdForApp(appId: string): string {
  return stableId(`systemuser:app:${appId}`);
}

export interface SolutionInfo {
  uniqueName: string;
  version: string;
  friendlyName: string;
  publisher: { uniqueName: string; friendlyName: string; prefix: string; optionValuePrefix: number };
}

const bu = { id: ROOT_BUSINESS_UNIT_ID, logicalName: "businessunit" };
const system = { id: SYSTEM_USER_ID, logicalName: "systemuser" };

/** Inserts a row as the platform would have it (system columns filled in), without steps. */
function put(engine: Engine, table: string, values: Row, owner = system): void {
  const def = engine.meta.table(table);
  const now = new Date(engine.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const row: Row = {};
  for (const column of def.columns.values()) row[column.logicalName] = column.defaultValue ?? null;
  Object.assign(row, { createdon: now, modifiedon: now, createdby: system, modifiedby: system });
  if (def.columns.has("statecode")) row.statecode = 0;
  if (def.columns.has("statuscode")) row.statuscode = def.columns.get("statuscode")?.options?.find((o) => o.state === 0)?.value ?? 1;
  if (def.columns.has("ownerid")) Object.assign(row, { ownerid: owner, owninguser: owner, owningbusinessunit: bu });
  if (def.columns.has("organizationid")) row.organizationid = { id: engine.org.id, logicalName: "organization" };
  Object.assign(row, values);
  if (["lead", "contact", "systemuser"].includes(table) && row.fullname === null) row.fullname = [row.firstname, row.lastname].filter(Boolean).join(" ");
  engine.systemPut(table, row);
}

/** The environment as provisioned: organization, business unit, base currency, users, solutions, messages, environment variables. */
export function loadBaseline(engine: Engine, solution: SolutionInfo): void {
  const usd = { id: USD_ID, logicalName: "transactioncurrency" };
  put(engine, "transactioncurrency", { transactioncurrencyid: USD_ID, currencyname: "US Dollar", isocurrencycode: "USD", currencysymbol: "$", exchangerate: 1, currencyprecision: 2 });
  put(engine, "organization", { organizationid: engine.org.id, name: engine.org.name, basecurrencyid: usd });
  put(engine, "businessunit", { businessunitid: ROOT_BUSINESS_UNIT_ID, name: engine.org.name });
  put(engine, "systemuser", { systemuserid: SYSTEM_USER_ID, firstname: "", lastname: "SYSTEM", fullname: "SYSTEM", domainname: "", accessmode: 1, businessunitid: bu });
  for (const user of Object.values(DEMO_USERS)) {
    put(engine, "systemuser", {
      systemuserid: systemUserIdForOid(user.oid), firstname: user.givenName, lastname: user.surname, domainname: user.username,
      internalemailaddress: user.username, azureactivedirectoryobjectid: user.oid, accessmode: 0, isdisabled: false, businessunitid: bu,
    });
  }
  for (const app of [DEMO_APPS.relayDataverse, DEMO_APPS.script]) {
    put(engine, "systemuser", {
      systemuserid: systemUserIdForApp(app.clientId), firstname: "", lastname: app.displayName, fullname: app.displayName,
      domainname: `${app.clientId}@${DEMO_TENANT_DOMAIN}`, applicationid: app.clientId, accessmode: 4, isdisabled: false, businessunitid: bu,
    });
  }

  // The solution's security roles, in the root business unit, and the relay's application user holding its role.
  for (const role of engine.meta.schema.roles) put(engine, "role", { roleid: role.id, name: role.name, businessunitid: bu });
  const relayRole = engine.meta.schema.roles.find((r) => r.id === Roles.partnerCenterRelay.id);
  if (relayRole) {
    const user = systemUserIdForApp(DEMO_APPS.relayDataverse.clientId);
    put(engine, "systemuserroles", {
      systemuserroleid: stableId(`systemuserroles:${user}:${relayRole.id}`),
      systemuserid: { id: user, logicalName: "systemuser" }, roleid: { id: relayRole.id, logicalName: "role" },
    });
  }

  const publisherId = stableId(`publisher:${solution.publisher.uniqueName}`);
  put(engine, "publisher", { publisherid: publisherId, uniquename: solution.publisher.uniqueName, friendlyname: solution.publisher.friendlyName, customizationprefix: solution.publisher.prefix, customizationoptionvalueprefix: solution.publisher.optionValuePrefix });
  const microsoft = stableId("publisher:MicrosoftCorporation");
  put(engine, "publisher", { publisherid: microsoft, uniquename: "MicrosoftCorporation", friendlyname: "MicrosoftCorporation", customizationprefix: "", customizationoptionvalueprefix: 0 });
  const installed = new Date(engine.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const solutions: Array<[string, string, string, boolean, string]> = [
    ["Default", "Default Solution", "1.0", false, microsoft],
    ["Active", "Active Solution", "1.0", false, microsoft],
    ["System", "System Solution", "9.2.25063.198", true, microsoft],
    ["msdynce_Sales", "Dynamics 365 Sales", "9.0.25063.10001", true, microsoft],
    [solution.uniqueName, solution.friendlyName, solution.version, true, publisherId],
  ];
  for (const [uniquename, friendlyname, version, ismanaged, publisher] of solutions) {
    put(engine, "solution", { solutionid: stableId(`solution:${uniquename}`), uniquename, friendlyname, version, ismanaged, isvisible: true, installedon: installed, publisherid: { id: publisher, logicalName: "publisher" } });
  }

  for (const [name, id] of Object.entries(SDK_MESSAGE_IDS)) put(engine, "sdkmessage", { sdkmessageid: id, name, categoryname: name === "Win" || name === "Lose" || name === "QualifyLead" ? "Sales" : "Basic", isprivate: false, isreadonly: false, autotransact: true });
  for (const { message, table } of filtersFor(engine)) {
    put(engine, "sdkmessagefilter", {
      sdkmessagefilterid: sdkMessageFilterId(message, table), name: `${message} of ${table}`, sdkmessageid: { id: SDK_MESSAGE_IDS[message]!, logicalName: "sdkmessage" },
      primaryobjecttypecode: table, secondaryobjecttypecode: "none", iscustomprocessingstepallowed: true, isvisible: true, availability: 0,
    });
  }

  for (const variable of engine.meta.schema.environmentVariables) {
    put(engine, "environmentvariabledefinition", {
      environmentvariabledefinitionid: stableId(`environmentvariabledefinition:${variable.schemaName}`), schemaname: variable.schemaName,
      displayname: variable.displayName["1033"] ?? variable.schemaName, description: variable.description["1033"] ?? null,
      defaultvalue: variable.defaultValue ?? null, type: variable.typeCode, isrequired: false,
    });
  }
}

const ACCOUNTS: Array<{ name: string; country: string; city: string; number: string; currency: "EUR" | "USD"; contacts: Array<[string, string, string]> }> = [
  { name: "Contoso Nederland B.V.", country: "NL", city: "Amsterdam", number: "NL-1001", currency: "EUR", contacts: [["Sanne", "de Vries", "IT Director"], ["Daan", "Jansen", "Procurement Lead"]] },
  { name: "Fabrikam, Inc.", country: "US", city: "Seattle", number: "US-2001", currency: "USD", contacts: [["Alex", "Johnson", "CTO"]] },
  { name: "Northwind Traders GmbH", country: "DE", city: "Berlin", number: "DE-3001", currency: "EUR", contacts: [["Lena", "Schmidt", "Head of Cloud"]] },
  { name: "Tailspin Toys Ltd", country: "GB", city: "London", number: "GB-4001", currency: "USD", contacts: [["Oliver", "Smith", "Operations Manager"]] },
  { name: "Wingtip Toys SAS", country: "FR", city: "Lyon", number: "FR-5001", currency: "EUR", contacts: [["Camille", "Martin", "CIO"]] },
];

const SOLUTION_DETAILS: Array<{ identifier: string; name: string; type: number; publisher: string }> = [
  { identifier: "SOL-AZ-MIGRATE", name: "Azure Migrate and Modernize", type: SolutionType.MicrosoftSolution, publisher: "Microsoft" },
  { identifier: "SOL-M365-COPILOT", name: "Microsoft 365 Copilot", type: SolutionType.MicrosoftSolution, publisher: "Microsoft" },
  { identifier: "SOL-D365-SALES", name: "Dynamics 365 Sales", type: SolutionType.MicrosoftSolution, publisher: "Microsoft" },
  { identifier: "SOL-CONTOSO-DATA", name: "Contoso Data Platform Accelerator", type: SolutionType.CoSellReadyPartnerSolution, publisher: "Contoso Consulting" },
];

/** The demo dataset: accounts in several countries (ISO-2 in address1_country), contacts, EUR and USD, Microsoft Solution Details, an open opportunity and lead. */
export function loadSeed(engine: Engine): void {
  put(engine, "transactioncurrency", { transactioncurrencyid: EUR_ID, currencyname: "Euro", isocurrencycode: "EUR", currencysymbol: "€", exchangerate: 0.92, currencyprecision: 2 });
  const seller = { id: systemUserIdForOid(DEMO_USERS.seller.oid), logicalName: "systemuser" };
  for (const account of ACCOUNTS) {
    const accountId = stableId(`seed:account:${account.number}`);
    const currency = { id: account.currency === "EUR" ? EUR_ID : USD_ID, logicalName: "transactioncurrency" };
    put(engine, "account", {
      accountid: accountId, name: account.name, accountnumber: account.number, address1_country: account.country, address1_city: account.city,
      transactioncurrencyid: currency, websiteurl: `https://www.${account.name.split(/[ ,]/)[0]!.toLowerCase()}.example`,
    }, seller);
    account.contacts.forEach(([firstname, lastname, jobtitle], i) => {
      const contactId = stableId(`seed:contact:${account.number}:${i}`);
      put(engine, "contact", {
        contactid: contactId, firstname, lastname, jobtitle, address1_city: account.city, address1_country: account.country,
        emailaddress1: `${firstname.toLowerCase()}.${lastname.toLowerCase().replace(/\s+/g, "")}@${account.name.split(/[ ,]/)[0]!.toLowerCase()}.example`,
        parentcustomerid: { id: accountId, logicalName: "account" }, transactioncurrencyid: currency,
      }, seller);
      if (i === 0) engine.systemPut("account", { accountid: accountId, primarycontactid: { id: contactId, logicalName: "contact" } });
    });
  }
  for (const detail of SOLUTION_DETAILS) {
    put(engine, MicrosoftSolutionDetail.logicalName, {
      [MicrosoftSolutionDetail.primaryId]: stableId(`seed:solutiondetail:${detail.identifier}`),
      [MicrosoftSolutionDetail.columns.primaryName]: detail.name,
      [MicrosoftSolutionDetail.columns.solutionIdentifier]: detail.identifier,
      [MicrosoftSolutionDetail.columns.solutionType]: detail.type,
      [MicrosoftSolutionDetail.columns.publisherName]: detail.publisher,
    });
  }
  const contoso = { id: stableId("seed:account:NL-1001"), logicalName: "account" };
  put(engine, "opportunity", {
    opportunityid: stableId("seed:opportunity:contoso-migration"), name: "Contoso: Azure migration", estimatedvalue: 120000, estimatedclosedate: "2026-09-30",
    parentaccountid: contoso, customerid: contoso, parentcontactid: { id: stableId("seed:contact:NL-1001:0"), logicalName: "contact" },
    transactioncurrencyid: { id: EUR_ID, logicalName: "transactioncurrency" }, exchangerate: 0.92, closeprobability: 40,
  }, seller);
  put(engine, "lead", {
    leadid: stableId("seed:lead:fabrikam-copilot"), subject: "Fabrikam: Copilot rollout", firstname: "Jamie", lastname: "Rivera", companyname: "Fabrikam, Inc.",
    emailaddress1: "jamie.rivera@fabrikam.example", address1_country: "US", estimatedamount: 45000, transactioncurrencyid: { id: USD_ID, logicalName: "transactioncurrency" },
  }, seller);
}

// The standard Dataverse tables the product touches, described the way the Web API shows them:
// entity set, primary id and name, the columns with their types, and the lookups with their
// navigation properties and relationships. The solution's custom columns are added to opportunity and
// lead from Solution/ (engine/metadata.ts); the solution's own tables come from Solution/ entirely.
//
// Columns are a subset of the real tables: the ones the relay, the card, the form scripts, the
// webhook registration and the seed data use, plus the system columns every table has (added by
// engine/metadata.ts: createdon, createdby, modifiedon, modifiedby, the owner columns, versionnumber).

export type AttributeType =
  | "Uniqueidentifier" | "String" | "Memo" | "Integer" | "BigInt" | "Decimal" | "Double" | "Money"
  | "Boolean" | "DateTime" | "Picklist" | "State" | "Status" | "Lookup" | "Owner" | "Customer" | "EntityName" | "MultiSelectPicklist";

export interface StandardColumn {
  type: AttributeType;
  maxLength?: number;
  /** DateTime: "DateOnly" or "DateAndTime"; String: "Email", "Url", "Phone"… */
  format?: string;
  /** Choices: [value, label] or, for status, [value, label, state]. */
  options?: Array<readonly [number, string] | readonly [number, string, number]>;
  defaultValue?: number | boolean;
  /** Lookups: target tables. */
  targets?: string[];
  /** Lookups: single-valued navigation property per target (default: the column's logical name, `<column>_<target>` when polymorphic). */
  navigation?: Record<string, string>;
  /** Lookups: relationship schema name per target; also the collection-valued navigation property on the target. */
  relationships?: Record<string, string>;
  /** What happens to this row when the referenced row is deleted (default RemoveLink). */
  cascadeDelete?: "Cascade" | "RemoveLink" | "Restrict";
  /** Set by the platform; ignored on create and update. */
  readOnly?: boolean;
  /** Can be written, never read back (serviceendpoint.authvalue). */
  writeOnly?: boolean;
  requiredLevel?: "none" | "systemrequired" | "applicationrequired" | "recommended";
  displayName?: string;
}

export interface StandardTable {
  logicalName: string;
  schemaName: string;
  entitySetName: string;
  primaryId: string;
  primaryName: string;
  objectTypeCode: number;
  ownership: "UserOwned" | "OrgOwned" | "BusinessOwned" | "None";
  displayName: string;
  collectionName: string;
  columns: Record<string, StandardColumn>;
  keys?: Array<{ name: string; attributes: string[] }>;
  /** Activity tables name their primary key activityid. */
  isActivity?: boolean;
}

// Column builders, so each table below reads like its definition.
const text = (maxLength: number, format = "Text"): StandardColumn => ({ type: "String", maxLength, format });
const memo = (maxLength = 2000): StandardColumn => ({ type: "Memo", maxLength });
const int = (): StandardColumn => ({ type: "Integer" });
const money = (): StandardColumn => ({ type: "Money" });
const decimal = (): StandardColumn => ({ type: "Decimal" });
const date = (format: "DateOnly" | "DateAndTime" = "DateAndTime"): StandardColumn => ({ type: "DateTime", format });
const guid = (): StandardColumn => ({ type: "Uniqueidentifier" });
const bool = (yes = "Yes", no = "No", defaultValue = false): StandardColumn => ({ type: "Boolean", options: [[1, yes], [0, no]], defaultValue });
const choice = (options: Array<readonly [number, string]>, defaultValue?: number): StandardColumn => ({ type: "Picklist", options, ...(defaultValue !== undefined ? { defaultValue } : {}) });
const entityName = (): StandardColumn => ({ type: "EntityName" });
const readOnly = (column: StandardColumn): StandardColumn => ({ ...column, readOnly: true });
const lookup = (target: string, relationship: string, extra: Partial<StandardColumn> = {}): StandardColumn => ({
  type: "Lookup", targets: [target], relationships: { [target]: relationship }, ...extra,
});
const polymorphic = (type: "Customer" | "Lookup", relationships: Record<string, string>, navigation: Record<string, string>, extra: Partial<StandardColumn> = {}): StandardColumn => ({
  type, targets: Object.keys(relationships), relationships, navigation, ...extra,
});
const state = (options: Array<readonly [number, string]>): StandardColumn => ({ type: "State", options, requiredLevel: "systemrequired" });
const status = (options: Array<readonly [number, string, number]>): StandardColumn => ({ type: "Status", options });
const activeInactive = {
  statecode: state([[0, "Active"], [1, "Inactive"]]),
  statuscode: status([[1, "Active", 0], [2, "Inactive", 1]]),
};
const currency = (table: string, schema: string): StandardColumn => lookup("transactioncurrency", `TransactionCurrency_${schema}`, { displayName: `Currency (${table})` });

export const STANDARD_TABLES: StandardTable[] = [
  {
    logicalName: "opportunity", schemaName: "Opportunity", entitySetName: "opportunities", primaryId: "opportunityid", primaryName: "name",
    objectTypeCode: 3, ownership: "UserOwned", displayName: "Opportunity", collectionName: "Opportunities",
    columns: {
      name: { ...text(300), requiredLevel: "applicationrequired" },
      description: memo(2000),
      estimatedvalue: money(),
      estimatedclosedate: date("DateOnly"),
      actualvalue: money(),
      actualclosedate: date("DateOnly"),
      budgetamount: money(),
      closeprobability: int(),
      exchangerate: readOnly(decimal()),
      stepname: text(200),
      salesstage: choice([[0, "Qualify"], [1, "Develop"], [2, "Propose"], [3, "Close"]]),
      opportunityratingcode: choice([[1, "Hot"], [2, "Warm"], [3, "Cold"]], 2),
      purchasetimeframe: choice([[0, "Immediate"], [1, "This Quarter"], [2, "Next Quarter"], [3, "This Year"], [4, "Unknown"]]),
      parentaccountid: lookup("account", "opportunity_parent_account", { cascadeDelete: "Cascade" }),
      parentcontactid: lookup("contact", "opportunity_parent_contact", { cascadeDelete: "Cascade" }),
      customerid: polymorphic("Customer", { account: "opportunity_customer_accounts", contact: "opportunity_customer_contacts" },
        { account: "customerid_account", contact: "customerid_contact" }, { cascadeDelete: "Cascade" }),
      originatingleadid: lookup("lead", "opportunity_originating_lead"),
      transactioncurrencyid: currency("opportunity", "Opportunity"),
      statecode: state([[0, "Open"], [1, "Won"], [2, "Lost"]]),
      statuscode: status([[1, "In Progress", 0], [2, "On Hold", 0], [3, "Won", 1], [4, "Canceled", 2], [5, "Out-Sold", 2]]),
    },
  },
  {
    logicalName: "opportunityclose", schemaName: "OpportunityClose", entitySetName: "opportunitycloses", primaryId: "activityid", primaryName: "subject",
    objectTypeCode: 4208, ownership: "UserOwned", displayName: "Opportunity Close", collectionName: "Opportunity Close Activities", isActivity: true,
    columns: {
      subject: text(200),
      description: memo(100000),
      actualrevenue: money(),
      actualend: date("DateOnly"),
      opportunityid: lookup("opportunity", "Opportunity_OpportunityClose", { cascadeDelete: "Cascade" }),
      transactioncurrencyid: currency("opportunityclose", "OpportunityClose"),
      statecode: state([[0, "Open"], [1, "Completed"], [2, "Canceled"]]),
      statuscode: status([[1, "Open", 0], [2, "Completed", 1], [3, "Canceled", 2]]),
    },
  },
  {
    logicalName: "lead", schemaName: "Lead", entitySetName: "leads", primaryId: "leadid", primaryName: "fullname",
    objectTypeCode: 4, ownership: "UserOwned", displayName: "Lead", collectionName: "Leads",
    columns: {
      subject: text(300),
      firstname: text(50),
      lastname: { ...text(50), requiredLevel: "applicationrequired" },
      fullname: readOnly(text(160)),
      companyname: text(100),
      jobtitle: text(100),
      emailaddress1: text(100, "Email"),
      telephone1: text(50, "Phone"),
      mobilephone: text(20, "Phone"),
      websiteurl: text(200, "Url"),
      address1_line1: text(250),
      address1_city: text(80),
      address1_postalcode: text(20),
      address1_country: text(80),
      description: memo(2000),
      estimatedamount: money(),
      estimatedclosedate: date("DateOnly"),
      leadsourcecode: choice([[1, "Advertisement"], [2, "Employee Referral"], [3, "External Referral"], [4, "Partner"], [5, "Public Relations"], [6, "Seminar"], [7, "Trade Show"], [8, "Web"], [9, "Word of Mouth"], [10, "Other"]]),
      leadqualitycode: choice([[1, "Hot"], [2, "Warm"], [3, "Cold"]], 2),
      parentaccountid: lookup("account", "lead_parent_account"),
      parentcontactid: lookup("contact", "lead_parent_contact"),
      customerid: polymorphic("Customer", { account: "lead_customer_accounts", contact: "lead_customer_contacts" },
        { account: "customerid_account", contact: "customerid_contact" }),
      qualificationcomments: memo(2000),
      qualifyingopportunityid: lookup("opportunity", "lead_qualifying_opportunity"),
      transactioncurrencyid: currency("lead", "Lead"),
      statecode: state([[0, "Open"], [1, "Qualified"], [2, "Disqualified"]]),
      statuscode: status([[1, "New", 0], [2, "Contacted", 0], [3, "Qualified", 1], [4, "Lost", 2], [5, "Cannot Contact", 2], [6, "No Longer Interested", 2], [7, "Canceled", 2]]),
    },
  },
  {
    logicalName: "account", schemaName: "Account", entitySetName: "accounts", primaryId: "accountid", primaryName: "name",
    objectTypeCode: 1, ownership: "UserOwned", displayName: "Account", collectionName: "Accounts",
    columns: {
      name: { ...text(160), requiredLevel: "applicationrequired" },
      accountnumber: text(20),
      description: memo(2000),
      telephone1: text(50, "Phone"),
      emailaddress1: text(100, "Email"),
      websiteurl: text(200, "Url"),
      address1_line1: text(250),
      address1_city: text(80),
      address1_postalcode: text(20),
      address1_country: text(80),
      industrycode: choice([[1, "Accounting"], [7, "Consulting"], [12, "Financial"], [19, "Manufacturing"], [28, "Retail"], [33, "Service Retail"], [36, "Utilities"]]),
      revenue: money(),
      numberofemployees: int(),
      primarycontactid: lookup("contact", "account_primary_contact"),
      parentaccountid: lookup("account", "account_parent_account"),
      originatingleadid: lookup("lead", "account_originating_lead"),
      transactioncurrencyid: currency("account", "Account"),
      ...activeInactive,
    },
  },
  {
    logicalName: "contact", schemaName: "Contact", entitySetName: "contacts", primaryId: "contactid", primaryName: "fullname",
    objectTypeCode: 2, ownership: "UserOwned", displayName: "Contact", collectionName: "Contacts",
    columns: {
      firstname: text(50),
      lastname: { ...text(50), requiredLevel: "applicationrequired" },
      fullname: readOnly(text(160)),
      jobtitle: text(100),
      emailaddress1: text(100, "Email"),
      telephone1: text(50, "Phone"),
      address1_city: text(80),
      address1_country: text(80),
      parentcustomerid: polymorphic("Customer", { account: "contact_customer_accounts", contact: "contact_customer_contacts" },
        { account: "parentcustomerid_account", contact: "parentcustomerid_contact" }),
      originatingleadid: lookup("lead", "contact_originating_lead"),
      transactioncurrencyid: currency("contact", "Contact"),
      ...activeInactive,
    },
  },
  {
    logicalName: "systemuser", schemaName: "SystemUser", entitySetName: "systemusers", primaryId: "systemuserid", primaryName: "fullname",
    objectTypeCode: 8, ownership: "BusinessOwned", displayName: "User", collectionName: "Users",
    columns: {
      firstname: text(256),
      lastname: text(256),
      fullname: readOnly(text(200)),
      domainname: { ...text(1024), requiredLevel: "systemrequired" },
      internalemailaddress: text(100, "Email"),
      title: text(128),
      azureactivedirectoryobjectid: guid(),
      applicationid: guid(),
      isdisabled: bool("Disabled", "Enabled"),
      accessmode: choice([[0, "Read-Write"], [1, "Administrative"], [2, "Read"], [3, "Support User"], [4, "Non-interactive"], [5, "Delegated Admin"]], 0),
      businessunitid: lookup("businessunit", "business_unit_system_users"),
    },
  },
  {
    logicalName: "businessunit", schemaName: "BusinessUnit", entitySetName: "businessunits", primaryId: "businessunitid", primaryName: "name",
    objectTypeCode: 10, ownership: "BusinessOwned", displayName: "Business Unit", collectionName: "Business Units",
    columns: { name: text(160) },
  },
  {
    logicalName: "role", schemaName: "Role", entitySetName: "roles", primaryId: "roleid", primaryName: "name",
    objectTypeCode: 1036, ownership: "BusinessOwned", displayName: "Security Role", collectionName: "Security Roles",
    columns: {
      name: { ...text(100), requiredLevel: "systemrequired" },
      businessunitid: lookup("businessunit", "business_unit_roles"),
    },
  },
  {
    // The intersect table of the systemuserroles_association N:N (see STANDARD_MANY_TO_MANY); the Web API
    // writes it only through associate and disassociate (…/systemuserroles_association/$ref).
    logicalName: "systemuserroles", schemaName: "SystemUserRoles", entitySetName: "systemuserrolescollection", primaryId: "systemuserroleid", primaryName: "systemuserroleid",
    objectTypeCode: 15, ownership: "None", displayName: "System User Roles", collectionName: "System User Roles",
    columns: {
      systemuserid: lookup("systemuser", "systemuserroles_systemuser", { cascadeDelete: "Cascade", readOnly: true }),
      roleid: lookup("role", "systemuserroles_role", { cascadeDelete: "Cascade", readOnly: true }),
    },
  },
  {
    logicalName: "team", schemaName: "Team", entitySetName: "teams", primaryId: "teamid", primaryName: "name",
    objectTypeCode: 9, ownership: "BusinessOwned", displayName: "Team", collectionName: "Teams",
    columns: { name: text(160) },
  },
  {
    logicalName: "organization", schemaName: "Organization", entitySetName: "organizations", primaryId: "organizationid", primaryName: "name",
    objectTypeCode: 1019, ownership: "None", displayName: "Organization", collectionName: "Organizations",
    columns: {
      name: text(160),
      basecurrencyid: lookup("transactioncurrency", "basecurrency_organization"),
    },
  },
  {
    logicalName: "transactioncurrency", schemaName: "TransactionCurrency", entitySetName: "transactioncurrencies", primaryId: "transactioncurrencyid", primaryName: "currencyname",
    objectTypeCode: 9105, ownership: "OrgOwned", displayName: "Currency", collectionName: "Currencies",
    columns: {
      currencyname: { ...text(100), requiredLevel: "systemrequired" },
      isocurrencycode: { ...text(5), requiredLevel: "systemrequired" },
      currencysymbol: text(13),
      exchangerate: decimal(),
      currencyprecision: int(),
      ...activeInactive,
    },
  },
  {
    logicalName: "environmentvariabledefinition", schemaName: "EnvironmentVariableDefinition", entitySetName: "environmentvariabledefinitions",
    primaryId: "environmentvariabledefinitionid", primaryName: "schemaname", objectTypeCode: 380, ownership: "UserOwned",
    displayName: "Environment Variable Definition", collectionName: "Environment Variable Definitions",
    columns: {
      schemaname: { ...text(100), requiredLevel: "systemrequired" },
      displayname: text(100),
      description: memo(2000),
      defaultvalue: memo(2000),
      type: choice([[100000000, "String"], [100000001, "Number"], [100000002, "Boolean"], [100000003, "JSON"], [100000004, "Data source"], [100000005, "Secret"]], 100000000),
      isrequired: bool(),
      valueschema: memo(2000),
      ...activeInactive,
    },
  },
  {
    logicalName: "environmentvariablevalue", schemaName: "EnvironmentVariableValue", entitySetName: "environmentvariablevalues",
    primaryId: "environmentvariablevalueid", primaryName: "schemaname", objectTypeCode: 381, ownership: "UserOwned",
    displayName: "Environment Variable Value", collectionName: "Environment Variable Values",
    columns: {
      schemaname: text(100),
      value: memo(2000),
      environmentvariabledefinitionid: lookup("environmentvariabledefinition", "environmentvariabledefinition_environmentvariablevalue", {
        navigation: { environmentvariabledefinition: "EnvironmentVariableDefinitionId" }, cascadeDelete: "Cascade",
      }),
      ...activeInactive,
    },
  },
  {
    logicalName: "solution", schemaName: "Solution", entitySetName: "solutions", primaryId: "solutionid", primaryName: "friendlyname",
    objectTypeCode: 7100, ownership: "None", displayName: "Solution", collectionName: "Solutions",
    columns: {
      uniquename: { ...text(65), requiredLevel: "systemrequired" },
      friendlyname: text(256),
      version: text(256),
      description: memo(2000),
      ismanaged: readOnly(bool("Managed", "Unmanaged")),
      isvisible: bool(),
      installedon: readOnly(date()),
      publisherid: lookup("publisher", "publisher_solution"),
    },
  },
  {
    logicalName: "publisher", schemaName: "Publisher", entitySetName: "publishers", primaryId: "publisherid", primaryName: "friendlyname",
    objectTypeCode: 7101, ownership: "None", displayName: "Publisher", collectionName: "Publishers",
    columns: {
      uniquename: text(256),
      friendlyname: text(256),
      customizationprefix: text(8),
      customizationoptionvalueprefix: int(),
    },
  },
  {
    logicalName: "serviceendpoint", schemaName: "ServiceEndpoint", entitySetName: "serviceendpoints", primaryId: "serviceendpointid", primaryName: "name",
    objectTypeCode: 4618, ownership: "OrgOwned", displayName: "Service Endpoint", collectionName: "Service Endpoints",
    columns: {
      name: { ...text(256), requiredLevel: "systemrequired" },
      description: memo(2000),
      contract: choice([[1, "OneWay"], [2, "Queue"], [3, "Rest"], [4, "TwoWay"], [5, "Topic"], [6, "Queue (Persistent)"], [7, "Event Hub"], [8, "Webhook"], [9, "Event Grid"], [10, "Managed Data Lake"]]),
      url: text(2000, "Url"),
      authtype: choice([[1, "ACS"], [2, "SAS Key"], [3, "SAS Token"], [4, "Webhook Key"], [5, "Http Header"], [6, "Http Query String"], [7, "Connection String"], [8, "Access Key"]]),
      authvalue: { ...text(2048), writeOnly: true },
      messageformat: choice([[1, "Binary XML"], [2, "Json"], [3, "Text XML"]], 1),
      userclaim: choice([[1, "None"], [2, "UserId"], [3, "UserInfo"]], 1),
      connectionmode: choice([[1, "Normal"], [2, "Federated"]], 1),
      namespaceaddress: text(255),
      namespaceformat: choice([[1, "Namespace Name"], [2, "Namespace Address"]]),
      path: text(160),
      solutionnamespace: text(160),
      saskeyname: text(256),
    },
  },
  {
    logicalName: "sdkmessage", schemaName: "SdkMessage", entitySetName: "sdkmessages", primaryId: "sdkmessageid", primaryName: "name",
    objectTypeCode: 4606, ownership: "OrgOwned", displayName: "Sdk Message", collectionName: "Sdk Messages",
    columns: {
      name: text(256),
      categoryname: text(25),
      isprivate: bool(),
      isreadonly: bool(),
      autotransact: bool(),
    },
  },
  {
    logicalName: "sdkmessagefilter", schemaName: "SdkMessageFilter", entitySetName: "sdkmessagefilters", primaryId: "sdkmessagefilterid", primaryName: "name",
    objectTypeCode: 4607, ownership: "OrgOwned", displayName: "Sdk Message Filter", collectionName: "Sdk Message Filters",
    columns: {
      name: text(256),
      sdkmessageid: lookup("sdkmessage", "sdkmessageid_sdkmessagefilter"),
      primaryobjecttypecode: entityName(),
      secondaryobjecttypecode: entityName(),
      iscustomprocessingstepallowed: bool(),
      isvisible: bool(),
      availability: int(),
    },
  },
  {
    logicalName: "plugintype", schemaName: "PluginType", entitySetName: "plugintypes", primaryId: "plugintypeid", primaryName: "name",
    objectTypeCode: 4602, ownership: "OrgOwned", displayName: "Plug-in Type", collectionName: "Plug-in Types",
    columns: { name: text(256), typename: text(256), friendlyname: text(256) },
  },
  {
    logicalName: "sdkmessageprocessingstep", schemaName: "SdkMessageProcessingStep", entitySetName: "sdkmessageprocessingsteps",
    primaryId: "sdkmessageprocessingstepid", primaryName: "name", objectTypeCode: 4608, ownership: "UserOwned",
    displayName: "Sdk Message Processing Step", collectionName: "Sdk Message Processing Steps",
    columns: {
      name: text(256),
      description: text(256),
      mode: choice([[0, "Synchronous"], [1, "Asynchronous"]], 0),
      rank: int(),
      stage: choice([[5, "Initial Pre-operation (For internal use only)"], [10, "Pre-validation"], [15, "Internal Pre-operation Before External Plugins (For internal use only)"], [20, "Pre-operation"], [25, "Internal Pre-operation After External Plugins (For internal use only)"], [30, "Main Operation (For internal use only)"], [35, "Internal Post-operation Before External Plugins (For internal use only)"], [40, "Post-operation"], [45, "Internal Post-operation After External Plugins (For internal use only)"], [50, "Post-operation (Deprecated)"], [55, "Final Post-operation (For internal use only)"]]),
      supporteddeployment: choice([[0, "Server Only"], [1, "Microsoft Dynamics 365 Client for Outlook Only"], [2, "Both"]], 0),
      invocationsource: choice([[-1, "Internal"], [0, "Parent"], [1, "Child"]], 0),
      asyncautodelete: bool(),
      filteringattributes: memo(100000),
      configuration: memo(1073741823),
      eventhandler: polymorphic("Lookup", { plugintype: "plugintype_sdkmessageprocessingstep", serviceendpoint: "serviceendpoint_sdkmessageprocessingstep" },
        { plugintype: "eventhandler_plugintype", serviceendpoint: "eventhandler_serviceendpoint" }),
      plugintypeid: lookup("plugintype", "plugintypeid_sdkmessageprocessingstep"),
      sdkmessageid: lookup("sdkmessage", "sdkmessageid_sdkmessageprocessingstep"),
      sdkmessagefilterid: lookup("sdkmessagefilter", "sdkmessagefilterid_sdkmessageprocessingstep"),
      impersonatinguserid: lookup("systemuser", "impersonatinguserid_sdkmessageprocessingstep"),
      statecode: state([[0, "Enabled"], [1, "Disabled"]]),
      statuscode: status([[1, "Enabled", 0], [2, "Disabled", 1]]),
    },
  },
  {
    logicalName: "sdkmessageprocessingstepimage", schemaName: "SdkMessageProcessingStepImage", entitySetName: "sdkmessageprocessingstepimages",
    primaryId: "sdkmessageprocessingstepimageid", primaryName: "name", objectTypeCode: 4615, ownership: "OrgOwned",
    displayName: "Sdk Message Processing Step Image", collectionName: "Sdk Message Processing Step Images",
    columns: {
      name: text(256),
      entityalias: text(256),
      imagetype: choice([[0, "PreImage"], [1, "PostImage"], [2, "Both"]], 0),
      messagepropertyname: text(256),
      attributes: memo(100000),
      description: text(256),
      sdkmessageprocessingstepid: lookup("sdkmessageprocessingstep", "sdkmessageprocessingstepid_sdkmessageprocessingstepimage", { cascadeDelete: "Cascade" }),
    },
  },
  {
    logicalName: "asyncoperation", schemaName: "AsyncOperation", entitySetName: "asyncoperations", primaryId: "asyncoperationid", primaryName: "name",
    objectTypeCode: 4700, ownership: "UserOwned", displayName: "System Job", collectionName: "System Jobs",
    columns: {
      name: text(256),
      operationtype: choice([[1, "System Event"], [10, "Workflow"]], 1),
      messagename: text(160),
      primaryentitytype: entityName(),
      message: memo(100000),
      friendlymessage: memo(100000),
      errorcode: int(),
      depth: int(),
      retrycount: int(),
      correlationid: guid(),
      completedon: date(),
      startedon: date(),
      owningextensionid: lookup("sdkmessageprocessingstep", "SdkMessageProcessingStep_AsyncOperations", {
        navigation: { sdkmessageprocessingstep: "owningextensionid_sdkmessageprocessingstep" },
      }),
      statecode: state([[0, "Ready"], [1, "Suspended"], [2, "Locked"], [3, "Completed"]]),
      statuscode: status([[0, "Waiting For Resources", 0], [10, "Waiting", 1], [20, "In Progress", 2], [21, "Pausing", 2], [22, "Canceling", 2], [30, "Succeeded", 3], [31, "Failed", 3], [32, "Canceled", 3]]),
    },
  },
];

/** An N:N relationship: its name is the collection-valued navigation property on both tables. */
export interface StandardManyToMany {
  name: string;
  /** The intersect table (above), with one lookup per side. */
  intersect: string;
  entity1: string;
  attribute1: string;
  entity2: string;
  attribute2: string;
}

export const STANDARD_MANY_TO_MANY: StandardManyToMany[] = [
  { name: "systemuserroles_association", intersect: "systemuserroles", entity1: "systemuser", attribute1: "systemuserid", entity2: "role", attribute2: "roleid" },
];

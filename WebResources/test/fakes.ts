// Test doubles: an opportunity (or lead) form built with xrm-mock, and a fake Xrm.WebApi over a small
// in-memory Dataverse (xrm-mock's own WebApi only throws "not implemented").
import { jest } from "@jest/globals";
import { EventContextMock, FormItemMock, SaveEventContextMock, XrmMockGenerator } from "xrm-mock";
import { EnvironmentVariables, HowCanMicrosoftHelp, Lead, MicrosoftSolution, Opportunity } from "../../Core/generated/schema.ts";
import { Standard } from "../src/names.ts";
import { forgetSettings } from "../src/settings.ts";
import { forgetFacts } from "../src/facts.ts";
import { resetRelayServices } from "../src/relaySignIn.ts";
import type { FormWebApi } from "../src/xrm.ts";

/** The Dynamics 365 org the form runs in (its web resources, the sign-in redirect page, live there). */
export const ORG_URL = "https://contoso.crm4.dynamics.com";

export const Ids = {
  opportunity: "0f8fad5b-d9cb-469f-a165-70867728950e",
  account: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  otherAccount: "9b2f6a3e-1c4d-4e5f-8a7b-6c5d4e3f2a1b",
  contact: "16fd2706-8baf-433b-82eb-8c7fada847da",
  otherContact: "2c1b0a99-8877-4665-9443-3322110099aa",
  currency: "e4eaaaf2-d142-11e1-b3e4-080027620cdd",
  otherCurrency: "f5f5f5f5-0000-4000-8000-00000000f5f5",
} as const;

type Row = Record<string, unknown>;

/** The columns the environment variables name by default. */
export const DEAL_VALUE = EnvironmentVariables.dealValueField.defaultValue;
export const COUNTRY = EnvironmentVariables.customerAccountCountryCodeField.defaultValue;
const C = Standard.contact;

/** The Dataverse the fake Web API answers from. */
export interface Data {
  /** Environment variable current values by schema name (undefined: no value row, default applies). */
  variables: Record<string, string | undefined>;
  accounts: Record<string, Row>;
  contacts: Record<string, Row>;
  currencies: Record<string, Row>;
  /** Saved opportunities: their own columns and the ids of account, contact and currency. */
  opportunities: Record<string, Row & { accountId?: string | null; contactId?: string | null; currencyId?: string | null }>;
  /** Microsoft Partner Center Solution rows per opportunity id. */
  solutions: Record<string, number>;
  /** Other tables by logical name, rows by id (a custom country table). */
  tables?: Record<string, Record<string, Row>>;
  /** What Xrm.Utility.getEntityMetadata knows: tables, their columns and types (default: STANDARD_METADATA). */
  metadata?: MetadataCatalog;
}

/** XrmEnum.AttributeTypeCode: the number getEntityMetadata gives as an attribute's AttributeType. */
const AttributeTypeCode = { DateTime: 2, Decimal: 3, Integer: 5, Lookup: 6, Memo: 7, Money: 8, Picklist: 11, String: 14, Uniqueidentifier: 15 } as const;
export interface ColumnDefinition {
  type: keyof typeof AttributeTypeCode;
  targets?: string[];
}
export type MetadataCatalog = Record<string, Record<string, ColumnDefinition>>;

/** The standard columns the library may ask about. */
export const STANDARD_METADATA: MetadataCatalog = {
  opportunity: {
    [DEAL_VALUE]: { type: "Money" }, [Standard.opportunity.closeDate]: { type: "DateTime" }, name: { type: "String" },
    [Standard.opportunity.account]: { type: "Lookup", targets: [Standard.account.logicalName] },
  },
  account: { [Standard.account.id]: { type: "Uniqueidentifier" }, [COUNTRY]: { type: "String" }, name: { type: "String" }, numberofemployees: { type: "Integer" } },
  contact: { [C.id]: { type: "Uniqueidentifier" }, [C.email]: { type: "String" } },
};

/** The standard metadata with a customer's tables and columns added. */
export function withMetadata(extra: MetadataCatalog): MetadataCatalog {
  const catalog: MetadataCatalog = {};
  for (const table of new Set([...Object.keys(STANDARD_METADATA), ...Object.keys(extra)])) catalog[table] = { ...STANDARD_METADATA[table], ...extra[table] };
  return catalog;
}

/**
 * A fake Xrm.Utility.getEntityMetadata answering the way the Client API does: the table's metadata with
 * only the asked attributes that exist, in a collection read by Attributes.get(name) (AttributeType as
 * XrmEnum.AttributeTypeCode, a lookup's Targets); a rejection for a table that does not exist.
 */
export class FakeMetadata {
  readonly calls: Array<{ entityName: string; attributes: string[] }> = [];
  private readonly catalog: MetadataCatalog;
  constructor(catalog: MetadataCatalog) {
    this.catalog = catalog;
  }

  getEntityMetadata(entityName: string, attributes: string[] = []): Promise<Xrm.Metadata.EntityMetadata> {
    this.calls.push({ entityName, attributes: [...attributes] });
    const table = this.catalog[entityName];
    if (!table) return Promise.reject(Object.assign(new Error(`Could not find an entity with name ${entityName}`), { errorCode: 2147746327 }));
    const items = attributes.filter((name) => table[name]).map((name) => ({
      LogicalName: name,
      EntityLogicalName: entityName,
      DisplayName: name,
      AttributeType: AttributeTypeCode[table[name]!.type],
      ...(table[name]!.type === "Lookup" ? { Targets: [...(table[name]!.targets ?? [])] } : {}),
    }));
    const collection = {
      get: (name: string) => items.find((item) => item.LogicalName === name) ?? null,
      getLength: () => items.length,
      forEach: (delegate: (item: (typeof items)[number], index: number) => void) => items.forEach(delegate),
    };
    return Promise.resolve({ LogicalName: entityName, Attributes: collection } as unknown as Xrm.Metadata.EntityMetadata);
  }
}

export function defaultData(): Data {
  return {
    variables: { [EnvironmentVariables.relayUrl.schemaName]: "https://relay.contoso.example" },
    accounts: {
      [Ids.account]: { [Standard.account.id]: Ids.account, [COUNTRY]: "NL" },
      [Ids.otherAccount]: { [Standard.account.id]: Ids.otherAccount, [COUNTRY]: null },
    },
    contacts: {
      [Ids.contact]: { [C.id]: Ids.contact, [C.email]: "ann@fabrikam.example", [C.firstName]: "Ann", [C.lastName]: "Lee" },
      [Ids.otherContact]: { [C.id]: Ids.otherContact, [C.email]: null, [C.firstName]: "Bo", [C.lastName]: "Vos" },
    },
    currencies: {
      [Ids.currency]: { [Standard.currency.id]: Ids.currency, [Standard.currency.isoCode]: "EUR" },
      [Ids.otherCurrency]: { [Standard.currency.id]: Ids.otherCurrency, [Standard.currency.isoCode]: "EURO" },
    },
    opportunities: {
      [Ids.opportunity]: { [DEAL_VALUE]: 120000, [Standard.opportunity.closeDate]: "2026-12-31", accountId: Ids.account, contactId: Ids.contact, currencyId: Ids.currency },
    },
    solutions: { [Ids.opportunity]: 1 },
  };
}

export interface Call {
  method: "retrieveRecord" | "retrieveMultipleRecords";
  entity: string;
  id?: string;
  options?: string;
}

const notFound = (entity: string, id: string): Error => Object.assign(new Error(`${entity} ${id} does not exist`), { errorCode: 404 });

/** A fake Xrm.WebApi. `hold()` makes every answer wait until `release()`: "not loaded yet". */
export class FakeWebApi {
  readonly calls: Call[] = [];
  private held: Array<() => void> | null = null;
  readonly data: Data;
  constructor(data: Data) {
    this.data = data;
  }

  hold(): void {
    this.held = [];
  }
  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const go of waiting) go();
  }

  private answer<T>(make: () => T): Promise<T> {
    const run = (): Promise<T> => new Promise((resolve, reject) => {
      try {
        resolve(make());
      } catch (error) {
        reject(error);
      }
    });
    if (!this.held) return run();
    const held = this.held;
    return new Promise((resolve, reject) => held.push(() => run().then(resolve, reject)));
  }

  retrieveRecord(entity: string, id: string, options?: string): Promise<Row> {
    this.calls.push({ method: "retrieveRecord", entity, id, ...(options ? { options } : {}) });
    return this.answer(() => {
      const table = entity === Standard.account.logicalName ? this.data.accounts
        : entity === Standard.contact.logicalName ? this.data.contacts
        : entity === Standard.currency.logicalName ? this.data.currencies
        : entity === Opportunity.logicalName ? null
        : this.data.tables?.[entity];
      if (table === undefined) throw new Error(`the fake has no table ${entity}`);
      if (table) {
        const row = table[id];
        if (!row) throw notFound(entity, id);
        return { ...row };
      }
      const opportunity = this.data.opportunities[id];
      if (!opportunity) throw notFound(entity, id);
      const { accountId, contactId, currencyId, ...columns } = opportunity;
      const o = Standard.opportunity;
      return {
        ...columns,
        [o.account]: accountId ? { ...this.data.accounts[accountId] } : null,
        [o.contact]: contactId ? { ...this.data.contacts[contactId] } : null,
        [o.currency]: currencyId ? { ...this.data.currencies[currencyId] } : null,
      };
    });
  }

  retrieveMultipleRecords(entity: string, options?: string, maxPageSize?: number): Promise<{ entities: Row[] }> {
    this.calls.push({ method: "retrieveMultipleRecords", entity, ...(options ? { options } : {}) });
    return this.answer(() => {
      if (entity === Standard.environmentVariable.definition) {
        return {
          entities: Object.values(EnvironmentVariables).map((variable) => ({
            schemaname: variable.schemaName,
            defaultvalue: "defaultValue" in variable ? variable.defaultValue : null,
            environmentvariabledefinition_environmentvariablevalue:
              this.data.variables[variable.schemaName] === undefined ? [] : [{ value: this.data.variables[variable.schemaName] }],
          })),
        };
      }
      if (entity === MicrosoftSolution.logicalName) {
        const opportunityId = /eq ([0-9a-f-]{36})/.exec(options ?? "")?.[1] ?? "";
        const count = Math.min(this.data.solutions[opportunityId] ?? 0, maxPageSize ?? 5000);
        return { entities: Array.from({ length: count }, (_, i) => ({ [MicrosoftSolution.primaryId]: `solution-${i}` })) };
      }
      throw new Error(`the fake has no query for ${entity}`);
    });
  }

  callsTo(entity: string): Call[] {
    return this.calls.filter((call) => call.entity === entity);
  }
}

/** Lets every pending promise (fake requests, handlers started by fireOnChange) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface FormSetup {
  entity?: "opportunity" | "lead";
  /** null: a new, unsaved record. */
  id?: string | null;
  language?: number;
  sync?: boolean;
  help?: number | null;
  visibility?: boolean;
  dealValue?: number | null;
  closeDate?: Date | null;
  accountId?: string | null;
  contactId?: string | null;
  currencyId?: string | null;
  syncStatus?: number | null;
  lastSyncError?: string | null;
  referralLink?: string | null;
  /** Lead: Referral status, Respond by, Est. Revenue and Est. Close Date. */
  referralStatus?: number | null;
  respondBy?: Date | null;
  estimatedRevenue?: number | null;
  productsObsolete?: boolean;
  /** Number columns the form has besides the standard ones (a custom deal value column), with their values. */
  numbers?: Record<string, number | null>;
  /** Columns (or "solutionsGrid") the form does not have. */
  omit?: string[];
  /** Requirement levels the form itself gives columns. */
  levels?: Record<string, Xrm.Attributes.RequirementLevel>;
}

export interface TestForm {
  form: Xrm.FormContext;
  webApi: FakeWebApi;
  /** Xrm.Utility.getEntityMetadata's fake, with the questions it was asked. */
  metadata: FakeMetadata;
  /** An execution context for a form event (OnLoad, a ribbon-less handler). */
  context(eventSource?: Xrm.Attributes.Attribute): Xrm.Events.EventContext;
  /** An OnSave execution context; XrmEnum.SaveMode.Save unless given. */
  saveContext(saveMode?: number): Xrm.Events.SaveEventContext & { getEventArgs(): Xrm.Events.SaveEventArguments };
  attribute<T extends Xrm.Attributes.Attribute = Xrm.Attributes.Attribute>(name: string): T;
  grid: Xrm.Controls.GridControl | null;
  notifications(): Array<{ message: string; level: string; uniqueId: string }>;
  notification(uniqueId: string): { message: string; level: string } | undefined;
}

const lookup = (entityType: string, id: string | null | undefined): Xrm.LookupValue | undefined =>
  id ? { id: `{${id.toUpperCase()}}`, entityType, name: entityType } : undefined;

/**
 * A form showing a deal that is ready for Partner Center (Sync = Yes, help requested, a contact with an
 * e-mail, an account in NL, EUR, a value, a close date, one solution), unless the setup says otherwise.
 */
export function openForm(setup: FormSetup = {}, data: Data = defaultData()): TestForm {
  resetLibrary();
  const entity = setup.entity ?? "opportunity";
  const id = setup.id === undefined ? Ids.opportunity : setup.id;
  XrmMockGenerator.initialise({ entity: { entityName: entity, id: id ? `{${id.toUpperCase()}}` : "" } });
  const context = XrmMockGenerator.context;
  context.userSettings.languageId = setup.language ?? 1033;
  (context as unknown as { clientUrl: string }).clientUrl = ORG_URL;
  const form = XrmMockGenerator.getFormContext();
  (form.ui.formSelector.getCurrentItem() as FormItemMock).formType = id ? 2 : 1;
  form.ui.refreshRibbon = jest.fn<() => void>();

  const omit = new Set(setup.omit ?? []);
  const A = XrmMockGenerator.Attribute;
  const add = (name: string, create: () => unknown): void => {
    if (omit.has(name)) return;
    const attribute = create() as Xrm.Attributes.Attribute;
    const level = setup.levels?.[name];
    if (level) attribute.setRequiredLevel(level);
  };
  const columns = entity === "lead" ? Lead.columns : Opportunity.columns;
  const o = Standard.opportunity;

  add(columns.syncWithPartnerCenter, () => A.createBoolean(columns.syncWithPartnerCenter, setup.sync ?? true));
  add(columns.helpRequested, () => A.createOptionSet(columns.helpRequested, setup.help === undefined ? HowCanMicrosoftHelp.ProofOfConceptOrDemo : (setup.help ?? undefined)));
  add(columns.syncStatus, () => A.createOptionSet(columns.syncStatus, setup.syncStatus ?? undefined));
  add(columns.lastSyncError, () => A.createString(columns.lastSyncError, setup.lastSyncError ?? undefined));
  add(columns.referralLink, () => A.createString(columns.referralLink, setup.referralLink ?? undefined));
  add(columns.referralIdentifier, () => A.createString(columns.referralIdentifier, undefined));
  add(columns.audit, () => A.createString(columns.audit, undefined));
  add(columns.lastSyncedOn, () => A.createDate(columns.lastSyncedOn, undefined));
  add(columns.referralStatus, () => A.createOptionSet(columns.referralStatus, setup.referralStatus ?? undefined));
  add(columns.referralSubstatus, () => A.createOptionSet(columns.referralSubstatus, undefined));
  if (entity === "lead") {
    add(Lead.columns.respondBy, () => A.createDate(Lead.columns.respondBy, setup.respondBy ?? undefined));
    add(Standard.lead.estimatedRevenue, () => A.createNumber(Standard.lead.estimatedRevenue, setup.estimatedRevenue ?? undefined));
    add(Standard.lead.estimatedCloseDate, () => A.createDate(Standard.lead.estimatedCloseDate, setup.closeDate ?? undefined));
  } else {
    const c = Opportunity.columns;
    add(c.referralVisibility, () => A.createBoolean(c.referralVisibility, setup.visibility ?? false));
    add(c.microsoftCrmIdentifier, () => A.createString(c.microsoftCrmIdentifier, undefined));
    add(c.microsoftStatus, () => A.createOptionSet(c.microsoftStatus, undefined));
    add(c.microsoftSubstatus, () => A.createOptionSet(c.microsoftSubstatus, undefined));
    if (setup.productsObsolete) add(c.productsObsolete, () => A.createString(c.productsObsolete, undefined));
    add(DEAL_VALUE, () => A.createNumber(DEAL_VALUE, setup.dealValue === undefined ? 120000 : (setup.dealValue ?? undefined)));
    for (const [name, value] of Object.entries(setup.numbers ?? {})) add(name, () => A.createNumber(name, value ?? undefined));
    add(o.closeDate, () => A.createDate(o.closeDate, setup.closeDate === undefined ? new Date("2026-12-31T00:00:00Z") : (setup.closeDate ?? undefined)));
    add(o.account, () => A.createLookup(o.account, lookup(Standard.account.logicalName, setup.accountId === undefined ? Ids.account : setup.accountId)));
    add(o.contact, () => A.createLookup(o.contact, lookup(Standard.contact.logicalName, setup.contactId === undefined ? Ids.contact : setup.contactId)));
    add(o.currency, () => A.createLookup(o.currency, lookup(Standard.currency.logicalName, setup.currencyId === undefined ? Ids.currency : setup.currencyId)));
  }
  // What is on the form is saved: a clean form (xrm-mock marks set values dirty).
  form.data.entity.attributes.forEach((attribute) => {
    (attribute as unknown as { isDirty: boolean }).isDirty = false;
  });

  const grid = entity === "opportunity" && !omit.has("solutionsGrid")
    ? (XrmMockGenerator.Control.createGrid({ name: "MicrosoftSolutions", entityName: MicrosoftSolution.logicalName }) as unknown as Xrm.Controls.GridControl)
    : null;

  const webApi = new FakeWebApi(data);
  (Xrm as unknown as { WebApi: FormWebApi }).WebApi = webApi as unknown as FormWebApi;
  const metadata = new FakeMetadata(data.metadata ?? STANDARD_METADATA);
  // A real Promise (the Client API's PromiseLike also has fail and always, which the library does not use).
  Xrm.Utility.getEntityMetadata = ((entityName: string, attributes?: string[]) => metadata.getEntityMetadata(entityName, attributes)) as unknown as typeof Xrm.Utility.getEntityMetadata;

  const notifications = (): Array<{ message: string; level: string; uniqueId: string }> =>
    (form.ui as unknown as { formNotifications?: Array<{ message: string; level: string; uniqueId: string }> }).formNotifications ?? [];
  return {
    form,
    webApi,
    metadata,
    grid,
    context: (eventSource) => new EventContextMock({ context, formContext: form, ...(eventSource ? { eventSource } : {}) }),
    saveContext: (saveMode = 1) => new SaveEventContextMock({ context, formContext: form, saveMode }),
    attribute: <T extends Xrm.Attributes.Attribute>(name: string): T => {
      const attribute = form.getAttribute(name);
      if (!attribute) throw new Error(`the test form has no ${name}`);
      return attribute as unknown as T;
    },
    notifications,
    notification: (uniqueId) => notifications().find((n) => n.uniqueId === uniqueId),
  };
}

/** Forgets the page's settings, facts and relay services (one "page" per test). */
export function resetLibrary(): void {
  forgetSettings();
  forgetFacts();
  resetRelayServices();
}

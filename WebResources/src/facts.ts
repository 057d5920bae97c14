// The deal facts the readiness rules run on, through the admin's field mapping (Core/checklist-mapping.ts:
// the deal value column, the country's text column or lookup → ISO code column; the card runs the same). What the form holds (deal value, currency, close date, the
// account and contact lookups, How can Microsoft help?) is read from the form at the moment it is
// needed; what it does not hold (the solution count, the account's country, the contact's e-mail, the
// currency's ISO code) is read ahead through Xrm.WebApi and kept here, keyed by record id, because
// onSave must decide synchronously. Anything not loaded yet is "unknown": its check is left to the
// server-side rules instead of guessed.
import { accountCountryColumn, CLOSE_DATE, countryRowToRead, mappedChecklist, type ChecklistMapping } from "../../Core/checklist-mapping.ts";
import { HowCanMicrosoftHelp, MicrosoftSolution, Opportunity } from "../../Core/generated/schema.ts";
import type { DealFacts, ReadinessCheck, ReadinessProblem } from "../../Core/readiness.ts";
import { Standard } from "./names.ts";
import { loadedSettings, loadSettings, type FormSettings } from "./settings.ts";
import { attributeOf, lookupId, normalizeId, savedRecordId, webApi, type FormContext } from "./xrm.ts";

type ContactFacts = NonNullable<DealFacts["contact"]>;

/** Values read through the Web API, by record id; a key that is absent is not known yet. */
class RecordCache<T> {
  private readonly values = new Map<string, T>();
  private readonly reading = new Map<string, Promise<T | undefined>>();

  has(id: string): boolean {
    return this.values.has(id);
  }
  get(id: string): T | undefined {
    return this.values.get(id);
  }
  set(id: string, value: T): void {
    this.values.set(id, value);
  }
  /**
   * Reads the value (again, when `fresh`), one request per id at a time. A failed read leaves the value
   * unknown (for example, no read access to the account): the server-side rules then decide.
   */
  load(id: string, read: () => Promise<T>, fresh: boolean): Promise<T | undefined> {
    if (!fresh && this.values.has(id)) return Promise.resolve(this.values.get(id));
    const pending = this.reading.get(id);
    if (pending) return pending;
    const request = read().then(
      (value) => {
        this.values.set(id, value);
        return value;
      },
      () => undefined,
    ).finally(() => this.reading.delete(id));
    this.reading.set(id, request);
    return request;
  }
  clear(): void {
    this.values.clear();
    this.reading.clear();
  }
}

type Row = Record<string, unknown>;
/** An account with its mapped country column (or lookup value), and the country row a lookup points to. */
interface AccountRows {
  account: Row;
  country: Row | null;
}

const accounts = new RecordCache<AccountRows>();
const contacts = new RecordCache<ContactFacts>();
const currencyCodes = new RecordCache<string | null>();
const solutionCounts = new RecordCache<number>();
/** The saved deal value and close date, for a form without those columns. */
const savedDeals = new RecordCache<{ dealValue: number | null; closeDate: string | null }>();

/** Forgets every fact (each form load reads them again; the settings stay for the page). */
export function forgetFacts(): void {
  for (const cache of [accounts, contacts, currencyCodes, solutionCounts, savedDeals]) cache.clear();
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}
function numberOrNull(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}
function contactFacts(row: Record<string, unknown>): ContactFacts {
  const c = Standard.contact;
  return { email: text(row[c.email]), firstName: text(row[c.firstName]), lastName: text(row[c.lastName]) };
}

const CONTACT_SELECT = [Standard.contact.id, Standard.contact.email, Standard.contact.firstName, Standard.contact.lastName].join(",");

/** The country row behind the account's lookup, when the mapping has one (the table from the Web API's annotation). */
async function readCountryRow(mapping: ChecklistMapping, account: Row): Promise<Row | null> {
  const next = countryRowToRead(mapping, account);
  if (next.read === "unknownTable") throw new Error(`the account's lookup ${next.lookup} did not say which table it points to`);
  if (next.read === "none") return null;
  return (await webApi().retrieveRecord(next.table, next.id, `?$select=${next.column}`)) as Row;
}
async function readAccount(accountId: string, settings: FormSettings): Promise<AccountRows> {
  const account = (await webApi().retrieveRecord(Standard.account.logicalName, accountId, `?$select=${Standard.account.id},${accountCountryColumn(settings.mapping)}`)) as Row;
  return { account, country: await readCountryRow(settings.mapping, account) };
}
async function readContact(contactId: string): Promise<ContactFacts> {
  return contactFacts((await webApi().retrieveRecord(Standard.contact.logicalName, contactId, `?$select=${CONTACT_SELECT}`)) as Record<string, unknown>);
}
async function readCurrencyCode(currencyId: string): Promise<string | null> {
  const row = (await webApi().retrieveRecord(Standard.currency.logicalName, currencyId, `?$select=${Standard.currency.isoCode}`)) as Record<string, unknown>;
  return text(row[Standard.currency.isoCode]);
}
/** The card's query: Microsoft Partner Center Solution rows of the opportunity (only "none or some" matters). */
async function readSolutionCount(opportunityId: string): Promise<number> {
  const result = await webApi().retrieveMultipleRecords(
    MicrosoftSolution.logicalName,
    `?$select=${MicrosoftSolution.primaryId}&$filter=_${MicrosoftSolution.lookups.opportunity.column}_value eq ${opportunityId}`,
    50,
  );
  return result.entities.length;
}

/**
 * The saved deal with its account, contact and currency in one request: the card's query, with each
 * expanded record's id selected so its facts can be kept by id. Fills every cache it answers for.
 */
async function readSavedDeal(opportunityId: string, settings: FormSettings): Promise<void> {
  const o = Standard.opportunity;
  // Deal value and close date too: the form may not show them.
  const expand = [
    `${o.account}($select=${Standard.account.id},${accountCountryColumn(settings.mapping)})`,
    `${o.contact}($select=${CONTACT_SELECT})`,
    `${o.currency}($select=${Standard.currency.id},${Standard.currency.isoCode})`,
  ];
  const row = (await webApi().retrieveRecord(
    Opportunity.logicalName,
    opportunityId,
    `?$select=${[...new Set([settings.dealValueField, o.closeDate])].join(",")}&$expand=${expand.join(",")}`,
  )) as Record<string, unknown>;
  savedDeals.set(opportunityId, { dealValue: numberOrNull(row[settings.dealValueField]), closeDate: text(row[o.closeDate]) });
  const account = row[o.account] as Record<string, unknown> | null | undefined;
  const accountId = normalizeId(String(account?.[Standard.account.id] ?? ""));
  if (account && accountId) {
    // A country row that cannot be read leaves the country unknown (the server-side rules decide).
    const country = await readCountryRow(settings.mapping, account).then((row) => ({ row }), () => undefined);
    if (country) accounts.set(accountId, { account, country: country.row });
  }
  const contact = row[o.contact] as Record<string, unknown> | null | undefined;
  const contactId = normalizeId(String(contact?.[Standard.contact.id] ?? ""));
  if (contact && contactId) contacts.set(contactId, contactFacts(contact));
  const currency = row[o.currency] as Record<string, unknown> | null | undefined;
  const currencyId = normalizeId(String(currency?.[Standard.currency.id] ?? ""));
  if (currency && currencyId) currencyCodes.set(currencyId, text(currency[Standard.currency.isoCode]));
}

/** What a handler can ask to have read ahead. */
export type FactSource = "deal" | "solutions" | "account" | "contact" | "currency";

/**
 * Reads ahead what the form does not hold. `fresh` re-reads what is known already (after a save, a
 * subgrid change, a lookup change). Never rejects: whatever fails stays unknown.
 */
export async function preload(form: FormContext, sources: readonly FactSource[], fresh: boolean): Promise<void> {
  let settings: FormSettings;
  try {
    settings = await loadSettings();
  } catch {
    return;
  }
  const opportunityId = savedRecordId(form);
  const o = Standard.opportunity;
  if (opportunityId) {
    await Promise.all([
      sources.includes("deal") ? readSavedDeal(opportunityId, settings).catch(() => undefined) : undefined,
      sources.includes("solutions") ? solutionCounts.load(opportunityId, () => readSolutionCount(opportunityId), fresh) : undefined,
    ]);
  }
  // The form's lookups may differ from the saved ones (a new record, or the seller changed them).
  const accountId = lookupId(form, o.account);
  const contactId = lookupId(form, o.contact);
  const currencyId = lookupId(form, o.currency);
  const freshAfterDeal = fresh && !(opportunityId && sources.includes("deal"));
  await Promise.all([
    accountId && sources.includes("account") ? accounts.load(accountId, () => readAccount(accountId, settings), freshAfterDeal) : undefined,
    contactId && sources.includes("contact") ? contacts.load(contactId, () => readContact(contactId), freshAfterDeal) : undefined,
    currencyId && sources.includes("currency") ? currencyCodes.load(currencyId, () => readCurrencyCode(currencyId), freshAfterDeal) : undefined,
  ]);
}

/** Whether "How can Microsoft help?" asks for help (the card's rule: a value other than No help needed). */
export function helpRequested(form: FormContext): boolean {
  const value = attributeOf<Xrm.Attributes.OptionSetAttribute>(form, Opportunity.columns.helpRequested)?.getValue();
  return value !== null && value !== undefined && value !== HowCanMicrosoftHelp.NoHelpNeeded;
}

export function syncIsOn(form: FormContext): boolean {
  return attributeOf<Xrm.Attributes.BooleanAttribute>(form, Opportunity.columns.syncWithPartnerCenter)?.getValue() === true;
}

export interface Evaluation {
  /** Failed checks the form can be sure of, in checklist order. */
  problems: ReadinessProblem[];
  /** Checks whose facts are not loaded (or cannot be read): the server-side rules decide them. */
  unknown: ReadinessCheck[];
  /** Problems that cannot be fixed before the first save (a new record cannot have solutions yet). */
  deferred: ReadinessProblem[];
}

/** Runs the readiness rules on the form as it is now, synchronously, with what is loaded. */
export function evaluate(form: FormContext): Evaluation {
  const settings = loadedSettings();
  const opportunityId = savedRecordId(form);
  const o = Standard.opportunity;
  const unknown = new Set<ReadinessCheck>();

  const solutionCount = opportunityId ? solutionCounts.get(opportunityId) : 0;
  if (solutionCount === undefined) unknown.add("solution");

  const accountId = lookupId(form, o.account);
  const accountRows = accountId ? accounts.get(accountId) : undefined;
  if (accountId === undefined || (accountId && (!settings || settings.invalid.includes("countryField") || !accountRows))) unknown.add("country");

  const help = helpRequested(form);
  const contactId = lookupId(form, o.contact);
  let contact: DealFacts["contact"] = null;
  if (!attributeOf(form, Opportunity.columns.helpRequested) || contactId === undefined || (help && contactId && !contacts.has(contactId))) {
    unknown.add("contact");
  } else if (contactId) {
    contact = contacts.get(contactId) ?? null;
  }

  // The opportunity's values the rules read: the mapped deal value column and the close date, from
  // the form where it has them, else as saved.
  const opportunity: Row = {};
  const saved = opportunityId ? savedDeals.get(opportunityId) : undefined;
  if (!settings || settings.invalid.includes("dealValueField")) {
    unknown.add("dealValue");
  } else {
    const column = attributeOf<Xrm.Attributes.NumberAttribute>(form, settings.mapping.dealValue);
    if (column) opportunity[settings.mapping.dealValue] = column.getValue();
    else if (saved) opportunity[settings.mapping.dealValue] = saved.dealValue;
    else unknown.add("dealValue");
  }

  const currencyId = lookupId(form, o.currency);
  let currencyCode: string | null = null;
  if (currencyId === undefined || (currencyId && !currencyCodes.has(currencyId))) unknown.add("currency");
  else if (currencyId) currencyCode = currencyCodes.get(currencyId) ?? null;

  const closeDateColumn = attributeOf<Xrm.Attributes.DateAttribute>(form, o.closeDate);
  if (closeDateColumn) opportunity[CLOSE_DATE] = closeDateColumn.getValue();
  else if (saved) opportunity[CLOSE_DATE] = saved.closeDate;
  else unknown.add("closeDate");

  // The same function the card runs (an unknown item's answer is dropped below).
  const mapping: ChecklistMapping = settings?.mapping ?? { dealValue: "", country: { kind: "column", column: "" } };
  const readiness = mappedChecklist(mapping, {
    solutionCount: solutionCount ?? 0,
    helpRequested: help,
    opportunity,
    account: accountId ? accountRows?.account ?? {} : null,
    country: accountRows?.country ?? null,
    contact,
    currencyCode,
  });
  const known = readiness.items.filter((item) => !item.ok && item.problem && !unknown.has(item.check)).map((item) => item.problem!);
  const deferred: ReadinessProblem[] = opportunityId ? [] : known.filter((problem) => problem === "noSolution");
  return { problems: known.filter((problem) => !deferred.includes(problem)), unknown: [...unknown], deferred };
}

/// <reference types="xrm" />
// Small, typed helpers over the Client API, so the handlers read as what they do. Everything goes
// through the formContext a handler received (never Xrm.Page) and the global Xrm for WebApi,
// Navigation and Utility.
import { columnFactsOf, type ColumnFacts } from "../../Core/checklist-mapping.ts";
import { languageOf, type Language } from "../../Core/messages.ts";
import { Lead, Opportunity } from "../../Core/generated/schema.ts";
import { FORM_TYPE_CREATE } from "./names.ts";

export type FormContext = Xrm.FormContext;
export type NotificationLevel = Xrm.FormNotificationLevel;
/** The part of Xrm.WebApi the library reads with (a test double needs only these two). */
export type FormWebApi = Pick<Xrm.WebApi, "retrieveRecord" | "retrieveMultipleRecords">;

/** The user's language, en-US unless Dutch. */
export function userLanguage(): Language {
  return languageOf(Xrm.Utility.getGlobalContext().userSettings.languageId);
}

export function webApi(): FormWebApi {
  return Xrm.WebApi;
}

/**
 * The metadata of a table's columns through Xrm.Utility.getEntityMetadata (columns that do not exist
 * come back missing); rejects when it cannot be read.
 */
export async function describeColumns(table: string, columns: string[]): Promise<Record<string, ColumnFacts>> {
  return columnFactsOf(await settle(Xrm.Utility.getEntityMetadata(table, columns)), columns);
}

/** The column on this form, or null when the form does not have it. */
export function attributeOf<T extends Xrm.Attributes.Attribute = Xrm.Attributes.Attribute>(form: FormContext, name: string): T | null {
  return (form.getAttribute(name) as T | null | undefined) ?? null;
}

/** The column's controls on this form (the body, the header, a business process flow). */
export function controlsOf(form: FormContext, name: string): Xrm.Controls.StandardControl[] {
  const attribute = attributeOf(form, name);
  const controls: Xrm.Controls.StandardControl[] = [];
  attribute?.controls.forEach((control) => {
    controls.push(control as Xrm.Controls.StandardControl);
  });
  return controls;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id without braces, lower case; null when it is not a GUID. */
export function normalizeId(id: string | null | undefined): string | null {
  const bare = (id ?? "").trim().replace(/^\{|\}$/g, "").toLowerCase();
  return GUID.test(bare) ? bare : null;
}

/** The record's id once it is saved; null on a new record. */
export function savedRecordId(form: FormContext): string | null {
  if (form.ui.getFormType() === FORM_TYPE_CREATE) return null;
  return normalizeId(form.data.entity.getId());
}

export function entityName(form: FormContext): string {
  return form.data.entity.getEntityName();
}

export function isOpportunity(form: FormContext): boolean {
  return entityName(form) === Opportunity.logicalName;
}

/** The solution's columns of the table this form shows (opportunity or lead). */
export function columnsOf(form: FormContext): { syncWithPartnerCenter: string; referralLink: string; syncStatus: string; lastSyncError: string } {
  return entityName(form) === Lead.logicalName ? Lead.columns : Opportunity.columns;
}

/**
 * The lookup's record id: undefined when the form does not have the column, null when it is empty.
 */
export function lookupId(form: FormContext, name: string): string | null | undefined {
  const attribute = attributeOf<Xrm.Attributes.LookupAttribute>(form, name);
  if (!attribute) return undefined;
  const value = attribute.getValue();
  return value && value.length > 0 ? normalizeId(value[0]?.id) : null;
}

/** Replaces (or clears, with null) one form notification. */
export function notify(form: FormContext, id: string, level: NotificationLevel, message: string | null): void {
  form.ui.clearFormNotification(id);
  if (message !== null) form.ui.setFormNotification(message, level, id);
}

/** A Client API promise (or any thenable) as a real Promise, so async/await and finally work on it. */
export function settle<T>(value: PromiseLike<T>): Promise<T> {
  return Promise.resolve(value);
}

// Pure mapping from the PCF context to the view's props: the control class stays a thin adapter.
import type { Theme } from "@fluentui/react-components";
import { languageOf } from "../../Core/messages.ts";
import type { IInputs } from "./generated/ManifestTypes";
import { BoundColumns, FORM_FACTOR_PHONE, InputProperties, LeadBoundColumns, NARROW_WIDTH, StandardLead, Text, type BoundProperty, type LeadBoundProperty, type TextKey, type Texts } from "./constants.ts";
import type { CardChange, CardFields, CardProps, CardServices, FieldValue, Layout, LeadContext, LeadFields } from "./types.ts";

type Parameter = ComponentFramework.PropertyTypes.Property | undefined | null;

/** contextInfo is on the model-driven runtime's mode object, though not in the published typings. */
interface ModeWithContextInfo {
  contextInfo?: { entityId?: string; entityTypeName?: string; entityRecordName?: string };
}

/** Whether the form editor bound this property to a column. */
export function isBound(parameter: Parameter): boolean {
  if (!parameter) return false;
  return Boolean(parameter.attributes?.LogicalName) || (parameter.raw !== null && parameter.raw !== undefined);
}

export function readField<T>(parameter: Parameter, read: (raw: unknown) => T | null): FieldValue<T> {
  const bound = isBound(parameter);
  const readable = parameter?.security?.readable !== false;
  return {
    value: bound && readable ? read(parameter!.raw) : null,
    formatted: bound && readable && typeof parameter!.formatted === "string" ? parameter!.formatted : null,
    bound,
    readable,
    editable: parameter?.security?.editable !== false,
  };
}

const asBoolean = (raw: unknown): boolean | null => (typeof raw === "boolean" ? raw : raw === 1 || raw === "1" ? true : raw === 0 || raw === "0" ? false : null);
const asNumber = (raw: unknown): number | null => (typeof raw === "number" && Number.isFinite(raw) ? raw : null);
const asText = (raw: unknown): string | null => (typeof raw === "string" && raw.trim() ? raw : null);
const asDate = (raw: unknown): Date | null => {
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : raw;
  if (typeof raw === "string" && raw) {
    const date = new Date(raw);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
};

export function readFields(parameters: Partial<IInputs>): { fields: CardFields; missingBindings: BoundProperty[] } {
  const p = parameters as Record<string, Parameter>;
  const fields: CardFields = {
    syncWithPartnerCenter: readField(p.syncWithPartnerCenter, asBoolean),
    helpRequested: readField(p.helpRequested, asNumber),
    referralVisibility: readField(p.referralVisibility, asBoolean),
    referralLink: readField(p.referralLink, asText),
    syncStatus: readField(p.syncStatus, asNumber),
    lastSyncedOn: readField(p.lastSyncedOn, asDate),
    lastSyncError: readField(p.lastSyncError, asText),
    microsoftStatus: readField(p.microsoftStatus, asNumber),
    microsoftSubstatus: readField(p.microsoftSubstatus, asNumber),
    microsoftCrmIdentifier: readField(p.microsoftCrmIdentifier, asText),
  };
  const missingBindings = (Object.keys(BoundColumns) as BoundProperty[]).filter((name) => !fields[name].bound);
  return { fields, missingBindings };
}

/** Lead mode: the lead's own columns, and which lead bindings the form editor left out. */
export function readLeadFields(parameters: Partial<IInputs>, fields: CardFields): { fields: LeadFields; missingBindings: LeadBoundProperty[] } {
  const p = parameters as Record<string, Parameter>;
  const lead: LeadFields = {
    respondBy: readField(p.respondBy, asDate),
    sentBy: readField(p.sentBy, asText),
    referralStatus: readField(p.referralStatus, asNumber),
    referralSubstatus: readField(p.referralSubstatus, asNumber),
  };
  const all: Record<string, FieldValue<unknown>> = { ...fields, ...lead };
  const missingBindings = (Object.keys(LeadBoundColumns) as LeadBoundProperty[]).filter((name) => !all[name]!.bound);
  return { fields: lead, missingBindings };
}

/** The table of the record the form shows (contextInfo), lower case; "" when the host does not say. */
export function readEntityTypeName(context: ComponentFramework.Context<IInputs>): string {
  return ((context.mode as unknown as ModeWithContextInfo).contextInfo?.entityTypeName ?? "").toLowerCase();
}

export function readLayout(context: ComponentFramework.Context<IInputs>): Layout {
  if (context.client.getFormFactor() === FORM_FACTOR_PHONE) return "phone";
  const width = context.mode.allocatedWidth;
  return width > 0 && width < NARROW_WIDTH ? "phone" : "wide";
}

export function readOpportunity(context: ComponentFramework.Context<IInputs>): { id: string | null; name: string } {
  const info = (context.mode as unknown as ModeWithContextInfo).contextInfo;
  const id = (info?.entityId ?? "").trim().replace(/^\{|\}$/g, "").toLowerCase();
  return { id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : null, name: info?.entityRecordName ?? "" };
}

export function readTexts(resources: ComponentFramework.Resources): Texts {
  const texts = {} as Texts;
  for (const key of Object.keys(Text) as TextKey[]) texts[key] = resources.getString(Text[key]);
  return texts;
}

export function readHistorySize(parameter: ComponentFramework.PropertyTypes.NumberProperty | undefined): number {
  const raw = parameter?.raw;
  if (typeof raw !== "number" || !Number.isFinite(raw)) return InputProperties.historySize.defaultValue;
  return Math.min(50, Math.max(1, Math.round(raw)));
}

export function readProps(
  context: ComponentFramework.Context<IInputs>,
  texts: Texts,
  services: CardServices,
  onChange: (change: CardChange) => void,
): CardProps {
  const parameters = (context.parameters ?? {}) as Partial<IInputs>;
  const { fields, missingBindings } = readFields(parameters);
  const opportunity = readOpportunity(context);
  let lead: LeadContext | null = null;
  let missing: string[] = missingBindings;
  if (readEntityTypeName(context) === StandardLead.logicalName) {
    const leadFields = readLeadFields(parameters, fields);
    const respondBy = leadFields.fields.respondBy.value;
    let offset = 0;
    try {
      offset = context.userSettings?.getTimeZoneOffsetMinutes(respondBy ?? undefined) ?? 0;
    } catch {
      offset = 0;
    }
    lead = { id: opportunity.id, fields: leadFields.fields, timeZoneOffsetMinutes: Number.isFinite(offset) ? offset : 0 };
    missing = leadFields.missingBindings;
  }
  return {
    lead,
    // On the lead form the record is the lead (lead.id), not an opportunity.
    opportunityId: lead ? null : opportunity.id,
    opportunityName: opportunity.name,
    language: languageOf(context.userSettings?.languageId),
    rtl: context.userSettings?.isRTL === true,
    texts,
    layout: readLayout(context),
    formDisabled: context.mode.isControlDisabled,
    fields,
    missingBindings: missing,
    relayUrlInput: asText(parameters.relayUrl?.raw)?.trim() ?? null,
    historySize: readHistorySize(parameters.historySize),
    theme: context.fluentDesignLanguage?.tokenTheme as unknown as Theme | undefined,
    services,
    onChange,
  };
}

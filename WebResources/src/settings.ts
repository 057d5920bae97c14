// The environment variables the form needs, read in one request (shared/docs/dataverse.md §4.4) with
// the same query as the card, and cached for the page: they change only when an admin edits them.
import { checkChecklistMapping, effectiveChecklistMapping, type ChecklistMapping, type SeedVariable } from "../../Core/checklist-mapping.ts";
import { EnvironmentVariables } from "../../Core/generated/schema.ts";
import { Standard } from "./names.ts";
import { describeColumns, webApi } from "./xrm.ts";

export interface FormSettings {
  /** Relay URL (current value, else default); "" when unset. */
  relayUrl: string;
  /**
   * Where the readiness rules read the deal value and the country: the "Partner Center field mapping"
   * JSON variable over the seed's variables, as the card reads it (Core/checklist-mapping.ts). An
   * invalid JSON value, or one naming a column that is not on its table with a fitting type (checked
   * against Xrm.Utility.getEntityMetadata before anything is read through it), is not used here (the
   * seed's variables are): a console warning says why, the card's admin note too.
   */
  mapping: ChecklistMapping;
  /** Opportunity column holding the deal value (the mapping's). */
  dealValueField: string;
  /** Seed variables in use whose value is not a column name: what they name cannot be checked on the form. */
  invalid: SeedVariable[];
}

const ev = Standard.environmentVariable;

let cached: Promise<FormSettings> | null = null;
let loaded: FormSettings | null = null;

async function read(): Promise<FormSettings> {
  const wanted = [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField, EnvironmentVariables.fieldMapping];
  const filter = wanted.map((v) => `${ev.schemaName} eq '${v.schemaName}'`).join(" or ");
  const result = await webApi().retrieveMultipleRecords(
    ev.definition,
    `?$select=${ev.schemaName},${ev.defaultValue}&$filter=${filter}&$expand=${ev.values}($select=${ev.value})`,
  );
  const valueOf = (schemaName: string, fallback: string): string => {
    const definition = (result.entities as Array<Record<string, unknown>>).find((e) => String(e[ev.schemaName]).toLowerCase() === schemaName.toLowerCase());
    if (!definition) return fallback;
    const values = definition[ev.values] as Array<{ value?: string | null }> | undefined;
    const current = values?.[0]?.value?.trim();
    const fromDefault = definition[ev.defaultValue];
    return current || (typeof fromDefault === "string" ? fromDefault.trim() : "") || fallback;
  };
  const effective = await checkChecklistMapping(effectiveChecklistMapping({
    fieldMapping: valueOf(EnvironmentVariables.fieldMapping.schemaName, "") || null,
    dealValueField: valueOf(EnvironmentVariables.dealValueField.schemaName, "") || null,
    countryField: valueOf(EnvironmentVariables.customerAccountCountryCodeField.schemaName, "") || null,
  }), describeColumns);
  if (effective.fieldMappingProblems.length) {
    const variable = EnvironmentVariables.fieldMapping;
    console.warn(
      `${variable.displayName[1033]} (${variable.schemaName}) is not used by the save check: ${effective.fieldMappingProblems.join("; ")}. ` +
        "It follows the Deal value field and Customer Account Country Code field variables until this is fixed; the relay keeps its last good field mapping.",
    );
  }
  return {
    relayUrl: valueOf(EnvironmentVariables.relayUrl.schemaName, ""),
    mapping: effective.mapping,
    dealValueField: effective.mapping.dealValue,
    invalid: effective.invalidSeed,
  };
}

/** The settings, read once per page; a failed read is forgotten so the next call tries again. */
export function loadSettings(): Promise<FormSettings> {
  cached ??= read().then(
    (settings) => {
      loaded = settings;
      return settings;
    },
    (error: unknown) => {
      cached = null;
      throw error;
    },
  );
  return cached;
}

/** The settings if they are loaded already (onSave cannot wait for a request). */
export function loadedSettings(): FormSettings | null {
  return loaded;
}

/** For tests: forget the page's settings. */
export function forgetSettings(): void {
  cached = null;
  loaded = null;
}

// The environment variables the form needs, read in one request (shared/docs/dataverse.md §4.4) with
// the same query as the card, and cached for the page: they change only when an admin edits them.
import { EnvironmentVariables } from "../../Core/generated/schema.ts";
import { Standard } from "./names.ts";
import { webApi } from "./xrm.ts";

export interface FormSettings {
  /** Relay URL (current value, else default); "" when unset. */
  relayUrl: string;
  /** Account column holding the two-letter country code. */
  countryField: string;
  /** Opportunity column holding the deal value. */
  dealValueField: string;
  /** Variables whose value is not a column name: what they name cannot be checked on the form. */
  invalid: Array<"countryField" | "dealValueField">;
}

const COLUMN = /^[a-z][a-z0-9_]{0,99}$/i;
const ev = Standard.environmentVariable;

let cached: Promise<FormSettings> | null = null;
let loaded: FormSettings | null = null;

async function read(): Promise<FormSettings> {
  const wanted = [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField];
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
  const invalid: FormSettings["invalid"] = [];
  const column = (key: FormSettings["invalid"][number], variable: { schemaName: string; defaultValue: string }): string => {
    const value = valueOf(variable.schemaName, variable.defaultValue);
    if (COLUMN.test(value)) return value.toLowerCase();
    invalid.push(key);
    return variable.defaultValue;
  };
  return {
    relayUrl: valueOf(EnvironmentVariables.relayUrl.schemaName, ""),
    countryField: column("countryField", EnvironmentVariables.customerAccountCountryCodeField),
    dealValueField: column("dealValueField", EnvironmentVariables.dealValueField),
    invalid,
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

// The solution's environment variables as typed settings (dataverse.md §4.4): all of them in ONE
// request (the definitions filtered by the generated schema names, with their value rows expanded),
// effective value = current value, else default, parsed by the definition's type. Cached for a TTL
// (default 60 s), so an admin's change in the maker portal reaches the relay within a minute.
import { EnvironmentVariables, type EnvironmentVariableKey } from "../../../Core/generated/schema.ts";
import type { DataverseClient } from "../clients/dataverse.ts";
import { retrieveMultipleRequest } from "../clients/dataverse-retrieve.ts";
import { anyOf } from "../clients/dataverse-query.ts";
import type { DataverseRequest } from "../clients/dataverse-request.ts";

// Standard Dataverse names of the environment variable tables (not part of our solution).
export const ENVIRONMENT_VARIABLE_TABLES = {
  definitions: "environmentvariabledefinitions",
  values: "environmentvariablevalues",
  schemaName: "schemaname",
  defaultValue: "defaultvalue",
  type: "type",
  displayName: "displayname",
  definitionId: "environmentvariabledefinitionid",
  valueRelationship: "environmentvariabledefinition_environmentvariablevalue",
  value: "value",
  /** Navigation property of environmentvariablevalue → its definition, for @odata.bind. */
  valueDefinitionNavigation: "EnvironmentVariableDefinitionId",
} as const;

/** `environmentvariabledefinition.type` option values. */
export const EnvironmentVariableType = {
  String: 100000000,
  Number: 100000001,
  Boolean: 100000002,
  JSON: 100000003,
  DataSource: 100000004,
  Secret: 100000005,
} as const;

type Definitions = typeof EnvironmentVariables;
type ValueOfType<T> = T extends "Boolean" ? boolean : T extends "Number" ? number : T extends "JSON" ? unknown : string;

/** The settings: one typed value per variable; a variable with no default may be undefined. */
export type EnvironmentSettings = {
  readonly [K in EnvironmentVariableKey]: Definitions[K] extends { defaultValue: string }
    ? ValueOfType<Definitions[K]["type"]>
    : ValueOfType<Definitions[K]["type"]> | undefined;
};

/** A variable's value cannot be used; says which one and why. */
export class EnvironmentVariableError extends Error {
  override readonly name = "EnvironmentVariableError";
  readonly schemaName: string;
  readonly whatToDo: string;

  constructor(schemaName: string, message: string, whatToDo: string) {
    super(message);
    this.schemaName = schemaName;
    this.whatToDo = whatToDo;
  }
}

interface DefinitionRow {
  schemaname?: string;
  defaultvalue?: string | null;
  type?: number;
  displayname?: string | null;
  environmentvariabledefinition_environmentvariablevalue?: Array<{ value?: string | null }>;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EnvironmentVariableType).map(([name, value]) => [value, name]));

/** One value parsed by its definition's type; a value that does not fit throws an EnvironmentVariableError. */
export function parseEnvironmentVariableValue(raw: string, typeCode: number, variable: { schemaName: string; displayName?: string }, source: "current" | "default" = "current"): unknown {
  const label = variable.displayName ? `"${variable.displayName}" (${variable.schemaName})` : variable.schemaName;
  const where = source === "current" ? "Change its current value in the maker portal (Solutions → Default Solution → Environment variables)." : "Set a current value in the maker portal.";
  const fail = (message: string): EnvironmentVariableError => new EnvironmentVariableError(variable.schemaName, `Environment variable ${label} ${message}`, where);
  switch (typeCode) {
    case EnvironmentVariableType.Boolean: {
      const text = raw.trim().toLowerCase();
      if (text === "yes" || text === "true") return true;
      if (text === "no" || text === "false") return false;
      throw fail(`is ${JSON.stringify(raw)}, which is not yes, no, true or false.`);
    }
    case EnvironmentVariableType.Number: {
      const number = Number(raw.trim());
      if (raw.trim() === "" || !Number.isFinite(number)) throw fail(`is ${JSON.stringify(raw)}, which is not a number.`);
      return number;
    }
    case EnvironmentVariableType.JSON:
      try {
        return JSON.parse(raw) as unknown;
      } catch (error) {
        throw fail(`is not valid JSON: ${(error as Error).message}.`);
      }
    default:
      return raw;
  }
}

const SCHEMA_TYPE_CODES: Record<string, number> = { String: EnvironmentVariableType.String, Number: EnvironmentVariableType.Number, Boolean: EnvironmentVariableType.Boolean, JSON: EnvironmentVariableType.JSON };
const KEYS = Object.keys(EnvironmentVariables) as EnvironmentVariableKey[];

/** The settings from the definition rows (pure: the one request's answer in, typed values out). */
export function settingsFromDefinitions(rows: readonly DefinitionRow[]): EnvironmentSettings {
  const bySchemaName = new Map(rows.map((row) => [String(row.schemaname ?? "").toLowerCase(), row]));
  const settings: Record<string, unknown> = {};
  for (const key of KEYS) {
    const definition = EnvironmentVariables[key];
    const row = bySchemaName.get(definition.schemaName.toLowerCase());
    const expected = SCHEMA_TYPE_CODES[definition.type] ?? EnvironmentVariableType.String;
    const typeCode = typeof row?.type === "number" ? row.type : expected;
    if (typeCode !== expected) {
      throw new EnvironmentVariableError(definition.schemaName,
        `Environment variable ${definition.schemaName} is of type ${TYPE_NAMES[typeCode] ?? typeCode} in this environment; the relay expects ${definition.type}.`,
        "Import the Partner Center Referrals solution version that matches the relay.");
    }
    const current = row?.environmentvariabledefinition_environmentvariablevalue?.[0]?.value;
    // A definition missing from the environment (an older solution), or one without a default there,
    // falls back to the generated default, so a variable typed as always set always is.
    const fallback = "defaultValue" in definition ? (definition.defaultValue as string) : undefined;
    const defaultValue = typeof row?.defaultvalue === "string" && row.defaultvalue.trim() !== "" ? row.defaultvalue : fallback;
    const variable = { schemaName: definition.schemaName, displayName: definition.displayName["1033"] };
    const raw = typeof current === "string" && current.trim() !== "" ? { text: current, source: "current" as const }
      : typeof defaultValue === "string" && defaultValue.trim() !== "" ? { text: defaultValue, source: "default" as const } : undefined;
    if (!raw) settings[key] = undefined;
    else if (typeCode === EnvironmentVariableType.JSON) {
      // A JSON variable that does not parse stays as its error: the one that uses it decides (the field
      // mapping reports it and keeps its last good configuration); the other settings still work.
      try {
        settings[key] = parseEnvironmentVariableValue(raw.text, typeCode, variable, raw.source);
      } catch (error) {
        if (!(error instanceof EnvironmentVariableError)) throw error;
        settings[key] = error;
      }
    } else settings[key] = parseEnvironmentVariableValue(raw.text, typeCode, variable, raw.source);
  }
  return settings as EnvironmentSettings;
}

/** The one GET: definitions of our variables with their value rows. Usable alone or inside a $batch. */
export function environmentVariablesRequest(): DataverseRequest<EnvironmentSettings> {
  const t = ENVIRONMENT_VARIABLE_TABLES;
  const page = retrieveMultipleRequest<DefinitionRow & Record<string, unknown>>(t.definitions, {
    select: [t.schemaName, t.defaultValue, t.type, t.displayName],
    filter: anyOf(t.schemaName, KEYS.map((key) => EnvironmentVariables[key].schemaName)),
    expand: [{ property: t.valueRelationship, select: [t.value] }],
    formattedValues: false,
  });
  return { ...page, read: (response) => settingsFromDefinitions(page.read(response).value) };
}

export interface EnvironmentVariableReaderOptions {
  client: Pick<DataverseClient, "send">;
  /** How long a read is reused (default 60 s). */
  ttlMs?: number;
  now?: () => number;
}

export class EnvironmentVariableReader {
  readonly ttlMs: number;
  readonly #client: Pick<DataverseClient, "send">;
  readonly #now: () => number;
  #cached: { settings: EnvironmentSettings; at: number } | undefined;
  #pending: Promise<EnvironmentSettings> | undefined;
  #lastError: unknown;

  constructor(options: EnvironmentVariableReaderOptions) {
    this.#client = options.client;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The settings, read again once the TTL has passed. Concurrent callers share one request. When a
   * refresh fails for a transient reason (network, throttling) the last good settings are served.
   */
  async get(): Promise<EnvironmentSettings> {
    const cached = this.#cached;
    if (cached && this.#now() - cached.at < this.ttlMs) return cached.settings;
    try {
      return await this.refresh();
    } catch (error) {
      if (cached && !(error instanceof EnvironmentVariableError)) return cached.settings;
      throw error;
    }
  }

  /** Why the last refresh failed (undefined after a good one): for health checks and logs. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Reads the variables now (one request), whatever the cache holds. */
  refresh(): Promise<EnvironmentSettings> {
    this.#pending ??= this.#client.send(environmentVariablesRequest())
      .then((settings) => this.remember(settings), (error: unknown) => {
        this.#lastError = error;
        throw error;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  /** Takes settings read elsewhere (the worker's $batch) into the cache. */
  remember(settings: EnvironmentSettings): EnvironmentSettings {
    this.#cached = { settings, at: this.#now() };
    this.#lastError = undefined;
    return settings;
  }
}

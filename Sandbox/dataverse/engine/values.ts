// Column values: how a JSON value from a request becomes a stored value, and how a stored value is
// shown (Web API JSON, formatted values). Stored values are plain: strings, numbers, booleans,
// `{ id, logicalName }` for lookups, ISO strings for dates, null for none.
import type { ColumnDef, TableDef } from "./metadata.ts";
import { DataverseError, ErrorCodes, odataError } from "./errors.ts";

export interface EntityRef {
  id: string;
  logicalName: string;
}
export type Value = string | number | boolean | null | EntityRef;
export type Row = Record<string, Value>;

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRef(value: Value | undefined): value is EntityRef {
  return typeof value === "object" && value !== null;
}

const EDM: Partial<Record<ColumnDef["type"], string>> = {
  String: "Edm.String", Memo: "Edm.String", Integer: "Edm.Int32", BigInt: "Edm.Int64", Decimal: "Edm.Decimal", Double: "Edm.Double",
  Money: "Edm.Decimal", Boolean: "Edm.Boolean", DateTime: "Edm.DateTimeOffset", Picklist: "Edm.Int32", State: "Edm.Int32", Status: "Edm.Int32",
  Uniqueidentifier: "Edm.Guid", EntityName: "Edm.String", MultiSelectPicklist: "Edm.String",
};

function cannotConvert(value: unknown, column: ColumnDef): DataverseError {
  const edm = EDM[column.type] ?? "Edm.String";
  return odataError(`Cannot convert the literal '${typeof value === "string" ? value : JSON.stringify(value)}' to the expected type '${edm}'.`);
}

/** Normalises an ISO date-time to Dataverse's form: UTC, whole seconds, `Z`. */
export function normaliseDateTime(text: string): string | undefined {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A request body value for `column`, checked the way Dataverse checks it. */
export function coerceInput(table: TableDef, column: ColumnDef, raw: unknown): Value {
  if (raw === null) return null;
  switch (column.type) {
    case "String":
    case "Memo":
    case "EntityName":
    case "MultiSelectPicklist": {
      if (typeof raw !== "string") throw cannotConvert(raw, column);
      if (column.maxLength !== undefined && raw.length > column.maxLength && column.type !== "EntityName") {
        throw new DataverseError(400, ErrorCodes.ValidationError,
          `A validation error occurred. The length of the '${column.logicalName}' attribute of the '${table.logicalName}' entity exceeded the maximum allowed length of '${column.maxLength}'.`);
      }
      return raw;
    }
    case "Integer":
    case "BigInt":
      if (typeof raw !== "number" || !Number.isInteger(raw)) throw cannotConvert(raw, column);
      if (column.type === "Integer" && (raw > 2147483647 || raw < -2147483648)) throw cannotConvert(raw, column);
      return raw;
    case "Decimal":
    case "Double":
    case "Money":
      if (typeof raw !== "number" || !Number.isFinite(raw)) throw cannotConvert(raw, column);
      return raw;
    case "Boolean":
      if (typeof raw !== "boolean") throw cannotConvert(raw, column);
      return raw;
    case "DateTime": {
      if (typeof raw !== "string") throw cannotConvert(raw, column);
      const normalised = normaliseDateTime(raw);
      if (!normalised) throw cannotConvert(raw, column);
      return column.format === "DateOnly" ? normalised.slice(0, 10) : normalised;
    }
    case "Uniqueidentifier":
      if (typeof raw !== "string" || !GUID.test(raw)) throw cannotConvert(raw, column);
      return raw.toLowerCase();
    case "Picklist":
    case "State":
    case "Status": {
      if (typeof raw !== "number" || !Number.isInteger(raw)) throw cannotConvert(raw, column);
      if (column.options && !column.options.some((o) => o.value === raw)) {
        throw new DataverseError(400, ErrorCodes.ValidationError,
          `A validation error occurred. The value ${raw} of '${column.logicalName}' on record of type '${table.logicalName}' is outside the valid range. Accepted Values: ${column.options.map((o) => o.value).join(",")}`);
      }
      return raw;
    }
    case "Lookup":
    case "Owner":
    case "Customer":
      throw odataError("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.");
  }
}

/** Whole-number, money and date formatting as an en-US user sees it (OData.Community.Display.V1.FormattedValue). */
export function formattedValue(column: ColumnDef, value: Value, context: { currencySymbol?: string; lookupName?: string | null }): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (column.type) {
    case "Picklist":
    case "State":
    case "Status":
      return column.options?.find((o) => o.value === value)?.label;
    case "Boolean":
      return column.options?.find((o) => o.value === (value ? 1 : 0))?.label ?? (value ? "Yes" : "No");
    case "Money":
      return `${context.currencySymbol ?? "$"}${(value as number).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    case "Integer":
    case "BigInt":
    case "Decimal":
    case "Double":
      return (value as number).toLocaleString("en-US", { maximumFractionDigits: 10 });
    case "DateTime": {
      const d = new Date(column.format === "DateOnly" ? `${String(value).slice(0, 10)}T00:00:00Z` : String(value));
      const datePart = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
      if (column.format === "DateOnly") return datePart;
      const h = d.getUTCHours();
      return `${datePart} ${h % 12 === 0 ? 12 : h % 12}:${String(d.getUTCMinutes()).padStart(2, "0")} ${h < 12 ? "AM" : "PM"}`;
    }
    case "Lookup":
    case "Owner":
    case "Customer":
      return context.lookupName ?? undefined;
    case "MultiSelectPicklist":
      return String(value).split(",").map((v) => column.options?.find((o) => o.value === Number(v))?.label ?? v).join("; ");
    default:
      return undefined;
  }
}

/** `_x_value` is how the Web API names the value of lookup column x. */
export function lookupValueName(column: string): string {
  return `_${column}_value`;
}

export function isLookupType(type: ColumnDef["type"]): boolean {
  return type === "Lookup" || type === "Owner" || type === "Customer";
}

// The admin's refinement of the field mapping: the content of the "Partner Center field mapping"
// environment variable (JSON), as a zod schema. docs/field-mapping.schema.json is generated from it
// (z.toJSONSchema) and docs/customizing.md explains each part. Empty = the standard mapping, where the
// seed's variables (Deal value field, Customer Account Country Code field) still name the columns; a
// column named here wins over them. Pure: no I/O. The relay checks the named columns against
// Dataverse metadata before it uses a configuration (Relay/src/settings/field-mapping.ts).
import { z } from "zod";

/** A column's logical name, as Dataverse writes it (lower case, publisher prefix and underscore allowed). */
export const COLUMN_NAME = /^[a-z][a-z0-9_]{0,99}$/;
const column = z.string().regex(COLUMN_NAME, "must be a column's logical name (lower case letters, digits and _), not its display name");

/** Where a default for a created record's column comes from: a constant, or a value of the referral. */
export const REFERRAL_SOURCES = [
  "/name", "/id", "/details/notes", "/details/dealValue", "/details/currency", "/details/closingDateTime",
  "/customerProfile/name", "/customerProfile/address/country", "/customerProfile/address/city", "/customerProfile/address/postalCode",
  "/inviteContext/notes",
] as const;
export type ReferralSource = (typeof REFERRAL_SOURCES)[number];

const defaultValue = z.union([
  z.string().describe("A constant text (for a text or date column)."),
  z.number().describe("A constant number (a whole column, money, decimal, or a choice's value)."),
  z.boolean().describe("A constant Yes/No."),
  z.object({ fromReferral: z.enum(REFERRAL_SOURCES).describe("JSON Pointer into the referral, e.g. /customerProfile/name.") }).strict(),
]);

const defaults = z.record(column, defaultValue)
  .describe("Column logical name → value set when the relay creates the row (only columns the relay does not set itself).");

const country = z.union([
  z.object({ column: column.describe("Text column on account holding the ISO 3166 two-letter code.") }).strict(),
  z.object({
    lookup: column.describe("Lookup column on account to the organisation's country table."),
    isoCodeColumn: column.describe("Text column of that country table holding the ISO 3166 two-letter code."),
  }).strict(),
 ], { error: 'must be {"column": …} or {"lookup": …, "isoCodeColumn": …}' }).describe("Where the customer's country is: a text column on account, or a lookup to a table whose column holds the ISO code.");

const match = z.discriminatedUnion("by", [
  z.object({ by: z.literal("nameAndPostalCode") }).strict().describe("Company name and postal code (the standard)."),
  z.object({
    by: z.literal("customerNumber"),
    column: column.describe("Account column holding the customer's own number or D-U-N-S."),
    idType: z.enum(["External", "Duns"]).default("External").describe("Which of the referral's customerProfile.ids to compare."),
  }).strict().describe("The account whose column equals the referral's customer id; then company name and postal code; then create."),
]);

export const FieldMappingConfigSchema = z.object({
  $schema: z.string().optional(),
  opportunity: z.object({
    dealValue: column.optional().describe("Opportunity column holding the deal value (money, decimal, whole number or float), both ways. Wins over \"Deal value field\"."),
    defaults: defaults.optional(),
  }).strict().optional(),
  lead: z.object({ defaults: defaults.optional() }).strict().optional(),
  account: z.object({
    country: country.optional(),
    match: match.optional(),
    defaults: defaults.optional(),
  }).strict().optional(),
  contact: z.object({ defaults: defaults.optional() }).strict().optional(),
}).strict().describe("Partner Center field mapping (pcr_FieldMapping): refines the standard mapping of docs/field-mapping.md.");

export type FieldMappingConfig = z.output<typeof FieldMappingConfigSchema>;
export type DefaultValue = z.output<typeof defaultValue>;
export type MappedTable = "opportunity" | "lead" | "account" | "contact";

/** The JSON Schema published as docs/field-mapping.schema.json. */
export function fieldMappingJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(FieldMappingConfigSchema, { io: "input" }),
    title: "Partner Center field mapping",
  };
}

/**
 * The variable's value as a configuration, or the problems with it in words (each with its JSON path).
 * Undefined, null, "" and {} are the standard mapping.
 */
export function parseFieldMappingConfig(value: unknown): { ok: true; config: FieldMappingConfig } | { ok: false; problems: string[] } {
  if (value === undefined || value === null || value === "") return { ok: true, config: {} };
  const parsed = FieldMappingConfigSchema.safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "(the whole value)"}: ${issue.message}`),
  };
}

/** A referral value for a default taken from the referral (undefined when the referral has none). */
export function referralValue(referral: unknown, source: ReferralSource): unknown {
  let node: unknown = referral;
  for (const part of source.split("/").slice(1)) {
    if (!node || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node ?? undefined;
}

/** The default values for one table's created row, constants and referral values resolved. */
export function defaultsFor(config: FieldMappingConfig, table: MappedTable, referral: unknown): Record<string, unknown> {
  const values = config[table]?.defaults ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const resolved = value !== null && typeof value === "object" ? referralValue(referral, value.fromReferral) : value;
    if (resolved !== undefined) out[name] = resolved;
  }
  return out;
}

// The admin's refinement of the field mapping: the content of the "Partner Center field mapping"
// environment variable (JSON), as a zod schema. docs/field-mapping.schema.json is generated from it
// (z.toJSONSchema) and docs/customizing.md explains each part. Empty = the standard mapping, where the
// seed's variables (Deal value field, Customer Account Country Code field) still name the columns; a
// column named here wins over them. Pure: no I/O. The relay checks the named columns against
// Dataverse metadata before it uses a configuration (Relay/src/settings/field-mapping.ts).
import { z } from "zod";

// The column rule and its message live in the zod-free reader the card and form bundle (one rule for both).
import { COLUMN_MESSAGE, COLUMN_NAME, COUNTRY_MESSAGE } from "./checklist-mapping.ts";

export { COLUMN_NAME };
const column = z.string().regex(COLUMN_NAME, COLUMN_MESSAGE);

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
 ], { error: COUNTRY_MESSAGE }).describe("Where the customer's country is: a text column on account, or a lookup to a table whose column holds the ISO code.");

const match = z.discriminatedUnion("by", [
  z.object({ by: z.literal("nameAndPostalCode") }).strict().describe("Company name and postal code (the standard)."),
  z.object({
    by: z.literal("customerNumber"),
    column: column.describe("Account column holding the customer's own number or D-U-N-S."),
    idType: z.enum(["External", "Duns"]).default("External").describe("Which of the referral's customerProfile.ids to compare."),
  }).strict().describe("The account whose column equals the referral's customer id; then company name and postal code; then create."),
]);

const statusReason = z.number().int().describe("A status reason (statuscode) value of the table, e.g. 100000001 for one your organisation added.");

/** A Dynamics 365 user or team, by id or by name; the relay checks it exists (and a user is enabled). */
const principal = z.union([
  z.object({ team: z.string().trim().min(1).describe("The team's id (teamid) or its name.") }).strict(),
  z.object({ user: z.string().trim().min(1).describe("The user's id (systemuserid), sign-in name (domainname) or primary e-mail (internalemailaddress).") }).strict(),
], { error: 'must be {"team": …} or {"user": …}' });

const owner = z.union([
  principal,
  z.object({
    matchPartnerCenterTeamMember: z.literal(true).describe("The enabled Dynamics 365 user whose primary e-mail is a Partner Center team member's of the referral (team[], in order)."),
    fallback: principal.optional().describe("Who owns the record when no team member is a Dynamics 365 user (else the relay's application user)."),
  }).strict(),
], { error: 'must be {"team": …}, {"user": …} or {"matchPartnerCenterTeamMember": true, "fallback": …}' })
  .describe("Owner of the rows the relay creates from a referral (lead or opportunity, and the account and contact it creates). Unset: the relay's application user.");

export const REFERRAL_TYPES = ["Independent", "Shared"] as const;
export const QUALIFICATIONS = ["None", "Direct", "SalesQualified", "MarketingQualified"] as const;
const createAs = z.enum(["lead", "opportunity", "none"]);

const inbound = z.object({
  createAs: createAs.optional().describe("What an accepted referral becomes: \"opportunity\" (the standard), \"lead\" (to qualify first) or \"none\" (not brought in). A referral still waiting for an answer is always a lead (qualify it to accept, disqualify it to decline)."),
  rules: z.array(z.object({
    type: z.enum(REFERRAL_TYPES).optional().describe("The referral's type: Shared (co-sell with Microsoft) or Independent."),
    qualification: z.enum(QUALIFICATIONS).optional().describe("The referral's qualification (MarketingQualified, SalesQualified, Direct = marketplace, None)."),
    createAs: createAs.describe("What a referral matching this rule becomes; \"opportunity\" applies once it is accepted (waiting for an answer it is a lead)."),
  }).strict()).optional().describe("Rules by the referral's type and qualification; the first that matches decides, else createAs."),
}).strict().describe("Which incoming referrals become leads, opportunities or nothing.");

export const FieldMappingConfigSchema = z.object({
  $schema: z.string().optional(),
  owner: owner.optional(),
  inbound: inbound.optional(),
  opportunity: z.object({
    dealValue: column.optional().describe("Opportunity column holding the deal value (money, decimal, whole number or float), both ways. Wins over \"Deal value field\"."),
    name: column.optional().describe("Opportunity text column holding the referral's name, both ways (standard: name, the Topic)."),
    notes: column.optional().describe("Opportunity text or multiline column holding the referral's notes, both ways (standard: description)."),
    closeDate: column.optional().describe("Opportunity date column holding the closing date, both ways (standard: estimatedclosedate)."),
    currency: column.optional().describe("Opportunity column for the deal's currency, both ways: a lookup to transactioncurrency, or a text column holding the ISO 4217 code (standard: transactioncurrencyid). The money columns keep the opportunity's own currency."),
    customerContact: column.optional().describe("Opportunity lookup column to contact holding the customer's contact: read for the share, set on opportunities created from referrals (standard: parentcontactid)."),
    defaults: defaults.optional(),
    statuses: z.object({
      won: statusReason.optional().describe("Status reason when Partner Center closes the referral as Won (a Won status reason; standard 3, Won)."),
      lost: statusReason.optional().describe("Status reason when Partner Center closes the referral as Lost (a Lost status reason; standard 4, Canceled)."),
    }).strict().optional().describe("The status reasons the relay closes an opportunity with on Partner Center's behalf."),
  }).strict().optional(),
  lead: z.object({
    defaults: defaults.optional(),
    statuses: z.object({
      declined: statusReason.optional().describe("Disqualified status reason when the referral was declined in Partner Center (standard 6, No Longer Interested)."),
      lost: statusReason.optional().describe("Disqualified status reason when the referral was closed as Lost (standard 4, Lost)."),
      expired: statusReason.optional().describe("Disqualified status reason when the referral expired or closed otherwise (standard 7, Canceled)."),
    }).strict().optional().describe("The status reasons the relay disqualifies a lead with on Partner Center's behalf."),
  }).strict().optional(),
  account: z.object({
    country: country.optional(),
    address: z.object({
      line1: column.optional().describe("Text column for the street (standard: address1_line1)."),
      city: column.optional().describe("Text column for the city (standard: address1_city)."),
      state: column.optional().describe("Text column for the state or province (standard: not synced)."),
      postalCode: column.optional().describe("Text column for the postal code, also used to find the account (standard: address1_postalcode)."),
    }).strict().optional().describe("Account text columns for the rest of the customer's address: read for the share, written when an account is created from a referral."),
    match: match.optional(),
    defaults: defaults.optional(),
  }).strict().optional(),
  contact: z.object({ defaults: defaults.optional() }).strict().optional(),
}).strict().describe("Partner Center field mapping (pcr_FieldMapping): refines the standard mapping of docs/field-mapping.md.");

export type FieldMappingConfig = z.output<typeof FieldMappingConfigSchema>;
export type DefaultValue = z.output<typeof defaultValue>;
export type MappedTable = "opportunity" | "lead" | "account" | "contact";
export type OwnerConfig = z.output<typeof owner>;
export type PrincipalConfig = z.output<typeof principal>;
export type CreateAs = z.output<typeof createAs>;

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

/**
 * What a referral nobody has seen becomes under the admin's routing: the first rule matching its type and
 * qualification, else `createAs`, else undefined (the standard: an opportunity once accepted).
 */
export function routeFor(config: FieldMappingConfig, referral: { type?: string; qualification?: string | undefined }): CreateAs | undefined {
  const rules = config.inbound?.rules ?? [];
  const rule = rules.find((r) => (r.type === undefined || r.type === referral.type) && (r.qualification === undefined || r.qualification === referral.qualification));
  return rule?.createAs ?? config.inbound?.createAs;
}

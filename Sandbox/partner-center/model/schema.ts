// The Referral resource model as data: every member, its type and its enum values (docs §5-§6).
// One walker uses it to read input the way the service does: member names matched case-insensitively
// (the docs themselves mix `ConsentToContact` and `consentToShareReferralWithMicrosoftSellers`), unknown
// members dropped, strings coerced to numbers/booleans where the model says so (the PATCH doc sends
// `"value": "10000"` for dealValue), enum names matched case-insensitively and written back in their
// documented case. Output is always the canonical camelCase.
import { invalid } from "./errors.ts";

export type Field =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "boolean" }
  | { kind: "date" }
  | { kind: "any" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "object"; shape: Record<string, Field> }
  | { kind: "array"; of: Field };

const str: Field = { kind: "string" };
const num: Field = { kind: "number" };
const bool: Field = { kind: "boolean" };
const date: Field = { kind: "date" };
const any: Field = { kind: "any" };
const oneOf = (...values: string[]): Field => ({ kind: "enum", values });
const obj = (shape: Record<string, Field>): Field => ({ kind: "object", shape });
const arr = (of: Field): Field => ({ kind: "array", of });

export const STATUS = ["None", "New", "Active", "Closed"] as const;
export const SUBSTATUS = ["None", "Pending", "Received", "Accepted", "Won", "Lost", "Declined", "Expired"] as const;
export type ReferralStatus = (typeof STATUS)[number];
export type ReferralSubstatus = (typeof SUBSTATUS)[number];
export const ASSISTANCE_REQUEST_CODES = [
  "Unknown",
  "GeneralOrOther",
  "CustomerTechnicalArchitecture",
  "ProofOfConceptOrDemo",
  "QuotesOrLicensing",
  "PostSalesCustomerSuccess",
  "WorkloadSpecificValueProposition",
] as const;

const member = obj({
  firstName: str,
  lastName: str,
  phoneNumber: str,
  email: str,
  title: str,
  contactPreference: obj({ locale: str, disableNotifications: bool }),
  emailValidationStatus: str,
  phoneValidationStatus: str,
});

const address = obj({ addressLine1: str, addressLine2: str, city: str, state: str, postalCode: str, country: str, region: str });
const tag = obj({ id: str });
const solution = obj({
  id: str,
  name: str,
  type: oneOf("None", "Category", "Name"),
  price: num,
  quantity: num,
  currency: str,
  publisherName: str,
  solutionType: str,
  closingDateTime: date,
});
const registration = obj({
  id: str,
  type: str,
  registrationDateTime: date,
  status: str,
  statusReason: str,
  contract: obj({ value: num, currency: str, startDateTime: date, endDateTime: date, signDateTime: date, term: oneOf("Finite", "Perpetual") }),
  solutionDetails: arr(
    obj({
      id: str,
      name: str,
      value: num,
      currency: str,
      isDeployedOnAzure: bool,
      primaryDeploymentOn: oneOf("Customer", "Partner"),
      pricingModel: oneOf("PayAsYouGo", "Other"),
      marketplaceTransactionDetails: obj({ isMarketplaceTransacted: bool, marketplaceTransactionDateTime: date }),
    }),
  ),
  statusHistory: obj({ reviewPendingDateTime: date, actionRequiredDateTime: date, passedDateTime: date, failedDateTime: date, approvedDateTime: date }),
});
const link = obj({ uri: str, method: str });

export const REFERRAL: Field = obj({
  id: str,
  engagementId: str,
  name: str,
  organizationId: str,
  organizationName: str,
  mpnId: str,
  externalReferenceId: str,
  createdDateTime: date,
  updatedDateTime: date,
  expirationDateTime: date,
  acceptedDateTime: date,
  closedDateTime: date,
  status: oneOf(...STATUS),
  substatus: oneOf(...SUBSTATUS),
  statusReason: str,
  type: oneOf("Independent", "Shared"),
  qualification: oneOf("None", "Direct", "MarketingQualified", "SalesQualified"),
  direction: oneOf("Incoming", "Outgoing"),
  referralSource: str,
  callToAction: str,
  customerProfile: obj({
    name: str,
    address,
    size: str,
    team: arr(member),
    ids: arr(obj({ profileType: oneOf("Duns", "External"), id: str })),
    isMatchingComplete: bool,
  }),
  consent: obj({
    consentToToShareInfoWithOthers: bool,
    consentToContact: bool,
    consentToShareReferralWithMicrosoftSellers: bool,
    consentToMicrosoftToContactSpecificPartners: bool,
  }),
  details: obj({
    notes: str,
    dealValue: num,
    currency: str,
    closingDateTime: date,
    requirements: obj({
      industries: arr(tag),
      products: arr(tag),
      services: arr(tag),
      solutions: arr(solution),
      offers: arr(any),
      salesPlays: arr(any),
      additionalRequirements: obj({
        iot: obj({ customerLicenseAgreementNumber: str, deviceCategory: str, siliconType: str, azureCertifiedDevice: bool, attachServices: bool }),
        attributes: arr(obj({ type: str, id: str })),
      }),
    }),
    customerRequestedContact: bool,
    customerAction: str,
    incentiveLevel: str,
  }),
  customerMarketplaceIntent: str,
  team: arr(member),
  inviteContext: obj({
    notes: str,
    assistanceRequestCode: oneOf(...ASSISTANCE_REQUEST_CODES),
    invitedBy: obj({ organizationId: str, organizationName: str }),
    invitedMpnId: str,
  }),
  target: arr(obj({ type: oneOf("None", "BusinessProfileLocation", "SolutionProfile"), id: str })),
  eTag: str,
  links: obj({ relatedReferrals: link, self: link }),
  trackingInfo: obj({
    microsoftMsxId: str,
    microsoftUSFedOpportunityId: str,
    microsoftUSFedLeadId: str,
    migratedPSCDealId: str,
    migratedPSCPartnerDealId: str,
  }),
  registrations: arr(registration),
  registrationStatus: str,
  salesStage: str,
  campaignId: str,
  referralProgram: str,
  favorite: bool,
  quality: str,
  isSpam: bool,
  tags: arr(str),
  lastModifiedVia: str,
  lastRunId: str,
  dealSensitivity: str,
  createdVia: str,
});

/** Members the service sets; create and PUT ignore them in input, PATCH refuses them. */
export const READ_ONLY = new Set([
  "/id",
  "/engagementId",
  "/organizationId",
  "/organizationName",
  "/mpnId",
  "/createdDateTime",
  "/updatedDateTime",
  "/expirationDateTime",
  "/acceptedDateTime",
  "/closedDateTime",
  "/direction",
  "/eTag",
  "/links",
  "/trackingInfo",
  "/registrationStatus",
  "/quality",
  "/isSpam",
  "/lastModifiedVia",
  "/lastRunId",
  "/createdVia",
  "/dealSensitivity",
  "/inviteContext/invitedBy",
  "/inviteContext/invitedMpnId",
  "/customerProfile/isMatchingComplete",
]);

export function isReadOnly(pointer: string): boolean {
  for (const ro of READ_ONLY) if (pointer === ro || pointer.startsWith(`${ro}/`)) return true;
  return false;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function findMember(shape: Record<string, Field>, key: string): string | undefined {
  if (key in shape) return key;
  const lower = key.toLowerCase();
  return Object.keys(shape).find((name) => name.toLowerCase() === lower);
}

/** Reads `value` as `field`: canonical member names and enum case, coerced scalars. Throws 400 on a type mismatch. */
export function canonicalize(value: unknown, field: Field, path = ""): Json {
  if (value === null || value === undefined) return null;
  const where = path || "/";
  switch (field.kind) {
    case "any":
      return structuredClone(value) as Json;
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      throw invalid(`${where} must be a string`, where);
    case "number": {
      if (typeof value === "number" && Number.isFinite(value)) return value;
      if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
      throw invalid(`${where} must be a number`, where);
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
      throw invalid(`${where} must be a boolean`, where);
    case "date":
      if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return value;
      throw invalid(`${where} must be an ISO 8601 date-time`, where);
    case "enum": {
      if (typeof value === "string") {
        const match = field.values.find((v) => v.toLowerCase() === value.toLowerCase());
        if (match) return match;
      }
      throw invalid(`${where} must be one of ${field.values.join(", ")}`, where);
    }
    case "array":
      if (!Array.isArray(value)) throw invalid(`${where} must be an array`, where);
      return value.map((item, index) => canonicalize(item, field.of, `${path}/${index}`));
    case "object": {
      if (!isPlainObject(value)) throw invalid(`${where} must be an object`, where);
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        const name = findMember(field.shape, key);
        if (name === undefined) continue; // unknown members are ignored, as ASP.NET model binding does
        out[name] = canonicalize(item, field.shape[name]!, `${path}/${name}`);
      }
      return out;
    }
  }
}

export interface ResolvedPointer {
  /** The pointer with canonical member names (`/Details/DealValue` → `/details/dealValue`). */
  pointer: string;
  segments: string[];
  /** The type at the pointer (`/team/-` → a team member). */
  field: Field;
}

const unescape = (segment: string) => segment.replace(/~1/g, "/").replace(/~0/g, "~");
const escape = (segment: string) => segment.replace(/~/g, "~0").replace(/\//g, "~1");

/** Resolves a JSON Pointer against the model; throws 400 when it names no member. */
export function resolvePointer(pointer: string, root: Field = REFERRAL): ResolvedPointer {
  if (!pointer.startsWith("/")) throw invalid(`path '${pointer}' must be a JSON Pointer starting with '/'`, pointer);
  const raw = pointer.slice(1).split("/").map(unescape);
  let field = root;
  const segments: string[] = [];
  for (const segment of raw) {
    if (field.kind === "object") {
      const name = findMember(field.shape, segment);
      if (name === undefined) throw invalid(`path '${pointer}' is not a member of the referral`, pointer);
      segments.push(name);
      field = field.shape[name]!;
    } else if (field.kind === "array") {
      if (segment !== "-" && !/^(0|[1-9]\d*)$/.test(segment)) throw invalid(`path '${pointer}': '${segment}' is not an array index`, pointer);
      segments.push(segment);
      field = field.of;
    } else if (field.kind === "any") {
      segments.push(segment);
    } else {
      throw invalid(`path '${pointer}' goes below a scalar member`, pointer);
    }
  }
  return { pointer: `/${segments.map(escape).join("/")}`, segments, field };
}

/** The top-level member names, for `$select`. */
export function topLevelMembers(): string[] {
  return REFERRAL.kind === "object" ? Object.keys(REFERRAL.shape) : [];
}

export function fieldAt(segments: string[], root: Field = REFERRAL): Field | undefined {
  let field: Field | undefined = root;
  for (const segment of segments) {
    if (!field) return undefined;
    if (field.kind === "object") field = field.shape[segment];
    else if (field.kind === "array") field = field.of;
    else if (field.kind === "any") return field;
    else return undefined;
  }
  return field;
}

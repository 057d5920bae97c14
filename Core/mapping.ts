// The field mapping between a Dynamics 365 deal and a Partner Center referral, kept as a readable
// specification (FIELDS below, documented in docs/field-mapping.md), plus the pure functions the relay
// runs on it: both sides reduced to the same flat "synced fields", a three-way merge against the last
// synced snapshot that decides what goes where, and the JSON Patch or create body for Partner Center.
// Pure: no I/O.
import type { AssistanceRequestCode, Referral, Member, SolutionTag } from "./referral.ts";
import { toCountryCode, toCurrencyCode } from "./iso.ts";

/** Who owns a field when both sides changed it since the last sync (shared/docs/architecture.md). */
export type Owner = "partner" | "microsoft";
/** outbound: Dynamics → Partner Center; inbound: Partner Center → Dynamics; "create": only when the record is first made. */
export type Flow = "both" | "outbound" | "inbound" | "outbound+create" | "create";

export interface FieldSpec {
  field: keyof SyncedFields;
  /** Where the value lives on the referral (JSON Pointer). */
  referralPath: string;
  /** Where it lives in Dynamics, in words (the admin's mapping can move the first two). */
  dynamics: string;
  flow: Flow;
  owner: Owner;
  /** JSON Patch path used to change it on an existing referral; absent = set only on create. */
  patchPath?: string;
  requiredWhen?: string;
}

export interface SyncedFields {
  name: string;
  dealValue: number | null;
  currency: string | null;
  /** Estimated close date as a calendar date, YYYY-MM-DD. */
  closeDate: string | null;
  notes: string;
  helpRequested: AssistanceRequestCode | null;
  visibleToMicrosoft: boolean;
  customerName: string;
  customerAddress: { addressLine1: string; addressLine2: string; city: string; state: string; postalCode: string; country: string };
  customerContact: { firstName: string; lastName: string; email: string; phoneNumber: string } | null;
  /** Microsoft solution ids (SOL-… or catalog ids), sorted. */
  solutions: string[];
}

export const FIELDS: readonly FieldSpec[] = [
  { field: "name", referralPath: "/name", dynamics: "opportunity name (Topic)", flow: "both", owner: "partner", patchPath: "/name" },
  { field: "dealValue", referralPath: "/details/dealValue", dynamics: "the column named by Deal value field (estimatedvalue)", flow: "both", owner: "partner", patchPath: "/details/dealValue", requiredWhen: "always" },
  { field: "currency", referralPath: "/details/currency", dynamics: "transaction currency's ISO code", flow: "both", owner: "partner", patchPath: "/details/currency", requiredWhen: "always" },
  { field: "closeDate", referralPath: "/details/closingDateTime", dynamics: "estimated close date", flow: "both", owner: "partner", patchPath: "/details/closingDateTime", requiredWhen: "always" },
  { field: "notes", referralPath: "/details/notes", dynamics: "description", flow: "both", owner: "partner", patchPath: "/details/notes" },
  { field: "helpRequested", referralPath: "/inviteContext/assistanceRequestCode", dynamics: "How can Microsoft help?", flow: "outbound+create", owner: "partner" },
  { field: "visibleToMicrosoft", referralPath: "/consent/consentToShareReferralWithMicrosoftSellers", dynamics: "Referral Visibility (never back to private)", flow: "both", owner: "partner", patchPath: "/consent/consentToShareReferralWithMicrosoftSellers" },
  { field: "customerName", referralPath: "/customerProfile/name", dynamics: "account name", flow: "create", owner: "partner" },
  { field: "customerAddress", referralPath: "/customerProfile/address", dynamics: "account address 1; country from the column named by Customer Account Country Code field", flow: "create", owner: "partner", requiredWhen: "country always" },
  { field: "customerContact", referralPath: "/customerProfile/team", dynamics: "the opportunity's customer contact", flow: "outbound+create", owner: "partner", patchPath: "/customerProfile/team", requiredWhen: "help requested" },
  { field: "solutions", referralPath: "/details/requirements/solutions", dynamics: "Microsoft Partner Center Solution rows → Microsoft Solution Details", flow: "outbound+create", owner: "partner", patchPath: "/details/requirements/solutions", requiredWhen: "always" },
];

const FIELD_NAMES = FIELDS.map((f) => f.field);

export interface DealForReferral {
  opportunityId: string;
  fields: SyncedFields;
  /** Details of the attached solutions, for the create body (name, publisher, 3P/1P). */
  solutionDetails: Array<{ id: string; name?: string; publisherName?: string; solutionType?: string }>;
  /** The partner sellers on the deal (its owner), for `team`. */
  team: Member[];
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

/** Calendar date of an ISO date-time, as Dynamics' date-only close date holds it. */
export function toDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  if (match) return match[1]!;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString().slice(0, 10);
}

function money(value: unknown): number | null {
  const n = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) ? Math.round(n * 100) / 100 : null;
}

/** Normalises both sides the same way, so equal deals give equal fields (and equal fingerprints). */
export function normalize(fields: SyncedFields): SyncedFields {
  const contact = fields.customerContact;
  return {
    name: text(fields.name),
    dealValue: money(fields.dealValue),
    currency: toCurrencyCode(fields.currency) ?? (text(fields.currency).toUpperCase() || null),
    closeDate: toDate(fields.closeDate),
    notes: text(fields.notes),
    helpRequested: fields.helpRequested ?? null,
    visibleToMicrosoft: Boolean(fields.visibleToMicrosoft),
    customerName: text(fields.customerName),
    customerAddress: {
      addressLine1: text(fields.customerAddress.addressLine1),
      addressLine2: text(fields.customerAddress.addressLine2),
      city: text(fields.customerAddress.city),
      state: text(fields.customerAddress.state),
      postalCode: text(fields.customerAddress.postalCode),
      country: toCountryCode(fields.customerAddress.country) ?? text(fields.customerAddress.country).toUpperCase(),
    },
    customerContact: contact && (text(contact.email) || text(contact.lastName))
      ? { firstName: text(contact.firstName), lastName: text(contact.lastName), email: text(contact.email).toLowerCase(), phoneNumber: text(contact.phoneNumber) }
      : null,
    solutions: [...new Set(fields.solutions.map((s) => s.trim()).filter(Boolean))].sort(),
  };
}

/** The synced fields as Partner Center holds them on a referral. */
export function fieldsFromReferral(referral: Referral): SyncedFields {
  const address = referral.customerProfile?.address ?? {};
  const contact = referral.customerProfile?.team?.[0];
  const code = referral.inviteContext?.assistanceRequestCode;
  return normalize({
    name: referral.name,
    dealValue: referral.details?.dealValue ?? null,
    currency: referral.details?.currency ?? null,
    closeDate: referral.details?.closingDateTime ?? null,
    notes: referral.details?.notes ?? "",
    helpRequested: code && code !== "Unknown" ? code : null,
    visibleToMicrosoft: referral.consent?.consentToShareReferralWithMicrosoftSellers ?? false,
    customerName: referral.customerProfile?.name ?? "",
    customerAddress: {
      addressLine1: address.addressLine1 ?? "", addressLine2: address.addressLine2 ?? "", city: address.city ?? "",
      state: address.state ?? address.region ?? "", postalCode: address.postalCode ?? "", country: address.country ?? "",
    },
    customerContact: contact ? { firstName: contact.firstName ?? "", lastName: contact.lastName ?? "", email: contact.email ?? "", phoneNumber: contact.phoneNumber ?? "" } : null,
    solutions: (referral.details?.requirements?.solutions ?? []).map((s) => s.id),
  });
}

/** A stable text of the synced fields: equal fields give equal text. The relay hashes it. */
export function canonicalFields(fields: SyncedFields): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
    return value;
  };
  return JSON.stringify(sorted(normalize(fields)));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface Conflict {
  field: keyof SyncedFields;
  dynamics: unknown;
  partnerCenter: unknown;
  winner: "dynamics" | "partnerCenter";
  reason: string;
}

export interface MergeResult {
  /** Fields to write to Partner Center. */
  toPartnerCenter: Partial<SyncedFields>;
  /** Fields to write to Dynamics. */
  toDynamics: Partial<SyncedFields>;
  conflicts: Conflict[];
  /** What both sides hold once the writes are done: the next base. */
  merged: SyncedFields;
}

function flowsOut(spec: FieldSpec): boolean {
  return spec.flow === "both" || spec.flow === "outbound" || spec.flow === "outbound+create";
}
function flowsIn(spec: FieldSpec): boolean {
  return spec.flow === "both" || spec.flow === "inbound";
}

/**
 * Three-way merge of one deal. `base` is what both sides held after the last sync (null before the first).
 * A field changed on one side only goes to the other side (if its flow allows); changed on both, the
 * owner wins (partner-owned fields follow Dynamics) and the conflict is reported. Visibility never goes
 * back to private: once either side says visible, both stay visible.
 */
export function mergeFields(base: SyncedFields | null, dynamics: SyncedFields, partnerCenter: SyncedFields): MergeResult {
  const d = normalize(dynamics);
  const p = normalize(partnerCenter);
  const b = base ? normalize(base) : null;
  const merged: Record<string, unknown> = { ...p };
  const toPartnerCenter: Record<string, unknown> = {};
  const toDynamics: Record<string, unknown> = {};
  const conflicts: Conflict[] = [];

  for (const spec of FIELDS) {
    const key = spec.field;
    const dv = d[key];
    const pv = p[key];
    if (key === "visibleToMicrosoft") {
      const visible = Boolean(dv) || Boolean(pv);
      merged[key] = visible;
      if (visible && !pv) toPartnerCenter[key] = true;
      if (visible && !dv) {
        toDynamics[key] = true;
        if (b && b.visibleToMicrosoft && !dv) conflicts.push({ field: key, dynamics: dv, partnerCenter: pv, winner: "partnerCenter", reason: "visibility to Microsoft sellers cannot be turned off once on" });
      }
      continue;
    }
    if (same(dv, pv)) {
      merged[key] = dv;
      continue;
    }
    const dynamicsChanged = !b || !same(dv, b[key]);
    const partnerCenterChanged = !!b && !same(pv, b[key]);
    let winner: "dynamics" | "partnerCenter";
    if (dynamicsChanged && partnerCenterChanged) {
      winner = spec.owner === "partner" ? "dynamics" : "partnerCenter";
      if (winner === "dynamics" && !flowsOut(spec)) winner = "partnerCenter";
      if (winner === "partnerCenter" && !flowsIn(spec)) winner = "dynamics";
      conflicts.push({ field: key, dynamics: dv, partnerCenter: pv, winner, reason: `changed on both sides; ${spec.owner === "partner" ? "the partner's Dynamics 365 value" : "Microsoft's Partner Center value"} wins` });
    } else if (dynamicsChanged) {
      winner = "dynamics";
    } else {
      winner = "partnerCenter";
    }
    if (winner === "dynamics" && flowsOut(spec)) {
      toPartnerCenter[key] = dv;
      merged[key] = dv;
    } else if (winner === "partnerCenter" && flowsIn(spec)) {
      toDynamics[key] = pv;
      merged[key] = pv;
    } else {
      // Neither direction may carry this change (create-only fields): both sides keep their value.
      merged[key] = winner === "dynamics" ? pv : dv;
    }
  }
  return { toPartnerCenter: toPartnerCenter as Partial<SyncedFields>, toDynamics: toDynamics as Partial<SyncedFields>, conflicts, merged: merged as unknown as SyncedFields };
}

export interface PatchOperation {
  op: "add" | "replace";
  path: string;
  value: unknown;
}

function closingDateTime(date: string | null): string | null {
  return date ? `${date}T00:00:00Z` : null;
}

function solutionTags(ids: readonly string[], details: DealForReferral["solutionDetails"]): SolutionTag[] {
  return ids.map((id) => {
    const d = details.find((x) => x.id === id);
    return { id, type: "Name" as const, ...(d?.name ? { name: d.name } : {}), ...(d?.publisherName ? { publisherName: d.publisherName } : {}), ...(d?.solutionType ? { solutionType: d.solutionType } : {}) };
  });
}

function contactMember(contact: SyncedFields["customerContact"]): Member[] {
  if (!contact) return [];
  return [{ firstName: contact.firstName, lastName: contact.lastName, email: contact.email, ...(contact.phoneNumber ? { phoneNumber: contact.phoneNumber } : {}) }];
}

/** JSON Patch (add/replace only, as Partner Center accepts) for the fields that go to Partner Center. */
export function toReferralPatch(changes: Partial<SyncedFields>, solutionDetails: DealForReferral["solutionDetails"] = []): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const spec of FIELDS) {
    if (!(spec.field in changes) || !spec.patchPath) continue;
    const value = changes[spec.field];
    switch (spec.field) {
      case "closeDate": ops.push({ op: "replace", path: spec.patchPath, value: closingDateTime(value as string | null) }); break;
      case "customerContact": ops.push({ op: "replace", path: spec.patchPath, value: contactMember(value as SyncedFields["customerContact"]) }); break;
      case "solutions": ops.push({ op: "replace", path: spec.patchPath, value: solutionTags(value as string[], solutionDetails) }); break;
      default: ops.push({ op: "replace", path: spec.patchPath, value });
    }
  }
  return ops;
}

/** Changes that Partner Center cannot take as a patch (set only on create), so the relay can say so. */
export function unpatchable(changes: Partial<SyncedFields>): Array<keyof SyncedFields> {
  return FIELDS.filter((f) => f.field in changes && !f.patchPath).map((f) => f.field);
}

/**
 * The body to create the partner's referral. A deal with help requested is a co-sell: type Shared and
 * visible, with the assistance code; Microsoft's related referral is created next, in the same engagement.
 */
export function toReferralCreate(deal: DealForReferral): Record<string, unknown> {
  const f = normalize(deal.fields);
  const coSell = f.helpRequested !== null;
  const address = Object.fromEntries(Object.entries(f.customerAddress).filter(([, v]) => v !== ""));
  const firstSolution = f.solutions[0];
  return {
    name: f.name,
    externalReferenceId: deal.opportunityId,
    type: coSell ? "Shared" : "Independent",
    qualification: "SalesQualified",
    customerProfile: { name: f.customerName, address, team: contactMember(f.customerContact) },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: coSell || f.visibleToMicrosoft, consentToShareReferralWithMicrosoftSellers: coSell || f.visibleToMicrosoft },
    details: {
      notes: f.notes,
      dealValue: f.dealValue,
      currency: f.currency,
      closingDateTime: closingDateTime(f.closeDate),
      requirements: { solutions: solutionTags(f.solutions, deal.solutionDetails) },
    },
    team: deal.team,
    ...(coSell ? { inviteContext: { assistanceRequestCode: f.helpRequested, notes: f.notes } } : {}),
    target: coSell && firstSolution ? [{ type: "SolutionProfile", id: firstSolution }] : [],
  };
}

/** The second referral of a co-sell engagement: the one for Microsoft (partner-center-referrals.md §7.3). */
export function toMicrosoftReferralCreate(partnerReferral: Referral, deal: DealForReferral): Record<string, unknown> {
  const body = toReferralCreate(deal);
  return { ...body, engagementId: partnerReferral.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] };
}

export { FIELD_NAMES };

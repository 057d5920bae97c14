// The referrals Partner Center holds for the demo partner, and every rule that changes them: server-set
// fields on create, JSON Patch and PUT, status moves, the two-step shared engagement, Microsoft's side of it,
// incoming referrals and their 14-day expiry. Pure: time comes from `now()`, changes go out to listeners
// as events; the HTTP layer and the webhook dispatcher do the I/O.
import { ApiError, invalid, notFound } from "./errors.ts";
import { newETag, newId, referralDate } from "./format.ts";
import { parseListQuery, runListQuery, type ListPage, type Stored } from "./odata.ts";
import { applyPatch, readPatch } from "./patch.ts";
import { REFERRAL, canonicalize, isReadOnly, type Json, type JsonObject } from "./schema.ts";
import { checkTransition, type Actor } from "./status.ts";

export const MICROSOFT_ORG = { organizationId: "msft", organizationName: "Microsoft" } as const;
/** The Microsoft seller who works the sandbox's co-sells. */
export const MICROSOFT_SELLER = { firstName: "Morgan", lastName: "Microsoft", email: "morgan.seller@microsoft.example", phoneNumber: "+14255550100" } as const;

export type ReferralEventName = "referral-created" | "referral-updated" | "related-referral-created" | "related-referral-updated";

export interface ReferralChange {
  eventName: ReferralEventName;
  referralId: string;
  /** Sandbox time of the change (ResourceChangeUtcDate). */
  at: number;
  actor: Actor;
}

export interface PartnerOrganization {
  organizationId: string;
  organizationName: string;
  mpnId: string;
  /** Partner Center location id that incoming referrals target. */
  locationId: string;
}

export interface ReferralRules {
  /** Days an incoming referral (or Microsoft's side of a co-sell) waits for an answer before it expires. */
  expiryDays: number;
  /** Co-sell (help requested and visible): require a customer contact and a solution (connector docs). */
  coSellRequiresContactAndSolution: boolean;
  /** Once visible to Microsoft sellers, a deal cannot be made private again (UI docs). */
  visibilityIrreversible: boolean;
}

export const DEFAULT_RULES: ReferralRules = { expiryDays: 14, coSellRequiresContactAndSolution: true, visibilityIrreversible: true };

export interface ReferralBookOptions {
  now: () => number;
  /** Absolute URL of the referrals collection, for `links` (…/v1.0/engagements/referrals). */
  collectionUrl: string;
  partner: PartnerOrganization;
  rules?: Partial<ReferralRules>;
}

const DAY = 24 * 60 * 60 * 1000;

function asObject(value: Json | undefined): JsonObject | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
}

function targets(referral: JsonObject): JsonObject[] {
  return Array.isArray(referral.target) ? (referral.target.filter((t) => asObject(t)) as JsonObject[]) : [];
}

function targetsMicrosoft(referral: JsonObject): boolean {
  return targets(referral).some((t) => String(t.type).toLowerCase() === "businessprofilelocation" && String(t.id).toLowerCase() === "msft");
}

/** Microsoft's side of an engagement: a referral Microsoft owns, or the one the partner addressed to Microsoft. */
export function isMicrosoftSide(referral: JsonObject): boolean {
  return referral.organizationId === MICROSOFT_ORG.organizationId || targetsMicrosoft(referral);
}

function microsoftMsxId(): string {
  return `7-${newId().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
}

export class ReferralBook {
  readonly rules: ReferralRules;
  private readonly records = new Map<string, Stored>();
  private readonly listeners = new Set<(change: ReferralChange) => void>();
  private seq = 0;
  private silent = 0;
  private readonly options: ReferralBookOptions;

  constructor(options: ReferralBookOptions) {
    this.options = options;
    this.rules = { ...DEFAULT_RULES, ...options.rules };
  }

  onChange(listener: (change: ReferralChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `work` without emitting events (seed data that was "already there"). */
  quietly<T>(work: () => T): T {
    this.silent++;
    try {
      return work();
    } finally {
      this.silent--;
    }
  }

  reset(): void {
    this.records.clear();
  }

  get size(): number {
    return this.records.size;
  }

  all(): JsonObject[] {
    return [...this.records.values()].map((r) => structuredClone(r.referral));
  }

  get(id: string): JsonObject {
    return structuredClone(this.record(id).referral);
  }

  list(query: Record<string, unknown>, pageSize: number): ListPage {
    return runListQuery(this.records.values(), parseListQuery(query), pageSize);
  }

  /** POST /referrals: the partner creates a referral (docs §4.1, §7.3). */
  create(input: unknown, ids: { id?: string } = {}): JsonObject {
    const body = this.readBody(input);
    const now = this.options.now();
    const forMicrosoft = targetsMicrosoft(body);
    let engagementId = typeof body.engagementId === "string" && body.engagementId !== "" ? body.engagementId : undefined;
    if (engagementId !== undefined) {
      const engagement = this.engagement(engagementId);
      if (engagement.length === 0) throw invalid(`engagement '${engagementId}' does not exist`, "engagementId");
      if (forMicrosoft && engagement.some(isMicrosoftSide)) throw invalid(`engagement '${engagementId}' already has a referral for Microsoft`, "target");
    } else if (forMicrosoft) {
      throw invalid("a referral for Microsoft joins an existing engagement: send the engagementId of your referral", "engagementId");
    }
    engagementId ??= newId();
    this.checkRequired(body);
    if (!forMicrosoft) this.checkCoSell(body);
    const partner = this.options.partner;
    const inviteContext = { notes: null, assistanceRequestCode: "Unknown", ...asObject(body.inviteContext), invitedBy: { organizationId: partner.organizationId, organizationName: partner.organizationName } };
    const referral = this.build(body, {
      id: ids.id ?? newId(),
      engagementId,
      organization: partner,
      now,
      direction: "Outgoing",
      // The partner's own referral is accepted at once; the one addressed to Microsoft waits for a Microsoft seller.
      status: forMicrosoft ? ["New", "Pending"] : ["Active", "Accepted"],
      expiration: forMicrosoft ? now + this.rules.expiryDays * DAY : null,
      inviteContext,
    });
    this.insert(referral);
    this.emit(referral, "created", "partner", now);
    return structuredClone(referral);
  }

  /** PATCH /referrals/{id} with a JSON Patch document (docs §4.4). */
  patch(id: string, body: unknown, ifMatch: string | undefined): JsonObject {
    const stored = this.record(id);
    const current = stored.referral;
    this.checkIfMatch(current, ifMatch);
    this.checkPartnerMayWrite(current);
    const operations = readPatch(body);
    if (current.status === "Closed") {
      const other = operations.find((op) => !/^\/registrations(\/|$)/.test(op.path));
      if (other) throw invalid(`the referral is ${current.status}/${current.substatus}: closed referrals accept no further updates except deal registrations`, other.path);
    }
    const next = applyPatch(current, operations);
    return this.commit(stored, next, "partner");
  }

  /** PUT /referrals/{id}: the deprecated full replace; If-Match required (docs §4.5). */
  replace(id: string, input: unknown, ifMatch: string | undefined): JsonObject {
    const stored = this.record(id);
    const current = stored.referral;
    if (ifMatch === undefined) throw invalid("If-Match is required on PUT", "If-Match");
    this.checkIfMatch(current, ifMatch);
    this.checkPartnerMayWrite(current);
    if (current.status === "Closed") throw invalid(`the referral is ${current.status}/${current.substatus}: closed referrals accept no further updates`, "status");
    const body = this.readBody(input);
    this.checkRequired(body);
    const next: JsonObject = {};
    for (const name of Object.keys(current)) {
      if (isReadOnly(`/${name}`)) next[name] = current[name]!;
      else if (name === "status" || name === "substatus") next[name] = body[name] ?? current[name]!;
      else next[name] = body[name] ?? null;
    }
    for (const [name, value] of Object.entries(body)) if (!(name in next) && !isReadOnly(`/${name}`)) next[name] = value;
    // invitedBy is the server's even inside the writable inviteContext.
    const context = asObject(next.inviteContext);
    if (context) next.inviteContext = { ...context, invitedBy: asObject(current.inviteContext)?.invitedBy ?? null };
    return this.commit(stored, next, "partner");
  }

  /** Microsoft sends the partner a referral: a qualified lead (Independent) or a co-sell invitation (Shared). */
  receiveFromMicrosoft(input: unknown, ids: { id?: string; relatedId?: string } = {}): { referral: JsonObject; related: JsonObject | undefined } {
    const body = this.readBody(input ?? {});
    const now = this.options.now();
    const partner = this.options.partner;
    const closing = new Date(now + 90 * DAY).toISOString().replace(/T.*$/, "T00:00:00Z");
    const defaults: JsonObject = {
      name: "Microsoft referral",
      type: "Independent",
      qualification: "SalesQualified",
      customerProfile: {
        name: "Fabrikam (sandbox customer)",
        address: { addressLine1: "1 Main St", city: "Seattle", state: "WA", postalCode: "98101", country: "US" },
        size: "51to250employees",
        team: [{ firstName: "Ann", lastName: "Lee", email: "ann.lee@fabrikam.example", phoneNumber: "+12065550100" }],
      },
      consent: { consentToToShareInfoWithOthers: true, consentToContact: true, consentToShareReferralWithMicrosoftSellers: true },
      details: { notes: "Customer asked Microsoft for a partner.", dealValue: 25000, currency: "USD", closingDateTime: closing },
    };
    const merged = { ...defaults, ...body };
    const substatus = merged.substatus === "Received" ? "Received" : "Pending";
    const engagementId = newId();
    const referral = this.build(merged, {
      id: ids.id ?? newId(),
      engagementId,
      organization: partner,
      now,
      direction: "Incoming",
      status: ["New", substatus],
      expiration: now + this.rules.expiryDays * DAY,
      inviteContext: { notes: null, assistanceRequestCode: "Unknown", ...asObject(merged.inviteContext), invitedBy: { ...MICROSOFT_ORG } },
      target: [{ type: "BusinessProfileLocation", id: partner.locationId }],
    });
    let related: JsonObject | undefined;
    if (merged.type === "Shared") {
      related = this.build(merged, {
        id: ids.relatedId ?? newId(),
        engagementId,
        organization: { ...MICROSOFT_ORG, mpnId: "" },
        now,
        direction: "Outgoing",
        status: ["Active", "Accepted"],
        expiration: null,
        inviteContext: { notes: null, assistanceRequestCode: "Unknown", invitedBy: { ...MICROSOFT_ORG } },
        target: [{ type: "BusinessProfileLocation", id: partner.locationId }],
        team: [{ ...MICROSOFT_SELLER }],
      });
      (related.trackingInfo as JsonObject).microsoftMsxId = microsoftMsxId();
    }
    this.insert(referral);
    this.emit(referral, "created", "microsoft", now);
    if (related) {
      this.insert(related);
      this.emit(related, "created", "microsoft", now);
    }
    return { referral: structuredClone(referral), related: related && structuredClone(related) };
  }

  /** Microsoft's seller acts on its side of the engagement of referral `id` (or on that referral itself). */
  microsoftAction(id: string, action: "accept" | "decline" | "update" | "close", input: unknown): JsonObject {
    const stored = this.microsoftSide(id);
    const current = stored.referral;
    if (current.status === "Closed") throw new ApiError(409, "conflict", `Microsoft's referral '${String(current.id)}' is already ${current.status}/${current.substatus}`, { target: "status" });
    const body = asObject(input as Json) ?? {};
    const text = (name: string) => {
      const entry = Object.entries(body).find(([key]) => key.toLowerCase() === name.toLowerCase());
      return typeof entry?.[1] === "string" ? entry[1] : undefined;
    };
    const next: JsonObject = structuredClone(current);
    if (action === "accept") {
      next.status = "Active";
      next.substatus = "Accepted";
      const tracking = { ...asObject(next.trackingInfo) };
      tracking.microsoftMsxId = text("microsoftMsxId") ?? (typeof tracking.microsoftMsxId === "string" ? tracking.microsoftMsxId : microsoftMsxId());
      next.trackingInfo = tracking;
      const team = Array.isArray(next.team) ? next.team : [];
      if (!team.some((member) => asObject(member)?.email === MICROSOFT_SELLER.email)) next.team = [...team, { ...MICROSOFT_SELLER }];
    } else if (action === "decline") {
      next.status = "Closed";
      next.substatus = "Declined";
      next.statusReason = text("statusReason") ?? text("reason") ?? "Microsoft declined to co-sell";
    } else if (action === "close") {
      const substatus = text("substatus");
      if (substatus !== "Won" && substatus !== "Lost") throw invalid("close needs { \"substatus\": \"Won\" | \"Lost\" }", "substatus");
      next.status = "Closed";
      next.substatus = substatus;
      next.statusReason = text("statusReason") ?? next.statusReason ?? null;
    } else {
      const changes = canonicalize(body, REFERRAL) as JsonObject;
      for (const [name, value] of Object.entries(changes)) {
        if (name === "status" || name === "substatus" || (isReadOnly(`/${name}`) && name !== "trackingInfo")) continue;
        const existing = asObject(next[name]);
        const incoming = asObject(value);
        next[name] = existing && incoming ? { ...existing, ...incoming } : value;
      }
    }
    return this.commit(stored, next, "microsoft");
  }

  /** Expires every referral still waiting past its `expirationDateTime`: Closed/Expired. Returns how many. */
  expireDue(): number {
    const now = this.options.now();
    let count = 0;
    for (const stored of [...this.records.values()].sort((a, b) => a.seq - b.seq)) {
      const { referral } = stored;
      if (referral.status !== "New" || typeof referral.expirationDateTime !== "string") continue;
      if (Date.parse(referral.expirationDateTime) > now) continue;
      const next = { ...referral, status: "Closed", substatus: "Expired", statusReason: "Not answered in time" };
      this.commit(stored, next, "system");
      count++;
    }
    return count;
  }

  /** The earliest pending expiry, so a timer can wake up for it. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const { referral } of this.records.values()) {
      if (referral.status !== "New" || typeof referral.expirationDateTime !== "string") continue;
      const at = Date.parse(referral.expirationDateTime);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  // -------------------------------------------------------------------------------------------------------

  private record(id: string): Stored {
    const stored = this.records.get(id.toLowerCase());
    if (!stored) throw notFound(`referral '${id}' was not found`);
    return stored;
  }

  private engagement(engagementId: string): JsonObject[] {
    const key = engagementId.toLowerCase();
    return [...this.records.values()].filter((r) => String(r.referral.engagementId).toLowerCase() === key).map((r) => r.referral);
  }

  private microsoftSide(id: string): Stored {
    const stored = this.record(id);
    if (isMicrosoftSide(stored.referral)) return stored;
    const key = String(stored.referral.engagementId).toLowerCase();
    const related = [...this.records.values()].find((r) => String(r.referral.engagementId).toLowerCase() === key && isMicrosoftSide(r.referral));
    if (!related) throw new ApiError(409, "conflict", `the engagement of referral '${id}' has no Microsoft referral (it is not a co-sell with Microsoft)`, { target: "engagementId" });
    return related;
  }

  private readBody(input: unknown): JsonObject {
    if (typeof input !== "object" || input === null || Array.isArray(input)) throw invalid("the body must be a Referral object");
    return canonicalize(input, REFERRAL) as JsonObject;
  }

  private checkRequired(body: JsonObject): void {
    for (const name of ["type", "customerProfile", "consent", "details"]) {
      if (body[name] === null || body[name] === undefined) throw invalid(`'${name}' is required`, name);
    }
    const country = asObject(asObject(body.customerProfile)?.address)?.country;
    if (typeof country !== "string" || !/^[A-Za-z]{2}$/.test(country)) {
      throw invalid("customerProfile.address.country must be a two-letter ISO 3166-1 code", "customerProfile/address/country");
    }
  }

  private checkCoSell(body: JsonObject): void {
    if (!this.rules.coSellRequiresContactAndSolution) return;
    const visible = asObject(body.consent)?.consentToShareReferralWithMicrosoftSellers === true;
    const help = asObject(body.inviteContext)?.assistanceRequestCode;
    if (!visible || typeof help !== "string" || help === "Unknown") return;
    const contacts = asObject(body.customerProfile)?.team;
    if (!Array.isArray(contacts) || contacts.length === 0) throw invalid("a customer contact (customerProfile.team) is required when help from Microsoft is requested", "customerProfile/team");
    const solutions = asObject(asObject(body.details)?.requirements)?.solutions;
    if (!Array.isArray(solutions) || solutions.length === 0) throw invalid("a co-sell with Microsoft needs at least one solution (details.requirements.solutions)", "details/requirements/solutions");
  }

  private checkIfMatch(current: JsonObject, ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    const tags = ifMatch.split(",").map((t) => t.trim());
    if (tags.includes("*") || tags.includes(String(current.eTag))) return;
    throw new ApiError(412, "preconditionFailed", "the referral has changed since it was read: If-Match does not match its current eTag", { target: "If-Match" });
  }

  private checkPartnerMayWrite(current: JsonObject): void {
    if (current.organizationId === MICROSOFT_ORG.organizationId) {
      throw new ApiError(403, "accessDenied", "this referral belongs to Microsoft; the partner can read it but not change it", { target: "referral" });
    }
  }

  /** Validates a changed referral against the rules, stamps it and stores it. */
  private commit(stored: Stored, proposed: JsonObject, actor: Actor): JsonObject {
    const current = stored.referral;
    const next = canonicalize(proposed, REFERRAL) as JsonObject;
    for (const name of Object.keys(current)) if (!(name in next)) next[name] = null;
    checkTransition({ status: String(current.status), substatus: String(current.substatus) }, { status: String(next.status), substatus: String(next.substatus) }, actor);
    const statusChanged = current.status !== next.status || current.substatus !== next.substatus;
    if (actor === "partner" && statusChanged && targetsMicrosoft(current)) {
      throw invalid("the referral for Microsoft changes status only when a Microsoft seller acts on it", "status");
    }
    if (actor === "partner" && this.rules.visibilityIrreversible) {
      const was = asObject(current.consent)?.consentToShareReferralWithMicrosoftSellers === true;
      const is = asObject(next.consent)?.consentToShareReferralWithMicrosoftSellers === true;
      if (was && !is) throw invalid("a referral visible to Microsoft sellers cannot be made private again", "consent/consentToShareReferralWithMicrosoftSellers");
    }
    const now = this.options.now();
    const stamp = referralDate(now);
    if (current.status !== next.status) {
      if (next.status === "Active") next.acceptedDateTime = stamp;
      if (next.status === "Closed") next.closedDateTime = actor === "system" && typeof current.expirationDateTime === "string" ? referralDate(Math.min(now, Date.parse(current.expirationDateTime))) : stamp;
    }
    next.updatedDateTime = stamp;
    next.eTag = newETag();
    stored.referral = next;
    this.emit(next, "updated", actor, now);
    return structuredClone(next);
  }

  private insert(referral: JsonObject): void {
    this.records.set(String(referral.id).toLowerCase(), { seq: ++this.seq, referral });
  }

  private emit(referral: JsonObject, kind: "created" | "updated", actor: Actor, at: number): void {
    if (this.silent > 0) return;
    const eventName = `${isMicrosoftSide(referral) ? "related-referral" : "referral"}-${kind}` as ReferralEventName;
    const change: ReferralChange = { eventName, referralId: String(referral.id), at, actor };
    for (const listener of this.listeners) listener(change);
  }

  private build(
    body: JsonObject,
    server: {
      id: string;
      engagementId: string;
      organization: { organizationId: string; organizationName: string; mpnId: string };
      now: number;
      direction: "Incoming" | "Outgoing";
      status: [string, string];
      expiration: number | null;
      inviteContext: JsonObject;
      target?: Json;
      team?: Json;
    },
  ): JsonObject {
    const stamp = referralDate(server.now);
    const collection = this.options.collectionUrl;
    const consent = asObject(body.consent) ?? {};
    const referral: JsonObject = {
      id: server.id,
      engagementId: server.engagementId,
      organizationId: server.organization.organizationId,
      organizationName: server.organization.organizationName,
      mpnId: server.organization.mpnId || null,
      name: body.name ?? null,
      externalReferenceId: body.externalReferenceId ?? null,
      createdDateTime: stamp,
      updatedDateTime: stamp,
      expirationDateTime: server.expiration === null ? null : referralDate(server.expiration),
      acceptedDateTime: server.status[0] === "Active" ? stamp : null,
      closedDateTime: null,
      status: server.status[0],
      substatus: server.status[1],
      statusReason: body.statusReason ?? null,
      type: body.type ?? null,
      qualification: body.qualification ?? "None",
      direction: server.direction,
      referralSource: body.referralSource ?? null,
      callToAction: body.callToAction ?? null,
      customerProfile: body.customerProfile ?? null,
      consent: {
        consentToToShareInfoWithOthers: false,
        consentToContact: false,
        consentToShareReferralWithMicrosoftSellers: false,
        ...consent,
      },
      details: body.details ?? null,
      customerMarketplaceIntent: body.customerMarketplaceIntent ?? null,
      team: server.team ?? body.team ?? [],
      inviteContext: server.inviteContext,
      target: server.target ?? body.target ?? [],
      links: {
        relatedReferrals: { uri: `${collection}?$filter=engagementId eq '${server.engagementId}'`, method: "GET" },
        self: { uri: `${collection}/${server.id}`, method: "GET" },
      },
      trackingInfo: { microsoftMsxId: null, microsoftUSFedOpportunityId: null, microsoftUSFedLeadId: null, migratedPSCDealId: null, migratedPSCPartnerDealId: null },
      registrations: body.registrations ?? [],
      registrationStatus: "None",
      salesStage: body.salesStage ?? null,
      campaignId: body.campaignId ?? null,
      referralProgram: body.referralProgram ?? null,
      favorite: body.favorite ?? false,
      quality: "Unknown",
      isSpam: false,
      tags: body.tags ?? [],
      dealSensitivity: "None",
      createdVia: null,
      lastModifiedVia: null,
      eTag: newETag(),
    };
    return canonicalize(referral, REFERRAL) as JsonObject;
  }
}

// Inbound: a Partner Center referral to Dynamics 365. The referral is always read again (events are
// pointers, arrive late, twice or out of order). Microsoft's side of an engagement fills Microsoft CRM
// Identifier and Microsoft's status on the partner's opportunity and never closes it. The partner's
// referral is synced as a pair when its record is known (link, Referral Identifier alternate key,
// externalReferenceId); otherwise the account (name + postal code) and contact (e-mail) are matched or
// created and a lead (waiting for an answer) or an opportunity (accepted) is created with Sync = Yes.
import { isAwaitingAnswer, isMicrosoftQualifiedLead, senderOf, type Referral } from "../../../Core/referral.ts";
import { toDate } from "../../../Core/mapping.ts";
import { routeFor, type FieldMappingConfig } from "../../../Core/field-mapping-config.ts";
import { Lead, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import type { SyncJob } from "../queue.ts";
import { DataverseError, DataverseErrorCodes } from "../clients/dataverse.ts";
import { isGuid } from "../clients/dataverse-query.ts";
import type { ReferralWithETag } from "../clients/partner-center.ts";
import { AccountTable, ContactTable, CurrencyTable, LeadTable, OpportunityTable, bind } from "./dataverse-columns.ts";
import { auditLine, helpChoice, prependAudit, statusChoice, substatusChoice } from "./dataverse-side.ts";
import { createDefaults } from "../settings/field-mapping.ts";
import { type SyncContext, type SyncOutcome } from "./context.ts";
import { getLinkByEngagement, getLinkByReferral, recordLocalSyncEvent, saveLink, type Link, type RecordType } from "./links.ts";
import { findMicrosoftReferral, getReferralOrUndefined, isMicrosoftsReferral, referralLink } from "./partner-center-side.ts";
import { microsoftChanges, syncPair } from "./pair.ts";

export async function inbound(ctx: SyncContext, referralId: string, job: SyncJob): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = "inbound" as const;
  const got = await getReferralOrUndefined(ctx.pc, referralId);
  if (!got) return { state: "skipped", direction, message: `Partner Center has no referral ${referralId} (any more); nothing to sync.` };
  const referral = got.referral;
  const own = await getLinkByReferral(deps.db, deps.tenantId, referralId);
  if (!own) {
    const partner = await getLinkByEngagement(deps.db, deps.tenantId, referral.engagementId, referral.id);
    if (isMicrosoftsReferral(referral) || partner) {
      if (!partner?.referralId) {
        return { state: "skipped", direction, message: `Referral ${referralId} is Microsoft's side of an engagement whose partner referral is not in Dynamics 365 (yet); it is applied when that one syncs.` };
      }
      return ctx.locks.run(`referral:${partner.referralId}`, () => syncMicrosoftSide(ctx, referral, partner, job));
    }
  }
  return ctx.locks.run(`referral:${referralId}`, async (waited) => {
    const fresh = waited ? undefined : got;
    const link = await getLinkByReferral(deps.db, deps.tenantId, referralId);
    if (link) return syncPair(ctx, { type: link.recordType, recordId: link.recordId, referralId, direction, job, ...(fresh ? { referral: fresh } : {}) });
    const found = await findRecord(ctx, referral);
    // Found by externalReferenceId: the relay created this referral from that record and was stopped
    // before it linked them, so where they differ the record is right (a seller's edit made meanwhile is
    // sent, not reverted), as when the share itself finds it.
    if (found) return syncPair(ctx, { type: found.type, recordId: found.id, referralId, direction, job, ...(fresh ? { referral: fresh } : {}), created: found.byExternalReference, microsoft: await microsoftOf(ctx, referral) });
    return createFromReferral(ctx, fresh ?? (await ctx.pc.getReferral(referralId)), job);
  });
}

/** The record by Referral Identifier (alternate key), else by externalReferenceId (a record the relay shared). */
async function findRecord(ctx: SyncContext, referral: Referral): Promise<{ type: RecordType; id: string; byExternalReference: boolean } | undefined> {
  const byKey = await ctx.dv.findByReferralId(referral.id);
  if (byKey) return { ...byKey, byExternalReference: false };
  const external = referral.externalReferenceId;
  if (external && isGuid(external)) {
    for (const type of ["opportunity", "lead"] as const) if (await ctx.dv.exists(type, external)) return { type, id: external.toLowerCase(), byExternalReference: true };
  }
  return undefined;
}

async function microsoftOf(ctx: SyncContext, referral: Referral): Promise<Referral | undefined> {
  return referral.type === "Shared" ? findMicrosoftReferral(ctx.pc, referral.engagementId) : undefined;
}

/**
 * What Dynamics should hold for a referral nobody has seen: a lead, an opportunity, or nothing (and why).
 * The admin's field mapping (`inbound`) may route an accepted referral to a lead, or leave a kind of
 * referral out; one still waiting for an answer is always a lead, where the seller answers it.
 */
export function recordTypeFor(referral: Referral, coSellOnly: boolean, config: FieldMappingConfig = {}): { type: RecordType } | { skip: string } {
  if (isMicrosoftsReferral(referral)) return { skip: "it is Microsoft's side of an engagement" };
  if (referral.status === "Closed") return { skip: `it was already ${referral.status}/${referral.substatus} before it reached Dynamics 365` };
  const route = routeFor(config, referral);
  if (route === "none") {
    return { skip: `the field mapping's inbound routing leaves ${referral.type} referrals${referral.qualification ? ` qualified ${referral.qualification}` : ""} out of Dynamics 365` };
  }
  if (isAwaitingAnswer(referral)) {
    if (isMicrosoftQualifiedLead(referral) && coSellOnly) return { skip: "it is a Microsoft qualified lead and \"Sync co-sell opportunities only\" is Yes" };
    return { type: "lead" };
  }
  return { type: route === "lead" ? "lead" : "opportunity" };
}

/** The company as the account match compares it (Dataverse compares names case-insensitively). */
function customerKey(name: string | undefined): string {
  return (name ?? "").trim().toLowerCase() || "unknown customer";
}

async function createFromReferral(ctx: SyncContext, got: ReferralWithETag, job: SyncJob): Promise<SyncOutcome> {
  const { deps } = ctx;
  const referral = got.referral;
  const { settings, mapping } = await ctx.dv.settingsAndMapping();
  const decision = recordTypeFor(referral, settings.syncCoSellOpportunitiesOnly, mapping.config);
  if ("skip" in decision) {
    await recordLocalSyncEvent(deps.db, {
      tenantId: deps.tenantId, runId: job.runId, direction: "inbound", outcome: "skipped", recordType: null, recordId: null, referralId: referral.id,
      message: `Not brought into Dynamics 365: ${decision.skip}.`, correlationId: job.runId,
    });
    return { state: "skipped", direction: "inbound", message: `Referral ${referral.id} was not brought into Dynamics 365: ${decision.skip}.` };
  }
  const type = decision.type;
  // Referrals for one customer often arrive together (a co-sell invitation and a lead, a burst after an
  // outage): matching and creating are one at a time per company and per e-mail address, so the second
  // finds the account and contact the first created instead of making its own. (Within this process;
  // relays sharing one store can still race.)
  // The owner the admin's field mapping names for what the relay creates (else the relay's application user).
  const owner = await ctx.dv.ownerFor(mapping, referral);
  const account = await ctx.locks.run(`account:${customerKey(referral.customerProfile?.name)}`, () => ctx.dv.matchOrCreateAccount(referral, mapping, owner?.bind));
  const member = referral.customerProfile?.team?.[0];
  const contact = await ctx.locks.run(`contact:${(member?.email ?? "").trim().toLowerCase() || account.id}`, () => ctx.dv.matchOrCreateContact(member, account.id, { ...createDefaults(mapping, "contact", referral), ...owner?.bind }));
  const currencyId = referral.details?.currency ? await ctx.dv.currencyId(referral.details.currency) : undefined;
  const c = type === "opportunity" ? Opportunity.columns : Lead.columns;
  const at = ctx.now();
  const common: Record<string, unknown> = {
    [c.syncWithPartnerCenter]: true,
    [c.referralIdentifier]: referral.id,
    [c.referralLink]: referralLink(settings.referralLinkTemplate, referral.id),
    [c.syncStatus]: PartnerCenterSyncStatus.Synced,
    [c.referralStatus]: statusChoice(referral.status),
    [c.referralSubstatus]: substatusChoice(referral.substatus),
    [c.helpRequested]: helpChoice(referral.inviteContext?.assistanceRequestCode),
    [c.lastSyncedOn]: at.toISOString(),
    ...(currencyId ? bind(OpportunityTable.currency, CurrencyTable.entitySet, currencyId) : {}),
    ...owner?.bind,
  };
  const details = referral.details ?? {};
  const body: Record<string, unknown> = type === "opportunity"
    ? {
      // The admin's defaults for columns the organisation made mandatory; the relay's own values win.
      ...createDefaults(mapping, "opportunity", referral),
      ...common,
      [OpportunityTable.name]: referral.name || referral.customerProfile?.name || `Referral ${referral.id}`,
      // The field mapping's columns (the standard ones by default); the Topic is always filled.
      [mapping.opportunity.name]: referral.name || referral.customerProfile?.name || `Referral ${referral.id}`,
      [mapping.opportunity.notes]: details.notes ?? null,
      [mapping.dealValue]: details.dealValue ?? null,
      [mapping.opportunity.closeDate]: toDate(details.closingDateTime ?? null),
      // The deal's own currency column too, when the field mapping names one (the money columns keep transactioncurrencyid).
      ...(mapping.currency.kind === "text" && details.currency ? { [mapping.currency.column]: details.currency.trim().toUpperCase() } : {}),
      ...(mapping.currency.kind === "lookup" && mapping.currency.navigation !== OpportunityTable.bind.currency && currencyId ? bind(mapping.currency.navigation, CurrencyTable.entitySet, currencyId) : {}),
      [Opportunity.columns.referralVisibility]: referral.consent?.consentToShareReferralWithMicrosoftSellers === true,
      ...bind(OpportunityTable.bind.parentAccount, AccountTable.entitySet, account.id),
      ...bind(OpportunityTable.bind.customerAccount, AccountTable.entitySet, account.id),
      ...(contact ? bind(mapping.contact.navigation, ContactTable.entitySet, contact.id) : {}),
    }
    : {
      ...createDefaults(mapping, "lead", referral),
      ...common,
      [LeadTable.subject]: referral.name || `Referral ${referral.id}`,
      [LeadTable.firstName]: member?.firstName ?? null,
      [LeadTable.lastName]: member?.lastName || referral.customerProfile?.name || "Unknown",
      [LeadTable.email]: member?.email ?? null,
      [LeadTable.phone]: member?.phoneNumber ?? null,
      [LeadTable.companyName]: referral.customerProfile?.name ?? null,
      [LeadTable.addressLine1]: referral.customerProfile?.address?.addressLine1 ?? null,
      [LeadTable.city]: referral.customerProfile?.address?.city ?? null,
      [LeadTable.postalCode]: referral.customerProfile?.address?.postalCode ?? null,
      [LeadTable.country]: referral.customerProfile?.address?.country ?? null,
      [LeadTable.description]: details.notes ?? null,
      [LeadTable.estimatedAmount]: details.dealValue ?? null,
      [LeadTable.estimatedCloseDate]: toDate(details.closingDateTime ?? null),
      ...(referral.expirationDateTime ? { [Lead.columns.respondBy]: referral.expirationDateTime } : {}),
      [Lead.columns.sentBy]: senderOf(referral),
      ...bind(LeadTable.bind.parentAccount, AccountTable.entitySet, account.id),
      ...(contact ? bind(LeadTable.bind.parentContact, ContactTable.entitySet, contact.id) : {}),
    };
  let recordId: string;
  let createdNow = true;
  try {
    recordId = (await ctx.dv.client.create(type === "opportunity" ? OpportunityTable.entitySet : LeadTable.entitySet, body)).id;
  } catch (error) {
    // Another run created it first (the Referral Identifier is an alternate key): continue with that one.
    if (error instanceof DataverseError && (error.code === DataverseErrorCodes.DuplicateRecordEntityKey || error.code === DataverseErrorCodes.DuplicateRecord || /matching key values already exists/i.test(error.message))) {
      const existing = await ctx.dv.findByReferralId(referral.id);
      if (!existing) throw error;
      recordId = existing.id;
      createdNow = false;
    } else throw error;
  }
  if (type === "opportunity") await ctx.dv.attachSolutions(recordId, referral.details?.requirements?.solutions ?? []);
  const what = `${account.created ? "created the account" : "matched the account"} ${JSON.stringify(referral.customerProfile?.name ?? "")}${account.matchedBy ? ` by ${account.matchedBy}` : ""}` +
    (contact ? ` and ${contact.created ? "created" : "matched"} the contact ${member?.email ?? `${member?.firstName ?? ""} ${member?.lastName ?? ""}`.trim()}` : "");
  const preface = createdNow
    ? [`Created ${type === "opportunity" ? "an opportunity" : "a lead"} from referral ${referral.id} (${referral.status}/${referral.substatus}); ${what}.${owner ? ` Owner: ${owner.why}.` : ""}`]
    : [`Linked the ${type} another run created for referral ${referral.id}.`];
  return syncPair(ctx, { type, recordId, referralId: referral.id, direction: "inbound", job, preface, microsoft: await microsoftOf(ctx, referral) });
}

/** Microsoft's side: Microsoft CRM Identifier and Microsoft's status on the partner's opportunity. Never closes it. */
async function syncMicrosoftSide(ctx: SyncContext, microsoft: Referral, partner: Link, job: SyncJob): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = "inbound" as const;
  for (let attempt = 0; attempt < 4; attempt++) {
    const record = await ctx.dv.readRecord(partner.recordType, partner.recordId);
    if (!record) return { state: "skipped", direction, message: `The ${partner.recordType} linked to this engagement no longer exists in Dynamics 365.` };
    const link = (await getLinkByReferral(deps.db, deps.tenantId, partner.referralId!)) ?? partner;
    const changes = microsoftChanges(record, microsoft);
    const linkChanged = link.microsoftReferralId !== microsoft.id || link.microsoftStatus !== microsoft.status || link.microsoftSubstatus !== microsoft.substatus
      || link.microsoftMsxId !== (microsoft.trackingInfo?.microsoftMsxId ?? null);
    const nextLink: Link = {
      ...link, microsoftReferralId: microsoft.id, microsoftStatus: microsoft.status, microsoftSubstatus: microsoft.substatus,
      microsoftMsxId: microsoft.trackingInfo?.microsoftMsxId ?? null,
    };
    if (!Object.keys(changes).length) {
      if (linkChanged) await saveLink(deps.db, nextLink);
      return { state: "skipped", direction, message: `Microsoft's side (${microsoft.status}/${microsoft.substatus}) is already shown in Dynamics 365.` };
    }
    const msx = microsoft.trackingInfo?.microsoftMsxId;
    const message = `Microsoft's side of the co-sell is ${microsoft.status}/${microsoft.substatus}${msx ? `; Microsoft CRM Identifier ${msx}` : ""}.`;
    const at = ctx.now();
    const c = Opportunity.columns;
    changes[c.audit] = prependAudit(record.audit, auditLine(at, direction, message));
    changes[c.lastSyncedOn] = at.toISOString();
    const result = await ctx.dv.writeRecord(record.type, record.id, record.etag, changes, {
      direction, outcome: "succeeded", message, referralId: partner.referralId, correlationId: job.runId, occurredOn: at,
    });
    if (result.result === "changed") continue;
    if (result.result === "missing") return { state: "skipped", direction, message: `The ${partner.recordType} linked to this engagement was deleted in Dynamics 365.` };
    await saveLink(deps.db, nextLink);
    await recordLocalSyncEvent(deps.db, {
      tenantId: deps.tenantId, runId: job.runId, direction, outcome: "succeeded", recordType: record.type, recordId: record.id, referralId: microsoft.id, message, correlationId: job.runId,
    });
    return { state: "succeeded", direction, message };
  }
  return { state: "failed", direction, retryable: true, message: "The opportunity kept changing while the relay wrote Microsoft's side; the sync will run again." };
}

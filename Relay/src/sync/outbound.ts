// Outbound: a seller's opportunity to Partner Center. Sync = No does nothing; the relay's own writes
// (echoes) do nothing; a deal not shared yet is checked against the readiness rules and, when ready,
// becomes the partner's referral (and, for a co-sell, Microsoft's related referral in the same
// engagement), looked up by externalReferenceId first so that a retry never creates a second one;
// a shared deal is synced as a pair (pair.ts).
import { checkReadiness } from "../../../Core/readiness.ts";
import { readinessSummary } from "../../../Core/messages.ts";
import { toReferralCreate, type DealForReferral } from "../../../Core/mapping.ts";
import { Lead, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import type { SyncJob } from "../queue.ts";
import { PartnerCenterError, type ReferralWithETag } from "../clients/partner-center.ts";
import { CROSS_MARK, auditLine, prependAudit, recordFields, withMark, type OpportunityRecord, type SyncRecord } from "./dataverse-side.ts";
import { OpportunityTable } from "./dataverse-columns.ts";
import { FORCED_REASONS, RetryLater, fingerprint, type SyncContext, type SyncOutcome } from "./context.ts";
import { emptyLink, getLinkByRecord, recordLocalSyncEvent, saveLink, type RecordType } from "./links.ts";
import { ensureMicrosoftReferral, findByExternalReference } from "./partner-center-side.ts";
import { syncPair } from "./pair.ts";

const RELOCK = Symbol("relock");

export async function outbound(ctx: SyncContext, type: RecordType, id: string, job: SyncJob): Promise<SyncOutcome> {
  const { deps } = ctx;
  const known = await getLinkByRecord(deps.db, deps.tenantId, type, id);
  const key = known?.referralId ? `referral:${known.referralId}` : `${type}:${id}`;
  const first = await ctx.locks.run(key, () => outboundLocked(ctx, type, id, job, known?.referralId ?? null));
  if (typeof first === "object" && first !== null && RELOCK in first) {
    // The record names a referral the lock did not cover: take that referral's lock and start again.
    const referralId = first[RELOCK];
    const second = await ctx.locks.run(`referral:${referralId}`, () => outboundLocked(ctx, type, id, job, referralId));
    if (typeof second === "object" && second !== null && RELOCK in second) throw new RetryLater("The record's referral changed while the relay synced it; the sync will run again.");
    return second;
  }
  return first;
}

type Locked = SyncOutcome | { [RELOCK]: string };

async function outboundLocked(ctx: SyncContext, type: RecordType, id: string, job: SyncJob, lockedReferral: string | null): Promise<Locked> {
  const { deps } = ctx;
  const direction = "outbound" as const;
  const record = await ctx.dv.readRecord(type, id);
  if (!record) return { state: "skipped", direction, message: `The ${type} ${id} no longer exists in Dynamics 365; nothing to sync.` };
  const link = await getLinkByRecord(deps.db, deps.tenantId, type, id);
  const referralId = link?.referralId ?? record.referralId;
  if (referralId && referralId !== lockedReferral) return { [RELOCK]: referralId };

  if (!record.sync) {
    if (!referralId && record.syncStatus !== PartnerCenterSyncStatus.NotShared) {
      const c = type === "opportunity" ? Opportunity.columns : Lead.columns;
      await ctx.dv.writeRecord(type, id, record.etag, { [c.syncStatus]: PartnerCenterSyncStatus.NotShared }, undefined);
    }
    return { state: "skipped", direction, message: `Sync with Partner Center is No on this ${type}; nothing was shared.` };
  }

  // Echo guard: the relay's own write, with the synced fields exactly as the relay left them.
  const fields = recordFields(record, link?.baseFields ?? emptyFields());
  const print = fingerprint(fields);
  if (link?.fingerprint === print && record.modifiedBy === deps.relayUserId && !FORCED_REASONS.has(job.reason)) {
    await recordLocalSyncEvent(deps.db, {
      tenantId: deps.tenantId, runId: job.runId, direction, outcome: "skipped", recordType: type, recordId: id, referralId,
      message: "The relay's own write-back: nothing the seller changed, nothing to send.", correlationId: job.runId,
    });
    return { state: "skipped", direction, message: "The relay's own write-back (echo): nothing to send to Partner Center." };
  }

  if (referralId) return syncPair(ctx, { type, recordId: id, referralId, direction, job, record });
  if (record.type === "lead") {
    return { state: "skipped", direction, message: "A lead reaches Partner Center only as the answer to a referral; this one has none." };
  }
  return share(ctx, record, job, print);
}

function emptyFields(): Parameters<typeof fingerprint>[0] {
  return {
    name: "", dealValue: null, currency: null, closeDate: null, notes: "", helpRequested: null, visibleToMicrosoft: false, customerName: "",
    customerAddress: { addressLine1: "", addressLine2: "", city: "", state: "", postalCode: "", country: "" }, customerContact: null, solutions: [],
  };
}

function dealOf(record: OpportunityRecord): DealForReferral {
  return { opportunityId: record.id, fields: record.fields, solutionDetails: record.solutionDetails, team: record.team };
}

/** First share: readiness, then the referral (found or created), then Microsoft's side, then the pair sync. */
async function share(ctx: SyncContext, record: OpportunityRecord, job: SyncJob, print: string): Promise<SyncOutcome> {
  const { deps } = ctx;
  const readiness = checkReadiness(record.facts);
  if (!readiness.ready) return notReady(ctx, record, job, print, readinessSummary(readiness.problems, 1033));

  const preface: string[] = [];
  let found: ReferralWithETag | undefined = await findByExternalReference(ctx.pc, record.id);
  if (found) preface.push(`Found referral ${found.referral.id}, which an earlier attempt created, and linked it.`);
  else {
    try {
      found = await ctx.pc.createReferral(toReferralCreate(dealOf(record)));
      preface.push(`Shared with Partner Center as referral ${found.referral.id}.`);
    } catch (error) {
      // No answer to the create: it may have landed. Look before anything is repeated.
      if (error instanceof PartnerCenterError && error.outcomeUnknown) {
        found = await findByExternalReference(ctx.pc, record.id);
        if (!found) throw error;
        preface.push(`Shared with Partner Center as referral ${found.referral.id}.`);
      } else throw error;
    }
  }
  const referral = found.referral;
  // Linked before anything else is written, so an interrupted run continues with this referral.
  const link = (await getLinkByRecord(deps.db, deps.tenantId, "opportunity", record.id)) ?? emptyLink(deps.tenantId, "opportunity", record.id);
  await saveLink(deps.db, { ...link, referralId: referral.id, engagementId: referral.engagementId, referralETag: found.eTag, baseFields: null, fingerprint: null, referralStatus: referral.status, referralSubstatus: referral.substatus });

  let microsoft;
  if (record.fields.helpRequested !== null) {
    const result = await ensureMicrosoftReferral(ctx.pc, referral, dealOf(record));
    microsoft = result.referral;
    if (result.created) preface.push(`Asked Microsoft to co-sell (Microsoft's referral ${microsoft.id} in the same engagement).`);
    await saveLink(deps.db, { ...link, referralId: referral.id, engagementId: referral.engagementId, referralETag: found.eTag, baseFields: null, fingerprint: null, referralStatus: referral.status, referralSubstatus: referral.substatus, microsoftReferralId: microsoft.id, microsoftStatus: microsoft.status, microsoftSubstatus: microsoft.substatus });
  }
  return syncPair(ctx, { type: "opportunity", recordId: record.id, referralId: referral.id, direction: "outbound", job, record, referral: found, created: true, microsoft, preface });
}

/** Not ready for Partner Center: status Failed, the plain-words reason in Last sync error, Audit and a Sync Event; no referral. */
async function notReady(ctx: SyncContext, first: OpportunityRecord, job: SyncJob, print: string, summary: string): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = "outbound" as const;
  const whatToDo = summary;
  const message = `Not shared with Partner Center. ${summary}`;
  let record: SyncRecord | undefined = first;
  for (let attempt = 0; attempt < 3 && record; attempt++) {
    const c = Opportunity.columns;
    if (record.syncStatus === PartnerCenterSyncStatus.Failed && record.lastSyncError === summary) break; // already says so
    const at = ctx.now();
    const changes: Record<string, unknown> = {
      [c.syncStatus]: PartnerCenterSyncStatus.Failed,
      [c.lastSyncError]: summary,
      [c.audit]: prependAudit(record.audit, auditLine(at, direction, message)),
    };
    if (record.type === "opportunity" && record.settings.displayCheckMarkInName) {
      const marked = withMark(record.name, CROSS_MARK);
      if (marked !== record.name) changes[OpportunityTable.name] = marked;
    }
    const result = await ctx.dv.writeRecord("opportunity", record.id, record.etag, changes, {
      direction, outcome: "failed", message, referralId: null, correlationId: job.runId, occurredOn: at,
    });
    if (result.result !== "changed") break;
    record = await ctx.dv.readOpportunity(first.id);
  }
  const link = (await getLinkByRecord(deps.db, deps.tenantId, "opportunity", first.id)) ?? emptyLink(deps.tenantId, "opportunity", first.id);
  if (!link.referralId) await saveLink(deps.db, { ...link, fingerprint: print });
  await recordLocalSyncEvent(deps.db, {
    tenantId: deps.tenantId, runId: job.runId, direction, outcome: "failed", recordType: "opportunity", recordId: first.id, referralId: null, message, correlationId: job.runId,
  });
  return { state: "failed", direction, message, whatToDo, retryable: false };
}

// Accept = qualify. A seller qualifies a synced lead: the referral becomes Active/Accepted in Partner
// Center (with the lead's revenue and close date, which Partner Center needs, and externalReferenceId =
// the new opportunity), and moves to the opportunity the qualify created: Referral Identifier, link,
// Sync = Yes, Microsoft's side. The lead keeps its history and says where the referral went.
// Every step is idempotent, so a run interrupted anywhere finishes on retry: the PATCH is skipped when
// Partner Center already holds it, and the move is skipped once the opportunity's link names the referral.
// (The synchronous lead-qualify-rules step refuses a qualify Partner Center would no longer accept,
// before anything changes; a referral that closed in between is said plainly on the lead.)
import { fieldsFromReferral, toReferralPatch, type PatchOperation } from "../../../Core/mapping.ts";
import { decideLifecycle } from "../../../Core/lifecycle.ts";
import { Lead, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import type { ReferralWithETag } from "../clients/partner-center.ts";
import { RetryLater, type SyncContext, type SyncOutcome } from "./context.ts";
import { auditLine, prependAudit, statusChoice, substatusChoice, type LeadRecord } from "./dataverse-side.ts";
import { emptyLink, getLinkByRecord, recordLocalSyncEvent, saveLink } from "./links.ts";
import { findMicrosoftReferral, patchReferral, referralLink } from "./partner-center-side.ts";
import { syncPair, type PairOptions } from "./pair.ts";

const MAX_ATTEMPTS = 4;

/** The operations that accept the referral for this opportunity, with what Partner Center lacks of the lead's values. */
export function acceptOperations(referral: ReferralWithETag["referral"], lead: LeadRecord, opportunityId: string): PatchOperation[] {
  const operations: PatchOperation[] = [];
  // The accept itself is the lifecycle's decision for a qualified lead (Core/lifecycle.ts), not a rule of its own here.
  const decision = decideLifecycle({ type: "lead", state: "qualified" }, referral, null);
  if (decision.kind === "toPartnerCenter") {
    operations.push({ op: "replace", path: "/status", value: decision.status }, { op: "replace", path: "/substatus", value: decision.substatus });
  }
  if ((referral.externalReferenceId ?? "").toLowerCase() !== opportunityId) operations.push({ op: "replace", path: "/externalReferenceId", value: opportunityId });
  const pc = fieldsFromReferral(referral);
  const changes: { dealValue?: number | null; closeDate?: string | null } = {};
  if (lead.partial.dealValue !== undefined && lead.partial.dealValue !== null && lead.partial.dealValue !== pc.dealValue) changes.dealValue = lead.partial.dealValue;
  if (lead.partial.closeDate && lead.partial.closeDate.slice(0, 10) !== (pc.closeDate ?? "").slice(0, 10)) changes.closeDate = lead.partial.closeDate;
  return [...operations, ...toReferralPatch(changes, [])];
}

export async function carryToOpportunity(ctx: SyncContext, first: LeadRecord, firstGot: ReferralWithETag, options: PairOptions): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = "outbound" as const;
  const opportunityId = first.qualifyingOpportunityId;
  let got = firstGot;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const lead = attempt === 1 ? first : await ctx.dv.readLead(first.id);
    if (!lead) return { state: "skipped", direction, message: `The lead ${first.id} no longer exists in Dynamics 365.` };
    if (attempt > 1) got = await ctx.pc.getReferral(got.referral.id);
    const referral = got.referral;

    if (!opportunityId) {
      return leadSays(ctx, lead, referral.id, options, PartnerCenterSyncStatus.Failed,
        "The lead was qualified without creating an opportunity, so the referral has nowhere to go and was not accepted. Qualify leads from Partner Center with an opportunity, or accept the referral in Partner Center.");
    }
    const moved = await getLinkByRecord(deps.db, deps.tenantId, "opportunity", opportunityId);
    if (moved?.referralId === referral.id) {
      // Already carried: make sure the lead says so (an earlier run may have stopped before it did).
      return leadSays(ctx, lead, referral.id, options, PartnerCenterSyncStatus.Synced,
        `Accepted in Partner Center when the lead was qualified; the referral now lives on the opportunity ${opportunityId}.`, referral);
    }
    if (referral.status === "Closed") {
      return leadSays(ctx, lead, referral.id, options, PartnerCenterSyncStatus.ClosedInPartnerCenter,
        `The lead was qualified, but the referral was already ${referral.status}/${referral.substatus} in Partner Center, so it could not be accepted; the new opportunity is not shared with Partner Center.`, referral);
    }

    // 1. Accept in Partner Center (If-Match: a change in between means read again and decide again).
    const operations = acceptOperations(referral, lead, opportunityId);
    let accepted = referral;
    let eTag = got.eTag;
    if (operations.length) {
      const patched = await patchReferral(ctx.pc, referral.id, operations, got.eTag);
      if (!patched) continue;
      accepted = patched.referral;
      eTag = patched.eTag;
    }

    // 2. The opportunity takes the referral (Sync = Yes, identifier, link, help, visibility, status).
    const opportunity = await ctx.dv.readOpportunity(opportunityId);
    if (!opportunity) {
      return leadSays(ctx, lead, referral.id, options, PartnerCenterSyncStatus.Failed,
        `The referral was accepted in Partner Center, but the opportunity ${opportunityId} the qualify created no longer exists.`);
    }
    const c = Opportunity.columns;
    const at = ctx.now();
    const message = `Accepted referral ${accepted.id} in Partner Center (${accepted.status}/${accepted.substatus}) when the lead "${lead.name}" was qualified; the referral now lives on this opportunity.`;
    const changes: Record<string, unknown> = {
      [c.syncWithPartnerCenter]: true,
      [c.referralIdentifier]: accepted.id,
      [c.referralLink]: referralLink(opportunity.settings.referralLinkTemplate, accepted.id),
      [c.referralStatus]: statusChoice(accepted.status),
      [c.referralSubstatus]: substatusChoice(accepted.substatus),
      [c.syncStatus]: PartnerCenterSyncStatus.Synced,
      [c.lastSyncError]: null,
      [c.lastSyncedOn]: at.toISOString(),
      [c.audit]: prependAudit(opportunity.audit, auditLine(at, direction, message)),
    };
    const help = lead.row[Lead.columns.helpRequested];
    if (typeof help === "number" && opportunity.row[c.helpRequested] == null) changes[c.helpRequested] = help;
    if (accepted.consent?.consentToShareReferralWithMicrosoftSellers === true) changes[c.referralVisibility] = true;
    const written = await ctx.dv.writeRecord("opportunity", opportunityId, opportunity.etag, changes, {
      direction, outcome: "succeeded", message, referralId: accepted.id, correlationId: options.job.runId, occurredOn: at,
    });
    if (written.result === "changed") continue;
    if (written.result === "missing") {
      return leadSays(ctx, lead, referral.id, options, PartnerCenterSyncStatus.Failed,
        `The referral was accepted in Partner Center, but the opportunity ${opportunityId} the qualify created was deleted before it could take the referral.`);
    }

    // 3. The link moves from the lead to the opportunity; the pair sync takes it from there (Partner
    // Center's values for what the qualify did not copy, Microsoft's side).
    const leadLink = await getLinkByRecord(deps.db, deps.tenantId, "lead", lead.id);
    await deps.db.query(`DELETE FROM links WHERE tenant_id = $1 AND record_type = 'lead' AND record_id = $2`, [deps.tenantId, lead.id]);
    await saveLink(deps.db, {
      ...emptyLink(deps.tenantId, "opportunity", opportunityId),
      referralId: accepted.id, engagementId: accepted.engagementId, referralETag: eTag ?? null,
      microsoftReferralId: leadLink?.microsoftReferralId ?? null, microsoftStatus: leadLink?.microsoftStatus ?? null,
      microsoftSubstatus: leadLink?.microsoftSubstatus ?? null, microsoftMsxId: leadLink?.microsoftMsxId ?? null,
      referralStatus: accepted.status, referralSubstatus: accepted.substatus, recordETag: written.etag ?? null,
    });
    const microsoft = accepted.type === "Shared" ? await findMicrosoftReferral(ctx.pc, accepted.engagementId) : undefined;
    const pair = await syncPair(ctx, { type: "opportunity", recordId: opportunityId, referralId: accepted.id, direction, job: options.job, ...(microsoft ? { microsoft } : {}) });
    if (pair.state === "failed") return pair;

    // 4. The lead says where its referral went.
    await leadSays(ctx, lead, accepted.id, options, PartnerCenterSyncStatus.Synced,
      `Accepted in Partner Center (${accepted.status}/${accepted.substatus}) when the lead was qualified; the referral now lives on the opportunity ${opportunityId}.`, accepted);
    return { state: "succeeded", direction, message };
  }
  throw new RetryLater(`The lead's referral kept changing while the relay accepted it (${MAX_ATTEMPTS} attempts); the sync will run again.`);
}

/** One line on the lead (status, Audit, Sync Event), written once: a lead that already says it is left alone. */
async function leadSays(
  ctx: SyncContext, lead: LeadRecord, referralId: string, options: PairOptions, syncStatus: number, text: string,
  referral?: ReferralWithETag["referral"],
): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = "outbound" as const;
  const c = Lead.columns;
  const failed = syncStatus === PartnerCenterSyncStatus.Failed;
  const status = referral ? statusChoice(referral.status) : lead.referralStatus;
  const substatus = referral ? substatusChoice(referral.substatus) : lead.referralSubstatus;
  if (lead.syncStatus === syncStatus && lead.referralStatus === status && lead.referralSubstatus === substatus && (failed ? lead.lastSyncError === text : lead.lastSyncError === null)) {
    return { state: "skipped", direction, message: text };
  }
  const at = ctx.now();
  const changes: Record<string, unknown> = {
    [c.syncStatus]: syncStatus,
    [c.lastSyncError]: failed ? text : null,
    [c.referralStatus]: status,
    [c.referralSubstatus]: substatus,
    [c.lastSyncedOn]: at.toISOString(),
    [c.audit]: prependAudit(lead.audit, auditLine(at, direction, text)),
  };
  const outcome = failed ? "failed" : "succeeded";
  const written = await ctx.dv.writeRecord("lead", lead.id, lead.etag, changes, { direction, outcome, message: text, referralId, correlationId: options.job.runId, occurredOn: at });
  if (written.result === "changed") throw new RetryLater("The lead changed while the relay wrote to it; the sync will run again.");
  await recordLocalSyncEvent(deps.db, { tenantId: deps.tenantId, runId: options.job.runId, direction, outcome, recordType: "lead", recordId: lead.id, referralId, message: text, correlationId: options.job.runId });
  return failed ? { state: "failed", direction, retryable: false, message: text } : { state: "succeeded", direction, message: text };
}

// One linked pair, both ways: a Dynamics record and the partner's referral it is tied to. Reads both
// sides, merges them three ways against what they held after the last sync (Core/mapping.ts), sends
// what Partner Center must take as a JSON Patch with If-Match, writes what Dynamics must take with
// If-Match together with its Audit line and Sync Event, closes the opportunity when the partner's
// referral closed as Won or Lost, and records the new base and fingerprints in the link.
// A 412 on either side means someone wrote in between: re-read both, merge again, never overwrite.
import { FIELDS, fieldsFromReferral, mergeFields, normalize, toReferralPatch, unpatchable, toDate, type Conflict, type PatchOperation, type SyncedFields } from "../../../Core/mapping.ts";
import { canMove, isTerminal, type Referral, type Status, type Substatus } from "../../../Core/referral.ts";
import { decideLifecycle, leadDisqualifyStatus, statusReasonText, type LifecycleDecision, type RecordState } from "../../../Core/lifecycle.ts";
import { Lead, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import type { SyncJob } from "../queue.ts";
import type { ReferralWithETag } from "../clients/partner-center.ts";
import {
  Actions, CurrencyTable, LEAD_DISQUALIFY_REASONS, LeadState, LeadTable, OPPORTUNITY_LOSS_REASONS, OpportunityClose, OpportunityState,
  OpportunityTable, bind,
} from "./dataverse-columns.ts";
import {
  CHECK_MARK, auditLine, prependAudit, recordFields, statusChoice, statusName, stripMark, substatusChoice, substatusName, withMark,
  type SyncRecord,
} from "./dataverse-side.ts";
import { RetryLater, fingerprint, type Direction, type SyncContext, type SyncOutcome } from "./context.ts";
import { emptyLink, getLinkByRecord, recordLocalSyncEvent, saveLink, type Link, type RecordType } from "./links.ts";
import { getReferralOrUndefined, patchReferral, referralLink } from "./partner-center-side.ts";
import { carryToOpportunity } from "./qualify.ts";

export interface PairOptions {
  type: RecordType;
  recordId: string;
  referralId: string;
  direction: Direction;
  job: SyncJob;
  /** Already read by the caller (used on the first attempt only). */
  record?: SyncRecord;
  referral?: ReferralWithETag;
  /** The referral was just created from this record: where they differ, Dynamics is right. */
  created?: boolean;
  /** Microsoft's side of the engagement, when the caller has it (just created, or found). */
  microsoft?: Referral;
  /** What happened before the merge (created the referral, created the record), for the message. */
  preface?: string[];
}

const MAX_ATTEMPTS = 4;

const LABELS: Record<keyof SyncedFields, string> = {
  name: "name", dealValue: "deal value", currency: "currency", closeDate: "close date", notes: "notes", helpRequested: "How can Microsoft help?",
  visibleToMicrosoft: "visibility to Microsoft sellers", customerName: "customer name", customerAddress: "customer address",
  customerContact: "customer contact", solutions: "Microsoft solutions",
};

const PATCHABLE = new Set(FIELDS.filter((f) => f.patchPath).map((f) => f.field));

function show(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "(none)";
  if (typeof value === "object") return Object.values(value as Record<string, unknown>).filter((v) => v !== "" && v !== null).join(" ") || "(empty)";
  return String(value);
}

export function conflictText(conflict: Conflict): string {
  return `Conflict on ${LABELS[conflict.field]}: Dynamics 365 had ${show(conflict.dynamics)}, Partner Center had ${show(conflict.partnerCenter)}; ` +
    `kept the ${conflict.winner === "dynamics" ? "Dynamics 365" : "Partner Center"} value (${conflict.reason}).`;
}

const list = (fields: Iterable<keyof SyncedFields>): string => [...fields].map((f) => LABELS[f]).join(", ");

/** The Dynamics columns for the fields Partner Center changed. Currency needs its transactioncurrency id. */
async function dynamicsChanges(ctx: SyncContext, record: SyncRecord, toDynamics: Partial<SyncedFields>, notes: string[]): Promise<{ changes: Record<string, unknown>; written: Partial<SyncedFields> }> {
  const changes: Record<string, unknown> = {};
  const written: Record<string, unknown> = {};
  const opportunity = record.type === "opportunity";
  for (const [field, value] of Object.entries(toDynamics) as Array<[keyof SyncedFields, unknown]>) {
    switch (field) {
      // An opportunity's columns as the admin's field mapping names them (the standard ones by default).
      case "name": changes[opportunity ? record.mapping.opportunity.name : LeadTable.subject] = value; break;
      case "dealValue": changes[opportunity ? record.mapping.dealValue : LeadTable.estimatedAmount] = value; break;
      case "closeDate": changes[opportunity ? record.mapping.opportunity.closeDate : LeadTable.estimatedCloseDate] = toDate(value as string | null); break;
      case "notes": changes[opportunity ? record.mapping.opportunity.notes : LeadTable.description] = value; break;
      case "visibleToMicrosoft":
        if (!opportunity) continue;
        changes[Opportunity.columns.referralVisibility] = value === true;
        break;
      case "currency": {
        const mapped = opportunity ? record.mapping.currency : undefined;
        if (mapped?.kind === "text") {
          changes[mapped.column] = value;
          break;
        }
        const id = typeof value === "string" && value ? await ctx.dv.currencyId(value) : undefined;
        if (!id) {
          notes.push(`Partner Center's currency ${show(value)} is not a currency in this Dynamics 365 environment; the deal's currency was left as it is.`);
          continue;
        }
        Object.assign(changes, bind(mapped?.navigation ?? OpportunityTable.currency, CurrencyTable.entitySet, id));
        break;
      }
      default:
        continue;
    }
    written[field] = value;
  }
  return { changes, written: written as Partial<SyncedFields> };
}

/** The status columns a record should show for this referral (only those that differ). */
function statusChanges(ctx: SyncContext, record: SyncRecord, referral: Referral, link: Link | undefined, notes: string[]): Record<string, unknown> {
  const c = record.type === "opportunity" ? Opportunity.columns : Lead.columns;
  const changes: Record<string, unknown> = {};
  if (record.referralId !== referral.id) changes[c.referralIdentifier] = referral.id;
  const url = referralLink(record.settings.referralLinkTemplate, referral.id);
  if (record.referralLink !== url) changes[c.referralLink] = url;
  const shownStatus = statusName(record.referralStatus) as Status | null;
  const shownSubstatus = substatusName(record.referralSubstatus) as Substatus | null;
  const from = link?.referralStatus && link.referralSubstatus
    ? { status: link.referralStatus as Status, substatus: link.referralSubstatus as Substatus }
    : shownStatus && shownSubstatus ? { status: shownStatus, substatus: shownSubstatus } : undefined;
  const to = { status: referral.status, substatus: referral.substatus };
  if (from && !canMove(from, to)) {
    notes.push(`Partner Center answered ${to.status}/${to.substatus} for a referral already ${from.status}/${from.substatus}; a closed referral is never reopened, so the status was left as it is.`);
  } else {
    if (statusChoice(referral.status) !== record.referralStatus) changes[c.referralStatus] = statusChoice(referral.status);
    if (substatusChoice(referral.substatus) !== record.referralSubstatus) changes[c.referralSubstatus] = substatusChoice(referral.substatus);
  }
  if (record.syncStatus !== PartnerCenterSyncStatus.Synced) changes[c.syncStatus] = PartnerCenterSyncStatus.Synced;
  if (record.lastSyncError !== null) changes[c.lastSyncError] = null;
  return changes;
}

/** Microsoft's side on the partner's opportunity: Microsoft CRM Identifier and Microsoft's status (only what differs). */
export function microsoftChanges(record: SyncRecord, microsoft: Referral | undefined): Record<string, unknown> {
  if (!microsoft || record.type !== "opportunity") return {};
  const c = Opportunity.columns;
  const changes: Record<string, unknown> = {};
  const msx = microsoft.trackingInfo?.microsoftMsxId;
  if (msx && record.microsoftCrmId !== msx) changes[c.microsoftCrmIdentifier] = msx;
  if (statusChoice(microsoft.status) !== record.microsoftStatus) changes[c.microsoftStatus] = statusChoice(microsoft.status);
  if (substatusChoice(microsoft.substatus) !== record.microsoftSubstatus) changes[c.microsoftSubstatus] = substatusChoice(microsoft.substatus);
  return changes;
}

/** The name with the ✔ the check-mark variable asks for (or the stored name when nothing changes). */
function markedName(record: SyncRecord, changes: Record<string, unknown>): void {
  if (record.type !== "opportunity" || !record.settings.displayCheckMarkInName) return;
  const name = typeof changes[OpportunityTable.name] === "string" ? (changes[OpportunityTable.name] as string) : record.name;
  const marked = withMark(name, CHECK_MARK);
  if (marked !== record.name) changes[OpportunityTable.name] = marked;
}

/** Closes the opportunity when the partner's referral closed as Won or Lost; an opportunity already closed stays as it is. */
async function closeOpportunity(ctx: SyncContext, record: SyncRecord, referral: Referral, fields: SyncedFields): Promise<string | undefined> {
  if (record.type !== "opportunity" || referral.status !== "Closed" || record.statecode !== OpportunityState.Open) return undefined;
  if (referral.substatus !== "Won" && referral.substatus !== "Lost") return undefined;
  const won = referral.substatus === "Won";
  const close: Record<string, unknown> = {
    [OpportunityClose.subject]: won ? "Won in Partner Center" : "Lost in Partner Center",
    ...(referral.statusReason ? { [OpportunityClose.description]: referral.statusReason } : {}),
    ...(won && fields.dealValue !== null ? { [OpportunityClose.actualRevenue]: fields.dealValue } : {}),
    [OpportunityClose.actualEnd]: ctx.now().toISOString().slice(0, 10),
    [OpportunityClose.opportunityBind]: `/${OpportunityTable.entitySet}(${record.id})`,
  };
  // The status reason the admin's field mapping names (checked to be a Won / Lost one), else Won 3 / Canceled 4.
  const statuses = record.mapping.statuses.opportunity;
  await ctx.dv.client.executeAction(won ? Actions.win : Actions.lose, { Status: won ? statuses.won : statuses.lost, OpportunityClose: close });
  return won ? "Closed the opportunity as won." : "Closed the opportunity as lost.";
}

/** Where the record stands in Dynamics 365, in the lifecycle's words. */
export function recordStateOf(record: SyncRecord): RecordState {
  if (record.type === "opportunity") {
    return { type: "opportunity", state: record.statecode === OpportunityState.Won ? "won" : record.statecode === OpportunityState.Lost ? "lost" : "open" };
  }
  return { type: "lead", state: record.statecode === LeadState.Qualified ? "qualified" : record.statecode === LeadState.Disqualified ? "disqualified" : "open" };
}


/**
 * The JSON Patch operations for the seller's decision (accept, decline, win, lose): the status pair, the
 * reason in the seller's words (the close reason and note, or the disqualify reason and note), and for a
 * won deal its final value.
 */
async function decisionOperations(ctx: SyncContext, record: SyncRecord, decision: Extract<LifecycleDecision, { kind: "toPartnerCenter" }>): Promise<{ operations: PatchOperation[]; reason: string | null }> {
  const operations: PatchOperation[] = [
    { op: "replace", path: "/status", value: decision.status },
    { op: "replace", path: "/substatus", value: decision.substatus },
  ];
  let reason: string | null = null;
  if (record.type === "lead" && decision.status === "Closed") {
    reason = statusReasonText(record.statuscode !== null ? LEAD_DISQUALIFY_REASONS[record.statuscode] ?? null : null, record.qualificationComments);
  } else if (record.type === "opportunity" && decision.status === "Closed") {
    const close = await ctx.dv.latestOpportunityClose(record.id);
    const label = decision.substatus === "Won" ? "Won" : record.statuscode !== null ? OPPORTUNITY_LOSS_REASONS[record.statuscode] ?? null : null;
    reason = statusReasonText(label, close?.description ?? null);
    const finalValue = close?.actualRevenue ?? record.actualValue;
    if (decision.substatus === "Won" && finalValue !== null) operations.push({ op: "replace", path: "/details/dealValue", value: finalValue });
  }
  if (reason) operations.push({ op: "replace", path: "/statusReason", value: reason });
  return { operations, reason };
}

/**
 * The record was reopened (or answered) after its referral closed in Partner Center: say so once on the
 * record (sync status Closed in Partner Center, Audit, Sync Event) and write nothing to Partner Center.
 */
async function closedInPartnerCenter(ctx: SyncContext, record: SyncRecord, referral: Referral, eTag: string | undefined, link: Link | undefined, why: string, options: PairOptions): Promise<SyncOutcome> {
  const { deps } = ctx;
  const direction = options.direction;
  const nextLink: Link = {
    ...(link ?? emptyLink(deps.tenantId, options.type, options.recordId)),
    referralId: referral.id, engagementId: referral.engagementId, referralETag: eTag ?? null,
    referralStatus: referral.status, referralSubstatus: referral.substatus, referralFingerprint: fingerprint(fieldsFromReferral(referral)),
    fingerprint: fingerprint(recordFields(record, link?.baseFields ?? fieldsFromReferral(referral))),
  };
  if (record.syncStatus === PartnerCenterSyncStatus.ClosedInPartnerCenter) {
    await saveLink(deps.db, { ...nextLink, recordETag: record.etag });
    return { state: "skipped", direction, message: `${why} Nothing was written.` };
  }
  const notes: string[] = [];
  const c = record.type === "opportunity" ? Opportunity.columns : Lead.columns;
  const changes: Record<string, unknown> = { ...statusChanges(ctx, record, referral, link, notes), [c.syncStatus]: PartnerCenterSyncStatus.ClosedInPartnerCenter };
  const message = [why, ...notes].join("\n");
  const at = ctx.now();
  changes[c.lastSyncedOn] = at.toISOString();
  changes[c.audit] = prependAudit(record.audit, auditLine(at, direction, message));
  const written = await ctx.dv.writeRecord(record.type, record.id, record.etag, changes, { direction, outcome: "skipped", message, referralId: referral.id, correlationId: options.job.runId, occurredOn: at });
  if (written.result === "changed") throw new RetryLater(`The ${record.type} changed while the relay wrote that its referral is closed; the sync will run again.`);
  if (written.result === "missing") return { state: "skipped", direction, message: `The ${record.type} ${record.id} was deleted in Dynamics 365 while the relay synced it.` };
  await saveLink(deps.db, { ...nextLink, recordETag: written.etag ?? null, lastSyncedAt: at });
  await recordLocalSyncEvent(deps.db, {
    tenantId: deps.tenantId, runId: options.job.runId, direction, outcome: "skipped", recordType: record.type, recordId: record.id, referralId: referral.id, message, correlationId: options.job.runId,
  });
  return { state: "succeeded", direction, message };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Syncs a linked pair; see the header comment. */
export async function syncPair(ctx: SyncContext, options: PairOptions): Promise<SyncOutcome> {
  const { deps } = ctx;
  const { direction } = options;
  // What an attempt already sent to Partner Center, kept for the message when a later attempt writes Dynamics.
  const sentEarlier: string[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const record = (attempt === 1 ? options.record : undefined) ?? (await ctx.dv.readRecord(options.type, options.recordId));
    if (!record) return { state: "skipped", direction, message: `The ${options.type} ${options.recordId} no longer exists in Dynamics 365; nothing to sync.` };
    if (!record.sync) return { state: "skipped", direction, message: `Sync with Partner Center is No on this ${options.type}; nothing was synced.` };
    const link = await getLinkByRecord(deps.db, deps.tenantId, options.type, options.recordId);
    const got = (attempt === 1 ? options.referral : undefined) ?? (await getReferralOrUndefined(ctx.pc, options.referralId));
    if (!got) {
      return {
        state: "failed", direction, retryable: false,
        message: `Partner Center has no referral ${options.referralId} (or the relay's service account cannot see it).`,
        whatToDo: "Check the Referral Identifier on the record and the service account's Partner Center role; clear the identifier to share the deal again.",
      };
    }
    const referral = got.referral;
    // Qualifying a synced lead accepts its referral and carries it to the new opportunity.
    if (record.type === "lead" && record.statecode === LeadState.Qualified) return carryToOpportunity(ctx, record, got, options);
    const previous = link?.referralStatus && link.referralSubstatus ? { status: link.referralStatus as Status, substatus: link.referralSubstatus as Substatus } : null;
    const lifecycle = decideLifecycle(recordStateOf(record), referral, previous);
    if (lifecycle.kind === "closedInPartnerCenter") return closedInPartnerCenter(ctx, record, referral, got.eTag, link, lifecycle.why, options);
    const pcFields = fieldsFromReferral(referral);
    // The base: the last synced fields; none yet for a referral just created from this record (Dynamics
    // is right), nor for one a share created and linked before it was interrupted (the link has the
    // referral but no base yet: the referral holds what the record held then, so Dynamics is right too,
    // and a seller's edit made meanwhile is sent, not reverted); a record found by its identifier without
    // a link takes Partner Center's values.
    let base: SyncedFields | null = link?.baseFields ?? null;
    const dynamics = recordFields(record, base ?? pcFields);
    const shareInterrupted = link?.referralId === options.referralId && link.baseFields === null;
    if (!base && !options.created && !shareInterrupted) base = dynamics;
    const merge = mergeFields(base, dynamics, pcFields);
    const notes: string[] = [];

    // ---- Partner Center
    const toPartnerCenter: Partial<SyncedFields> = {};
    for (const [field, value] of Object.entries(merge.toPartnerCenter) as Array<[keyof SyncedFields, unknown]>) {
      if (PATCHABLE.has(field)) (toPartnerCenter as Record<string, unknown>)[field] = value;
    }
    const unsent = unpatchable(merge.toPartnerCenter);
    if (unsent.length) notes.push(`Partner Center does not take changes to ${list(unsent)} on an existing referral; they stay as they are there.`);
    const merged: Record<string, unknown> = { ...merge.merged };
    if (isTerminal(referral.status) && Object.keys(toPartnerCenter).length) {
      notes.push(`The referral is ${referral.status}/${referral.substatus} in Partner Center, so changes to ${list(Object.keys(toPartnerCenter) as Array<keyof SyncedFields>)} were not sent.`);
      // Not sent: the base keeps what Partner Center holds, so the seller's value is neither lost nor taken for synced.
      for (const key of Object.keys(toPartnerCenter)) {
        delete (toPartnerCenter as Record<string, unknown>)[key];
        merged[key] = pcFields[key as keyof SyncedFields];
      }
    }
    let after = referral;
    let eTag = got.eTag;
    const sent = Object.keys(toPartnerCenter) as Array<keyof SyncedFields>;
    const decision = lifecycle.kind === "toPartnerCenter" ? await decisionOperations(ctx, record, lifecycle) : undefined;
    const decided = decision && lifecycle.kind === "toPartnerCenter"
      ? `${lifecycle.why} Sent to Partner Center: ${lifecycle.status}/${lifecycle.substatus}${decision.reason ? ` (${decision.reason})` : ""}.`
      : undefined;
    const state = recordStateOf(record).state;
    if (record.type === "opportunity" && (state === "won" || state === "lost") && referral.status === "Closed" && referral.substatus.toLowerCase() !== state) {
      notes.push(`The opportunity is closed as ${state === "won" ? "Won" : "Lost"} in Dynamics 365 and the referral as ${referral.substatus} in Partner Center; both are final, so neither was changed.`);
    }
    if (sent.length || decision) {
      const operations = [...toReferralPatch(toPartnerCenter, record.type === "opportunity" ? record.solutionDetails : []), ...(decision?.operations ?? [])];
      const patched = await patchReferral(ctx.pc, referral.id, operations, got.eTag);
      if (!patched) continue; // changed since read: read both again and merge again
      after = patched.referral;
      eTag = patched.eTag;
      if (decided) sentEarlier.push(decided);
      if (sent.length) sentEarlier.push(`Sent to Partner Center: ${list(sent)}.`);
    }

    // ---- Dynamics
    const { changes, written } = await dynamicsChanges(ctx, record, merge.toDynamics, notes);
    const fieldChanges = Object.keys(written) as Array<keyof SyncedFields>;
    Object.assign(changes, statusChanges(ctx, record, after, link, notes), microsoftChanges(record, options.microsoft));
    const statusChanged = statusChoice(after.status) !== record.referralStatus || substatusChoice(after.substatus) !== record.referralSubstatus;
    const willClose = lifecycle.kind === "toDynamics" && lifecycle.action !== "disqualify" && record.type === "opportunity" && record.statecode === OpportunityState.Open;
    const willDisqualify = lifecycle.kind === "toDynamics" && lifecycle.action === "disqualify" && record.type === "lead" && record.statecode === LeadState.Open;
    if (willDisqualify) {
      changes[LeadTable.statecode] = LeadState.Disqualified;
      // The admin's field mapping may name other Disqualified status reasons (checked against the lead's metadata).
      changes[LeadTable.statuscode] = leadDisqualifyStatus(after.substatus, record.mapping.statuses.lead);
    }
    const dynamicsAfter = record.type === "lead"
      ? normalize({ ...(merged as unknown as SyncedFields), ...record.partial, ...written })
      : normalize({ ...dynamics, ...written });
    const referralAfter = fieldsFromReferral(after);
    const nextLink: Link = {
      ...(link ?? emptyLink(deps.tenantId, options.type, options.recordId)),
      referralId: after.id, engagementId: after.engagementId, referralETag: eTag,
      ...(options.microsoft ? {
        microsoftReferralId: options.microsoft.id, microsoftStatus: options.microsoft.status, microsoftSubstatus: options.microsoft.substatus,
        microsoftMsxId: options.microsoft.trackingInfo?.microsoftMsxId ?? null,
      } : {}),
      baseFields: normalize(merged as unknown as SyncedFields), fingerprint: fingerprint(dynamicsAfter), referralFingerprint: fingerprint(referralAfter),
      referralStatus: after.status, referralSubstatus: after.substatus, lastSyncedAt: ctx.now(),
      respondBy: after.status === "New" && after.expirationDateTime ? new Date(after.expirationDateTime) : null,
    };

    const meaningful = sentEarlier.length > 0 || Object.keys(changes).length > 0 || merge.conflicts.length > 0 || notes.length > 0 || (options.preface?.length ?? 0) > 0 || willClose;
    if (!meaningful) {
      const unchanged = link && link.fingerprint === nextLink.fingerprint && link.referralFingerprint === nextLink.referralFingerprint
        && same(link.baseFields, nextLink.baseFields) && link.referralStatus === nextLink.referralStatus && link.referralSubstatus === nextLink.referralSubstatus
        && link.referralETag === nextLink.referralETag && link.microsoftReferralId === nextLink.microsoftReferralId
        && (link.respondBy?.getTime() ?? null) === (nextLink.respondBy?.getTime() ?? null);
      if (!unchanged) await saveLink(deps.db, { ...nextLink, recordETag: record.etag, lastSyncedAt: link?.lastSyncedAt ?? ctx.now() });
      return { state: "skipped", direction, message: `Dynamics 365 and Partner Center already agree on referral ${after.id}; nothing to write.` };
    }

    const lines = [...(options.preface ?? []), ...sentEarlier];
    if (fieldChanges.length) lines.push(`Updated in Dynamics 365 from Partner Center: ${list(fieldChanges)}.`);
    if (statusChanged && !notes.some((n) => n.includes("never reopened"))) lines.push(`Referral status: ${after.status}/${after.substatus}.`);
    if (options.microsoft && Object.keys(microsoftChanges(record, options.microsoft)).length) {
      lines.push(`Microsoft's side: ${options.microsoft.status}/${options.microsoft.substatus}${options.microsoft.trackingInfo?.microsoftMsxId ? `, Microsoft CRM Identifier ${options.microsoft.trackingInfo.microsoftMsxId}` : ""}.`);
    }
    if (willClose) lines.push(after.substatus === "Won" ? "The partner's referral closed as Won: closing the opportunity as won." : "The partner's referral closed as Lost: closing the opportunity as lost.");
    if (willDisqualify) lines.push(`${lifecycle.kind === "toDynamics" ? lifecycle.why : ""}${after.statusReason ? ` Partner Center's reason: ${after.statusReason}.` : ""} Disqualified the lead.`);
    else if (!decision && (after.substatus === "Declined" || after.substatus === "Expired") && statusChanged) lines.push(`The referral was ${after.substatus.toLowerCase()} in Partner Center.`);
    lines.push(...merge.conflicts.map(conflictText), ...notes);
    if (lines.length === 0) lines.push(`In sync with referral ${after.id}.`);
    const message = lines.join("\n");

    const c = record.type === "opportunity" ? Opportunity.columns : Lead.columns;
    const at = ctx.now();
    changes[c.lastSyncedOn] = at.toISOString();
    changes[c.audit] = prependAudit(record.audit, auditLine(at, direction, message));
    markedName(record, changes);
    const outcome = merge.conflicts.length ? "conflict" : "succeeded";
    const written_ = await ctx.dv.writeRecord(record.type, record.id, record.etag, changes, {
      direction, outcome, message, referralId: after.id, correlationId: options.job.runId, occurredOn: at,
    });
    if (written_.result === "changed") continue;
    if (written_.result === "missing") return { state: "skipped", direction, message: `The ${options.type} ${options.recordId} was deleted in Dynamics 365 while the relay synced it.` };
    const closed = willClose ? await closeOpportunity(ctx, record, after, dynamicsAfter) : undefined;
    await saveLink(deps.db, { ...nextLink, recordETag: written_.etag ?? null });
    await recordLocalSyncEvent(deps.db, {
      tenantId: deps.tenantId, runId: options.job.runId, direction, outcome, recordType: record.type, recordId: record.id, referralId: after.id,
      message: closed ? `${message}\n${closed}` : message, conflicts: merge.conflicts.length ? merge.conflicts : undefined, correlationId: options.job.runId,
    });
    return { state: "succeeded", direction, message: closed ? `${message}\n${closed}` : message };
  }
  throw new RetryLater(`The ${options.type} or its referral kept changing while the relay synced them (${MAX_ATTEMPTS} attempts); the sync will run again.`);
}

export { stripMark };

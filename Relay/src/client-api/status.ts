// What the card's live Partner Center view shows for one opportunity, and what a run's progress looks
// like to the card and the form (the card's contract: PcfControls/PartnerCenterCard/services/relay.ts).
//   - the referral: status and substatus fetched from Partner Center now when the deal is linked (the
//     relay's App+User sign-in), else the last synced values, saying why;
//   - Microsoft's side of a co-sell: status, substatus and Microsoft's CRM id, fetched the same way;
//   - the last sync: the link's last success, the newest sync event and the newest run;
//   - readiness: Core/readiness.ts on the deal read from Dataverse as the sync engine reads it.
import { PartnerCenterSyncStatusOptions } from "../../../Core/generated/schema.ts";
import { READINESS_CHECK_LABELS, READINESS_PROBLEMS, readinessSummary } from "../../../Core/messages.ts";
import { checkReadiness } from "../../../Core/readiness.ts";
import type { Referral } from "../../../Core/referral.ts";
import type { PartnerCenterClient } from "../clients/partner-center.ts";
import type { Database } from "../store/database.ts";
import { listRuns, type Run } from "../store/runs.ts";
import { statusName, substatusName, type DataverseSide, type OpportunityRecord } from "../sync/dataverse-side.ts";
import { getLinkByRecord, listLocalSyncEvents, type Link } from "../sync/links.ts";
import { getReferralOrUndefined } from "../sync/partner-center-side.ts";

/** A run as the card and the form follow it. */
export type CardRunState = "queued" | "running" | "succeeded" | "failed" | "dead";

export interface RunProgress {
  runId: string;
  /** The card's states: a skipped run (nothing to send) succeeded; a run waiting for a retry is running. */
  state: CardRunState;
  /** The store's own state: queued, running, succeeded, skipped, failed, retrying or dead. */
  runState: Run["state"];
  subject: string;
  attempts: number;
  /** Why a failed, dead or retrying run failed, in the relay's words. */
  error?: string;
  /** What the seller or the admin should do about it. */
  whatToDo?: string;
  /** Why a skipped run had nothing to do. */
  note?: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

const CARD_STATE: Record<Run["state"], CardRunState> = {
  queued: "queued", running: "running", retrying: "running", succeeded: "succeeded", skipped: "succeeded", failed: "failed", dead: "dead",
};

export function runProgress(run: Run): RunProgress {
  const failed = run.state === "failed" || run.state === "dead" || run.state === "retrying";
  return {
    runId: run.id,
    state: CARD_STATE[run.state],
    runState: run.state,
    subject: run.subject,
    attempts: run.attempts,
    ...(failed && run.lastError ? { error: run.lastError } : {}),
    ...(failed && run.whatToDo ? { whatToDo: run.whatToDo } : {}),
    ...(run.state === "skipped" && run.lastError ? { note: run.lastError } : {}),
    queuedAt: run.queuedAt.toISOString(),
    ...(run.startedAt ? { startedAt: run.startedAt.toISOString() } : {}),
    ...(run.finishedAt ? { finishedAt: run.finishedAt.toISOString() } : {}),
  };
}

export interface ReferralView {
  id: string;
  status: string | null;
  substatus: string | null;
  /** Referral Link on the record. */
  link: string | null;
  /** "partner-center": fetched now; "last-sync": what the relay last saw (Partner Center could not be asked). */
  source: "partner-center" | "last-sync";
  /** Why Partner Center could not be asked now. */
  unavailable?: string;
}

export interface MicrosoftView {
  referralId: string | null;
  status: string | null;
  substatus: string | null;
  /** Microsoft's CRM (MSX) identifier of the engagement, once Microsoft has one. */
  crmId: string | null;
  source: "partner-center" | "last-sync";
  unavailable?: string;
}

export interface OpportunityStatus {
  opportunityId: string;
  name: string;
  /** Sync with Partner Center on the record. */
  sync: boolean;
  /** Partner Center sync status on the record: NotShared, Pending, Synced, Failed. */
  syncStatus: string | null;
  lastSyncError: string | null;
  referral: ReferralView | null;
  microsoft: MicrosoftView | null;
  lastSync: {
    /** The last successful sync of the pair. */
    succeededAt: string | null;
    lastEvent: { at: string; direction: "outbound" | "inbound"; outcome: string; message: string; runId: string | null } | null;
    lastRun: RunProgress | null;
  };
  readiness: {
    ready: boolean;
    items: Array<{ check: string; label: string; ok: boolean; applies: boolean; problem?: string; message?: string }>;
    /** One message naming every missing item (en-US), as the form shows it; absent when ready. */
    summary?: string;
  };
}

export interface StatusSources {
  tenantId: string;
  db: Database;
  dv: DataverseSide;
  partnerCenter: PartnerCenterClient;
}

type Fetched = { referral: Referral | undefined } | { unavailable: string };

async function fetchReferral(pc: PartnerCenterClient, id: string): Promise<Fetched> {
  try {
    return { referral: (await getReferralOrUndefined(pc, id))?.referral };
  } catch (error) {
    const whatToDo = (error as { whatToDo?: unknown }).whatToDo;
    return { unavailable: `${(error as Error).message}${typeof whatToDo === "string" ? ` ${whatToDo}` : ""}` };
  }
}

function referralView(record: OpportunityRecord, link: Link | undefined, referralId: string, fetched: Fetched): ReferralView {
  const base = { id: referralId, link: record.referralLink };
  if ("referral" in fetched && fetched.referral) return { ...base, status: fetched.referral.status, substatus: fetched.referral.substatus, source: "partner-center" };
  const unavailable = "unavailable" in fetched ? fetched.unavailable : "Partner Center has no such referral (any more).";
  return {
    ...base, status: link?.referralStatus ?? statusName(record.referralStatus), substatus: link?.referralSubstatus ?? substatusName(record.referralSubstatus),
    source: "last-sync", unavailable,
  };
}

function microsoftView(record: OpportunityRecord, link: Link | undefined, fetched: Fetched | undefined): MicrosoftView | null {
  const stored = {
    referralId: link?.microsoftReferralId ?? null,
    status: link?.microsoftStatus ?? statusName(record.microsoftStatus),
    substatus: link?.microsoftSubstatus ?? substatusName(record.microsoftSubstatus),
    crmId: link?.microsoftMsxId ?? record.microsoftCrmId,
  };
  if (fetched && "referral" in fetched && fetched.referral) {
    const r = fetched.referral;
    return { referralId: r.id, status: r.status, substatus: r.substatus, crmId: r.trackingInfo?.microsoftMsxId ?? stored.crmId, source: "partner-center" };
  }
  if (!stored.referralId && !stored.status && !stored.crmId) return null;
  return { ...stored, source: "last-sync", ...(fetched && "unavailable" in fetched ? { unavailable: fetched.unavailable } : {}) };
}

/** The newest run of any of the subjects. */
async function lastRun(db: Database, tenantId: string, subjects: string[]): Promise<Run | undefined> {
  const runs = (await Promise.all(subjects.map((subject) => listRuns(db, tenantId, { subject, limit: 1 })))).flat();
  return runs.sort((a, b) => b.queuedAt.getTime() - a.queuedAt.getTime())[0];
}

/** The status of an opportunity; undefined when Dataverse has no such opportunity. */
export async function opportunityStatus(sources: StatusSources, opportunityId: string): Promise<OpportunityStatus | undefined> {
  const { db, tenantId, dv, partnerCenter } = sources;
  const [record, link] = await Promise.all([dv.readOpportunity(opportunityId), getLinkByRecord(db, tenantId, "opportunity", opportunityId)]);
  if (!record) return undefined;
  const referralId = link?.referralId ?? record.referralId;
  const subjects = [`opportunity:${opportunityId}`, ...(referralId ? [`referral:${referralId}`] : [])];
  const [fetched, fetchedMicrosoft, run, events] = await Promise.all([
    referralId ? fetchReferral(partnerCenter, referralId) : undefined,
    link?.microsoftReferralId ? fetchReferral(partnerCenter, link.microsoftReferralId) : undefined,
    lastRun(db, tenantId, subjects),
    listLocalSyncEvents(db, tenantId, { recordId: opportunityId, limit: 1 }),
  ]);
  const event = events[0];
  const readiness = checkReadiness(record.facts);
  return {
    opportunityId,
    name: record.name,
    sync: record.sync,
    syncStatus: PartnerCenterSyncStatusOptions.find((o) => o.value === record.syncStatus)?.key ?? null,
    lastSyncError: record.lastSyncError,
    referral: referralId && fetched ? referralView(record, link, referralId, fetched) : null,
    microsoft: microsoftView(record, link, fetchedMicrosoft),
    lastSync: {
      succeededAt: link?.lastSyncedAt?.toISOString() ?? null,
      lastEvent: event ? { at: event.occurredAt.toISOString(), direction: event.direction, outcome: event.outcome, message: event.message, runId: event.runId } : null,
      lastRun: run ? runProgress(run) : null,
    },
    readiness: {
      ready: readiness.ready,
      items: readiness.items.map((item) => ({
        check: item.check, label: READINESS_CHECK_LABELS[item.check][1033], ok: item.ok, applies: item.applies,
        ...(item.problem ? { problem: item.problem, message: READINESS_PROBLEMS[item.problem][1033] } : {}),
      })),
      ...(readiness.ready ? {} : { summary: readinessSummary(readiness.problems, 1033) }),
    },
  };
}

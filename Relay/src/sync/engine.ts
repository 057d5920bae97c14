// The sync engine: one run per queued job (an opportunity or lead going out, a referral coming in),
// the reconciler's sweep, and requestSync, through which every trigger (webhooks, steps, the card, the
// CLI, the reconciler) asks for a sync. Idempotent by construction: every run re-reads both sides and
// writes only what differs; creates are looked up before they are repeated.
//
//   const engine = createSyncEngine({ tenantId, db, dataverse, partnerCenter, settings, relayUserId, boss, log });
//   await engine.requestSync("opportunity:<id>", "Update opportunity", "dataverse");
//   const worker = await startWorker({ ...deps, engine });
import { randomUUID } from "node:crypto";
import { Lead, Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import { enqueueSync, type SyncJob } from "../queue.ts";
import { createRun, listRuns } from "../store/runs.ts";
import type { EventSource } from "../store/received-events.ts";
import { CROSS_MARK, DataverseSide, auditLine, prependAudit, withMark } from "./dataverse-side.ts";
import { OpportunityTable } from "./dataverse-columns.ts";
import {
  KeyedLock, describe, isRetryable, whatToDoOf, type Direction, type SyncContext, type SyncDependencies, type SyncOutcome,
} from "./context.ts";
import { getLinkByReferral, recordLocalSyncEvent, type RecordType } from "./links.ts";
import { outbound } from "./outbound.ts";
import { inbound } from "./inbound.ts";
import { reconcile, type ReconcileOptions, type ReconcileResult } from "./reconciler.ts";

export type { SyncDependencies, SyncOutcome, Logger, SyncMetrics, Direction } from "./context.ts";
export { FORCED_REASONS, fingerprint } from "./context.ts";

export type SubjectKind = "opportunity" | "lead" | "referral";

/** `opportunity:<id>` → { kind, id }; throws on anything else. */
export function parseSubject(subject: string): { kind: SubjectKind; id: string } {
  const match = /^(opportunity|lead|referral):(.+)$/.exec(subject);
  if (!match) throw new TypeError(`Not a sync subject: '${subject}' (expected opportunity:<id>, lead:<id> or referral:<id>)`);
  const kind = match[1] as SubjectKind;
  const id = kind === "referral" ? match[2]! : match[2]!.toLowerCase();
  return { kind, id };
}

export function directionOf(subject: string): Direction {
  return subject.startsWith("referral:") ? "inbound" : "outbound";
}

export interface SyncEngine {
  /** Runs one job to its outcome. Never throws for an expected failure: the outcome says retryable or not. */
  run(job: SyncJob): Promise<SyncOutcome>;
  /** One reconciler sweep: enqueues whatever differs from the link's fingerprints. */
  reconcile(options?: ReconcileOptions): Promise<ReconcileResult>;
  /** Records a run and queues it; a subject already waiting answers that run (coalesced). */
  requestSync(subject: string, reason: string, source: EventSource): Promise<{ runId: string; coalesced: boolean }>;
  /** After the last attempt: says so on the record (status Failed, Audit, Sync Event), best effort. */
  recordGaveUp(job: SyncJob, outcome: SyncOutcome, attempts: number): Promise<void>;
}

export function createSyncEngine(deps: SyncDependencies): SyncEngine {
  const now = deps.now ?? (() => new Date());
  const ctx: SyncContext = { deps, dv: new DataverseSide(deps.dataverse, deps.settings, deps.log), pc: deps.partnerCenter, locks: new KeyedLock(), now };

  async function run(job: SyncJob): Promise<SyncOutcome> {
    const started = performance.now();
    const direction = directionOf(job.subject);
    let outcome: SyncOutcome;
    try {
      const { kind, id } = parseSubject(job.subject);
      outcome = kind === "referral" ? await inbound(ctx, id, job) : await outbound(ctx, kind, id, job);
    } catch (error) {
      const retryable = isRetryable(error);
      const whatToDo = whatToDoOf(error);
      outcome = { state: "failed", direction, retryable, message: describe(error), ...(whatToDo ? { whatToDo } : {}) };
      if (!retryable) await recordFailure(job, outcome).catch((e: unknown) => deps.log.warn({ err: describe(e), subject: job.subject }, "could not record the failure on the record"));
    }
    await reportMappingProblem(job).catch((e: unknown) => deps.log.warn({ err: describe(e), subject: job.subject }, "could not record the field mapping problem on the record"));
    const ms = Math.round(performance.now() - started);
    deps.metrics?.syncFinished(outcome.direction, outcome.state, ms);
    const entry = { tenantId: deps.tenantId, subject: job.subject, runId: job.runId, reason: job.reason, state: outcome.state, ms, retryable: outcome.retryable };
    if (outcome.state === "failed") deps.log.warn({ ...entry, message: outcome.message, whatToDo: outcome.whatToDo }, "sync failed");
    else deps.log.info(entry, `sync ${outcome.state}`);
    return outcome;
  }

  /** The record a subject concerns: the opportunity or lead itself, or the one linked to the referral. */
  async function recordOf(subject: string): Promise<{ type: RecordType; id: string; referralId: string | null } | undefined> {
    const { kind, id } = parseSubject(subject);
    if (kind !== "referral") return { type: kind, id, referralId: null };
    const link = await getLinkByReferral(deps.db, deps.tenantId, id);
    return link ? { type: link.recordType, id: link.recordId, referralId: id } : undefined;
  }

  /**
   * A field mapping the relay refused (bad JSON, a column that does not exist): said once, on the first
   * record a sync touches after the change (Audit, Last sync error, a Sync Event), where an admin looking
   * at why a deal synced the old way will see it. The sync itself ran with the last good mapping.
   */
  async function reportMappingProblem(job: SyncJob): Promise<void> {
    const problem = ctx.dv.mappings.takeUnreported();
    if (!problem) return;
    try {
      const target = await recordOf(job.subject);
      if (!target) {
        ctx.dv.mappings.untake(problem);
        return;
      }
      const text = `${problem.message} The relay keeps syncing with the last good field mapping. What to do: correct the variable's current value (see docs/customizing.md); the relay checks it again within a minute.`;
      for (let attempt = 0; attempt < 3; attempt++) {
        const record = await ctx.dv.readRecord(target.type, target.id);
        if (!record) {
          ctx.dv.mappings.untake(problem);
          return;
        }
        const c = target.type === "opportunity" ? Opportunity.columns : Lead.columns;
        const at = now();
        const direction = directionOf(job.subject);
        const result = await ctx.dv.writeRecord(target.type, target.id, record.etag, {
          // A sync failure of the deal's own keeps Last sync error; the Audit line says it either way.
          ...(record.lastSyncError === null ? { [c.lastSyncError]: text.slice(0, 4000) } : {}),
          [c.audit]: prependAudit(record.audit, auditLine(at, direction, text)),
        }, { direction, outcome: "skipped", message: text, referralId: target.referralId ?? record.referralId, correlationId: job.runId, occurredOn: at });
        if (result.result !== "changed") return;
      }
    } catch (error) {
      ctx.dv.mappings.untake(problem);
      throw error;
    }
  }

  /** A failure the seller or admin must see: sync status Failed, Last sync error, Audit, Sync Event (✖ in the name when asked). */
  async function recordFailure(job: SyncJob, outcome: SyncOutcome, prefix = "Sync failed"): Promise<void> {
    const target = await recordOf(job.subject);
    if (!target) return;
    const text = `${prefix}: ${outcome.message}${outcome.whatToDo ? ` What to do: ${outcome.whatToDo}` : ""}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = await ctx.dv.readRecord(target.type, target.id);
      if (!record) return;
      const c = target.type === "opportunity" ? Opportunity.columns : Lead.columns;
      const at = now();
      const changes: Record<string, unknown> = {
        [c.syncStatus]: PartnerCenterSyncStatus.Failed,
        [c.lastSyncError]: text.slice(0, 4000),
        [c.audit]: prependAudit(record.audit, auditLine(at, outcome.direction, text)),
      };
      if (record.type === "opportunity" && record.settings.displayCheckMarkInName) {
        const marked = withMark(record.name, CROSS_MARK);
        if (marked !== record.name) changes[OpportunityTable.name] = marked;
      }
      const result = await ctx.dv.writeRecord(target.type, target.id, record.etag, changes, {
        direction: outcome.direction, outcome: "failed", message: text, referralId: target.referralId ?? record.referralId, correlationId: job.runId, occurredOn: at,
      });
      if (result.result !== "changed") break;
    }
    await recordLocalSyncEvent(deps.db, {
      tenantId: deps.tenantId, runId: job.runId, direction: outcome.direction, outcome: "failed", recordType: target.type, recordId: target.id,
      referralId: target.referralId, message: text, correlationId: job.runId,
    });
  }

  async function requestSync(subject: string, reason: string, source: EventSource): Promise<{ runId: string; coalesced: boolean }> {
    parseSubject(subject);
    const direction = directionOf(subject);
    deps.log.debug?.({ tenantId: deps.tenantId, subject, reason, source }, "sync requested");
    const run = await createRun(deps.db, { tenantId: deps.tenantId, kind: reason, subject, direction, correlationId: randomUUID() });
    const jobId = await enqueueSync(deps.boss, { tenantId: deps.tenantId, subject, runId: run.id, reason });
    if (jobId) return { runId: run.id, coalesced: false };
    // A job for this subject is already waiting: it will read both sides afresh, so this request rides on it.
    const waiting = (await listRuns(deps.db, deps.tenantId, { subject, states: ["queued", "retrying"], limit: 5 })).find((r) => r.id !== run.id);
    await deps.db.query(`DELETE FROM runs WHERE id = $1`, [run.id]);
    if (waiting) return { runId: waiting.id, coalesced: true };
    // The waiting job started in between and took no run of ours: queue once more (it may be coalesced again).
    const retry = await createRun(deps.db, { tenantId: deps.tenantId, kind: reason, subject, direction, correlationId: randomUUID() });
    const again = await enqueueSync(deps.boss, { tenantId: deps.tenantId, subject, runId: retry.id, reason });
    if (again) return { runId: retry.id, coalesced: false };
    await deps.db.query(`UPDATE runs SET state = 'skipped', last_error = $2, finished_at = now() WHERE id = $1`, [retry.id, "Coalesced with a sync of the same subject that was already queued."]);
    return { runId: retry.id, coalesced: true };
  }

  return {
    run,
    reconcile: (options) => reconcile(ctx, requestSync, options),
    requestSync,
    async recordGaveUp(job, outcome, attempts) {
      await recordFailure(job, outcome, `Gave up after ${attempts} attempts`).catch((e: unknown) =>
        deps.log.warn({ err: describe(e), subject: job.subject }, "could not record the dead-lettered sync on the record"));
    },
  };
}

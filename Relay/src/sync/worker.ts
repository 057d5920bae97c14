// The worker: takes sync jobs from the durable queue (pg-boss, SYNC_QUEUE) and runs them through the
// engine, keeping the run row true: running → succeeded / skipped / failed, or "retrying" when the
// failure passes (throttling, an outage: the handler throws and pg-boss retries with backoff), or
// "dead" after the last attempt, when pg-boss moves the job to the dead-letter queue and the record
// says so (status Failed, Audit, Sync Event). A relay killed mid-job loses nothing: pg-boss hands the
// job out again once it expires, and the engine's runs are idempotent.
import type { Job, PgBoss } from "pg-boss";
import { SYNC_QUEUE, type SyncJob } from "../queue.ts";
import { markRunFinished, markRunStarted } from "../store/runs.ts";
import { describe, type SyncDependencies } from "./context.ts";
import type { SyncEngine } from "./engine.ts";

export interface WorkerOptions {
  engine: SyncEngine;
  /** Jobs run at once in this process (default 4). Writes per referral stay serial (the engine's lock, the queue's singleton key). */
  concurrency?: number;
  /** Poll interval when notifications are not available (default 2 s). */
  pollingIntervalSeconds?: number;
  /**
   * Poll interval while notifications are on (default 5 s): a job due for a retry sends no notification,
   * so this bounds how late a retry starts.
   */
  notifyPollingIntervalSeconds?: number;
}

export interface WorkerHandle {
  stop(): Promise<void>;
}

/** Thrown to pg-boss so it retries the job (its message is what `relay runs` shows as the error). */
export class SyncRetry extends Error {
  override readonly name = "SyncRetry";
}

interface RetryMetadata {
  retryCount: number;
  retryLimit?: number;
}

export async function startWorker(deps: SyncDependencies & WorkerOptions): Promise<WorkerHandle> {
  const boss: PgBoss = deps.boss;
  const queue = await boss.getQueue(SYNC_QUEUE);
  const queueRetryLimit = queue?.retryLimit ?? 0;

  const handle = async (job: Job<SyncJob> & Partial<RetryMetadata>): Promise<void> => {
    const data = job.data;
    if (data.tenantId !== deps.tenantId) {
      // Another tenant's job (one relay, several tenants): not ours to run here.
      throw new SyncRetry(`job for tenant ${data.tenantId} reached the worker of tenant ${deps.tenantId}`);
    }
    await markRunStarted(deps.db, data.runId);
    const outcome = await deps.engine.run(data);
    if (outcome.state !== "failed") {
      await markRunFinished(deps.db, data.runId, { state: outcome.state, direction: outcome.direction, ...(outcome.state === "skipped" ? { error: outcome.message } : {}) });
      return;
    }
    if (!outcome.retryable) {
      await markRunFinished(deps.db, data.runId, { state: "failed", error: outcome.message, direction: outcome.direction, ...(outcome.whatToDo ? { whatToDo: outcome.whatToDo } : {}) });
      return;
    }
    const limit = job.retryLimit ?? queueRetryLimit;
    const last = job.retryCount >= limit;
    // The record says so before the run is dead: whoever sees "dead" finds the reason on the record too.
    if (last) await deps.engine.recordGaveUp(data, outcome, job.retryCount + 1);
    await markRunFinished(deps.db, data.runId, {
      state: last ? "dead" : "retrying", error: outcome.message, direction: outcome.direction,
      whatToDo: outcome.whatToDo ?? (last ? "The relay gave up after its last attempt; fix the cause, then retry the run (relay runs retry, or Retry on the card)." : "The relay tries again with backoff; nothing to do unless it keeps failing."),
    });
    throw new SyncRetry(outcome.message);
  };

  const workerId = await boss.work<SyncJob>(
    SYNC_QUEUE,
    { batchSize: 1, includeMetadata: true, localConcurrency: Math.max(1, deps.concurrency ?? 4), pollingIntervalSeconds: deps.pollingIntervalSeconds ?? 2, notifyPollingIntervalSeconds: Math.max(0.5, deps.notifyPollingIntervalSeconds ?? 5) },
    async (jobs) => {
      for (const job of jobs) {
        try {
          await handle(job as Job<SyncJob> & Partial<RetryMetadata>);
        } catch (error) {
          if (!(error instanceof SyncRetry)) {
            // An error outside the engine (the store, a bug): pg-boss retries; the run says why.
            deps.log.error({ err: describe(error), subject: job.data.subject, runId: job.data.runId }, "sync job failed outside the engine");
            await markRunFinished(deps.db, job.data.runId, { state: "retrying", error: describe(error) }).catch(() => undefined);
          }
          throw error;
        }
      }
    },
  );

  return {
    async stop() {
      await boss.offWork(SYNC_QUEUE, { id: workerId, wait: true });
    },
  };
}

// The durable job queue, in the relay's own database: pg-boss on Postgres, or on PGlite through
// pg-boss's own adapter. One job per subject (an opportunity, a lead or a referral) at a time:
// the `stately` policy with the subject as singletonKey keeps at most one queued and one active job
// per subject, so a burst of events for one deal becomes one sync that re-reads both sides.
import { PgBoss, fromPglite } from "pg-boss";
import type { PGlite } from "@electric-sql/pglite";
import type { Database } from "./store/database.ts";

export const SYNC_QUEUE = "sync";
export const DEAD_LETTER_QUEUE = "sync-dead";

export interface SyncJob {
  tenantId: string;
  /** "opportunity:<id>", "lead:<id>" or "referral:<id>". */
  subject: string;
  runId: string;
  reason: string;
}

export interface QueueOptions {
  /** Attempts before a job is dead-lettered. */
  retryLimit?: number;
  /** First retry delay in seconds; pg-boss doubles it with jitter (retryBackoff). */
  retryDelaySeconds?: number;
  /** Seconds a job may run before pg-boss retries it (a relay killed mid-job). */
  expireInSeconds?: number;
}

export async function startQueue(db: Database, options: QueueOptions = {}): Promise<PgBoss> {
  const boss = db.kind === "pglite"
    ? new PgBoss({ db: fromPglite(db.raw as PGlite), backend: "pglite", useListenNotify: true, supervise: true })
    : new PgBoss({ connectionString: db.url!, useListenNotify: true, supervise: true, max: 4 });
  boss.on("error", () => undefined); // surfaced through the relay's logger by the caller
  await boss.start();
  const common = { retryLimit: options.retryLimit ?? 8, retryDelay: options.retryDelaySeconds ?? 2, retryBackoff: true, expireInSeconds: options.expireInSeconds ?? 300 };
  if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 30 * 24 * 3600 });
  if (!(await boss.getQueue(SYNC_QUEUE))) {
    await boss.createQueue(SYNC_QUEUE, { ...common, policy: "stately", deadLetter: DEAD_LETTER_QUEUE, notify: true });
  }
  return boss;
}

/** Enqueues a sync of `subject`; returns the job id, or null when one is already waiting (coalesced). */
export async function enqueueSync(boss: PgBoss, job: SyncJob, startAfterSeconds = 0): Promise<string | null> {
  return boss.send(SYNC_QUEUE, job, { singletonKey: `${job.tenantId}/${job.subject}`, ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) });
}

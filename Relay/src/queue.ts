// The durable job queue, in the relay's own database: pg-boss on Postgres, or on PGlite through
// pg-boss's own adapter. One job per subject (an opportunity, a lead or a referral) at a time:
// the `stately` policy with the subject as singletonKey keeps at most one queued and one active job
// per subject, so a burst of events for one deal becomes one sync that re-reads both sides.
//
// A relay killed mid-job (a crash, `kill -9`, an OOM kill) never finishes its active jobs. The sync queue
// has a heartbeat: the worker touches each job while it runs, and the supervisor (every
// SUPERVISE_INTERVAL_SECONDS, in whichever relay process is up) fails a job whose heartbeat stopped, so
// pg-boss hands it out again about half a minute after the crash. Without it the job stayed active until
// its expiry (5 minutes) and the next supervision after that, and because the policy lets only one job
// per subject be active, every later event for that deal waited just as long.
//
// Throughput: the worker runs PCR_WORKER_CONCURRENCY (default 16) jobs at once, each one subject; pg-boss's
// own pool on Postgres has 8 connections so fetching, completing and heartbeating that many jobs does not
// queue behind one another (the relay's store has its own pool). The Dataverse client paces the requests
// those jobs make (Relay/src/clients/dataverse-pacer.ts), so more jobs fill the budget instead of exceeding it.
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
  /** Seconds a job may run before pg-boss retries it. */
  expireInSeconds?: number;
  /** Seconds without a heartbeat after which a running job counts as abandoned (its relay died): 10 or more. */
  heartbeatSeconds?: number;
}

/** A running sync job's heartbeat deadline; the worker touches the job every half of it. */
export const SYNC_HEARTBEAT_SECONDS = 20;
/** How often the supervisor fails abandoned jobs (and expired ones) and maintains the queues. */
export const SUPERVISE_INTERVAL_SECONDS = 10;

export async function startQueue(db: Database, options: QueueOptions = {}): Promise<PgBoss> {
  const supervision = { supervise: true, superviseIntervalSeconds: SUPERVISE_INTERVAL_SECONDS, monitorIntervalSeconds: SUPERVISE_INTERVAL_SECONDS };
  const boss = db.kind === "pglite"
    ? new PgBoss({ db: fromPglite(db.raw as PGlite), backend: "pglite", useListenNotify: true, ...supervision })
    : new PgBoss({ connectionString: db.url!, useListenNotify: true, max: 8, ...supervision });
  boss.on("error", () => undefined); // surfaced through the relay's logger by the caller
  await boss.start();
  const common = { retryLimit: options.retryLimit ?? 8, retryDelay: options.retryDelaySeconds ?? 2, retryBackoff: true, expireInSeconds: options.expireInSeconds ?? 300 };
  if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 30 * 24 * 3600 });
  const heartbeatSeconds = options.heartbeatSeconds ?? SYNC_HEARTBEAT_SECONDS;
  const queue = await boss.getQueue(SYNC_QUEUE);
  if (!queue) {
    await boss.createQueue(SYNC_QUEUE, { ...common, heartbeatSeconds, policy: "stately", deadLetter: DEAD_LETTER_QUEUE, notify: true });
  } else if (queue.heartbeatSeconds == null) {
    // A store made before the queue had a heartbeat.
    await boss.updateQueue(SYNC_QUEUE, { heartbeatSeconds });
  }
  return boss;
}

/** Enqueues a sync of `subject`; returns the job id, or null when one is already waiting (coalesced). */
export async function enqueueSync(boss: PgBoss, job: SyncJob, startAfterSeconds = 0): Promise<string | null> {
  return boss.send(SYNC_QUEUE, job, { singletonKey: `${job.tenantId}/${job.subject}`, ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) });
}

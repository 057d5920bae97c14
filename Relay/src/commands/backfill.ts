// `relay backfill`: the first fill of Dynamics 365 with the referrals Partner Center already holds. It pages
// the open referrals (100 a page, following @odata.nextLink as the real API pages), optionally only some
// statuses or those created since a date, and queues one sync per referral the relay has no link for and
// would bring in (the reconciler's rule, classifyReferral). Then it follows those runs until each has
// finished. Safe to repeat: a referral synced before is linked, so a second backfill queues nothing new;
// one that failed has no link and is queued again.
//
// The pure parts (the $filter, the option checks, the progress line) are separate from the I/O (paging,
// queueing, polling the runs) so both are easy to follow and test.
import type { Referral } from "../../../Core/referral.ts";
import type { PartnerCenterClient } from "../clients/partner-center.ts";
import type { Queryable } from "../store/database.ts";
import type { RunState } from "../store/runs.ts";
import { classifyReferral } from "../sync/reconciler.ts";
import type { FieldMappingConfig } from "../../../Core/field-mapping-config.ts";

/** The open statuses a backfill may ask for (Closed referrals never come into Dynamics 365). */
export const BACKFILL_STATUSES = ["New", "Active"] as const;
export type BackfillStatus = (typeof BACKFILL_STATUSES)[number];

export interface BackfillOptions {
  /** Only referrals created at or after this moment. */
  since?: Date;
  /** Only these statuses (default: both open ones). */
  statuses?: readonly BackfillStatus[];
}

/** `--status New,Active` (case-insensitive, commas or repeats) → the statuses; throws a message for anything else. */
export function parseStatuses(values: readonly string[]): BackfillStatus[] {
  const statuses = new Set<BackfillStatus>();
  for (const value of values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean)) {
    const status = BACKFILL_STATUSES.find((s) => s.toLowerCase() === value.toLowerCase());
    if (!status) throw new Error(`--status takes ${BACKFILL_STATUSES.join(" or ")} (open referrals), not '${value}'`);
    statuses.add(status);
  }
  return [...statuses];
}

/** `--since 2026-01-31` or a full ISO 8601 moment → a Date; throws a message for anything else. */
export function parseSince(value: string): Date {
  const text = value.trim();
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new Error(`--since takes a date (2026-01-31) or an ISO 8601 moment (2026-01-31T12:00:00Z), not '${value}'`);
  return at;
}

/** The $filter of the referral list: the statuses asked (open ones by default), created since the date. */
export function backfillFilter(options: BackfillOptions = {}): string {
  const statuses = options.statuses?.length ? [...new Set(options.statuses)] : [...BACKFILL_STATUSES];
  const status = statuses.length === BACKFILL_STATUSES.length ? "status ne 'Closed'" : statuses.map((s) => `status eq '${s}'`).join(" or ");
  const parts = [status];
  if (options.since) parts.push(`createdDateTime ge ${options.since.toISOString()}`);
  return parts.join(" and ");
}

export interface BackfillCounts {
  /** Referrals Partner Center listed. */
  found: number;
  /** Already linked to a record (synced before), or Microsoft's side of an engagement whose partner referral is. */
  linked: number;
  /** Not for Dynamics 365 (Microsoft's side of an engagement, a qualified lead with co-sell only, …). */
  notForDynamics: number;
  /** Syncs queued. */
  queued: number;
  /** Queued syncs finished without failing (succeeded or skipped). */
  synced: number;
  /** Queued syncs that failed or were dead-lettered. */
  failed: number;
}

export const emptyCounts = (): BackfillCounts => ({ found: 0, linked: 0, notForDynamics: 0, queued: 0, synced: 0, failed: 0 });

/** The transient progress line: found N, queued M (while listing); then synced K of M, failed F. */
export function progressLine(counts: BackfillCounts, phase: "listing" | "syncing"): string {
  const head = `backfill: found ${counts.found}, queued ${counts.queued}`;
  return phase === "listing" ? `${head}…` : `${head}, synced ${counts.synced} of ${counts.queued}, failed ${counts.failed}`;
}

/** The closing lines, with where to look when something failed. */
export function summary(counts: BackfillCounts, waited: boolean): string[] {
  const lines = [`Found ${counts.found} referral${counts.found === 1 ? "" : "s"} in Partner Center: ${counts.linked} already in Dynamics 365, ${counts.notForDynamics} not for Dynamics 365, ${counts.queued} queued.`];
  if (!waited) {
    if (counts.queued) lines.push("Not waiting (--no-wait): the relay's worker runs them; relay runs shows how they went.");
    return lines;
  }
  if (counts.queued) lines.push(`Synced ${counts.synced} of ${counts.queued}; failed ${counts.failed}.`);
  if (counts.failed) lines.push("relay runs --failed says what each failed sync needs; fix it, then relay retry --all-failed (or relay backfill again).");
  return lines;
}

export interface BackfillDependencies {
  db: Queryable;
  tenantId: string;
  partnerCenter: Pick<PartnerCenterClient, "listReferralPages">;
  /** The Sync co-sell opportunities only setting, as the inbound sync reads it. */
  coSellOnly: boolean;
  /** The admin's field mapping in force (its inbound routing decides what comes in). */
  mapping?: FieldMappingConfig;
  requestSync(subject: string, reason: string, source: "cli"): Promise<{ runId: string; coalesced: boolean }>;
}

export const BACKFILL_REASON = "backfill";

/** Pages the referrals and queues the ones to bring in; answers the runs to follow. */
export async function queueBackfill(deps: BackfillDependencies, options: BackfillOptions, onProgress: (counts: BackfillCounts) => void): Promise<{ counts: BackfillCounts; runIds: string[] }> {
  const counts = emptyCounts();
  const runIds = new Set<string>();
  for await (const page of deps.partnerCenter.listReferralPages<Referral>({ filter: backfillFilter(options) })) {
    for (const referral of page.value) {
      counts.found++;
      const standing = await classifyReferral(deps.db, deps.tenantId, referral, deps.coSellOnly, deps.mapping);
      // Microsoft's side of an engagement comes in with the partner's referral: linked when that one is.
      if (standing.kind === "linked" || (standing.kind === "engagement" && standing.partner)) counts.linked++;
      else if (standing.kind === "skip" || standing.kind === "engagement") counts.notForDynamics++;
      else {
        const run = await deps.requestSync(`referral:${referral.id}`, BACKFILL_REASON, "cli");
        runIds.add(run.runId);
        counts.queued = runIds.size;
      }
      onProgress(counts);
    }
  }
  return { counts, runIds: [...runIds] };
}

const FAILED: readonly RunState[] = ["failed", "dead"];
const DONE: readonly RunState[] = ["succeeded", "skipped"];

/** Follows the runs until every one has finished (succeeded, skipped, failed or dead), updating the counts. */
export async function waitForRuns(db: Queryable, tenantId: string, runIds: readonly string[], counts: BackfillCounts, onProgress: (counts: BackfillCounts) => void, options: { pollMs?: number } = {}): Promise<BackfillCounts> {
  if (runIds.length === 0) return counts;
  for (;;) {
    const result = await db.query<{ state: RunState; n: string | number }>(
      `SELECT state, count(*) AS n FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) GROUP BY state`, [tenantId, [...runIds]],
    );
    let synced = 0;
    let failed = 0;
    for (const row of result.rows) {
      if (DONE.includes(row.state)) synced += Number(row.n);
      if (FAILED.includes(row.state)) failed += Number(row.n);
    }
    const changed = synced !== counts.synced || failed !== counts.failed;
    counts.synced = synced;
    counts.failed = failed;
    if (changed) onProgress(counts);
    if (synced + failed >= runIds.length) return counts;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

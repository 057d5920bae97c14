// The reconciler: Partner Center gives up on a webhook after 10 attempts and a Dataverse step can be
// lost with the relay down, so on a schedule (default every 15 minutes) the relay pages the open
// referrals and the open opportunities with Sync = Yes and queues every one that differs from what the
// link says was last synced (fingerprints, status, Microsoft's side). Links to referrals that were open
// but are no longer listed as open (closed meanwhile) are queued too. The queue coalesces duplicates.
import { fieldsFromReferral } from "../../../Core/mapping.ts";
import type { Referral } from "../../../Core/referral.ts";
import type { EventSource } from "../store/received-events.ts";
import { describe, fingerprint, type Logger, type SyncContext } from "./context.ts";
import type { Queryable } from "../store/database.ts";
import { getLinkByEngagement, getLinkByRecord, getLinkByReferral, listOpenLinks, type Link, type RecordType } from "./links.ts";
import { isMicrosoftsReferral } from "./partner-center-side.ts";
import { recordTypeFor } from "./inbound.ts";
import type { FieldMappingConfig } from "../../../Core/field-mapping-config.ts";

export const DEFAULT_RECONCILE_INTERVAL_MS = 15 * 60_000;

export interface ReconcileOptions {
  /** Page Partner Center's open referrals (default true). */
  partnerCenter?: boolean;
  /** Page Dataverse's open opportunities with Sync = Yes (default true). */
  dataverse?: boolean;
  /** Called after each referral or record compared (`relay reconcile` shows it as it goes). */
  onProgress?: (progress: { phase: "partner-center" | "dataverse"; checked: number; enqueued: number }) => void;
}

export interface ReconcileResult {
  /** Referrals and records compared. */
  checked: number;
  /** Syncs queued (coalesced ones included). */
  enqueued: number;
}

type Request = (subject: string, reason: string, source: EventSource) => Promise<{ runId: string; coalesced: boolean }>;

export const RECONCILE_REASON = "reconcile";

function microsoftDiffers(referral: Referral, link: { microsoftReferralId: string | null; microsoftStatus: string | null; microsoftSubstatus: string | null; microsoftMsxId: string | null }): boolean {
  return link.microsoftReferralId !== referral.id || link.microsoftStatus !== referral.status || link.microsoftSubstatus !== referral.substatus
    || (link.microsoftMsxId ?? null) !== (referral.trackingInfo?.microsoftMsxId ?? null);
}

/**
 * Where a listed referral stands for the relay: linked to a record of its own; part of an engagement the
 * relay already follows (Microsoft's side, synced with the partner's referral); not for Dynamics 365
 * (why); or one to bring in as a lead or an opportunity. The reconciler's rule, shared with relay backfill.
 */
export type ReferralStanding =
  | { kind: "linked"; link: Link }
  | { kind: "engagement"; partner: Link | undefined }
  | { kind: "skip"; why: string }
  | { kind: "bring-in"; type: RecordType };

export async function classifyReferral(db: Queryable, tenantId: string, referral: Referral, coSellOnly: boolean, config: FieldMappingConfig = {}): Promise<ReferralStanding> {
  const own = await getLinkByReferral(db, tenantId, referral.id);
  if (own) return { kind: "linked", link: own };
  const partner = await getLinkByEngagement(db, tenantId, referral.engagementId, referral.id);
  if (isMicrosoftsReferral(referral) || partner) return { kind: "engagement", partner };
  const decision = recordTypeFor(referral, coSellOnly, config);
  return "skip" in decision ? { kind: "skip", why: decision.skip } : { kind: "bring-in", type: decision.type };
}

export async function reconcile(ctx: SyncContext, request: Request, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const { deps } = ctx;
  const queued = new Set<string>();
  let checked = 0;
  const progress = (phase: "partner-center" | "dataverse") => options.onProgress?.({ phase, checked, enqueued: queued.size });
  const enqueue = async (subject: string): Promise<void> => {
    if (queued.has(subject)) return;
    queued.add(subject);
    await request(subject, RECONCILE_REASON, "reconciler");
  };

  if (options.partnerCenter !== false) {
    const settings = await ctx.dv.settings();
    const seen = new Set<string>();
    for await (const referral of ctx.pc.listReferrals({ filter: "status ne 'Closed'" })) {
      checked++;
      progress("partner-center");
      seen.add(referral.id);
      const found = await classifyReferral(deps.db, deps.tenantId, referral, settings.syncCoSellOpportunitiesOnly, ctx.dv.mappings.known(settings).config);
      if (found.kind === "linked") {
        const own = found.link;
        if (own.referralFingerprint !== fingerprint(fieldsFromReferral(referral)) || own.referralStatus !== referral.status || own.referralSubstatus !== referral.substatus) {
          await enqueue(`referral:${referral.id}`);
        }
      } else if (found.kind === "engagement") {
        if (found.partner && microsoftDiffers(referral, found.partner)) await enqueue(`referral:${referral.id}`);
      } else if (found.kind === "bring-in") {
        await enqueue(`referral:${referral.id}`);
      }
    }
    // Open when last synced, not open now: closed (or gone) since. Microsoft's side the same way.
    for (const link of await listOpenLinks(deps.db, deps.tenantId)) {
      if (link.referralId && !seen.has(link.referralId)) await enqueue(`referral:${link.referralId}`);
      if (link.microsoftReferralId && link.microsoftStatus !== "Closed" && !seen.has(link.microsoftReferralId)) await enqueue(`referral:${link.microsoftReferralId}`);
    }
  }

  if (options.dataverse !== false) {
    for await (const record of ctx.dv.syncedOpportunities()) {
      checked++;
      progress("dataverse");
      const link = await getLinkByRecord(deps.db, deps.tenantId, "opportunity", record.id);
      if (!link || link.fingerprint !== fingerprint(record.fields)) await enqueue(`opportunity:${record.id}`);
    }
    // Won, lost, qualified or disqualified in Dynamics 365 while its referral still looks open.
    for await (const record of ctx.dv.answeredRecords()) {
      checked++;
      progress("dataverse");
      await enqueue(`${record.type}:${record.id}`);
    }
  }
  return { checked, enqueued: queued.size };
}

export interface ReconcilerHandle {
  stop(): Promise<void>;
  /** Runs a sweep now (waits for one already running). */
  runNow(): Promise<ReconcileResult | undefined>;
}

/**
 * Sweeps every `intervalMs` (default 15 minutes; the first one after `initialDelayMs`, default one
 * interval). Sweeps never overlap; a failing sweep is logged and the next one runs on schedule.
 */
export function startReconciler(deps: { engine: { reconcile(options?: ReconcileOptions): Promise<ReconcileResult> }; log: Logger; intervalMs?: number; initialDelayMs?: number; options?: ReconcileOptions }): ReconcilerHandle {
  const intervalMs = deps.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
  let running: Promise<ReconcileResult | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const sweep = (): Promise<ReconcileResult | undefined> => {
    running ??= deps.engine.reconcile(deps.options)
      .then((result) => {
        deps.log.info({ ...result }, "reconcile sweep finished");
        return result;
      }, (error: unknown) => {
        deps.log.error({ err: describe(error) }, "reconcile sweep failed; the next one runs on schedule");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void sweep().finally(() => schedule(intervalMs));
    }, delay);
    timer.unref();
  };
  schedule(deps.initialDelayMs ?? intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    runNow: () => running ?? sweep(),
  };
}

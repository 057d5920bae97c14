// The link table (which Dynamics record is which Partner Center referral, and what both sides held after
// the last sync) and the local copy of every sync event. Plain SQL that runs on Postgres and PGlite.
import type { SyncedFields } from "../../../Core/mapping.ts";
import type { Queryable } from "../store/database.ts";

export type RecordType = "opportunity" | "lead";

export interface Link {
  tenantId: string;
  recordType: RecordType;
  recordId: string;
  referralId: string | null;
  engagementId: string | null;
  microsoftReferralId: string | null;
  referralETag: string | null;
  recordETag: string | null;
  /** What both sides held after the last successful sync: the base of the next three-way merge. */
  baseFields: SyncedFields | null;
  /** sha256 of the Dynamics side's synced fields as the relay left them (the echo guard compares it). */
  fingerprint: string | null;
  /** sha256 of the referral's synced fields as the relay left them (the reconciler compares it). */
  referralFingerprint: string | null;
  referralStatus: string | null;
  referralSubstatus: string | null;
  microsoftStatus: string | null;
  microsoftSubstatus: string | null;
  microsoftMsxId: string | null;
  lastSyncedAt: Date | null;
  /** When a referral still waiting for an answer expires in Partner Center (null once answered). */
  respondBy?: Date | null;
}

interface LinkRow {
  tenant_id: string; record_type: RecordType; record_id: string; referral_id: string | null; engagement_id: string | null;
  microsoft_referral_id: string | null; referral_etag: string | null; record_etag: string | null; base_fields: unknown;
  fingerprint: string | null; referral_fingerprint: string | null; referral_status: string | null; referral_substatus: string | null;
  microsoft_status: string | null; microsoft_substatus: string | null; microsoft_msx_id: string | null; last_synced_at: Date | string | null;
  respond_by?: Date | string | null;
}

function fromRow(row: LinkRow): Link {
  const base = typeof row.base_fields === "string" ? (JSON.parse(row.base_fields) as SyncedFields) : (row.base_fields as SyncedFields | null);
  return {
    tenantId: row.tenant_id, recordType: row.record_type, recordId: String(row.record_id), referralId: row.referral_id, engagementId: row.engagement_id,
    microsoftReferralId: row.microsoft_referral_id, referralETag: row.referral_etag, recordETag: row.record_etag, baseFields: base ?? null,
    fingerprint: row.fingerprint, referralFingerprint: row.referral_fingerprint, referralStatus: row.referral_status, referralSubstatus: row.referral_substatus,
    microsoftStatus: row.microsoft_status, microsoftSubstatus: row.microsoft_substatus, microsoftMsxId: row.microsoft_msx_id,
    lastSyncedAt: row.last_synced_at === null ? null : new Date(row.last_synced_at),
    respondBy: row.respond_by === null || row.respond_by === undefined ? null : new Date(row.respond_by),
  };
}

export function emptyLink(tenantId: string, recordType: RecordType, recordId: string): Link {
  return {
    tenantId, recordType, recordId, referralId: null, engagementId: null, microsoftReferralId: null, referralETag: null, recordETag: null,
    baseFields: null, fingerprint: null, referralFingerprint: null, referralStatus: null, referralSubstatus: null,
    microsoftStatus: null, microsoftSubstatus: null, microsoftMsxId: null, lastSyncedAt: null,
  };
}

export async function getLinkByRecord(db: Queryable, tenantId: string, recordType: RecordType, recordId: string): Promise<Link | undefined> {
  const result = await db.query<LinkRow>(`SELECT * FROM links WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3`, [tenantId, recordType, recordId]);
  return result.rows[0] ? fromRow(result.rows[0]) : undefined;
}

export async function getLinkByReferral(db: Queryable, tenantId: string, referralId: string): Promise<Link | undefined> {
  const result = await db.query<LinkRow>(`SELECT * FROM links WHERE tenant_id = $1 AND referral_id = $2`, [tenantId, referralId]);
  return result.rows[0] ? fromRow(result.rows[0]) : undefined;
}

/** The partner's link in an engagement: by Microsoft's referral id, or by the engagement id. */
export async function getLinkByEngagement(db: Queryable, tenantId: string, engagementId: string, microsoftReferralId?: string): Promise<Link | undefined> {
  const result = await db.query<LinkRow>(
    `SELECT * FROM links WHERE tenant_id = $1 AND referral_id IS NOT NULL AND (engagement_id = $2 OR ($3::text IS NOT NULL AND microsoft_referral_id = $3))
     ORDER BY updated_at DESC LIMIT 1`,
    [tenantId, engagementId, microsoftReferralId ?? null],
  );
  return result.rows[0] ? fromRow(result.rows[0]) : undefined;
}

/** Links to a referral that was not Closed when last synced: the reconciler checks those it does not see listed as open. */
export async function listOpenLinks(db: Queryable, tenantId: string): Promise<Link[]> {
  const result = await db.query<LinkRow>(
    `SELECT * FROM links WHERE tenant_id = $1 AND referral_id IS NOT NULL AND (referral_status IS NULL OR referral_status <> 'Closed')`,
    [tenantId],
  );
  return result.rows.map(fromRow);
}

export async function listLinks(db: Queryable, tenantId: string, recordType: RecordType): Promise<Link[]> {
  const result = await db.query<LinkRow>(`SELECT * FROM links WHERE tenant_id = $1 AND record_type = $2`, [tenantId, recordType]);
  return result.rows.map(fromRow);
}

/** Inserts or replaces the link of a record. */
export async function saveLink(db: Queryable, link: Link): Promise<void> {
  await db.query(
    `INSERT INTO links (tenant_id, record_type, record_id, referral_id, engagement_id, microsoft_referral_id, referral_etag, record_etag, base_fields,
       fingerprint, referral_fingerprint, referral_status, referral_substatus, microsoft_status, microsoft_substatus, microsoft_msx_id, last_synced_at, respond_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17, $18, now())
     ON CONFLICT (tenant_id, record_type, record_id) DO UPDATE SET
       referral_id = EXCLUDED.referral_id, engagement_id = EXCLUDED.engagement_id, microsoft_referral_id = EXCLUDED.microsoft_referral_id,
       referral_etag = EXCLUDED.referral_etag, record_etag = EXCLUDED.record_etag, base_fields = EXCLUDED.base_fields,
       fingerprint = EXCLUDED.fingerprint, referral_fingerprint = EXCLUDED.referral_fingerprint, referral_status = EXCLUDED.referral_status,
       referral_substatus = EXCLUDED.referral_substatus, microsoft_status = EXCLUDED.microsoft_status, microsoft_substatus = EXCLUDED.microsoft_substatus,
       microsoft_msx_id = EXCLUDED.microsoft_msx_id, last_synced_at = EXCLUDED.last_synced_at, respond_by = EXCLUDED.respond_by, updated_at = now()`,
    [
      link.tenantId, link.recordType, link.recordId, link.referralId, link.engagementId, link.microsoftReferralId, link.referralETag, link.recordETag,
      link.baseFields === null ? null : JSON.stringify(link.baseFields), link.fingerprint, link.referralFingerprint, link.referralStatus,
      link.referralSubstatus, link.microsoftStatus, link.microsoftSubstatus, link.microsoftMsxId, link.lastSyncedAt,
      link.referralStatus === "New" ? link.respondBy ?? null : null,
    ],
  );
}

export type LocalOutcome = "succeeded" | "failed" | "skipped" | "conflict";

export interface LocalSyncEvent {
  tenantId: string;
  runId: string | null;
  direction: "outbound" | "inbound";
  outcome: LocalOutcome;
  recordType: RecordType | null;
  recordId: string | null;
  referralId: string | null;
  message: string;
  conflicts?: unknown;
  correlationId?: string | null;
  latencyMs?: number;
}

export async function recordLocalSyncEvent(db: Queryable, event: LocalSyncEvent): Promise<void> {
  await db.query(
    `INSERT INTO sync_events (tenant_id, run_id, direction, outcome, record_type, record_id, referral_id, message, conflicts, correlation_id, latency_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)`,
    [
      event.tenantId, event.runId, event.direction, event.outcome, event.recordType, event.recordId, event.referralId, event.message,
      event.conflicts === undefined ? null : JSON.stringify(event.conflicts), event.correlationId ?? null, event.latencyMs ?? null,
    ],
  );
}

export interface StoredSyncEvent {
  direction: "outbound" | "inbound";
  outcome: LocalOutcome;
  recordType: string | null;
  recordId: string | null;
  referralId: string | null;
  message: string;
  runId: string | null;
  occurredAt: Date;
}

export async function listLocalSyncEvents(db: Queryable, tenantId: string, filter: { recordId?: string; referralId?: string; limit?: number } = {}): Promise<StoredSyncEvent[]> {
  const result = await db.query<{ direction: "outbound" | "inbound"; outcome: LocalOutcome; record_type: string | null; record_id: string | null; referral_id: string | null; message: string; run_id: string | null; occurred_at: Date | string }>(
    `SELECT * FROM sync_events WHERE tenant_id = $1 AND ($2::uuid IS NULL OR record_id = $2) AND ($3::text IS NULL OR referral_id = $3)
     ORDER BY occurred_at DESC, id DESC LIMIT $4`,
    [tenantId, filter.recordId ?? null, filter.referralId ?? null, filter.limit ?? 100],
  );
  return result.rows.map((r) => ({
    direction: r.direction, outcome: r.outcome, recordType: r.record_type, recordId: r.record_id === null ? null : String(r.record_id), referralId: r.referral_id,
    message: r.message, runId: r.run_id === null ? null : String(r.run_id), occurredAt: new Date(r.occurred_at),
  }));
}

/** Referrals still waiting for an answer whose time runs out before `before`, soonest first. */
export async function listExpiringLinks(db: Queryable, tenantId: string, before: Date): Promise<Array<{ recordType: RecordType; recordId: string; referralId: string; respondBy: Date }>> {
  const result = await db.query<{ record_type: RecordType; record_id: string; referral_id: string; respond_by: Date | string }>(
    `SELECT record_type, record_id, referral_id, respond_by FROM links
     WHERE tenant_id = $1 AND referral_status = 'New' AND respond_by IS NOT NULL AND respond_by < $2 ORDER BY respond_by`,
    [tenantId, before],
  );
  return result.rows.map((r) => ({ recordType: r.record_type, recordId: String(r.record_id), referralId: r.referral_id, respondBy: new Date(r.respond_by) }));
}

// Every webhook and step call is written here before the relay answers, so nothing acknowledged is lost.
import type { Queryable } from "./database.ts";

export type EventSource = "partner-center" | "dataverse" | "client-api" | "reconciler" | "cli";

export interface ReceivedEvent {
  tenantId: string;
  source: EventSource;
  /** e.g. "referral-updated", "Update opportunity". */
  kind: string;
  /** The queue subject it concerns: "referral:<id>", "opportunity:<id>", "lead:<id>". */
  subject: string | null;
  /** A key that identifies duplicates of the same delivery, when the source gives one. */
  dedupeKey?: string | null;
  payload: unknown;
}

export async function recordEvent(db: Queryable, event: ReceivedEvent & { runId?: string | null }): Promise<number> {
  const result = await db.query<{ id: string | number }>(
    `INSERT INTO received_events (tenant_id, source, kind, subject, dedupe_key, payload, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [event.tenantId, event.source, event.kind, event.subject, event.dedupeKey ?? null, JSON.stringify(event.payload ?? null), event.runId ?? null],
  );
  return Number(result.rows[0]!.id);
}

export async function attachRun(db: Queryable, eventId: number, runId: string): Promise<void> {
  await db.query(`UPDATE received_events SET run_id = $2 WHERE id = $1`, [eventId, runId]);
}

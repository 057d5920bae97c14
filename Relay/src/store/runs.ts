// Runs: one row per sync job, what `relay runs`, retry and the status page show.
import { randomUUID } from "node:crypto";
import type { Queryable } from "./database.ts";

export type RunState = "queued" | "running" | "succeeded" | "skipped" | "failed" | "retrying" | "dead";

export interface Run {
  id: string;
  tenantId: string;
  kind: string;
  subject: string;
  direction: "outbound" | "inbound" | null;
  state: RunState;
  attempts: number;
  lastError: string | null;
  whatToDo: string | null;
  correlationId: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface RunRow {
  id: string; tenant_id: string; kind: string; subject: string; direction: "outbound" | "inbound" | null; state: RunState; attempts: number;
  last_error: string | null; what_to_do: string | null; correlation_id: string | null; queued_at: Date | string; started_at: Date | string | null; finished_at: Date | string | null;
}

const toDate = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

function fromRow(row: RunRow): Run {
  return {
    id: row.id, tenantId: row.tenant_id, kind: row.kind, subject: row.subject, direction: row.direction, state: row.state,
    attempts: Number(row.attempts), lastError: row.last_error, whatToDo: row.what_to_do, correlationId: row.correlation_id,
    queuedAt: toDate(row.queued_at)!, startedAt: toDate(row.started_at), finishedAt: toDate(row.finished_at),
  };
}

export async function createRun(db: Queryable, run: { tenantId: string; kind: string; subject: string; direction?: "outbound" | "inbound"; correlationId?: string; id?: string }): Promise<Run> {
  const result = await db.query<RunRow>(
    `INSERT INTO runs (id, tenant_id, kind, subject, direction, state, correlation_id) VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING *`,
    [run.id ?? randomUUID(), run.tenantId, run.kind, run.subject, run.direction ?? null, run.correlationId ?? null],
  );
  return fromRow(result.rows[0]!);
}

export async function markRunStarted(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE runs SET state = 'running', attempts = attempts + 1, started_at = now() WHERE id = $1`, [id]);
}

export async function markRunFinished(db: Queryable, id: string, outcome: { state: Exclude<RunState, "queued" | "running">; error?: string; whatToDo?: string; direction?: "outbound" | "inbound" }): Promise<void> {
  await db.query(
    `UPDATE runs SET state = $2, last_error = $3, what_to_do = $4, direction = COALESCE($5, direction), finished_at = now() WHERE id = $1`,
    [id, outcome.state, outcome.error ?? null, outcome.whatToDo ?? null, outcome.direction ?? null],
  );
}

export async function getRun(db: Queryable, tenantId: string, id: string): Promise<Run | undefined> {
  const result = await db.query<RunRow>(`SELECT * FROM runs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return result.rows[0] ? fromRow(result.rows[0]) : undefined;
}

export async function listRuns(db: Queryable, tenantId: string, filter: { states?: RunState[]; subject?: string; limit?: number } = {}): Promise<Run[]> {
  const result = await db.query<RunRow>(
    `SELECT * FROM runs WHERE tenant_id = $1 AND ($2::text[] IS NULL OR state = ANY($2)) AND ($3::text IS NULL OR subject = $3)
     ORDER BY queued_at DESC LIMIT $4`,
    [tenantId, filter.states ?? null, filter.subject ?? null, filter.limit ?? 100],
  );
  return result.rows.map(fromRow);
}

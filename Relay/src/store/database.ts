// The relay's database: Postgres through `pg` when DATABASE_URL is set, otherwise PGlite (embedded
// Postgres in WASM) in a folder. Same SQL on both. Numbered migrations in ./migrations run at open.
import { readFileSync, readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

export interface Database extends Queryable {
  kind: "postgres" | "pglite";
  /** Runs `work` in one transaction; rolls back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The underlying client, for pg-boss (a pg.Pool or a PGlite instance). */
  raw: pg.Pool | PGlite;
  /** The connection string, for Postgres. */
  url?: string;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

export type DatabaseLocation = { url: string } | { dataDir: string } | { memory: true };

export async function openDatabase(location: DatabaseLocation): Promise<Database> {
  const db = "url" in location ? openPostgres(location.url) : await openPglite(location);
  await migrate(db);
  return db;
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // A broken idle connection must not crash the relay; the next query reconnects.
  pool.on("error", () => undefined);
  return {
    kind: "postgres",
    raw: pool,
    url,
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await pool.query(sql, params as unknown[]);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const tx: Queryable = {
          async query<R>(sql: string, params: unknown[] = []) {
            const result = await client.query(sql, params as unknown[]);
            return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
          },
        };
        const value = await work(tx);
        await client.query("COMMIT");
        return value;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(location: { dataDir: string } | { memory: true }): Promise<Database> {
  if ("dataDir" in location) mkdirSync(location.dataDir, { recursive: true });
  const lite = "dataDir" in location ? await PGlite.create(location.dataDir) : await PGlite.create();
  // PGlite runs one statement at a time; transactions are serialised by its own lock.
  return {
    kind: "pglite",
    raw: lite,
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await lite.query<T>(sql, params);
      return { rows: result.rows, rowCount: result.rows.length || result.affectedRows || 0 };
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      return lite.transaction(async (t) => work({
        async query<R>(sql: string, params: unknown[] = []) {
          const result = await t.query<R>(sql, params);
          return { rows: result.rows, rowCount: result.rows.length || result.affectedRows || 0 };
        },
      }));
    },
    close: () => lite.close(),
  };
}

export function listMigrations(): Array<{ version: number; name: string; sql: string }> {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split("_")[0]), name: f, sql: readFileSync(join(MIGRATIONS_DIR, f), "utf8") }));
}

async function migrate(db: Database): Promise<void> {
  await db.query("CREATE TABLE IF NOT EXISTS relay_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  const applied = new Set((await db.query<{ version: number }>("SELECT version FROM relay_migrations")).rows.map((r) => Number(r.version)));
  for (const migration of listMigrations()) {
    if (applied.has(migration.version)) continue;
    await db.transaction(async (tx) => {
      // Another replica may be migrating at the same moment: the advisory lock serialises them.
      await tx.query("SELECT pg_advisory_xact_lock(726354)");
      const again = await tx.query("SELECT 1 FROM relay_migrations WHERE version = $1", [migration.version]);
      if (again.rowCount > 0) return;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO relay_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
    });
  }
}

/** Splits a migration file into statements (no dollar-quoted bodies in our migrations). */
function splitStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}

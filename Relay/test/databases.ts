// Tests run against both databases the relay supports: embedded PGlite and the real Postgres on
// 127.0.0.1:5432 (a fresh database per test file, dropped afterwards).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../src/store/database.ts";

export const POSTGRES_ADMIN_URL = process.env.PCR_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  db: Database;
  url?: string;
  drop(): Promise<void>;
}

export async function pgliteDatabase(): Promise<TestDatabase> {
  const db = await openDatabase({ memory: true });
  return { db, drop: () => db.close() };
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `relay_test_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const db = await openDatabase({ url });
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      const cleanup = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

export const BOTH_DATABASES: Array<[string, () => Promise<TestDatabase>]> = [
  ["PGlite", pgliteDatabase],
  ["Postgres", postgresDatabase],
];

import { BOTH_DATABASES, type TestDatabase } from "./databases.ts";
import { listMigrations, openDatabase } from "../src/store/database.ts";

describe.each(BOTH_DATABASES)("relay store on %s", (_name, open) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t.drop();
  });

  test("applies every numbered migration once", async () => {
    const applied = await t.db.query<{ version: number }>("SELECT version FROM relay_migrations ORDER BY version");
    expect(applied.rows.map((r) => Number(r.version))).toEqual(listMigrations().map((m) => m.version));
  });

  test("reopening the same database applies nothing twice", async () => {
    if (!t.url) return; // an in-memory PGlite cannot be reopened; the Postgres run covers it
    const again = await openDatabase({ url: t.url });
    const applied = await again.query("SELECT version FROM relay_migrations");
    expect(applied.rowCount).toBe(listMigrations().length);
    await again.close();
  });

  test("every table keeps a tenant key", async () => {
    const tables = await t.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'relay_migrations'");
    expect(tables.rows.length).toBeGreaterThanOrEqual(5);
    for (const { table_name } of tables.rows) {
      const column = await t.db.query("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'tenant_id'", [table_name]);
      expect({ table_name, tenant: column.rowCount }).toEqual({ table_name, tenant: 1 });
    }
  });

  test("a transaction that throws leaves nothing behind", async () => {
    await expect(t.db.transaction(async (tx) => {
      await tx.query("INSERT INTO received_events (tenant_id, source, kind, payload) VALUES ($1, $2, $3, $4)", ["t1", "cli", "test", JSON.stringify({ a: 1 })]);
      throw new Error("boom");
    })).rejects.toThrow("boom");
    const rows = await t.db.query("SELECT * FROM received_events WHERE tenant_id = 't1'");
    expect(rows.rowCount).toBe(0);
  });
});

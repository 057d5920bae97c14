// In-memory rows by table, a row version counter, and journals so that a change set, or an operation
// a synchronous step cancels, can be rolled back. Rows are never changed in place: a write stores a
// new object, so a journal only keeps the previous object.
import type { Row } from "./values.ts";

interface JournalEntry {
  table: string;
  id: string;
  previous: Row | undefined;
}

export class Journal {
  readonly entries: JournalEntry[] = [];
}

export class Store {
  private readonly tables = new Map<string, Map<string, Row>>();
  private version = 1_000_000;

  nextVersion(): number {
    this.version += 1;
    return this.version;
  }

  get(table: string, id: string): Row | undefined {
    return this.tables.get(table)?.get(id.toLowerCase());
  }

  all(table: string): Row[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  count(table: string): number {
    return this.tables.get(table)?.size ?? 0;
  }

  put(table: string, id: string, row: Row, journal?: Journal): void {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map()));
    journal?.entries.push({ table, id, previous: rows.get(id) });
    rows.set(id, Object.freeze({ ...row }));
  }

  remove(table: string, id: string, journal?: Journal): void {
    const rows = this.tables.get(table);
    if (!rows?.has(id)) return;
    journal?.entries.push({ table, id, previous: rows.get(id) });
    rows.delete(id);
  }

  rollback(journal: Journal): void {
    for (const entry of journal.entries.reverse()) {
      let rows = this.tables.get(entry.table);
      if (!rows) this.tables.set(entry.table, (rows = new Map()));
      if (entry.previous) rows.set(entry.id, entry.previous);
      else rows.delete(entry.id);
    }
    journal.entries.length = 0;
  }

  clear(): void {
    this.tables.clear();
  }

  stats(): Record<string, number> {
    return Object.fromEntries([...this.tables].map(([table, rows]) => [table, rows.size]));
  }
}

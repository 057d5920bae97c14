import { BOTH_DATABASES, type TestDatabase } from "./databases.ts";
import { startQueue, enqueueSync, SYNC_QUEUE } from "../src/queue.ts";
import type { PgBoss } from "pg-boss";

describe.each(BOTH_DATABASES)("sync queue on %s", (_name, open) => {
  let t: TestDatabase;
  let boss: PgBoss;
  beforeAll(async () => {
    t = await open();
    boss = await startQueue(t.db, { retryLimit: 1, retryDelaySeconds: 1 });
  }, 60000);
  afterAll(async () => {
    await boss.stop({ graceful: false });
    await t.drop();
  });

  test("a burst of events for one subject waits as one job, and another subject gets its own", async () => {
    const first = await enqueueSync(boss, { tenantId: "t", subject: "opportunity:a", runId: "r1", reason: "update" });
    const second = await enqueueSync(boss, { tenantId: "t", subject: "opportunity:a", runId: "r2", reason: "update" });
    const other = await enqueueSync(boss, { tenantId: "t", subject: "opportunity:b", runId: "r3", reason: "update" });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    expect(other).toEqual(expect.any(String));
  });

  test("a worker receives queued jobs", async () => {
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      void boss.work(SYNC_QUEUE, { pollingIntervalSeconds: 0.5, batchSize: 10 }, async (jobs) => {
        for (const job of jobs) seen.push((job.data as { subject: string }).subject);
        if (seen.length >= 2) resolve();
      });
    });
    expect(seen.sort()).toEqual(["opportunity:a", "opportunity:b"]);
  }, 30000);
});

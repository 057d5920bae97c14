import { BOTH_DATABASES, type TestDatabase } from "./databases.ts";
import { createRun, markRunStarted, markRunFinished, getRun, listRuns } from "../src/store/runs.ts";
import { recordEvent, attachRun } from "../src/store/received-events.ts";

describe.each(BOTH_DATABASES)("runs and received events on %s", (_name, open) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await open(); });
  afterAll(async () => { await t.drop(); });

  test("a run moves from queued to running to failed, with what to do, and is listed by state", async () => {
    const run = await createRun(t.db, { tenantId: "t1", kind: "sync", subject: "opportunity:1", direction: "outbound" });
    expect(run.state).toBe("queued");
    await markRunStarted(t.db, run.id);
    await markRunFinished(t.db, run.id, { state: "failed", error: "Partner Center answered 400", whatToDo: "Fix the deal value and retry." });
    const back = await getRun(t.db, "t1", run.id);
    expect(back).toMatchObject({ state: "failed", attempts: 1, whatToDo: "Fix the deal value and retry." });
    expect(back!.finishedAt).toBeInstanceOf(Date);
    expect((await listRuns(t.db, "t1", { states: ["failed"] })).map((r) => r.id)).toEqual([run.id]);
    expect(await listRuns(t.db, "t2")).toEqual([]);
  });

  test("a received event is stored before it is linked to its run", async () => {
    const id = await recordEvent(t.db, { tenantId: "t1", source: "partner-center", kind: "referral-updated", subject: "referral:abc", payload: { EventName: "referral-updated" } });
    const run = await createRun(t.db, { tenantId: "t1", kind: "sync", subject: "referral:abc" });
    await attachRun(t.db, id, run.id);
    const rows = await t.db.query<{ run_id: string; payload: unknown }>("SELECT run_id, payload FROM received_events WHERE id = $1", [id]);
    expect(rows.rows[0]).toMatchObject({ run_id: run.id, payload: { EventName: "referral-updated" } });
  });
});

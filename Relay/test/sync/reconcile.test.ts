// The reconciler: changes whose webhook or step never arrived (Partner Center gives up after 10 tries,
// a step is lost while the relay is down) are found by comparing both sides with the link's
// fingerprints, queued, and converge; a converged system queues nothing. On both databases.
import { Opportunity, ReferralSubstatus } from "../../../Core/generated/schema.ts";
import { BOTH_DATABASES, type TestDatabase } from "../databases.ts";
import { listRuns } from "../../src/store/runs.ts";
import { startReconciler } from "../../src/sync/reconciler.ts";
import {
  TENANT, opportunity, partnerReferralsFor, quietLog, sellerOpportunity, startHarness, startRelay, syncThroughQueue, type Harness, type Relay,
} from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe.each(BOTH_DATABASES)("reconcile on %s", (_name, open) => {
  let t: TestDatabase;
  let relay: Relay;

  async function settled(): Promise<void> {
    const until = Date.now() + 90_000;
    while ((await listRuns(t.db, TENANT, { states: ["queued", "running", "retrying"] })).length) {
      if (Date.now() > until) throw new Error("the queue did not settle");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    t = await open();
    relay = await startRelay(h, t.db);
    await relay.startWorker();
  }, 60_000);
  afterAll(async () => {
    await relay?.stop();
    await t?.drop();
  });

  test("a first sweep brings in what was never synced; a converged system then queues nothing", async () => {
    const first = await relay.engine.reconcile();
    expect(first.checked).toBeGreaterThan(0);
    expect(first.enqueued).toBeGreaterThan(0); // the seeded referrals nobody has synced yet
    await settled();
    expect(await relay.engine.reconcile()).toMatchObject({ enqueued: 0 });
  }, 120_000);

  test("changes whose webhook or step was dropped are queued by reconcile() and converge", async () => {
    const deal = await sellerOpportunity(h);
    const other = await sellerOpportunity(h);
    await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    await syncThroughQueue(relay, `opportunity:${other.opportunityId}`);
    const [referral] = await partnerReferralsFor(h, deal.opportunityId);
    const [closing] = await partnerReferralsFor(h, other.opportunityId);
    // In Partner Center a partner user edits the notes of one deal and closes the other as Won: both webhooks dropped.
    const current = await h.partnerCenter.getReferral(referral!.id);
    await h.partnerCenter.updateReferral(referral!.id, [{ op: "replace", path: "/details/notes", value: "Notes changed in Partner Center" }], { ifMatch: current.eTag });
    const { eTag } = await h.partnerCenter.getReferral(closing!.id);
    await h.partnerCenter.updateReferral(closing!.id, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Won" }], { ifMatch: eTag });
    // A seller changes the deal value while the step's call is lost.
    const third = await sellerOpportunity(h);
    await syncThroughQueue(relay, `opportunity:${third.opportunityId}`);
    await h.seller.update("opportunities", third.opportunityId, { estimatedvalue: 99000 });

    const result = await relay.engine.reconcile();
    expect(result.enqueued).toBeGreaterThanOrEqual(3);
    await settled();
    expect((await opportunity(h, deal.opportunityId)).description).toBe("Notes changed in Partner Center");
    expect(await opportunity(h, other.opportunityId)).toMatchObject({ statecode: 1, [Opportunity.columns.referralSubstatus]: ReferralSubstatus.Won });
    const [thirdReferral] = await partnerReferralsFor(h, third.opportunityId);
    expect(thirdReferral!.details.dealValue).toBe(99000);
    expect(await relay.engine.reconcile()).toMatchObject({ enqueued: 0 });
  }, 120_000);

  test("startReconciler sweeps on its schedule and stops cleanly", async () => {
    const reconciler = startReconciler({ engine: relay.engine, log: quietLog, intervalMs: 60_000, initialDelayMs: 10 });
    const result = await reconciler.runNow();
    expect(result).toMatchObject({ checked: expect.any(Number), enqueued: 0 });
    await reconciler.stop();
  }, 60_000);
});

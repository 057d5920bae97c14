// Nothing is lost, nothing is doubled: duplicate and reordered events for one referral end with one
// opportunity, account and contact; a run interrupted after the create converges on retry without a
// second referral or record; a 429/5xx storm on both sides ends converged through the queue's retries;
// a failure that never passes ends "dead" and visible; the relay's own write-backs cost Partner Center
// no write. On both databases.
import { randomUUID } from "node:crypto";
import { Opportunity, PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { literal, type Row } from "../../src/clients/dataverse.ts";
import { BOTH_DATABASES, type TestDatabase } from "../databases.ts";
import { DEAD_LETTER_QUEUE, SYNC_QUEUE } from "../../src/queue.ts";
import { listRuns } from "../../src/store/runs.ts";
import { createSyncEngine } from "../../src/sync/engine.ts";
import {
  TENANT, opportunity, partnerReferralsFor, sellerOpportunity, startHarness, startRelay, syncThroughQueue, writes, type Harness, type Relay,
} from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function count(h: Harness, entitySet: string, filter: string): Promise<number> {
  let n = 0;
  for await (const _row of h.dataverse.retrieveMultiple<Row>(entitySet, { filter, select: [] })) n++;
  return n;
}

async function incoming(h: Harness): Promise<{ referral: Referral; name: string; email: string }> {
  const tag = randomUUID().slice(0, 8);
  const name = `Litware ${tag}`;
  const email = `noa.${tag}@litware.example`;
  const answer = await h.pc<Referral>("/sandbox/microsoft/referrals", {
    type: "Shared", name: `Litware: ${tag}`,
    customerProfile: { name, address: { city: "Rotterdam", postalCode: "3011 AA", country: "NL" }, team: [{ firstName: "Noa", lastName: "Visser", email }] },
  });
  return { referral: answer.body, name, email };
}

async function accept(h: Harness, id: string): Promise<void> {
  const { eTag } = await h.partnerCenter.getReferral(id);
  await h.partnerCenter.updateReferral(id, [{ op: "replace", path: "/status", value: "Active" }, { op: "replace", path: "/substatus", value: "Accepted" }], { ifMatch: eTag });
}

describe.each(BOTH_DATABASES)("resilience on %s", (_name, open) => {
  let t: TestDatabase;
  let relay: Relay;
  beforeAll(async () => {
    t = await open();
    relay = await startRelay(h, t.db, { retryLimit: 8 });
    await relay.startWorker(4);
  }, 60_000);
  afterAll(async () => {
    await h.pc("/sandbox/faults", undefined, "DELETE");
    await h.dv("DELETE", "/sandbox/faults");
    await relay?.stop();
    await t?.drop();
  });

  test("duplicate and reordered events for one referral end with exactly one opportunity, account and contact", async () => {
    const { referral, name, email } = await incoming(h);
    await accept(h, referral.id);
    const job = (reason: string) => ({ tenantId: TENANT, subject: `referral:${referral.id}`, runId: randomUUID(), reason });
    // The same event three times at once (past the queue's coalescing), then an older event after a newer change.
    const outcomes = await Promise.all([relay.engine.run(job("referral-created")), relay.engine.run(job("referral-created")), relay.engine.run(job("referral-updated"))]);
    expect(outcomes.map((o) => o.state).sort()).toEqual(["skipped", "skipped", "succeeded"]);
    await h.pc(`/sandbox/microsoft/referrals/${referral.id}/update`, { details: { notes: "Newest notes from Microsoft" } });
    const { eTag } = await h.partnerCenter.getReferral(referral.id);
    await h.partnerCenter.updateReferral(referral.id, [{ op: "replace", path: "/details/notes", value: "Newest notes" }], { ifMatch: eTag });
    expect((await relay.engine.run(job("referral-created"))).state).toBe("succeeded"); // late "created": reads the referral as it is now
    expect((await relay.engine.run(job("referral-updated"))).state).toBe("skipped");
    expect(await count(h, "opportunities", `${Opportunity.columns.referralIdentifier} eq ${literal(referral.id)}`)).toBe(1);
    expect(await count(h, "accounts", `name eq ${literal(name)}`)).toBe(1);
    expect(await count(h, "contacts", `emailaddress1 eq ${literal(email)}`)).toBe(1);
    const [row] = await (async () => { const r: Row[] = []; for await (const x of h.dataverse.retrieveMultiple("opportunities", { filter: `${Opportunity.columns.referralIdentifier} eq ${literal(referral.id)}`, select: ["description"] })) r.push(x); return r; })();
    expect(row!.description).toBe("Newest notes");
  });

  test("a run interrupted after Partner Center created the referral converges without a second referral", async () => {
    const deal = await sellerOpportunity(h);
    // The relay "dies" after Partner Center created the referral, before its write-back …
    const dying = createSyncEngine({ ...relay.deps, dataverse: h.dying() });
    const first = await dying.run({ tenantId: TENANT, subject: `opportunity:${deal.opportunityId}`, runId: randomUUID(), reason: "test" });
    expect(first).toMatchObject({ state: "failed", retryable: true });
    const [created] = await partnerReferralsFor(h, deal.opportunityId);
    expect(created).toBeDefined();
    // … and lost its link row too (killed before the store's write): the retry finds the referral by externalReferenceId.
    await t.db.query("DELETE FROM links WHERE record_id = $1", [deal.opportunityId]);
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "retry");
    expect(run.state).toBe("succeeded");
    expect(await partnerReferralsFor(h, deal.opportunityId)).toHaveLength(1);
    expect((await opportunity(h, deal.opportunityId))[Opportunity.columns.referralIdentifier]).toBe(created!.id);
    expect(String((await opportunity(h, deal.opportunityId))[Opportunity.columns.audit])).toMatch(/Found referral .* which an earlier attempt created/);
  });

  test("a share that died before it was linked, a seller's edit meanwhile, then Partner Center's webhook: the edit is sent, not reverted", async () => {
    const deal = await sellerOpportunity(h, { dealValue: 120000 });
    const dying = createSyncEngine({ ...relay.deps, dataverse: h.dying() });
    expect(await dying.run({ tenantId: TENANT, subject: `opportunity:${deal.opportunityId}`, runId: randomUUID(), reason: "test" })).toMatchObject({ state: "failed", retryable: true });
    const [created] = await partnerReferralsFor(h, deal.opportunityId);
    // Killed before the store kept the link; the seller raises the value while the relay is down …
    await t.db.query("DELETE FROM links WHERE record_id = $1", [deal.opportunityId]);
    await h.seller.update("opportunities", deal.opportunityId, { estimatedvalue: 150000 });
    // … and the first thing the restarted relay sees is Partner Center's referral-created webhook.
    expect((await syncThroughQueue(relay, `referral:${created!.id}`, "referral-created")).state).toBe("succeeded");
    expect((await opportunity(h, deal.opportunityId)).estimatedvalue).toBe(150000);
    const referrals = await partnerReferralsFor(h, deal.opportunityId);
    expect(referrals).toHaveLength(1);
    expect(referrals[0]!.details.dealValue).toBe(150000);
  });

  test("a seller's edit made after a share died half-way is sent to Partner Center, not replaced by the referral's older value", async () => {
    const deal = await sellerOpportunity(h, { dealValue: 120000 });
    // The relay dies after creating the referral and linking it (no base fields yet), before its write-back …
    const dying = createSyncEngine({ ...relay.deps, dataverse: h.dying() });
    expect(await dying.run({ tenantId: TENANT, subject: `opportunity:${deal.opportunityId}`, runId: randomUUID(), reason: "test" })).toMatchObject({ state: "failed", retryable: true });
    expect((await partnerReferralsFor(h, deal.opportunityId))[0]!.details.dealValue).toBe(120000);
    // … the seller raises the value meanwhile, and the next run (the same job retried, or the step's) finishes the share.
    await h.seller.update("opportunities", deal.opportunityId, { estimatedvalue: 150000 });
    expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update of opportunity")).state).toBe("succeeded");
    expect((await opportunity(h, deal.opportunityId)).estimatedvalue).toBe(150000);
    const referrals = await partnerReferralsFor(h, deal.opportunityId);
    expect(referrals).toHaveLength(1);
    expect(referrals[0]!.details.dealValue).toBe(150000);
  });

  test("an incoming referral whose run died after creating the opportunity converges on retry without a second one", async () => {
    const { referral, name } = await incoming(h);
    await accept(h, referral.id);
    const dying = createSyncEngine({ ...relay.deps, dataverse: h.dying() });
    const first = await dying.run({ tenantId: TENANT, subject: `referral:${referral.id}`, runId: randomUUID(), reason: "referral-created" });
    expect(first).toMatchObject({ state: "failed", retryable: true });
    expect(await count(h, "opportunities", `${Opportunity.columns.referralIdentifier} eq ${literal(referral.id)}`)).toBe(1);
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
    expect(await count(h, "opportunities", `${Opportunity.columns.referralIdentifier} eq ${literal(referral.id)}`)).toBe(1);
    expect(await count(h, "accounts", `name eq ${literal(name)}`)).toBe(1);
  });

  test("a 429/5xx storm on both sides ends converged, through the queue's retries", async () => {
    const deals = await Promise.all([sellerOpportunity(h), sellerOpportunity(h, { help: null })]);
    const inbound = await incoming(h);
    await accept(h, inbound.referral.id);
    await h.pc("/sandbox/faults", [
      { kind: "throttle", route: "*", probability: 0.3, retryAfterSeconds: 0 },
      { kind: "error", status: 503, route: "*", probability: 0.2 },
      { kind: "error", status: 500, route: "POST /v1.0/engagements/referrals", count: 1 },
    ]);
    await h.dv("POST", "/sandbox/faults", { status: 429, share: 0.25, retryAfter: 0 });
    await h.dv("POST", "/sandbox/faults", { status: 503, share: 0.15 });
    try {
      const subjects = [...deals.map((d) => `opportunity:${d.opportunityId}`), `referral:${inbound.referral.id}`];
      const runs = await Promise.all(subjects.map((s) => relay.engine.requestSync(s, "storm", "cli")));
      const finished = await Promise.all(runs.map((r) => relay.waitForRun(r.runId, ["succeeded", "skipped", "failed", "dead"], 120_000)));
      expect(finished.map((r) => r.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    } finally {
      await h.pc("/sandbox/faults", undefined, "DELETE");
      await h.dv("DELETE", "/sandbox/faults");
    }
    for (const deal of deals) {
      expect(await partnerReferralsFor(h, deal.opportunityId)).toHaveLength(1);
      expect((await opportunity(h, deal.opportunityId))[Opportunity.columns.syncStatus]).toBe(PartnerCenterSyncStatus.Synced);
    }
    expect(await count(h, "opportunities", `${Opportunity.columns.referralIdentifier} eq ${literal(inbound.referral.id)}`)).toBe(1);
    expect(await count(h, "accounts", `name eq ${literal(inbound.name)}`)).toBe(1);
    // Once calm, the relay's own write-backs (each fires the Update step) cost Partner Center no write.
    const before = await h.pcCounts();
    for (const deal of deals) expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity")).state).toBe("skipped");
    const [linked] = await (async () => { const r: Row[] = []; for await (const x of h.dataverse.retrieveMultiple("opportunities", { filter: `${Opportunity.columns.referralIdentifier} eq ${literal(inbound.referral.id)}`, select: ["opportunityid"] })) r.push(x); return r; })();
    expect((await syncThroughQueue(relay, `opportunity:${String(linked!.opportunityid)}`, "Update opportunity")).state).toBe("skipped");
    expect(writes(await h.pcCounts())).toBe(writes(before));
  }, 180_000);

  test("a failure that never passes is retried, then dead: the run, the dead-letter queue and the record say so", async () => {
    await relay.boss.updateQueue(SYNC_QUEUE, { retryLimit: 1 });
    try {
      const deal = await sellerOpportunity(h);
      await h.pc("/sandbox/faults", { kind: "error", status: 503, route: "POST /v1.0/engagements/referrals" });
      const { runId } = await relay.engine.requestSync(`opportunity:${deal.opportunityId}`, "Create opportunity", "dataverse");
      const run = await relay.waitForRun(runId, ["dead"], 120_000);
      expect(run).toMatchObject({ state: "dead", attempts: 2, lastError: expect.stringMatching(/503/) });
      expect((await listRuns(t.db, TENANT, { states: ["dead"] })).map((r) => r.id)).toContain(runId);
      const row = await opportunity(h, deal.opportunityId);
      expect(row[Opportunity.columns.syncStatus]).toBe(PartnerCenterSyncStatus.Failed);
      expect(String(row[Opportunity.columns.lastSyncError])).toMatch(/^Gave up after 2 attempts/);
      expect(await partnerReferralsFor(h, deal.opportunityId)).toHaveLength(0);
      let letter: unknown;
      for (let i = 0; i < 50 && !letter; i++) {
        letter = (await relay.boss.fetch(DEAD_LETTER_QUEUE, { batchSize: 10 })).find((j) => (j.data as { runId?: string }).runId === runId);
        if (!letter) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(letter).toBeDefined();
    } finally {
      await h.pc("/sandbox/faults", undefined, "DELETE");
      await relay.boss.updateQueue(SYNC_QUEUE, { retryLimit: 8 });
    }
  }, 180_000);
});

// Outbound, end to end against the sandboxes and on both databases: a seller's co-sell opportunity
// becomes the partner's referral and Microsoft's related referral, the opportunity gets its identifier,
// link and status back, the relay's own write-back is an echo that costs Partner Center nothing, a
// later deal-value change goes out as a JSON Patch with If-Match (a 412 re-reads and re-merges), a
// change on both sides is a recorded conflict, and re-running a finished job changes nothing.
import { HowCanMicrosoftHelp, Opportunity, PartnerCenterSyncStatus, ReferralStatus, ReferralSubstatus, SyncEvent, SyncOutcome } from "../../../Core/generated/schema.ts";
import { BOTH_DATABASES, type TestDatabase } from "../databases.ts";
import { getLinkByRecord, listLocalSyncEvents } from "../../src/sync/links.ts";
import {
  TENANT, calls, opportunity, partnerReferralsFor, referralsInEngagement, sellerOpportunity, startHarness, startRelay, syncEventsOf, syncThroughQueue, writes,
  type Harness, type Relay,
} from "./harness.ts";

const C = Opportunity.columns;
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe.each(BOTH_DATABASES)("outbound on %s", (_name, open) => {
  let t: TestDatabase;
  let relay: Relay;
  beforeAll(async () => {
    t = await open();
    relay = await startRelay(h, t.db);
    await relay.startWorker();
  }, 60_000);
  afterAll(async () => {
    await relay?.stop();
    await t?.drop();
  });

  test("a seller's co-sell opportunity becomes a referral and Microsoft's related referral; the opportunity gets identifier, link and status", async () => {
    const deal = await sellerOpportunity(h, { help: HowCanMicrosoftHelp.ProofOfConceptOrDemo, notes: "Move the data platform to Azure" });
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Create opportunity");
    expect(run).toMatchObject({ state: "succeeded", direction: "outbound", attempts: 1 });

    const [referral, ...more] = await partnerReferralsFor(h, deal.opportunityId);
    expect(more).toHaveLength(0);
    expect(referral).toMatchObject({
      name: deal.name, type: "Shared", status: "Active", substatus: "Accepted", externalReferenceId: deal.opportunityId,
      details: { dealValue: 120000, currency: "EUR", closingDateTime: expect.stringMatching(/^2027-03-31/), notes: "Move the data platform to Azure" },
      customerProfile: { address: { country: "NL", postalCode: "3511 AB", city: "Utrecht" }, team: [expect.objectContaining({ email: expect.stringMatching(/@customer\.example$/), firstName: "Eva" })] },
      consent: { consentToShareReferralWithMicrosoftSellers: true },
      inviteContext: { assistanceRequestCode: "ProofOfConceptOrDemo" },
    });
    expect(referral!.details.requirements?.solutions?.map((s) => s.id)).toEqual(["SOL-AZ-MIGRATE"]);
    const engagement = await referralsInEngagement(h, referral!.engagementId);
    const microsoft = engagement.find((r) => r.id !== referral!.id);
    expect(engagement).toHaveLength(2);
    expect(microsoft).toMatchObject({ target: [{ type: "BusinessProfileLocation", id: "msft" }], status: "New", substatus: "Pending" });

    const row = await opportunity(h, deal.opportunityId);
    expect(row).toMatchObject({
      [C.referralIdentifier]: referral!.id,
      [C.referralLink]: `https://partner.microsoft.com/dashboard/referrals/v2/${referral!.id}`,
      [C.syncStatus]: PartnerCenterSyncStatus.Synced,
      [C.referralStatus]: ReferralStatus.Active,
      [C.referralSubstatus]: ReferralSubstatus.Accepted,
      [C.microsoftStatus]: ReferralStatus.New,
      [C.microsoftSubstatus]: ReferralSubstatus.Pending,
      [C.lastSyncError]: null,
      name: deal.name,
    });
    expect(row[C.lastSyncedOn]).toEqual(expect.any(String));
    expect(String(row[C.audit])).toMatch(/Dynamics 365 → Partner Center · Shared with Partner Center as referral/);
    const events = await syncEventsOf(h, deal.opportunityId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ [SyncEvent.columns.outcome]: SyncOutcome.Succeeded, [SyncEvent.columns.referralIdentifier]: referral!.id, [SyncEvent.columns.correlationId]: run.id });
    const link = await getLinkByRecord(t.db, TENANT, "opportunity", deal.opportunityId);
    expect(link).toMatchObject({ referralId: referral!.id, engagementId: referral!.engagementId, microsoftReferralId: microsoft!.id, referralStatus: "Active" });
    expect(link!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await listLocalSyncEvents(t.db, TENANT, { recordId: deal.opportunityId }))[0]).toMatchObject({ outcome: "succeeded", direction: "outbound" });
  });

  test("the relay's own write-back is an echo: skipped, and Partner Center sees no call at all", async () => {
    const deal = await sellerOpportunity(h);
    await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    const before = await h.pcCounts();
    // The write-back fires the opportunity's Update step, which asks for a sync.
    const echo = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity");
    expect(echo.state).toBe("skipped");
    expect(await h.pcCounts()).toEqual(before);
    expect(String((await opportunity(h, deal.opportunityId))[C.audit]).split("\n")).toHaveLength(1);
  });

  test("a later deal-value change goes out as a patch with If-Match; a 412 is re-read and re-merged, never overwritten", async () => {
    const deal = await sellerOpportunity(h);
    await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    const [referral] = await partnerReferralsFor(h, deal.opportunityId);
    await h.seller.update("opportunities", deal.opportunityId, { estimatedvalue: 150000 });
    // Partner Center answers the first PATCH with 412, as if someone wrote in between.
    await h.pc("/sandbox/faults", { kind: "status", status: 412, route: "PATCH /v1.0/engagements/referrals/:id", count: 1 });
    const before = await h.pcCounts();
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity");
    expect(run.state).toBe("succeeded");
    const after = await h.pcCounts();
    expect(calls(after, "PATCH /v1.0/engagements/referrals/:id") - calls(before, "PATCH /v1.0/engagements/referrals/:id")).toBe(2);
    expect(after["PATCH /v1.0/engagements/referrals/:id"]?.["412"] ?? 0).toBeGreaterThanOrEqual(1);
    const { referral: now } = await h.partnerCenter.getReferral(referral!.id);
    expect(now.details.dealValue).toBe(150000);
    expect(String((await opportunity(h, deal.opportunityId))[C.audit])).toMatch(/Sent to Partner Center: deal value\./);
    // Running the finished job again changes nothing on either side.
    const quiet = await h.pcCounts();
    const again = await relay.engine.run({ tenantId: TENANT, subject: `opportunity:${deal.opportunityId}`, runId: run.id, reason: "retry" });
    expect(again.state).toBe("skipped");
    expect(writes(await h.pcCounts())).toBe(writes(quiet));
  });

  test("a change on both sides: the partner-owned field follows Dynamics and the conflict is in the Sync Event", async () => {
    const deal = await sellerOpportunity(h);
    await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    const [referral] = await partnerReferralsFor(h, deal.opportunityId);
    const { eTag } = await h.partnerCenter.getReferral(referral!.id);
    await h.partnerCenter.updateReferral(referral!.id, [{ op: "replace", path: "/details/notes", value: "Changed in Partner Center" }], { ifMatch: eTag });
    await h.seller.update("opportunities", deal.opportunityId, { description: "Changed in Dynamics" });
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity");
    expect(run.state).toBe("succeeded");
    expect((await h.partnerCenter.getReferral(referral!.id)).referral.details.notes).toBe("Changed in Dynamics");
    const events = await syncEventsOf(h, deal.opportunityId);
    const conflict = events.find((e) => e[SyncEvent.columns.outcome] === SyncOutcome.Conflict);
    expect(conflict).toBeDefined();
    expect(JSON.stringify(conflict)).toMatch(/Conflict on notes: Dynamics 365 had Changed in Dynamics, Partner Center had Changed in Partner Center/);
  });

  test("Sync = No shares nothing and says Not shared", async () => {
    const deal = await sellerOpportunity(h, { sync: false });
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    expect(run.state).toBe("skipped");
    expect(await partnerReferralsFor(h, deal.opportunityId)).toHaveLength(0);
    expect((await opportunity(h, deal.opportunityId))[C.syncStatus]).toBe(PartnerCenterSyncStatus.NotShared);
  });
});

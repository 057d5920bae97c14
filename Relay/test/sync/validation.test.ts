// Readiness before the first create: each missing item gives status Failed, a plain-words Last sync
// error and Audit line naming it, a failed Sync Event (in Dataverse and in the store), a failed run that
// is not retried, and no referral. The ✖ in the name only when the check-mark variable says yes.
import { HowCanMicrosoftHelp, Opportunity, PartnerCenterSyncStatus, SyncEvent, SyncOutcome } from "../../../Core/generated/schema.ts";
import { READINESS_PROBLEMS, type Language } from "../../../Core/messages.ts";
import type { ReadinessProblem } from "../../../Core/readiness.ts";
import { pgliteDatabase, type TestDatabase } from "../databases.ts";
import { listLocalSyncEvents } from "../../src/sync/links.ts";
import {
  TENANT, opportunity, partnerReferralsFor, sellerOpportunity, sellerSolution, startHarness, startRelay, syncEventsOf, syncThroughQueue, type Harness, type Relay,
} from "./harness.ts";

const C = Opportunity.columns;
const EN: Language = 1033;
let h: Harness;
let t: TestDatabase;
let relay: Relay;
beforeAll(async () => {
  h = await startHarness();
  t = await pgliteDatabase();
  relay = await startRelay(h, t.db);
  await relay.startWorker();
}, 60_000);
afterAll(async () => {
  await relay?.stop();
  await t?.drop();
  await h?.close();
});

const CASES: Array<[string, Parameters<typeof sellerOpportunity>[1], ReadinessProblem[]]> = [
  ["no Microsoft solution", { solution: false }, ["noSolution"]],
  ["no country on the account", { country: null }, ["noCountry"]],
  ["a country name instead of an ISO code", { country: "Netherlands" }, ["countryNotIso"]],
  ["no contact while help is requested", { contact: false, help: HowCanMicrosoftHelp.QuotesOrLicensing }, ["noContact"]],
  ["no deal value", { dealValue: null }, ["noDealValue"]],
  ["no currency", { currency: null }, ["noCurrency"]],
  ["no close date", { closeDate: null }, ["noCloseDate"]],
  ["several things at once", { solution: false, dealValue: null, closeDate: null }, ["noSolution", "noDealValue", "noCloseDate"]],
];

test.each(CASES)("%s: status Failed, a clear Audit line and Sync Event, and no referral", async (_label, options, problems) => {
  const deal = await sellerOpportunity(h, options);
  const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Create opportunity");
  expect(run).toMatchObject({ state: "failed", attempts: 1 });
  for (const problem of problems) expect(run.lastError).toContain(READINESS_PROBLEMS[problem][EN]);

  const row = await opportunity(h, deal.opportunityId);
  expect(row[C.syncStatus]).toBe(PartnerCenterSyncStatus.Failed);
  expect(row[C.referralIdentifier]).toBeNull();
  for (const problem of problems) {
    expect(String(row[C.lastSyncError])).toContain(READINESS_PROBLEMS[problem][EN]);
    expect(String(row[C.audit]).split("\n")[0]).toContain(READINESS_PROBLEMS[problem][EN]);
  }
  expect(row.name).toBe(deal.name); // no ✖ unless the check-mark variable says yes
  const events = await syncEventsOf(h, deal.opportunityId);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ [SyncEvent.columns.outcome]: SyncOutcome.Failed, [SyncEvent.columns.correlationId]: run.id });
  expect(String(events[0]![SyncEvent.columns.message])).toContain(READINESS_PROBLEMS[problems[0]!][EN]);
  expect((await listLocalSyncEvents(t.db, TENANT, { recordId: deal.opportunityId }))[0]).toMatchObject({ outcome: "failed" });
  expect(await partnerReferralsFor(h, deal.opportunityId)).toHaveLength(0);

  // The failure's own write-back is an echo; nothing new is written.
  const echo = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity");
  expect(echo.state).toBe("skipped");
  expect(await syncEventsOf(h, deal.opportunityId)).toHaveLength(1);
});

test("fixing what was missing shares the deal; with the check-mark variable the name shows ✖ then ✔", async () => {
  await h.setVariable("displayCheckMarkInName", "yes");
  try {
    const deal = await sellerOpportunity(h, { solution: false, dealValue: null });
    expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`)).state).toBe("failed");
    expect((await opportunity(h, deal.opportunityId)).name).toBe(`${deal.name} ✖`);
    await h.seller.update("opportunities", deal.opportunityId, { estimatedvalue: 5000 });
    await sellerSolution(h, deal.opportunityId);
    const run = await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`);
    expect(run.state).toBe("succeeded");
    const row = await opportunity(h, deal.opportunityId);
    expect(row).toMatchObject({ name: `${deal.name} ✔`, [C.syncStatus]: PartnerCenterSyncStatus.Synced, [C.lastSyncError]: null });
    const [referral] = await partnerReferralsFor(h, deal.opportunityId);
    expect(referral).toMatchObject({ name: deal.name, details: { dealValue: 5000 } });
    // The ✔ the relay wrote is its own echo: nothing goes to Partner Center.
    expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "Update opportunity")).state).toBe("skipped");
  } finally {
    await h.setVariable("displayCheckMarkInName", "no");
  }
});

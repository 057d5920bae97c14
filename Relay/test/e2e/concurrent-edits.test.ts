// 6. Concurrent edits of the same deal on both sides: a seller changes a shared deal in Dynamics 365 while,
// at the same moment, a partner user changes the same referral in Partner Center and Microsoft accepts
// the co-sell. The ownership rules (shared/docs/architecture.md, "Ownership of fields on conflict") decide:
// - a partner-owned field changed on both sides (the deal value) follows Dynamics 365, on both sides;
// - a partner-owned field changed only in Partner Center (the notes) comes to Dynamics 365;
// - Microsoft-owned fields (Microsoft CRM Identifier) follow Partner Center;
// - a terminal state wins: a referral a partner user closes as Won stays Won, and the opportunity is won.
// The suite counts deals lost, duplicated and wrongly overwritten; all must be zero.
import { randomUUID } from "node:crypto";
import { Opportunity } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { isMicrosoftsReferral } from "../../src/sync/partner-center-side.ts";
import { reportCounts, type Tally } from "./convergence.ts";
import { allReferrals, note, opportunity, readyWorld, sellerShares, summaryLine, waitFor, type SellerDeal, type World } from "./harness.ts";

const DEALS = Math.max(2, Number(process.env.PCR_E2E_CONCURRENT_DEALS ?? 4) || 4);

let world: World;
beforeAll(async () => {
  world = await readyWorld({ kind: "launcher", reconcileIntervalMs: 2000, workerConcurrency: 4 });
}, 90_000);
afterAll(async () => {
  await world?.close();
});

/** A person retries what the service refused for the moment (a 412 after the other side wrote, say). */
async function persistently<T>(what: string, action: () => Promise<T>): Promise<T> {
  return waitFor(what, async () => ({ value: await action() }), 30_000, 200).then((r) => r.value);
}

interface Expected {
  deal: SellerDeal;
  referralId: string;
  dealValue: number;
  notes: string;
  msx?: string;
  closedAsWon: boolean;
}

test("a seller and a partner user change the same deal at the same time: the ownership rules decide, nothing is wrongly overwritten", async () => {
  const run = randomUUID().slice(0, 6);
  const deals = await Promise.all(Array.from({ length: DEALS }, (_, i) => sellerShares(world, `C${run}d${i}`, { dealValue: 30_000 + i })));
  note("waiting for the shares");
  const referrals = await waitFor("every deal shared", async () => {
    const all = await allReferrals(world);
    const found = deals.map((d) => all.find((r) => r.externalReferenceId === d.opportunityId && !isMicrosoftsReferral(r)));
    if (!found.every(Boolean)) return undefined;
    const records = await Promise.all(deals.map((d) => opportunity(world, d.opportunityId)));
    return records.every((r, i) => r[Opportunity.columns.referralIdentifier] === found[i]!.id) ? (found as Referral[]) : undefined;
  }, 60_000, 300);
  // Let the write-backs and Microsoft's side settle before the race starts.
  await waitFor("Microsoft's side of every co-sell", async () => {
    const all = await allReferrals(world);
    return deals.every((d) => all.some((r) => r.externalReferenceId === d.opportunityId && isMicrosoftsReferral(r)));
  }, 60_000, 300);

  note("the race: the seller, a partner user and Microsoft change the same deals at once");
  const expected: Expected[] = [];
  await Promise.all(deals.map(async (deal, i) => {
    const referralId = referrals[i]!.id;
    const sellerValue = deal.dealValue + 7_000;
    const partnerValue = deal.dealValue + 9_000;
    const partnerNotes = `Partner user's notes ${run}/${i}`;
    const closedAsWon = i === DEALS - 1;
    const e: Expected = { deal, referralId, dealValue: sellerValue, notes: partnerNotes, closedAsWon };
    expected.push(e);
    const seller = persistently(`the seller's edit of ${deal.name}`, () => world.seller.update("opportunities", deal.opportunityId, { estimatedvalue: sellerValue }));
    const partner = persistently(`the partner user's edit of ${referralId}`, async () => {
      const { eTag } = await world.partnerUser.getReferral(referralId);
      const ops = [{ op: "replace" as const, path: "/details/dealValue", value: partnerValue }, { op: "replace" as const, path: "/details/notes", value: partnerNotes }];
      if (closedAsWon) ops.push({ op: "replace" as const, path: "/status", value: "Closed" }, { op: "replace" as const, path: "/substatus", value: "Won" });
      await world.partnerUser.updateReferral(referralId, ops, { ifMatch: eTag });
    });
    const microsoft = closedAsWon ? Promise.resolve() : world.control<Referral>("partnerCenter", `/sandbox/microsoft/referrals/${referralId}/accept`, {}).then((answer) => {
      if (answer.status !== 200) throw new Error(`Microsoft's accept of ${referralId}: ${answer.status}`);
      e.msx = answer.body.trackingInfo!.microsoftMsxId!;
    });
    await Promise.all([seller, partner, microsoft]);
  }));

  const check = async (): Promise<Tally> => {
    const tally: Tally = { expected: 0, lost: 0, duplicated: 0, overwritten: 0, problems: [] };
    const all = await allReferrals(world);
    for (const e of expected) {
      tally.expected++;
      const mine = all.filter((r) => r.externalReferenceId === e.deal.opportunityId && !isMicrosoftsReferral(r));
      if (mine.length === 0) {
        tally.lost++;
        tally.problems.push(`${e.deal.name}: no referral`);
        continue;
      }
      if (mine.length > 1) {
        tally.duplicated += mine.length - 1;
        tally.problems.push(`${e.deal.name}: ${mine.length} referrals`);
      }
      const referral = mine.find((r) => r.id === e.referralId) ?? mine[0]!;
      const record = await opportunity(world, e.deal.opportunityId);
      const wrong: string[] = [];
      if (e.closedAsWon) {
        // Terminal wins: the referral stays Won; the opportunity is closed as won.
        if (referral.status !== "Closed" || referral.substatus !== "Won") wrong.push(`referral ${referral.status}/${referral.substatus}, not Closed/Won`);
        if (record.statecode !== 1) wrong.push(`opportunity state ${String(record.statecode)}, not won (1)`);
      } else {
        if (referral.details.dealValue !== e.dealValue || record.estimatedvalue !== e.dealValue) {
          wrong.push(`deal value ${referral.details.dealValue} in Partner Center / ${String(record.estimatedvalue)} in Dynamics, the seller's ${e.dealValue} should win`);
        }
        if (referral.details.notes !== e.notes || record.description !== e.notes) {
          wrong.push(`notes ${JSON.stringify(referral.details.notes)} / ${JSON.stringify(record.description)}, the partner user's should come through`);
        }
        if (record[Opportunity.columns.microsoftCrmIdentifier] !== e.msx) wrong.push(`Microsoft CRM Identifier ${String(record[Opportunity.columns.microsoftCrmIdentifier])}, not ${e.msx}`);
      }
      if (wrong.length) {
        tally.overwritten++;
        tally.problems.push(`${e.deal.name}: ${wrong.join("; ")}`);
      }
    }
    return tally;
  };

  let result: Tally | undefined;
  try {
    result = await waitFor("the ownership rules applied on both sides", async () => {
      const now = await check();
      if (now.lost + now.duplicated + now.overwritten > 0) note(`not yet: ${now.problems.join("; ")}`);
      return now.lost + now.duplicated + now.overwritten === 0 ? now : undefined;
    }, 90_000, 1000);
  } finally {
    result ??= await check();
    const title = `concurrent edits: ${DEALS} deals changed on both sides at once`;
    reportCounts(title, [result]);
    console.log([`── ${title} ──`, summaryLine("deals (seller vs partner user, Microsoft)", result), ...result.problems.map((p) => `  ✖ ${p}`)].join("\n"));
  }
  expect(result.problems).toEqual([]);
}, 240_000);

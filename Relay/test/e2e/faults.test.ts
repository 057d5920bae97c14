// 4. Partner Center's webhook deliveries dropped, sent twice and held back behind later ones, and storms
// of 429 and 5xx answers from both Partner Center and Dataverse, while sellers share and edit deals,
// Microsoft sends referrals and accepts co-sells, and a partner user accepts invitations. Once the storms
// pass everything converges: dropped events are recovered by the reconciler (a short interval here),
// duplicates coalesce, late ones change nothing, and no one's edit is lost or overwritten.
import { randomUUID } from "node:crypto";
import type { Referral } from "../../../Core/referral.ts";
import { isMicrosoftsReferral } from "../../src/sync/partner-center-side.ts";
import { checkConvergence, printSummary, problems, type Convergence, type Expectations, type Invitation } from "./convergence.ts";
import { allReferrals, clearFaults, customer, microsoftSends, note, readyWorld, sellerShares, waitFor, type SellerDeal, type World } from "./harness.ts";

const DEALS = 4;

let world: World;
beforeAll(async () => {
  world = await readyWorld({ kind: "launcher", reconcileIntervalMs: 2000, workerConcurrency: 4 });
}, 90_000);
afterAll(async () => {
  await world?.close();
});

interface Stats {
  requests: { byRoute: Record<string, Record<string, number>> };
  deliveries: { dropped: number; duplicated: number; delivered: number; attempts: number };
}

async function fault(service: "partnerCenter" | "dataverse", rule: unknown): Promise<void> {
  const answer = await world.control(service, "/sandbox/faults", rule);
  if (answer.status >= 300) throw new Error(`the ${service} sandbox refused the fault ${JSON.stringify(rule)}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** A person retries what the service refused for the moment (with a fresh read where it matters). */
async function persistently<T>(what: string, action: () => Promise<T>): Promise<T> {
  return waitFor(what, async () => ({ value: await action() }), 30_000, 300).then((r) => r.value);
}

function statusCount(stats: Stats, pattern: RegExp): number {
  let n = 0;
  for (const byStatus of Object.values(stats.requests.byRoute)) for (const [status, count] of Object.entries(byStatus)) if (pattern.test(status)) n += count;
  return n;
}

test("dropped, duplicated and reordered webhooks and 429/5xx storms on both sides end converged", async () => {
  const started = Date.now();
  const run = randomUUID().slice(0, 6);
  await world.control("partnerCenter", "/sandbox/stats", undefined, "DELETE");

  // Partner Center: deliveries dropped, doubled, and referral-updated held back behind the next event;
  // its API throttles and fails a share of calls. Dataverse throttles a share of calls.
  await fault("partnerCenter", [
    { kind: "drop", probability: 0.25 },
    { kind: "duplicate", probability: 0.4 },
    { kind: "reorder", route: "referral-updated", delayMs: 5000 },
    { kind: "reorder", route: "related-referral-updated", delayMs: 5000 },
    { kind: "throttle", route: "/v1.0/*", probability: 0.25, retryAfterSeconds: 1 },
    { kind: "error", status: 503, route: "/v1.0/*", probability: 0.15 },
  ]);
  await fault("dataverse", { status: 429, share: 0.3, retryAfter: 1 });

  const deals: SellerDeal[] = [];
  const invitations: Invitation[] = [];
  // The last two of Microsoft's referrals are for one customer: still one account and one contact.
  const twin = customer(`F${run}twin`);
  await Promise.all(Array.from({ length: DEALS }, async (_, i) => {
    deals.push(await sellerShares(world, `F${run}d${i}`, { dealValue: 20_000 + i }));
    const who = i >= DEALS - 2 ? twin : customer(`F${run}i${i}`);
    invitations.push({ referral: await microsoftSends(world, `F${run} invitation ${i}`, who), customer: who });
  }));

  // The shares reach Partner Center through the storm, each with Microsoft's side of the co-sell.
  note("waiting for the shares");
  const shared = await waitFor("every deal shared with Partner Center, with Microsoft's side", async () => {
    const referrals = await allReferrals(world);
    const found = deals.map((d) => referrals.find((r) => r.externalReferenceId === d.opportunityId && !isMicrosoftsReferral(r)));
    const microsoft = deals.map((d) => referrals.find((r) => r.externalReferenceId === d.opportunityId && isMicrosoftsReferral(r)));
    return found.every(Boolean) && microsoft.every(Boolean) ? (found as Referral[]) : undefined;
  }, 60_000, 500);

  // Now Dataverse fails with 503s instead, while Microsoft accepts two co-sells, a partner user accepts
  // two invitations, and the seller edits two deals.
  await fault("dataverse", { status: 503, share: 0.25 });
  note("Microsoft accepts, a partner user accepts, the seller edits");
  const expectations: Required<Expectations> = { microsoftCrmIdentifiers: new Map(), accepted: new Set() };
  for (const [i, referral] of shared.slice(0, 2).entries()) {
    const accepted = await world.control<Referral>("partnerCenter", `/sandbox/microsoft/referrals/${referral.id}/accept`, {});
    expect(accepted.status).toBe(200);
    expectations.microsoftCrmIdentifiers.set(deals[i]!.opportunityId, accepted.body.trackingInfo!.microsoftMsxId!);
  }
  for (const { referral } of invitations.slice(0, 2)) {
    await persistently(`accepting ${referral.id}`, async () => {
      const { eTag } = await world.partnerUser.getReferral(referral.id);
      await world.partnerUser.updateReferral(referral.id, [{ op: "replace", path: "/status", value: "Active" }, { op: "replace", path: "/substatus", value: "Accepted" }], { ifMatch: eTag });
    });
    expectations.accepted.add(referral.id);
  }
  for (const deal of deals.slice(2)) {
    const value = deal.dealValue + 5_000;
    await persistently(`editing ${deal.name}`, () => world.seller.update("opportunities", deal.opportunityId, { estimatedvalue: value }));
    deal.dealValue = value;
  }

  // A storm of 429s on Dataverse and 5xx on Partner Center together, for a few seconds.
  await fault("dataverse", { status: 429, share: 0.6, retryAfter: 1 });
  await fault("partnerCenter", { kind: "error", status: 500, route: "*", probability: 0.5 });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const stats = (await world.control<Stats>("partnerCenter", "/sandbox/stats")).body;
  await clearFaults(world);

  note("storms over: waiting for convergence");
  let result: Convergence | undefined;
  try {
    result = await waitFor("convergence", async () => {
      const now = await checkConvergence(world, deals, invitations, expectations);
      if (!now.converged) note(`not converged yet: ${problems(now)}`);
      return now.converged ? now : undefined;
    }, 90_000, 2000);
  } finally {
    result ??= await checkConvergence(world, deals, invitations, expectations);
    const dataverse = (await world.control<{ requests: { byStatus: Record<string, number> } }>("dataverse", "/sandbox/stats")).body.requests;
    printSummary(`faults: ${deals.length} shared opportunities, ${invitations.length} referrals from Microsoft, converged in ${Math.round((Date.now() - started) / 1000)} s`, result, [
      `  Partner Center webhooks: ${stats.deliveries.dropped} dropped, ${stats.deliveries.duplicated} duplicated (until the storms ended)`,
      `  Partner Center API: ${statusCount(stats, /^429$/)} × 429, ${statusCount(stats, /^5\d\d$/)} × 5xx; Dataverse (every caller): ${dataverse.byStatus?.["429"] ?? 0} × 429, ${dataverse.byStatus?.["503"] ?? 0} × 503`,
    ]);
  }
  expect(result.converged).toBe(true);
  // The storms really happened.
  expect(stats.deliveries.dropped + stats.deliveries.duplicated).toBeGreaterThan(0);
  expect(statusCount(stats, /^(429|5\d\d)$/)).toBeGreaterThan(0);
}, 200_000);

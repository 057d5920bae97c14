// 3. `kill -9` of the relay process in the middle of syncs, several times at random moments, then a
// restart: everything converges. Partner Center answers slowly (a latency fault on every API call) so
// that syncs are mid-flight when the process dies: outbound shares between the referral's create and
// the write-back, inbound referrals between the account, the contact and the lead, a seller's edit on
// its way to the referral. Work also arrives while the relay is down (steps and webhooks that fail to
// deliver), which only the reconciler (a short interval here) can recover. The relay's state (links,
// runs, the pg-boss queue and the sign-in) is in Postgres, so it survives each kill; jobs the dead process
// held come back through the sync queue's heartbeat.
//
// PCR_E2E_KILLS sets the number of kills (default 3). Each round brings two opportunities and two
// referrals from Microsoft (for one customer) while the relay runs, a seller's edit of an earlier deal,
// and one opportunity and one referral while it is down.
import { randomUUID } from "node:crypto";
import { checkConvergence, printSummary, problems, type Convergence, type Invitation } from "./convergence.ts";
import { clearFaults, customer, microsoftSends, note, readyWorld, refusedSaveCount, sellerShares, waitFor, type SellerDeal, type World } from "./harness.ts";

const KILLS = Math.max(1, Math.floor(Number(process.env.PCR_E2E_KILLS ?? 3)) || 3);
/** Convergence fails when the outstanding problems stop going down for this long. */
const STALL_MS = 120_000;

let world: World;
beforeAll(async () => {
  world = await readyWorld({ kind: "launcher", reconcileIntervalMs: 2000, workerConcurrency: 4 });
}, 90_000);
afterAll(async () => {
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => Math.round(min + Math.random() * (max - min));

/** Syncs the running relay has started and not finished. */
async function runningRuns(): Promise<string[]> {
  return (await world.store.query<{ subject: string }>("SELECT subject FROM runs WHERE state = 'running' AND started_at >= $1", [world.relay.startedAt])).rows.map((r) => r.subject);
}

test(`the relay killed with SIGKILL ${KILLS} time(s) mid-sync and restarted converges: nothing lost, nothing doubled`, async () => {
  const started = Date.now();
  // Every Partner Center API call takes 400 ms longer: a share is several calls, so kills land inside syncs.
  await world.control("partnerCenter", "/sandbox/faults", { kind: "latency", route: "/v1.0/*", delayMs: 400 });

  const deals: SellerDeal[] = [];
  const invitations: Invitation[] = [];
  const run = randomUUID().slice(0, 6);
  let n = 0;
  const work = async (count: number, options: { twins?: boolean } = {}): Promise<void> => {
    // With twins, Microsoft's referrals of this batch are all for one customer: still one account, one contact.
    const twin = customer(`K${run}t${n}`);
    const batch: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const k = n++;
      batch.push(sellerShares(world, `K${run}d${k}`, { dealValue: 10_000 + k }).then((deal) => void deals.push(deal)));
      const who = options.twins ? twin : customer(`K${run}i${k}`);
      batch.push(microsoftSends(world, `K${run} invitation ${k}`, who).then((referral) => void invitations.push({ referral, customer: who })));
    }
    await Promise.all(batch);
  };

  const kills: string[] = [];
  const inFlightAtKills: Array<{ generation: number; subjects: string[] }> = [];
  for (let kill = 1; kill <= KILLS; kill++) {
    note(`round ${kill}: work while the relay runs`);
    await work(2, { twins: true });
    // A seller edits a deal shared earlier: the change is on its way when the relay dies.
    const earlier = deals.find((d) => d.dealValue < 20_000);
    if (earlier) {
      note(`round ${kill}: the seller edits ${earlier.name}`);
      const value = earlier.dealValue + 10_000;
      await waitFor(`the seller's edit of ${earlier.name}`, async () => (await world.seller.update("opportunities", earlier.opportunityId, { estimatedvalue: value }), true));
      earlier.dealValue = value;
    }
    // Wait until syncs are in flight (a run is `running`), then a random moment more.
    note(`round ${kill}: waiting for a sync in flight`);
    await waitFor("a sync in flight", async () => (await runningRuns()).length > 0, 20_000, 50);
    await sleep(between(100, 900));
    const inFlight = await runningRuns();
    const relay = world.relay;
    note(`round ${kill}: kill -9 ${relay.pid} with ${inFlight.length} run(s) in flight`);
    await world.killRelay();
    const exit = await relay.exited;
    expect(exit.signal).toBe("SIGKILL");
    inFlightAtKills.push({ generation: world.generations.length, subjects: inFlight });
    kills.push(`kill ${kill}: pid ${relay.pid} after ${Math.round((Date.now() - started) / 1000)} s, ${inFlight.length} run(s) in flight (${count(inFlight)})`);
    // While it is down, more work arrives: Microsoft's webhooks fail to reach the relay (Partner Center
    // retries them only a minute later), and so do the seller's steps: an asynchronous one is lost, a
    // synchronous one refuses her save until the relay is back, and she saves again.
    const meanwhile = work(1);
    await sleep(between(300, 1200));
    note(`round ${kill}: restarting the relay`);
    await world.startRelay();
    note(`round ${kill}: relay ${world.relay.pid} ready; waiting for the work that arrived while it was down`);
    await meanwhile;
  }

  const lastKillAt = Date.now();
  await clearFaults(world);
  note("waiting for convergence");
  let result: Convergence | undefined;
  try {
    // The backlog the kills left (retries, and work only the reconciler finds) grows with their number, so
    // the wait is for progress: it fails when nothing moved for STALL_MS, or at the overall cap.
    const cap = Date.now() + 120_000 + KILLS * 5_000;
    let outstanding = Number.POSITIVE_INFINITY;
    let lastProgress = Date.now();
    for (;;) {
      const now = await checkConvergence(world, deals, invitations);
      result = now;
      if (now.converged) break;
      const left = [now.outbound, now.inbound, now.accounts, now.contacts].reduce((n, t) => n + t.problems.length, 0);
      if (left < outstanding) [outstanding, lastProgress] = [left, Date.now()];
      note(`not converged yet (${left} problems): ${problems(now)}`);
      if (Date.now() - lastProgress > STALL_MS) throw new Error(`no progress towards convergence for ${STALL_MS / 1000} s, ${left} problems left`);
      if (Date.now() > cap) throw new Error(`not converged ${Math.round((cap - started) / 1000)} s after the start, ${left} problems left`);
      await sleep(2000);
    }
  } finally {
    result ??= await checkConvergence(world, deals, invitations);
    // Evidence that the interrupted syncs were finished by a later process, not just made moot.
    const resumed = inFlightAtKills.map(({ generation, subjects }) => {
      const later = world.generations.slice(generation).flatMap((g) => g.lines).filter((l) => typeof l.msg === "string" && /^sync (succeeded|skipped|failed)$/.test(l.msg)).map((l) => String(l.subject));
      return subjects.filter((s) => later.includes(s)).length;
    });
    const seconds = (ms: number) => Math.round(ms / 1000);
    printSummary(`SIGKILL ×${KILLS}: ${deals.length} shared opportunities, ${invitations.length} referrals from Microsoft, ${result.converged ? "converged" : "NOT converged"} after ${seconds(Date.now() - started)} s (${seconds(Date.now() - lastKillAt)} s after the last kill)`, result, [
      ...kills.map((k, i) => `  ${k}; ${resumed[i]} of them run again by a later relay`),
      `  the seller's saves a synchronous step refused while the relay was down (saved again after the restart): ${refusedSaveCount()}`,
    ]);
  }
  expect(result.converged).toBe(true);
  expect(deals).toHaveLength(3 * KILLS);
  expect(invitations).toHaveLength(3 * KILLS);
  expect(world.generations).toHaveLength(KILLS + 1);
}, 270_000 + KILLS * 25_000);

function count(subjects: string[]): string {
  const kinds = new Map<string, number>();
  for (const s of subjects) kinds.set(s.split(":")[0]!, (kinds.get(s.split(":")[0]!) ?? 0) + 1);
  return [...kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
}

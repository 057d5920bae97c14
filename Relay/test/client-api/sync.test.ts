// The client API end to end, against the sandboxes in-process with the relay's worker running and its
// Partner Center service account signed in (device code, approved on the identity sandbox): the card's own
// client (services/relay.ts) asks for a sync and follows the run to succeeded; the status then shows the
// referral fetched live from Partner Center and Microsoft's side; a retry runs with the forced reason; an
// incomplete deal's status names its readiness problems, and its sync fails saying what to do.
import { readinessSummary } from "../../../Core/messages.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { createRelayClient, runAndFollow } from "../../../PcfControls/PartnerCenterCard/services/relay.ts";
import { getRun } from "../../src/store/runs.ts";
import { startSandboxesForRelay, startTestRelay, waitFor, withDeviceCodeApproved, type Sandboxes, type TestRelay } from "../edge/helpers.ts";
import { call, dataverseAs, sellerDeal, userToken } from "./helpers.ts";
import type { DataverseClient } from "../../src/clients/dataverse.ts";

let sandboxes: Sandboxes;
let t: TestRelay;
let seller: DataverseClient;
let token: string;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes, { start: { background: true } });
  // relay login: the service account's device code, approved as the admin would.
  await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => t.relay.clients.signIn.signIn({ onDeviceCode: (prompt) => show(prompt.message), timeoutSeconds: 120 }));
  seller = dataverseAs(sandboxes, DEMO_USERS.seller);
  token = await userToken(sandboxes, DEMO_USERS.seller);
}, 90_000);
afterAll(async () => {
  await seller?.close();
  await t?.close();
  await sandboxes?.close();
});

const card = () => createRelayClient(t.relay.url, async () => token, (input, init) => fetch(input, init));
const follow = { firstIntervalMs: 100, maxIntervalMs: 300, timeoutMs: 30_000 };

test("Sync now: a run id whose progress reaches succeeded; the status then shows the referral live from Partner Center", async () => {
  const { opportunityId } = await sellerDeal(seller);
  const progress: string[] = [];
  const final = await runAndFollow(card(), "sync", opportunityId, { ...follow, onProgress: (s) => progress.push(s.state) });
  expect(final).toMatchObject({ state: "succeeded" });
  expect(progress[0]).toBe("queued");

  const run = await getRun(t.relay.clients.db, t.config.tenantKey, final.runId);
  expect(run).toMatchObject({ kind: "sync-now", subject: `opportunity:${opportunityId}`, state: "succeeded" });
  const event = (await t.relay.clients.db.query<{ source: string; kind: string; run_id: string; payload: { user: { oid: string } } }>(
    "SELECT source, kind, run_id, payload FROM received_events WHERE subject = $1", [`opportunity:${opportunityId}`])).rows;
  expect(event).toEqual([expect.objectContaining({ source: "client-api", kind: "sync-now", run_id: final.runId, payload: { user: expect.objectContaining({ oid: DEMO_USERS.seller.oid }) } })]);

  const runReply = await call(t, "GET", `/api/runs/${final.runId}`, { token });
  expect(runReply.body).toMatchObject({ runId: final.runId, state: "succeeded", runState: "succeeded", subject: `opportunity:${opportunityId}`, attempts: 1 });
  expect(runReply.body.error).toBeUndefined();

  const status = await call(t, "GET", `/api/opportunities/${opportunityId}/status`, { token });
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({
    opportunityId, sync: true, syncStatus: "Synced", lastSyncError: null,
    referral: { id: expect.any(String), status: expect.any(String), substatus: expect.any(String), source: "partner-center" },
    microsoft: { referralId: expect.any(String), status: expect.any(String), substatus: expect.any(String), source: "partner-center" },
    lastSync: { succeededAt: expect.any(String), lastRun: { runId: final.runId, state: "succeeded" }, lastEvent: { direction: "outbound", outcome: "succeeded" } },
    readiness: { ready: true },
  });
  // Live: what Partner Center holds now, not only what the relay last saw.
  const referral = await t.relay.clients.partnerCenter.getReferral(status.body.referral.id);
  expect([status.body.referral.status, status.body.referral.substatus]).toEqual([referral.referral.status, referral.referral.substatus]);
});

test("Retry: queued with the forced reason retry, and followed to its end", async () => {
  const { opportunityId } = await sellerDeal(seller);
  const first = await runAndFollow(card(), "sync", opportunityId, follow);
  expect(first.state).toBe("succeeded");
  const retry = await call(t, "POST", `/api/opportunities/${opportunityId}/retry`, { token });
  expect(retry.status).toBe(202);
  expect(retry.body).toEqual({ runId: expect.any(String), coalesced: false });
  const done = await waitFor("the retry", async () => {
    const reply = await call(t, "GET", `/api/runs/${retry.body.runId}`, { token });
    return ["succeeded", "failed", "dead"].includes(reply.body.state) ? reply.body : undefined;
  }, 30_000);
  // The relay's own last write-back is no echo for a forced reason: both sides are compared (and agree).
  expect(done).toMatchObject({ state: "succeeded", runState: "skipped", note: expect.stringMatching(/^Dynamics 365 and Partner Center already agree on referral /) });
  expect(await getRun(t.relay.clients.db, t.config.tenantKey, retry.body.runId)).toMatchObject({ kind: "retry" });
});

test("an incomplete deal: the status names its readiness problems, and Sync now fails saying what to do", async () => {
  const { opportunityId } = await sellerDeal(seller, { solution: false, country: null });
  const status = await call(t, "GET", `/api/opportunities/${opportunityId}/status`, { token });
  expect(status.status).toBe(200);
  expect(status.body.referral).toBeNull();
  expect(status.body.readiness).toMatchObject({ ready: false, summary: readinessSummary(["noSolution", "noCountry"], 1033) });
  expect(status.body.readiness.items.filter((i: { ok: boolean }) => !i.ok)).toEqual([
    { check: "solution", label: "Microsoft solution attached", ok: false, applies: true, problem: "noSolution", message: "Add at least one co-sell ready or Microsoft solution under Microsoft Solutions." },
    { check: "country", label: "Two-letter country code on the account", ok: false, applies: true, problem: "noCountry", message: "Enter the customer's two-letter country code (for example NL or US) on the account." },
  ]);

  const final = await runAndFollow(card(), "sync", opportunityId, follow);
  expect(final.state).toBe("failed");
  expect(final.error).toContain("Not shared with Partner Center.");
  const run = await call(t, "GET", `/api/runs/${final.runId}`, { token });
  expect(run.body).toMatchObject({ state: "failed", runState: "failed", whatToDo: readinessSummary(["noSolution", "noCountry"], 1033) });
  const after = await call(t, "GET", `/api/opportunities/${opportunityId}/status`, { token });
  expect(after.body).toMatchObject({ syncStatus: "Failed", lastSync: { succeededAt: null, lastRun: { runId: final.runId, state: "failed" }, lastEvent: { outcome: "failed" } } });
});

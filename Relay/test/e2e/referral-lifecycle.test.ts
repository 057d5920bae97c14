// The referral lifecycle from Dynamics 365 (issue 11), with the relay as a real process between the
// sandboxes, reached only through registered Dataverse steps and signed Partner Center webhooks:
//   accept = qualify (and a qualify Partner Center would refuse is refused before anything changes),
//   decline = disqualify, win and lose both ways, a reopened opportunity stays apart from its closed
//   referral, Microsoft's side never closes the partner's record, and nothing expires unseen.
import { randomUUID } from "node:crypto";
import { Lead, Opportunity, PartnerCenterSyncStatus, ReferralStatus, ReferralSubstatus } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { DataverseError, literal, type Row } from "../../src/clients/dataverse.ts";
import { customer, microsoftSends, opportunity, readyWorld, rows, sellerShares, waitFor, type World } from "./harness.ts";

let world: World;
beforeAll(async () => {
  world = await readyWorld({ kind: "cli" });
}, 90_000);
afterAll(async () => {
  await world?.close();
});

const L = Lead.columns;
const O = Opportunity.columns;
const tag = () => randomUUID().slice(0, 8);

async function leadFor(referralId: string): Promise<Row> {
  return waitFor(`the lead for referral ${referralId}`, async () => (await rows(world, "leads", `${L.referralIdentifier} eq ${literal(referralId)}`))[0], 20_000);
}

async function referral(id: string): Promise<Referral> {
  return (await world.partnerUser.getReferral(id)).referral;
}

async function qualify(leadId: string): Promise<Array<{ opportunityid?: string }>> {
  const answer = await world.seller.executeAction<{ value: Array<{ opportunityid?: string }> }>("QualifyLead", {
    CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 3,
  }, { bound: { entitySet: "leads", key: leadId } });
  return answer?.value ?? [];
}

/** Outbound sync events the relay recorded for a referral that sent something to Partner Center. */
async function sentToPartnerCenter(referralId: string): Promise<number> {
  const result = await world.store.query<{ n: string }>(
    `SELECT count(*) AS n FROM sync_events WHERE referral_id = $1 AND direction = 'outbound' AND message LIKE '%Sent to Partner Center%'`, [referralId]);
  return Number(result.rows[0]!.n);
}

test("Microsoft's referral arrives as a lead with Respond by and sender; qualifying is refused without revenue, then accepts the referral and carries it to the new opportunity", async () => {
  const who = customer(`Q${tag()}`);
  const invitation = await microsoftSends(world, `${who.company}: data platform`, who);
  const lead = await leadFor(invitation.id);
  expect(lead).toMatchObject({
    [L.syncWithPartnerCenter]: true, [L.referralStatus]: ReferralStatus.New, [L.referralSubstatus]: ReferralSubstatus.Pending,
    [L.sentBy]: expect.stringContaining("Microsoft"), estimatedamount: 45_000,
  });
  // Dataverse keeps date and time to the second.
  expect(Math.floor(Date.parse(String(lead[L.respondBy])) / 1000)).toBe(Math.floor(Date.parse(invitation.expirationDateTime!) / 1000));
  const leadId = String(lead.leadid);

  // Without Est. Revenue the synchronous step refuses the qualify, before anything changes.
  await world.seller.update("leads", leadId, { estimatedamount: null });
  const refused = await qualify(leadId).then(() => undefined, (error: unknown) => error);
  expect(refused).toBeInstanceOf(DataverseError);
  // Dataverse shows its own words for a refusing step (the relay's reason is in its log and, on the form, said before the qualify).
  expect((refused as DataverseError).message).toContain("lead-qualify-rules");
  expect((await rows(world, "leads", `leadid eq ${leadId}`, ["statecode"]))[0]).toMatchObject({ statecode: 0 });
  expect((await referral(invitation.id)).status).toBe("New");

  await world.seller.update("leads", leadId, { estimatedamount: 52_000 });
  const created = await qualify(leadId);
  const opportunityId = created.find((r) => r.opportunityid)?.opportunityid;
  expect(opportunityId).toBeDefined();

  const accepted = await waitFor("the referral accepted for the new opportunity", async () => {
    const r = await referral(invitation.id);
    return r.status === "Active" && r.externalReferenceId === opportunityId ? r : undefined;
  }, 20_000);
  expect(accepted).toMatchObject({ substatus: "Accepted", details: expect.objectContaining({ dealValue: 52_000 }) });
  const carried = await waitFor("the opportunity to carry the referral", async () => {
    const r = await opportunity(world, opportunityId!);
    return r[O.referralIdentifier] === invitation.id && r[O.microsoftCrmIdentifier] ? r : undefined;
  }, 20_000);
  expect(carried).toMatchObject({
    [O.syncWithPartnerCenter]: true, [O.syncStatus]: PartnerCenterSyncStatus.Synced, [O.referralStatus]: ReferralStatus.Active,
    [O.referralSubstatus]: ReferralSubstatus.Accepted, [O.referralLink]: expect.stringContaining(invitation.id), statecode: 0,
  });
  const after = await waitFor("the lead to say where the referral went", async () => {
    const [r] = await rows(world, "leads", `leadid eq ${leadId}`);
    return r?.[L.referralStatus] === ReferralStatus.Active ? r : undefined;
  }, 20_000);
  expect(String(after[L.audit])).toContain(opportunityId!);

  // Microsoft's seller accepts (again) with their CRM record: the opportunity, not the lead, shows it.
  const msx = `7-${tag().toUpperCase()}`;
  await world.control("partnerCenter", `/sandbox/microsoft/referrals/${invitation.id}/accept`, { microsoftMsxId: msx });
  await waitFor("Microsoft CRM Identifier from Microsoft's accept", async () => (await opportunity(world, opportunityId!))[O.microsoftCrmIdentifier] === msx, 20_000);

  // Microsoft closing its side as Lost shows as Microsoft's status and leaves the partner's opportunity open.
  await world.control("partnerCenter", `/sandbox/microsoft/referrals/${invitation.id}/close`, { substatus: "Lost", statusReason: "Customer chose a direct deal" });
  const microsoftLost = await waitFor("Microsoft's Lost on the opportunity", async () => {
    const r = await opportunity(world, opportunityId!);
    return r[O.microsoftSubstatus] === ReferralSubstatus.Lost ? r : undefined;
  }, 20_000);
  expect(microsoftLost).toMatchObject({ statecode: 0, [O.referralStatus]: ReferralStatus.Active });
  expect((await referral(invitation.id)).status).toBe("Active");
}, 90_000);

test("disqualifying a lead declines its referral with the reason and the seller's note", async () => {
  const who = customer(`D${tag()}`);
  const invitation = await microsoftSends(world, `${who.company}: not for us`, who);
  const lead = await leadFor(invitation.id);
  await world.seller.update("leads", String(lead.leadid), { statecode: 2, statuscode: 6, qualificationcomments: "Outside our regions" });
  const declined = await waitFor("the referral declined", async () => {
    const r = await referral(invitation.id);
    return r.status === "Closed" ? r : undefined;
  }, 20_000);
  expect(declined).toMatchObject({ substatus: "Declined", statusReason: "No longer interested: Outside our regions" });
  await waitFor("the lead to show Closed/Declined", async () => {
    const [r] = await rows(world, "leads", `leadid eq ${String(lead.leadid)}`);
    return r?.[L.referralSubstatus] === ReferralSubstatus.Declined;
  }, 20_000);
  // No write bounced back as another send: the referral is not written again, and the relay sent it once at most.
  const eTag = (await referral(invitation.id)).eTag;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect((await referral(invitation.id)).eTag).toBe(eTag);
  expect(await sentToPartnerCenter(invitation.id)).toBeLessThanOrEqual(1);
}, 60_000);

test("closing opportunities as Won and Lost in Dynamics 365 closes their referrals with the reason; a reopened one is told its referral is closed", async () => {
  const winner = await sellerShares(world, `W${tag()}`);
  const loser = await sellerShares(world, `X${tag()}`);
  const synced = async (id: string) => waitFor("Synced", async () => {
    const r = await opportunity(world, id);
    return r[O.syncStatus] === PartnerCenterSyncStatus.Synced && r[O.referralIdentifier] ? String(r[O.referralIdentifier]) : undefined;
  }, 30_000);
  const wonId = await synced(winner.opportunityId);
  const lostId = await synced(loser.opportunityId);

  await world.seller.executeAction("WinOpportunity", {
    Status: 3, OpportunityClose: { subject: "Won", description: "Signed for three years", actualrevenue: 130_000, "opportunityid@odata.bind": `/opportunities(${winner.opportunityId})` },
  });
  await world.seller.executeAction("LoseOpportunity", {
    Status: 5, OpportunityClose: { subject: "Lost", description: "Went with a competitor", "opportunityid@odata.bind": `/opportunities(${loser.opportunityId})` },
  });
  const won = await waitFor("Closed/Won in Partner Center", async () => ((await referral(wonId)).status === "Closed" ? referral(wonId) : undefined), 20_000);
  expect(won).toMatchObject({ substatus: "Won", statusReason: "Won: Signed for three years", details: expect.objectContaining({ dealValue: 130_000 }) });
  const lost = await waitFor("Closed/Lost in Partner Center", async () => ((await referral(lostId)).status === "Closed" ? referral(lostId) : undefined), 20_000);
  expect(lost).toMatchObject({ substatus: "Lost", statusReason: "Out-sold: Went with a competitor" });
  await waitFor("the won opportunity to show Closed/Won", async () => (await opportunity(world, winner.opportunityId))[O.referralSubstatus] === ReferralSubstatus.Won, 20_000);

  // Reopened: the referral stays closed, the opportunity says so, and nothing more is sent.
  const eTag = (await referral(wonId)).eTag;
  await world.seller.update("opportunities", winner.opportunityId, { statecode: 0, statuscode: 1 });
  const reopened = await waitFor("Closed in Partner Center on the reopened opportunity", async () => {
    const r = await opportunity(world, winner.opportunityId);
    return r[O.syncStatus] === PartnerCenterSyncStatus.ClosedInPartnerCenter ? r : undefined;
  }, 20_000);
  expect(String(reopened[O.audit])).toContain("cannot be reopened");
  await world.seller.update("opportunities", winner.opportunityId, { estimatedvalue: 140_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect((await referral(wonId)).eTag).toBe(eTag);
  // No write bounced back as another send.
  const lostETag = (await referral(lostId)).eTag;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect((await referral(lostId)).eTag).toBe(lostETag);
  expect(await sentToPartnerCenter(lostId)).toBeLessThanOrEqual(1);
}, 90_000);

test("a partner user closing the referral as Lost in Partner Center loses the opportunity", async () => {
  const deal = await sellerShares(world, `P${tag()}`);
  const referralId = await waitFor("Synced", async () => {
    const r = await opportunity(world, deal.opportunityId);
    return r[O.referralIdentifier] ? String(r[O.referralIdentifier]) : undefined;
  }, 30_000);
  await waitFor("the partner user's change", async () => {
    const { eTag } = await world.partnerUser.getReferral(referralId);
    await world.partnerUser.updateReferral(referralId, [
      { op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Lost" }, { op: "replace", path: "/statusReason", value: "Budget cut" },
    ], { ifMatch: eTag });
    return true;
  }, 15_000, 200);
  const lost = await waitFor("the opportunity lost", async () => {
    const r = await opportunity(world, deal.opportunityId);
    return r.statecode === 2 ? r : undefined;
  }, 20_000);
  expect(lost).toMatchObject({ [O.referralSubstatus]: ReferralSubstatus.Lost });
}, 60_000);

test("14 days without an answer expire the referral: the lead is disqualified saying so, and the relay writes nothing more to it", async () => {
  const who = customer(`E${tag()}`);
  const invitation = await microsoftSends(world, `${who.company}: waited too long`, who);
  const lead = await leadFor(invitation.id);
  await world.control("partnerCenter", "/sandbox/stats", undefined, "DELETE");
  await world.control("partnerCenter", "/sandbox/clock", { advance: "14d" });
  const expired = await waitFor("the lead disqualified", async () => {
    const [r] = await rows(world, "leads", `leadid eq ${String(lead.leadid)}`);
    return r?.statecode === 2 ? r : undefined;
  }, 30_000);
  expect(expired).toMatchObject({ statuscode: 7, [L.referralStatus]: ReferralStatus.Closed, [L.referralSubstatus]: ReferralSubstatus.Expired });
  expect(String(expired[L.audit])).toContain("Expired");
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const stats = (await world.control<{ requests: { byRoute: Record<string, Record<string, number>> } }>("partnerCenter", "/sandbox/stats", undefined, "GET")).body;
  const clientErrors = Object.entries(stats.requests.byRoute).flatMap(([route, byStatus]) => Object.entries(byStatus).filter(([status]) => status.startsWith("4")).map(([status, n]) => `${route} ${status} ×${n}`));
  expect(clientErrors).toEqual([]);
  expect(await sentToPartnerCenter(invitation.id)).toBe(0);
}, 60_000);

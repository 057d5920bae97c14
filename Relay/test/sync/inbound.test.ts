// Inbound, end to end against the sandboxes and on both databases: referrals Microsoft sends become
// leads (waiting for an answer) with a matched or created account and contact; a referral accepted in
// Partner Center becomes an opportunity with its solutions; Microsoft accepting its side fills Microsoft
// CRM Identifier and never closes the partner's opportunity; the partner's referral closing as Won
// closes the opportunity as won, and later edits are not sent to the closed referral.
import { randomUUID } from "node:crypto";
import { Lead, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity, PartnerCenterSyncStatus, ReferralStatus, ReferralSubstatus } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { literal, type Row } from "../../src/clients/dataverse.ts";
import { BOTH_DATABASES, type TestDatabase } from "../databases.ts";
import { getLinkByReferral } from "../../src/sync/links.ts";
import { TENANT, calls, opportunity, startHarness, startRelay, syncThroughQueue, type Harness, type Relay } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function rows(h: Harness, entitySet: string, filter: string, select?: string[]): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of h.dataverse.retrieveMultiple(entitySet, { filter, formattedValues: false, ...(select ? { select } : {}) })) found.push(row);
  return found;
}

function customer(tag = randomUUID().slice(0, 8)): { name: string; postalCode: string; email: string; profile: Referral["customerProfile"] } {
  const name = `Woodgrove ${tag}`;
  const email = `kim.${tag}@woodgrove.example`;
  return {
    name, postalCode: "1011 AB", email,
    profile: { name, address: { addressLine1: "Damrak 1", city: "Amsterdam", postalCode: "1011 AB", country: "NL" }, team: [{ firstName: "Kim", lastName: `de Boer ${tag}`, email, phoneNumber: "+31 20 555 0100" }] },
  };
}

async function fromMicrosoft(h: Harness, body: Record<string, unknown>): Promise<Referral> {
  const answer = await h.pc<Referral>("/sandbox/microsoft/referrals", body);
  expect(answer.status).toBe(201);
  return answer.body;
}

describe.each(BOTH_DATABASES)("inbound on %s", (_name, open) => {
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

  test("Microsoft's qualified lead waits while co-sell-only is Yes; with No it becomes a lead with a new account and contact", async () => {
    const c = customer();
    const referral = await fromMicrosoft(h, { name: "Woodgrove: analytics lead", customerProfile: c.profile });
    expect(referral).toMatchObject({ direction: "Incoming", status: "New", substatus: "Pending", type: "Independent" });
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("skipped");
    expect(await rows(h, "leads", `${Lead.columns.referralIdentifier} eq ${literal(referral.id)}`)).toHaveLength(0);

    await h.setVariable("syncCoSellOpportunitiesOnly", "no");
    try {
      expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
    } finally {
      await h.setVariable("syncCoSellOpportunitiesOnly", "yes");
    }
    const [lead, ...more] = await rows(h, "leads", `${Lead.columns.referralIdentifier} eq ${literal(referral.id)}`);
    expect(more).toHaveLength(0);
    expect(lead).toMatchObject({
      subject: "Woodgrove: analytics lead", companyname: c.name, emailaddress1: c.email, firstname: "Kim",
      [Lead.columns.syncWithPartnerCenter]: true, [Lead.columns.syncStatus]: PartnerCenterSyncStatus.Synced,
      [Lead.columns.referralStatus]: ReferralStatus.New, [Lead.columns.referralSubstatus]: ReferralSubstatus.Pending,
      [Lead.columns.referralLink]: expect.stringContaining(referral.id),
    });
    expect(lead![Lead.columns.respondBy]).toEqual(expect.any(String));
    const accounts = await rows(h, "accounts", `name eq ${literal(c.name)}`, ["accountid", "address1_postalcode", "address1_country"]);
    expect(accounts).toEqual([expect.objectContaining({ address1_postalcode: "1011 AB", address1_country: "NL" })]);
    expect(lead!._parentaccountid_value).toBe(accounts[0]!.accountid);
    expect(await rows(h, "contacts", `emailaddress1 eq ${literal(c.email)}`)).toHaveLength(1);
    expect(String(lead![Lead.columns.audit])).toMatch(/Created a lead from referral .* created the account/);
  });

  test("a co-sell invitation matches the existing account by company name and postal code", async () => {
    const c = customer();
    const { id: accountId } = await h.seller.create("accounts", { name: c.name, address1_postalcode: c.postalCode, address1_country: "NL" });
    await h.seller.create("accounts", { name: c.name, address1_postalcode: "9999 ZZ", address1_country: "NL" }); // same name, elsewhere
    const referral = await fromMicrosoft(h, { type: "Shared", name: "Woodgrove: co-sell invitation", customerProfile: c.profile });
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
    const [lead] = await rows(h, "leads", `${Lead.columns.referralIdentifier} eq ${literal(referral.id)}`);
    expect(lead!._parentaccountid_value).toBe(accountId);
    expect(await rows(h, "accounts", `name eq ${literal(c.name)}`)).toHaveLength(2);
  });

  test("an accepted referral becomes an opportunity; Microsoft accepting fills Microsoft CRM Identifier; Won closes it as won", async () => {
    const c = customer();
    // A partner user shares a co-sell deal straight from Partner Center (no Dynamics record yet).
    const { referral } = await h.partnerCenter.createReferral({
      name: "Woodgrove: Copilot rollout", type: "Shared", qualification: "SalesQualified", customerProfile: c.profile,
      consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
      details: { notes: "Rollout for 400 seats", dealValue: 80000, currency: "USD", closingDateTime: "2027-06-30T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
      inviteContext: { assistanceRequestCode: "GeneralOrOther" },
    });
    const { referral: microsoftSide } = await h.partnerCenter.createReferral({
      name: referral.name, type: "Shared", customerProfile: c.profile, consent: referral.consent, details: referral.details,
      engagementId: referral.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }], inviteContext: { assistanceRequestCode: "GeneralOrOther" },
    });
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
    const [found] = await rows(h, "opportunities", `${Opportunity.columns.referralIdentifier} eq ${literal(referral.id)}`, ["opportunityid"]);
    const id = String(found!.opportunityid);
    let row = await opportunity(h, id);
    expect(row).toMatchObject({
      name: "Woodgrove: Copilot rollout", estimatedvalue: 80000, estimatedclosedate: "2027-06-30", description: "Rollout for 400 seats",
      [Opportunity.columns.syncWithPartnerCenter]: true, [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced,
      [Opportunity.columns.referralStatus]: ReferralStatus.Active, [Opportunity.columns.referralVisibility]: true,
      [Opportunity.columns.microsoftStatus]: ReferralStatus.New, statecode: 0,
    });
    const solutions = await rows(h, MicrosoftSolution.entitySetName, `_${MicrosoftSolution.lookups.opportunity.column}_value eq ${id}`);
    expect(solutions).toHaveLength(1);
    expect(solutions[0]![`_${MicrosoftSolution.lookups.solutionDetail.column}_value`]).toBe(
      String((await h.dataverse.retrieve(MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: "SOL-M365-COPILOT" }))![MicrosoftSolutionDetail.primaryId]));

    // Microsoft's seller accepts its side: related-referral-updated.
    const accepted = await h.pc<Referral>(`/sandbox/microsoft/referrals/${referral.id}/accept`, {});
    expect(accepted.body.trackingInfo?.microsoftMsxId).toMatch(/^7-/);
    expect((await syncThroughQueue(relay, `referral:${microsoftSide.id}`, "related-referral-updated")).state).toBe("succeeded");
    row = await opportunity(h, id);
    expect(row).toMatchObject({
      [Opportunity.columns.microsoftCrmIdentifier]: accepted.body.trackingInfo!.microsoftMsxId,
      [Opportunity.columns.microsoftStatus]: ReferralStatus.Active, [Opportunity.columns.microsoftSubstatus]: ReferralSubstatus.Accepted,
    });
    expect(String(row[Opportunity.columns.audit]).split("\n")[0]).toMatch(/Microsoft's side of the co-sell is Active\/Accepted; Microsoft CRM Identifier 7-/);

    // Microsoft closing its own side never closes the partner's opportunity.
    await h.pc(`/sandbox/microsoft/referrals/${referral.id}/close`, { substatus: "Lost" });
    expect((await syncThroughQueue(relay, `referral:${microsoftSide.id}`, "related-referral-updated")).state).toBe("succeeded");
    row = await opportunity(h, id);
    expect(row).toMatchObject({ statecode: 0, [Opportunity.columns.microsoftSubstatus]: ReferralSubstatus.Lost });

    // A partner user closes the partner's referral as Won in Partner Center.
    const { eTag } = await h.partnerCenter.getReferral(referral.id);
    await h.partnerCenter.updateReferral(referral.id, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Won" }], { ifMatch: eTag });
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-updated")).state).toBe("succeeded");
    row = await opportunity(h, id);
    expect(row).toMatchObject({ statecode: 1, statuscode: 3, [Opportunity.columns.referralStatus]: ReferralStatus.Closed, [Opportunity.columns.referralSubstatus]: ReferralSubstatus.Won });
    expect(await getLinkByReferral(t.db, TENANT, referral.id)).toMatchObject({ referralStatus: "Closed", referralSubstatus: "Won" });

    // A later edit in Dynamics is not sent to the closed referral; the Audit says why.
    await h.seller.update("opportunities", id, { description: "Edited after the win" });
    const before = await h.pcCounts();
    expect((await syncThroughQueue(relay, `opportunity:${id}`, "Update opportunity")).state).toBe("succeeded");
    expect(calls(await h.pcCounts(), "PATCH /v1.0/engagements/referrals/:id")).toBe(calls(before, "PATCH /v1.0/engagements/referrals/:id"));
    expect(String((await opportunity(h, id))[Opportunity.columns.audit]).split("\n")[0]).toMatch(/Closed\/Won in Partner Center, so changes to notes were not sent/);
    expect((await h.partnerCenter.getReferral(referral.id)).referral.details.notes).toBe("Rollout for 400 seats");
  });

  test("a co-sell invitation nobody answers expires: the lead is disqualified and says why", async () => {
    const referral = await fromMicrosoft(h, { type: "Shared", name: "Woodgrove: expiring", customerProfile: customer().profile });
    expect((await syncThroughQueue(relay, `referral:${referral.id}`)).state).toBe("succeeded");
    await h.pc("/sandbox/clock", { advance: "15d" });
    expect((await h.partnerCenter.getReferral(referral.id)).referral.substatus).toBe("Expired");
    expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-updated")).state).toBe("succeeded");
    const [lead] = await rows(h, "leads", `${Lead.columns.referralIdentifier} eq ${literal(referral.id)}`);
    expect(lead).toMatchObject({ statecode: 2, statuscode: 7, [Lead.columns.referralStatus]: ReferralStatus.Closed, [Lead.columns.referralSubstatus]: ReferralSubstatus.Expired });
    expect(String(lead![Lead.columns.audit]).split("\n")[0]).toMatch(/closed the referral as Expired: nobody accepted or declined it within 14 days.*Disqualified the lead/);
  });
});

// The relay as a real process (`node Relay/bin/relay.ts start --sandbox`), signed in with `relay login`
// and initialised with `relay init`, between the three sandboxes. Everything reaches it the way it would
// in production: a seller's Dataverse Web API writes fire the registered steps; Microsoft's and partner
// users' Partner Center changes come as signed webhooks.
//  1. A seller shares an opportunity: a referral with the mapped fields appears in Partner Center and the
//     opportunity gets Referral Identifier, Link and status Synced.
//  2. Microsoft's co-sell invitation becomes a lead with its account and contact; a co-sell a partner user
//     registers in Partner Center becomes an opportunity; Microsoft accepting fills Microsoft CRM
//     Identifier; the partner user closing it Won wins the opportunity.
//  5. A forged webhook is refused with 401 and the relay's log says why.
// And `relay start` stops cleanly on SIGTERM.
import { generateKeyPairSync, createSign, randomUUID } from "node:crypto";
import { request } from "undici";
import {
  Lead, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity, PartnerCenterSyncStatus, ReferralStatus, ReferralSubstatus,
} from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { literal } from "../../src/clients/dataverse.ts";
import { isMicrosoftsReferral } from "../../src/sync/partner-center-side.ts";
import {
  HELP_REQUESTED, SOLUTION, allReferrals, customer, microsoftSends, opportunity, readyWorld, receivedEvents, rows, sellerShares, summaryLine, waitFor, type World,
} from "./harness.ts";

let world: World;
const started = Date.now();

beforeAll(async () => {
  world = await readyWorld({ kind: "cli" });
  console.log(`lifecycle: sandboxes, relay login, relay start (pid ${world.relay.pid}) and relay init in ${Date.now() - started} ms`);
}, 90_000);
afterAll(async () => {
  await world?.close();
});

const c = Opportunity.columns;
const tag = () => randomUUID().slice(0, 8);

test("relay init registered the steps and the webhook at the child relay's URL", async () => {
  const registration = await world.control<{ WebhookUrl?: string; webhookUrl?: string }>("partnerCenter", "/sandbox/webhooks/registration");
  expect(registration.body.WebhookUrl ?? registration.body.webhookUrl).toBe(`${world.relayUrl}/webhooks/partner-center`);
  const endpoints = await rows(world, "serviceendpoints", "startswith(name,'CoSellRelay.')", ["url"]);
  expect(endpoints.length).toBeGreaterThanOrEqual(4);
  for (const endpoint of endpoints) expect(String(endpoint.url)).toMatch(new RegExp(`^${world.relayUrl}/plugins/`));
  // Partner Center's test event reached the running child, and init says so.
  expect(world.initOutput).toContain("  test event: arrived (the relay answered OK)");
  expect(world.initOutput.at(-1)).toBe("relay init done.");
  expect(world.relay.lines).toContainEqual(expect.objectContaining({ event: "test-created", msg: "Partner Center test event received" }));
});

test("1. a seller shares an opportunity: the step calls the relay, the referral appears with the mapped fields, the opportunity says Synced", async () => {
  const deal = await sellerShares(world, `E2E${tag()}`);

  const row = await waitFor("the opportunity to be Synced with a Referral Identifier", async () => {
    const r = await opportunity(world, deal.opportunityId);
    return r[c.syncStatus] === PartnerCenterSyncStatus.Synced && r[c.referralIdentifier] ? r : undefined;
  }, 30_000);
  const referralId = String(row[c.referralIdentifier]);
  expect(row[c.referralLink]).toEqual(expect.stringContaining(referralId));
  expect(row[c.referralStatus]).toBe(ReferralStatus.Active);

  // The relay heard of it from Dataverse (the registered steps), not from anything the test did to it.
  const events = await receivedEvents(world, `opportunity:${deal.opportunityId}`);
  expect(events.length).toBeGreaterThan(0);
  expect(events.every((e) => e.source === "dataverse")).toBe(true);

  const referrals = (await allReferrals(world)).filter((r) => r.externalReferenceId === deal.opportunityId);
  const partner = referrals.filter((r) => !isMicrosoftsReferral(r));
  const microsoft = referrals.filter((r) => isMicrosoftsReferral(r));
  expect(partner).toHaveLength(1);
  expect(microsoft).toHaveLength(1);
  const referral = partner[0]!;
  expect(referral.id).toBe(referralId);
  expect(referral).toMatchObject({
    name: deal.name, type: "Shared", status: "Active", substatus: "Accepted", externalReferenceId: deal.opportunityId,
    customerProfile: {
      name: deal.company,
      address: expect.objectContaining({ addressLine1: "Oudegracht 1", city: "Utrecht", postalCode: "3511 AB", country: "NL" }),
      team: [expect.objectContaining({ email: deal.email, lastName: expect.stringContaining("Bakker") })],
    },
    details: expect.objectContaining({ notes: deal.notes, dealValue: deal.dealValue, currency: "EUR", closingDateTime: expect.stringMatching(/^2027-03-31/) }),
    consent: expect.objectContaining({ consentToShareReferralWithMicrosoftSellers: true }),
    inviteContext: expect.objectContaining({ assistanceRequestCode: "ProofOfConceptOrDemo" }),
  });
  expect(referral.details.requirements?.solutions?.map((s) => s.id)).toContain(SOLUTION);
  expect(microsoft[0]!.engagementId).toBe(referral.engagementId);
  expect(row[c.helpRequested]).toBe(HELP_REQUESTED);

  // Microsoft's seller accepts the co-sell: the webhook brings Microsoft CRM Identifier to the opportunity.
  const accepted = await world.control<Referral>("partnerCenter", `/sandbox/microsoft/referrals/${referralId}/accept`, {});
  expect(accepted.status).toBe(200);
  const msx = accepted.body.trackingInfo?.microsoftMsxId;
  expect(msx).toMatch(/^7-/);
  const afterAccept = await waitFor("Microsoft CRM Identifier on the opportunity", async () => {
    const r = await opportunity(world, deal.opportunityId);
    return r[c.microsoftCrmIdentifier] === msx ? r : undefined;
  }, 20_000);
  expect(afterAccept).toMatchObject({ [c.microsoftStatus]: ReferralStatus.Active, [c.microsoftSubstatus]: ReferralSubstatus.Accepted, statecode: 0 });
  expect((await receivedEvents(world, `referral:${microsoft[0]!.id}`)).map((e) => e.source)).toContain("partner-center");
}, 60_000);

test("2a. Microsoft's co-sell invitation arrives by webhook and becomes a lead with its account and contact; accepting it in Partner Center shows on the lead", async () => {
  const who = customer(`L${tag()}`);
  const invitation = await microsoftSends(world, `${who.company}: analytics co-sell`, who);
  const lead = await waitFor("the lead for Microsoft's invitation", async () => (await rows(world, "leads", `${Lead.columns.referralIdentifier} eq ${literal(invitation.id)}`))[0], 20_000);
  expect(lead).toMatchObject({
    subject: `${who.company}: analytics co-sell`, companyname: who.company, emailaddress1: who.email,
    [Lead.columns.syncStatus]: PartnerCenterSyncStatus.Synced,
    [Lead.columns.referralStatus]: ReferralStatus.New, [Lead.columns.referralSubstatus]: ReferralSubstatus.Pending,
    [Lead.columns.referralLink]: expect.stringContaining(invitation.id),
  });
  const accounts = await rows(world, "accounts", `name eq ${literal(who.company)}`, ["accountid", "address1_postalcode", "address1_country"]);
  expect(accounts).toEqual([expect.objectContaining({ address1_postalcode: who.postalCode, address1_country: "NL" })]);
  expect(lead._parentaccountid_value).toBe(accounts[0]!.accountid);
  const contacts = await rows(world, "contacts", `emailaddress1 eq ${literal(who.email)}`, ["contactid", "_parentcustomerid_value"]);
  expect(contacts).toEqual([expect.objectContaining({ _parentcustomerid_value: accounts[0]!.accountid })]);
  expect((await receivedEvents(world, `referral:${invitation.id}`))[0]).toEqual({ source: "partner-center", kind: "referral-created" });

  // A partner user accepts the invitation in Partner Center: the lead follows.
  await acceptInPartnerCenter(invitation.id);
  await waitFor("the lead to show Active/Accepted", async () => {
    const [now] = await rows(world, "leads", `${Lead.columns.referralIdentifier} eq ${literal(invitation.id)}`);
    return now?.[Lead.columns.referralStatus] === ReferralStatus.Active && now[Lead.columns.referralSubstatus] === ReferralSubstatus.Accepted;
  }, 20_000);
  expect(await rows(world, "leads", `${Lead.columns.referralIdentifier} eq ${literal(invitation.id)}`, ["leadid"])).toHaveLength(1);
}, 60_000);

test("2b. a co-sell registered in Partner Center becomes an opportunity; Microsoft accepting fills Microsoft CRM Identifier; closing it Won wins the opportunity", async () => {
  const who = customer(`O${tag()}`);
  const { referral } = await world.partnerUser.createReferral({
    name: `${who.company}: Copilot rollout`, type: "Shared", qualification: "SalesQualified", customerProfile: who.profile,
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { notes: "Rollout for 400 seats", dealValue: 80_000, currency: "USD", closingDateTime: "2027-06-30T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "GeneralOrOther" },
  });
  await world.partnerUser.createReferral({
    name: referral.name, type: "Shared", customerProfile: who.profile, consent: referral.consent, details: referral.details,
    engagementId: referral.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }], inviteContext: { assistanceRequestCode: "GeneralOrOther" },
  });

  const created = await waitFor("the opportunity for the Partner Center co-sell", async () => (await rows(world, "opportunities", `${c.referralIdentifier} eq ${literal(referral.id)}`))[0], 20_000);
  const id = String(created.opportunityid);
  expect(created).toMatchObject({
    name: `${who.company}: Copilot rollout`, estimatedvalue: 80_000, estimatedclosedate: "2027-06-30", description: "Rollout for 400 seats",
    [c.syncWithPartnerCenter]: true, [c.syncStatus]: PartnerCenterSyncStatus.Synced, [c.referralStatus]: ReferralStatus.Active, statecode: 0,
  });
  const accounts = await rows(world, "accounts", `name eq ${literal(who.company)}`, ["accountid"]);
  expect(accounts).toHaveLength(1);
  expect(created._parentaccountid_value).toBe(accounts[0]!.accountid);
  expect(await rows(world, "contacts", `emailaddress1 eq ${literal(who.email)}`, ["contactid"])).toHaveLength(1);
  // The solution rows are created after the opportunity (they need its id): wait for them, do not race them.
  const solutions = await waitFor("the opportunity's Microsoft solution", async () => {
    const found = await rows(world, MicrosoftSolution.entitySetName, `_${MicrosoftSolution.lookups.opportunity.column}_value eq ${id}`);
    return found.length ? found : undefined;
  }, 20_000);
  const copilot = await world.dataverse.retrieve(MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: "SOL-M365-COPILOT" });
  expect(solutions.map((s) => s[`_${MicrosoftSolution.lookups.solutionDetail.column}_value`])).toEqual([copilot![MicrosoftSolutionDetail.primaryId]]);

  const accepted = await world.control<Referral>("partnerCenter", `/sandbox/microsoft/referrals/${referral.id}/accept`, {});
  const msx = accepted.body.trackingInfo!.microsoftMsxId!;
  await waitFor("Microsoft CRM Identifier", async () => (await opportunity(world, id))[c.microsoftCrmIdentifier] === msx, 20_000);

  // A partner user closes the partner's referral as Won in Partner Center.
  await patchInPartnerCenter(referral.id, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Won" }]);
  const won = await waitFor("the opportunity to be won", async () => {
    const r = await opportunity(world, id);
    return r.statecode === 1 ? r : undefined;
  }, 20_000);
  expect(won).toMatchObject({
    statuscode: 3, [c.referralStatus]: ReferralStatus.Closed, [c.referralSubstatus]: ReferralSubstatus.Won, [c.microsoftCrmIdentifier]: msx,
  });
  const kinds = (await receivedEvents(world, `referral:${referral.id}`)).map((e) => `${e.source}:${e.kind}`);
  expect(kinds).toEqual(expect.arrayContaining(["partner-center:referral-created", "partner-center:referral-updated"]));
  expect(await rows(world, "opportunities", `${c.referralIdentifier} eq ${literal(referral.id)}`, ["opportunityid"])).toHaveLength(1);
  console.log(summaryLine("lifecycle (share, lead, opportunity, won)", { expected: 3, lost: 0, duplicated: 0, overwritten: 0 }));
}, 60_000);

test("5. a forged webhook posted to the relay is refused with 401, and the relay's log says why", async () => {
  const referralId = randomUUID();
  const body = JSON.stringify({
    EventName: "referral-created", ResourceUri: `${world.sandboxes.endpoints.partnerCenter}/webhooks/v1/registration/engagements/v1/referrals/${referralId}`,
    ResourceName: "referral", AuditUri: null, ResourceChangeUtcDate: new Date().toISOString(),
  });
  // Signed with a key that is not Partner Center's, pointing at Partner Center's real certificate.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signature = createSign("RSA-SHA256").update(body).sign(privateKey, "base64");
  const from = world.relay.lines.length;
  const answer = await request(`${world.relayUrl}/webhooks/partner-center`, {
    method: "POST", body,
    headers: {
      "content-type": "application/json", authorization: `Signature ${signature}`, "x-ms-signature-algorithm": "rsa-sha256",
      "x-ms-certificate-url": `${world.sandboxes.endpoints.partnerCenter}/cert/pcnotifications-dispatch.microsoft.com.cer`,
    },
  });
  expect(answer.statusCode).toBe(401);
  expect(await answer.body.json()).toEqual({ error: { code: "signature-mismatch", message: "The delivery's signature could not be verified." } });
  const line = await world.relay.waitForLine("the refusal", (l) => l.msg === "Partner Center delivery refused: the signature could not be verified", { from, timeoutMs: 5000 });
  expect(line).toMatchObject({ level: 40, reason: "signature-mismatch", detail: expect.any(String) });

  // Unsigned, and with a certificate from a host that is not Partner Center's: refused too, each with its reason.
  const unsigned = await request(`${world.relayUrl}/webhooks/partner-center`, { method: "POST", body, headers: { "content-type": "application/json" } });
  expect(unsigned.statusCode).toBe(401);
  await unsigned.body.dump();
  await world.relay.waitForLine("the unsigned refusal", (l) => l.reason === "missing-signature", { from, timeoutMs: 5000 });
  const foreign = await request(`${world.relayUrl}/webhooks/partner-center`, {
    method: "POST", body,
    headers: { "content-type": "application/json", authorization: `Signature ${signature}`, "x-ms-signature-algorithm": "rsa-sha256", "x-ms-certificate-url": "https://evil.example/cert/pcnotifications-dispatch.microsoft.com.cer" },
  });
  expect(foreign.statusCode).toBe(401);
  await foreign.body.dump();
  await world.relay.waitForLine("the foreign certificate refusal", (l) => l.reason === "certificate-host-not-allowed", { from, timeoutMs: 5000 });

  // Nothing of it was stored or queued, and the log never echoes the body.
  expect(await receivedEvents(world, `referral:${referralId}`)).toEqual([]);
  expect((await world.store.query("SELECT 1 FROM runs WHERE subject = $1", [`referral:${referralId}`])).rowCount).toBe(0);
  expect(JSON.stringify(world.relay.lines.slice(from))).not.toContain(referralId);
});

test("SIGTERM stops the relay cleanly, with exit code 0", async () => {
  const relay = world.relay;
  const exit = await relay.stop();
  expect(exit).toEqual({ code: 0, signal: null });
  expect(relay.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["SIGTERM: stopping", "relay stopping", "relay stopped"]));
  expect(relay.stderr).toEqual([]);
});

async function patchInPartnerCenter(id: string, operations: Array<{ op: "replace"; path: string; value: unknown }>): Promise<void> {
  // The relay may be writing the same referral: a stale eTag is read again, as a person would reload.
  await waitFor(`the partner user's change to ${id}`, async () => {
    const { eTag } = await world.partnerUser.getReferral(id);
    await world.partnerUser.updateReferral(id, operations, { ifMatch: eTag });
    return true;
  }, 15_000, 200);
}

async function acceptInPartnerCenter(id: string): Promise<void> {
  await patchInPartnerCenter(id, [{ op: "replace", path: "/status", value: "Active" }, { op: "replace", path: "/substatus", value: "Accepted" }]);
}

// The admin's field mapping (the "Partner Center field mapping" JSON variable) against a Dataverse that
// carries a customer's own customizations (Sandbox/dataverse/test/fixtures/customer-solution): each
// seed case changes only the variable and the next sync honours it, with no restart; a bad value is
// reported with the exact problem while sync carries on with the last good configuration.
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Lead, Opportunity } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import { literal, type Row } from "../../src/clients/dataverse.ts";
import { pgliteDatabase, type TestDatabase } from "../databases.ts";
import { currencyId, opportunity, partnerReferralsFor, sellerSolution, startHarness, startRelay, syncThroughQueue, type Harness, type Relay } from "./harness.ts";

const CUSTOMER_SOLUTION = join(import.meta.dirname, "..", "..", "..", "Sandbox", "dataverse", "test", "fixtures", "customer-solution");
const C = Opportunity.columns;

let h: Harness;
let t: TestDatabase;
let relay: Relay;
let netherlands: string;
beforeAll(async () => {
  h = await startHarness({ extraSolutionDirs: [CUSTOMER_SOLUTION] });
  t = await pgliteDatabase();
  relay = await startRelay(h, t.db);
  await relay.startWorker();
  netherlands = (await h.dataverse.create("cust_countries", { cust_name: "Netherlands", cust_isocode: "NL" })).id;
  await h.dataverse.create("cust_countries", { cust_name: "Germany", cust_isocode: "DE" });
}, 60_000);
afterAll(async () => {
  await relay?.stop();
  await t?.drop();
  await h?.close();
});

const CONFIGURED = {
  opportunity: { dealValue: "cust_dealvalue", defaults: { cust_region: "EMEA" } },
  account: { country: { lookup: "cust_countryid", isoCodeColumn: "cust_isocode" }, match: { by: "customerNumber", column: "cust_customernumber" } },
};

async function rows(entitySet: string, filter: string): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of h.dataverse.retrieveMultiple(entitySet, { filter, formattedValues: false })) found.push(row);
  return found;
}

/** A seller's deal whose account has its country only in the lookup and whose value is in the custom column. */
async function customizedDeal(value: number): Promise<{ opportunityId: string; name: string }> {
  const tag = randomUUID().slice(0, 8);
  const { id: accountId } = await h.seller.create("accounts", { name: `Fabrikam ${tag}`, address1_postalcode: "3511 AB", "cust_CountryId@odata.bind": `/cust_countries(${netherlands})` });
  const { id: contactId } = await h.seller.create("contacts", { firstname: "Eva", lastname: `Bakker ${tag}`, emailaddress1: `eva.${tag}@fabrikam.example`, "parentcustomerid_account@odata.bind": `/accounts(${accountId})` });
  const name = `Co-sell ${tag}`;
  const { id } = await h.seller.create("opportunities", {
    name, estimatedclosedate: "2027-03-31", cust_dealvalue: value, cust_region: "EMEA", description: "Migration",
    "transactioncurrencyid@odata.bind": `/transactioncurrencies(${await currencyId(h, "EUR")})`, [C.syncWithPartnerCenter]: true, [C.helpRequested]: 613750003,
    "parentaccountid@odata.bind": `/accounts(${accountId})`, "customerid_account@odata.bind": `/accounts(${accountId})`, "parentcontactid@odata.bind": `/contacts(${contactId})`,
  });
  await sellerSolution(h, id);
  return { opportunityId: id, name };
}

test("outbound: the custom deal value column and the lookup country reach Partner Center once the variable says so", async () => {
  const deal = await customizedDeal(250000);
  // The standard mapping: no country in address1_country, so readiness refuses it.
  expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "before")).state).toBe("failed");

  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "after")).state).toBe("succeeded");
  const [referral] = await partnerReferralsFor(h, deal.opportunityId);
  expect(referral).toMatchObject({ details: { dealValue: 250000 }, customerProfile: { address: { country: "NL" } } });

  // Partner Center's new deal value comes back into the custom column, not Est. Revenue.
  await h.partnerCenter.updateReferral(referral!.id, [{ op: "replace", path: "/details/dealValue", value: 300000 }]);
  expect((await syncThroughQueue(relay, `referral:${referral!.id}`, "referral-updated")).state).toBe("succeeded");
  const row = await opportunity(h, deal.opportunityId);
  expect(row.cust_dealvalue).toBe(300000);
  expect(row.estimatedvalue ?? null).toBeNull();
});

test("inbound: the account is matched by customer number, the deal value and the mandatory column get their mapping", async () => {
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  const tag = randomUUID().slice(0, 8);
  const { id: accountId } = await h.seller.create("accounts", { name: `Contoso Holding ${tag}`, cust_customernumber: `C-${tag}` });
  const { referral } = await h.partnerCenter.createReferral({
    name: `Contoso ${tag}: Copilot`, type: "Shared", qualification: "SalesQualified",
    customerProfile: { name: `Contoso BV ${tag}`, ids: [{ profileType: "External", id: `C-${tag}` }], address: { city: "Utrecht", postalCode: "3511 AB", country: "NL" }, team: [{ firstName: "Kim", lastName: `Jansen ${tag}`, email: `kim.${tag}@contoso.example` }] },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { notes: "400 seats", dealValue: 80000, currency: "EUR", closingDateTime: "2027-06-30T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "GeneralOrOther" },
  });
  expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
  const [row] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(referral.id)}`);
  expect(row).toMatchObject({ cust_dealvalue: 80000, cust_region: "EMEA", _parentaccountid_value: accountId });

  // A new customer: the account is created with the country lookup resolved by ISO code, and its number.
  const other = randomUUID().slice(0, 8);
  const { referral: second } = await h.partnerCenter.createReferral({
    name: `Tailspin ${other}`, type: "Shared", qualification: "SalesQualified",
    customerProfile: { name: `Tailspin ${other}`, ids: [{ profileType: "External", id: `T-${other}` }], address: { city: "Berlin", postalCode: "10115", country: "DE" }, team: [{ firstName: "Jo", lastName: `Weber ${other}`, email: `jo.${other}@tailspin.example` }] },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { dealValue: 5000, currency: "EUR", closingDateTime: "2027-06-30T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "GeneralOrOther" },
  });
  expect((await syncThroughQueue(relay, `referral:${second.id}`, "referral-created")).state).toBe("succeeded");
  const [account] = await rows("accounts", `name eq ${literal(`Tailspin ${other}`)}`);
  const [germany] = await rows("cust_countries", "cust_isocode eq 'DE'");
  expect(account).toMatchObject({ cust_customernumber: `T-${other}`, _cust_countryid_value: germany!.cust_countryid });
});

test.each([
  ["malformed JSON", "{\"opportunity\": {", /is not valid JSON/],
  ["a column that does not exist", JSON.stringify({ opportunity: { dealValue: "cust_nosuchvalue" } }), /opportunity has no column cust_nosuchvalue/],
  ["a choice default that is not one of its values", JSON.stringify({ ...CONFIGURED, lead: { defaults: { leadsourcecode: 99 } } }), /lead.defaults.leadsourcecode: 99 is not a choice of lead.leadsourcecode \(its values: 1 Advertisement/],
  ["a closing status reason of the wrong state", JSON.stringify({ ...CONFIGURED, opportunity: { ...CONFIGURED.opportunity, statuses: { won: 4 } } }), /opportunity.statuses.won: 4 \(Canceled\) is not a Won status reason of opportunity \(its Won ones: 3 Won\)/],
  ["an owner team that does not exist", JSON.stringify({ ...CONFIGURED, owner: { team: "No such team" } }), /owner: there is no team "No such team" in this environment/],
])("%s is reported with the problem and sync carries on with the last good configuration", async (_label, value, problem) => {
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  const good = await customizedDeal(111000);
  expect((await syncThroughQueue(relay, `opportunity:${good.opportunityId}`, "good")).state).toBe("succeeded");

  await h.setVariable("fieldMapping", value);
  const deal = await customizedDeal(222000);
  expect((await syncThroughQueue(relay, `opportunity:${deal.opportunityId}`, "bad")).state).toBe("succeeded");
  const [referral] = await partnerReferralsFor(h, deal.opportunityId);
  expect(referral).toMatchObject({ details: { dealValue: 222000 }, customerProfile: { address: { country: "NL" } } });
  const row = await opportunity(h, deal.opportunityId);
  expect(String(row[C.audit])).toMatch(problem);
  expect(String(row[C.audit])).toContain("last good field mapping");
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
});

/** How many Audit lines of a record say the field mapping was not used. */
async function rejectionLines(opportunityId: string): Promise<number> {
  return String((await opportunity(h, opportunityId))[C.audit]).split("\n").filter((l) => l.includes("is not used")).length;
}

test("a rejected value is said once, on the first record a sync touches, not on every sync; rejected again later, it is said again", async () => {
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  const before = await customizedDeal(1000);
  expect((await syncThroughQueue(relay, `opportunity:${before.opportunityId}`, "good")).state).toBe("succeeded");

  const bad = JSON.stringify({ ...CONFIGURED, opportunity: { dealValue: "cust_dealvalue_once" } });
  await h.setVariable("fieldMapping", bad);
  const first = await customizedDeal(2000);
  expect((await syncThroughQueue(relay, `opportunity:${first.opportunityId}`, "bad")).state).toBe("succeeded");
  expect(await rejectionLines(first.opportunityId)).toBe(1);
  expect(String((await opportunity(h, first.opportunityId))[C.audit])).toMatch(/opportunity has no column cust_dealvalue_once.*last good field mapping/);

  // The same rejected value: the next syncs (this record again, another one) carry on without repeating it.
  await h.seller.update("opportunities", first.opportunityId, { description: "Migration, phase 2" });
  expect((await syncThroughQueue(relay, `opportunity:${first.opportunityId}`, "edit")).state).toBe("succeeded");
  const second = await customizedDeal(3000);
  expect((await syncThroughQueue(relay, `opportunity:${second.opportunityId}`, "other")).state).toBe("succeeded");
  expect(await rejectionLines(first.opportunityId)).toBe(1);
  expect(await rejectionLines(second.opportunityId)).toBe(0);
  expect(await rejectionLines(before.opportunityId)).toBe(0);

  // Corrected, then the same mistake again: a new rejection, said on the next record.
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  await h.seller.update("opportunities", second.opportunityId, { description: "Migration, phase 3" });
  expect((await syncThroughQueue(relay, `opportunity:${second.opportunityId}`, "fixed")).state).toBe("succeeded");
  await h.setVariable("fieldMapping", bad);
  await h.seller.update("opportunities", second.opportunityId, { description: "Migration, phase 4" });
  expect((await syncThroughQueue(relay, `opportunity:${second.opportunityId}`, "bad again")).state).toBe("succeeded");
  expect(await rejectionLines(second.opportunityId)).toBe(1);
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
});

/** A partner's own accepted co-sell referral, as Partner Center gives it to the relay (an opportunity by default). */
async function acceptedReferral(tag: string, extra: Partial<Referral> = {}): Promise<Referral> {
  const { referral } = await h.partnerCenter.createReferral({
    name: `Litware ${tag}`, type: "Shared", qualification: "SalesQualified",
    customerProfile: { name: `Litware ${tag}`, ids: [{ profileType: "External", id: `L-${tag}` }], address: { city: "Utrecht", postalCode: "3512 JE", country: "NL" }, team: [{ firstName: "Lia", lastName: `Ware ${tag}`, email: `lia.${tag}@litware.example` }] },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { dealValue: 12000, currency: "EUR", closingDateTime: "2027-06-30T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "GeneralOrOther" },
    ...extra,
  } as Parameters<Harness["partnerCenter"]["createReferral"]>[0]);
  return referral;
}

test("owner: the Partner Center team member's Dynamics 365 user owns what the relay creates, else the fallback team", async () => {
  const tag = randomUUID().slice(0, 8);
  const { id: teamId } = await h.dataverse.create("teams", { name: `EMEA Co-sell ${tag}` });
  const email = `sam.${tag}@contoso-sandbox.example`;
  const { id: userId } = await h.dataverse.create("systemusers", { firstname: "Sam", lastname: `Seller ${tag}`, domainname: email, internalemailaddress: email, isdisabled: false });
  await h.setVariable("fieldMapping", JSON.stringify({ ...CONFIGURED, owner: { matchPartnerCenterTeamMember: true, fallback: { team: `EMEA Co-sell ${tag}` } } }));

  const mine = await acceptedReferral(`a${tag}`, { team: [{ firstName: "Sam", lastName: "Seller", email: email.toUpperCase() }] });
  expect((await syncThroughQueue(relay, `referral:${mine.id}`, "referral-created")).state).toBe("succeeded");
  const [row] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(mine.id)}`);
  expect(row).toMatchObject({ _ownerid_value: userId });
  expect(String(row![C.audit])).toContain(`the Partner Center team member ${email}`);
  const [account] = await rows("accounts", `name eq ${literal(`Litware a${tag}`)}`);
  const [contact] = await rows("contacts", `emailaddress1 eq ${literal(`lia.a${tag}@litware.example`)}`);
  expect(account).toMatchObject({ _ownerid_value: userId });
  expect(contact).toMatchObject({ _ownerid_value: userId });

  // Nobody on the referral's team is a Dynamics 365 user: the fallback team owns it.
  const theirs = await acceptedReferral(`b${tag}`, { team: [{ firstName: "Pat", lastName: "Partner", email: `pat.${tag}@elsewhere.example` }] });
  expect((await syncThroughQueue(relay, `referral:${theirs.id}`, "referral-created")).state).toBe("succeeded");
  const [other] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(theirs.id)}`);
  expect(other).toMatchObject({ _ownerid_value: teamId });

  // A fixed user, named by e-mail.
  await h.setVariable("fieldMapping", JSON.stringify({ ...CONFIGURED, owner: { user: email } }));
  const fixed = await acceptedReferral(`c${tag}`);
  expect((await syncThroughQueue(relay, `referral:${fixed.id}`, "referral-created")).state).toBe("succeeded");
  const [third] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(fixed.id)}`);
  expect(third).toMatchObject({ _ownerid_value: userId });

  // Without the option, the relay's application user, as before.
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  const plain = await acceptedReferral(`d${tag}`);
  expect((await syncThroughQueue(relay, `referral:${plain.id}`, "referral-created")).state).toBe("succeeded");
  const [fourth] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(plain.id)}`);
  expect(fourth).toMatchObject({ _ownerid_value: h.relayUserId });
});

test("inbound routing: accepted referrals become leads, and a kind of referral can be left out", async () => {
  const tag = randomUUID().slice(0, 8);
  const standard = await acceptedReferral(`s${tag}`);
  await h.setVariable("fieldMapping", JSON.stringify({ ...CONFIGURED, inbound: { createAs: "lead", rules: [{ qualification: "MarketingQualified", createAs: "none" }] } }));
  expect((await syncThroughQueue(relay, `referral:${standard.id}`, "referral-created")).state).toBe("succeeded");
  const [lead] = await rows("leads", `${Lead.columns.referralIdentifier} eq ${literal(standard.id)}`);
  expect(lead).toMatchObject({ [Lead.columns.syncWithPartnerCenter]: true, companyname: `Litware s${tag}` });
  expect(await rows("opportunities", `${C.referralIdentifier} eq ${literal(standard.id)}`)).toHaveLength(0);

  const marketing = await acceptedReferral(`m${tag}`, { qualification: "MarketingQualified" });
  const run = await syncThroughQueue(relay, `referral:${marketing.id}`, "referral-created");
  expect(run.state).toBe("skipped");
  expect(run.lastError).toMatch(/inbound routing leaves Shared referrals qualified MarketingQualified out/);
  expect(await rows("leads", `${Lead.columns.referralIdentifier} eq ${literal(marketing.id)}`)).toHaveLength(0);

  // Back to the standard: an accepted referral is an opportunity again.
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
  const again = await acceptedReferral(`o${tag}`);
  expect((await syncThroughQueue(relay, `referral:${again.id}`, "referral-created")).state).toBe("succeeded");
  expect(await rows("opportunities", `${C.referralIdentifier} eq ${literal(again.id)}`)).toHaveLength(1);
});

test("closing statuses: Partner Center's Lost closes the opportunity and its Declined disqualifies the lead with the status reasons the mapping names", async () => {
  await h.setVariable("fieldMapping", JSON.stringify({ ...CONFIGURED, opportunity: { ...CONFIGURED.opportunity, statuses: { lost: 5 } }, lead: { statuses: { declined: 5 } } }));
  const tag = randomUUID().slice(0, 8);
  const deal = await acceptedReferral(`l${tag}`);
  expect((await syncThroughQueue(relay, `referral:${deal.id}`, "referral-created")).state).toBe("succeeded");
  const { eTag } = await h.partnerCenter.getReferral(deal.id);
  await h.partnerCenter.updateReferral(deal.id, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Lost" }], { ifMatch: eTag });
  expect((await syncThroughQueue(relay, `referral:${deal.id}`, "referral-updated")).state).toBe("succeeded");
  const [lost] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(deal.id)}`);
  expect(lost).toMatchObject({ statecode: 2, statuscode: 5 });

  const invitation = await h.pc<Referral>("/sandbox/microsoft/referrals", {
    type: "Shared", name: `Woodgrove ${tag}: co-sell`,
    customerProfile: { name: `Woodgrove ${tag}`, address: { city: "Amsterdam", postalCode: "1011 AB", country: "NL" }, team: [{ firstName: "Kim", lastName: `de Boer ${tag}`, email: `kim.${tag}@woodgrove.example` }] },
  });
  expect(invitation.status).toBe(201);
  expect((await syncThroughQueue(relay, `referral:${invitation.body.id}`, "referral-created")).state).toBe("succeeded");
  const got = await h.partnerCenter.getReferral(invitation.body.id);
  await h.partnerCenter.updateReferral(invitation.body.id, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Declined" }], { ifMatch: got.eTag });
  expect((await syncThroughQueue(relay, `referral:${invitation.body.id}`, "referral-updated")).state).toBe("succeeded");
  const [declined] = await rows("leads", `${Lead.columns.referralIdentifier} eq ${literal(invitation.body.id)}`);
  expect(declined).toMatchObject({ statecode: 2, statuscode: 5 });
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
});

test("other fields: name, notes, closing date and currency in the organisation's own opportunity columns both ways, the contact and address in its own columns", async () => {
  const OWN_COLUMNS = {
    ...CONFIGURED,
    opportunity: { ...CONFIGURED.opportunity, name: "cust_dealname", notes: "cust_customernotes", closeDate: "cust_expectedclose", customerContact: "cust_primarycontactid", currency: "cust_currencycode" },
    account: { ...CONFIGURED.account, address: { line1: "cust_street", city: "cust_town", state: "cust_province", postalCode: "cust_zip" } },
  };
  await h.setVariable("fieldMapping", JSON.stringify(OWN_COLUMNS));
  const tag = randomUUID().slice(0, 8);

  // Outbound: the share reads the organisation's own columns, not Topic, Description, Est. Close Date or address 1.
  const { id: accountId } = await h.seller.create("accounts", {
    name: `Northwind ${tag}`, cust_street: "Herengracht 1", cust_town: "Amsterdam", cust_province: "Noord-Holland", cust_zip: "1015 BA",
    address1_city: "Elsewhere", "cust_CountryId@odata.bind": `/cust_countries(${netherlands})`,
  });
  const { id: contactId } = await h.seller.create("contacts", { firstname: "Noor", lastname: `Wind ${tag}`, emailaddress1: `noor.${tag}@northwind.example`, "parentcustomerid_account@odata.bind": `/accounts(${accountId})` });
  const { id } = await h.seller.create("opportunities", {
    name: `Topic ${tag}`, cust_dealname: `Northwind ${tag}: data platform`, description: "not this", cust_customernotes: "Fabric for 3 plants",
    estimatedclosedate: "2027-01-31", cust_expectedclose: "2027-04-30", cust_dealvalue: 64000, cust_region: "EMEA", cust_currencycode: "usd",
    "transactioncurrencyid@odata.bind": `/transactioncurrencies(${await currencyId(h, "EUR")})`, [C.syncWithPartnerCenter]: true, [C.helpRequested]: 613750003,
    "parentaccountid@odata.bind": `/accounts(${accountId})`, "customerid_account@odata.bind": `/accounts(${accountId})`, "cust_PrimaryContactId@odata.bind": `/contacts(${contactId})`,
  });
  await sellerSolution(h, id);
  expect((await syncThroughQueue(relay, `opportunity:${id}`, "share")).state).toBe("succeeded");
  const [shared] = await partnerReferralsFor(h, id);
  expect(shared).toMatchObject({
    name: `Northwind ${tag}: data platform`,
    details: { notes: "Fabric for 3 plants", currency: "USD" },
    customerProfile: {
      address: { addressLine1: "Herengracht 1", city: "Amsterdam", state: "Noord-Holland", postalCode: "1015 BA", country: "NL" },
      team: [expect.objectContaining({ email: `noor.${tag}@northwind.example` })],
    },
  });
  expect(shared!.details.closingDateTime?.slice(0, 10)).toBe("2027-04-30");

  // Inbound: Partner Center's changes land in the same columns; Topic and Description are left alone.
  await h.partnerCenter.updateReferral(shared!.id, [
    { op: "replace", path: "/name", value: `Northwind ${tag}: data platform, phase 2` },
    { op: "replace", path: "/details/notes", value: "Fabric for 5 plants" },
    { op: "replace", path: "/details/closingDateTime", value: "2027-05-31T00:00:00Z" },
    { op: "replace", path: "/details/currency", value: "GBP" },
  ]);
  expect((await syncThroughQueue(relay, `referral:${shared!.id}`, "referral-updated")).state).toBe("succeeded");
  const row = await opportunity(h, id);
  expect(row).toMatchObject({
    cust_dealname: `Northwind ${tag}: data platform, phase 2`, cust_customernotes: "Fabric for 5 plants",
    name: `Topic ${tag}`, description: "not this", estimatedclosedate: "2027-01-31",
    cust_currencycode: "GBP", _transactioncurrencyid_value: await currencyId(h, "EUR"),
  });
  expect(String(row.cust_expectedclose).slice(0, 10)).toBe("2027-05-31");

  // A new customer from a referral: the account gets the address in its own columns, the opportunity its own columns.
  const { referral } = await h.partnerCenter.createReferral({
    name: `Adatum ${tag}: security`, type: "Shared", qualification: "SalesQualified",
    customerProfile: { name: `Adatum ${tag}`, ids: [{ profileType: "External", id: `A-${tag}` }], address: { addressLine1: "Marktplatz 2", city: "Munich", state: "Bavaria", postalCode: "80331", country: "DE" }, team: [{ firstName: "Ada", lastName: `Tum ${tag}`, email: `ada.${tag}@adatum.example` }] },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { notes: "Defender rollout", dealValue: 30000, currency: "EUR", closingDateTime: "2027-08-31T00:00:00Z", requirements: { solutions: [{ id: "SOL-M365-COPILOT", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "GeneralOrOther" },
  });
  expect((await syncThroughQueue(relay, `referral:${referral.id}`, "referral-created")).state).toBe("succeeded");
  const [created] = await rows("opportunities", `${C.referralIdentifier} eq ${literal(referral.id)}`);
  const [adaContact] = await rows("contacts", `emailaddress1 eq ${literal(`ada.${tag}@adatum.example`)}`);
  expect(created).toMatchObject({ cust_dealname: `Adatum ${tag}: security`, cust_customernotes: "Defender rollout", name: `Adatum ${tag}: security`, _cust_primarycontactid_value: adaContact!.contactid, cust_currencycode: "EUR" });
  expect(created!._parentcontactid_value ?? null).toBeNull();
  expect(String(created!.cust_expectedclose).slice(0, 10)).toBe("2027-08-31");
  const [account] = await rows("accounts", `name eq ${literal(`Adatum ${tag}`)}`);
  expect(account).toMatchObject({ cust_street: "Marktplatz 2", cust_town: "Munich", cust_province: "Bavaria", cust_zip: "80331" });
  expect(account!.address1_city ?? null).toBeNull();
  await h.setVariable("fieldMapping", JSON.stringify(CONFIGURED));
});

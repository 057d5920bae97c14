// The admin's field mapping (the "Partner Center field mapping" JSON variable) against a Dataverse that
// carries a customer's own customizations (Sandbox/dataverse/test/fixtures/customer-solution): each
// seed case changes only the variable and the next sync honours it, with no restart; a bad value is
// reported with the exact problem while sync carries on with the last good configuration.
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Opportunity } from "../../../Core/generated/schema.ts";
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

// What Partner Center already holds when `npm start` brings the sandbox up: a few of the partner's own
// referrals in different states and Microsoft referrals waiting for an answer. Fixed ids, so docs and
// scripts can name them. Seeding is quiet (no webhooks: the data was "already there").
import type { ReferralBook } from "./model/referrals.ts";

export const SEED_IDS = {
  /** Outgoing Private deal, Active/Accepted. */
  privateDeal: "5eed0001-0000-4000-8000-000000000001",
  /** Outgoing co-sell: the partner's referral … */
  coSell: "5eed0002-0000-4000-8000-000000000002",
  /** … and the one addressed to Microsoft in the same engagement, accepted by a Microsoft seller. */
  coSellMicrosoft: "5eed0003-0000-4000-8000-000000000003",
  /** Outgoing Partner-led deal closed as Won. */
  wonDeal: "5eed0004-0000-4000-8000-000000000004",
  /** Incoming qualified lead from Microsoft, New/Pending: waiting for the partner (expires in 14 days). */
  incomingLead: "5eed0005-0000-4000-8000-000000000005",
  /** Incoming co-sell invitation from Microsoft, New/Pending … */
  incomingCoSell: "5eed0006-0000-4000-8000-000000000006",
  /** … and Microsoft's own referral in that engagement. */
  incomingCoSellMicrosoft: "5eed0007-0000-4000-8000-000000000007",
} as const;

const address = (city: string, state: string, postalCode: string) => ({ addressLine1: "1 Sandbox Way", city, state, postalCode, country: "US" });

/** Adds the seed referrals that are not there yet; returns the ids added. */
export function seedReferrals(book: ReferralBook): string[] {
  const existing = new Set(book.all().map((r) => String(r.id)));
  const added: string[] = [];
  const once = (id: string, work: () => void) => {
    if (existing.has(id)) return;
    work();
    added.push(id);
  };
  book.quietly(() => {
    once(SEED_IDS.privateDeal, () =>
      book.create(
        {
          name: "Northwind Traders - Dynamics 365 Sales rollout",
          externalReferenceId: null,
          type: "Independent",
          qualification: "SalesQualified",
          customerProfile: { name: "Northwind Traders", address: address("Portland", "OR", "97201"), size: "51to250employees", team: [{ firstName: "Nina", lastName: "North", email: "nina@northwind.example", phoneNumber: "+15035550101" }] },
          consent: { consentToToShareInfoWithOthers: false, consentToContact: true, consentToShareReferralWithMicrosoftSellers: false },
          details: { notes: "Private deal, no help needed.", dealValue: 40000, currency: "USD", closingDateTime: "2027-03-31T00:00:00Z" },
          team: [{ firstName: "Dana", lastName: "Seller", email: "dana.seller@contoso-sandbox.onmicrosoft.com", phoneNumber: "+31205550100" }],
        },
        { id: SEED_IDS.privateDeal },
      ),
    );
    once(SEED_IDS.coSell, () => {
      const coSell = book.create(
        {
          name: "Fabrikam - Azure migration (co-sell)",
          type: "Shared",
          qualification: "SalesQualified",
          customerProfile: { name: "Fabrikam", address: address("Seattle", "WA", "98101"), size: "251to1000employees", team: [{ firstName: "Ann", lastName: "Lee", email: "ann.lee@fabrikam.example", phoneNumber: "+12065550100" }] },
          consent: { consentToToShareInfoWithOthers: true, consentToContact: true, consentToShareReferralWithMicrosoftSellers: true },
          details: { notes: "Need architecture help", dealValue: 120000, currency: "USD", closingDateTime: "2027-01-31T00:00:00Z", requirements: { solutions: [{ id: "SOL-34104-EBB", type: "Name" }] } },
          inviteContext: { assistanceRequestCode: "CustomerTechnicalArchitecture", notes: "Please engage the account team" },
          target: [{ type: "SolutionProfile", id: "SOL-34104-EBB" }],
          team: [{ firstName: "Riley", lastName: "Referrals", email: "riley.referrals@contoso-sandbox.onmicrosoft.com" }],
        },
        { id: SEED_IDS.coSell },
      );
      book.create(
        {
          name: "Fabrikam - Azure migration (co-sell)",
          engagementId: coSell.engagementId,
          type: "Shared",
          qualification: "SalesQualified",
          customerProfile: coSell.customerProfile,
          consent: coSell.consent,
          details: coSell.details,
          inviteContext: coSell.inviteContext,
          target: [{ type: "BusinessProfileLocation", id: "msft" }],
        },
        { id: SEED_IDS.coSellMicrosoft },
      );
      book.microsoftAction(SEED_IDS.coSell, "accept", {});
      added.push(SEED_IDS.coSellMicrosoft);
    });
    once(SEED_IDS.wonDeal, () => {
      book.create(
        {
          name: "Tailspin Toys - Microsoft 365 adoption",
          type: "Independent",
          qualification: "SalesQualified",
          customerProfile: { name: "Tailspin Toys", address: address("Austin", "TX", "73301"), team: [{ firstName: "Tom", lastName: "Tail", email: "tom@tailspin.example" }] },
          consent: { consentToToShareInfoWithOthers: true, consentToContact: true, consentToShareReferralWithMicrosoftSellers: true },
          details: { notes: "Partner-led", dealValue: 15000, currency: "USD", closingDateTime: "2026-10-31T00:00:00Z" },
        },
        { id: SEED_IDS.wonDeal },
      );
      book.patch(SEED_IDS.wonDeal, [{ op: "replace", path: "/status", value: "Closed" }, { op: "replace", path: "/substatus", value: "Won" }], undefined);
    });
    once(SEED_IDS.incomingLead, () =>
      book.receiveFromMicrosoft(
        {
          name: "Woodgrove Bank - qualified lead: Dynamics 365 Customer Service",
          type: "Independent",
          qualification: "MarketingQualified",
          customerProfile: { name: "Woodgrove Bank", address: address("Chicago", "IL", "60601"), team: [{ firstName: "Wes", lastName: "Wood", email: "wes@woodgrove.example", phoneNumber: "+13125550100" }] },
          details: { notes: "Customer filled in a contact form for Customer Service.", dealValue: 60000, currency: "USD", closingDateTime: "2027-06-30T00:00:00Z" },
        },
        { id: SEED_IDS.incomingLead },
      ),
    );
    once(SEED_IDS.incomingCoSell, () => {
      book.receiveFromMicrosoft(
        {
          name: "Litware - co-sell invitation: Power Platform CoE",
          type: "Shared",
          qualification: "SalesQualified",
          customerProfile: { name: "Litware", address: address("Denver", "CO", "80202"), team: [{ firstName: "Lia", lastName: "Ware", email: "lia@litware.example" }] },
          details: { notes: "Microsoft account team invites you to co-sell.", dealValue: 90000, currency: "USD", closingDateTime: "2027-02-28T00:00:00Z" },
          inviteContext: { notes: "Looking for a Power Platform partner in Denver", assistanceRequestCode: "GeneralOrOther" },
        },
        { id: SEED_IDS.incomingCoSell, relatedId: SEED_IDS.incomingCoSellMicrosoft },
      );
      added.push(SEED_IDS.incomingCoSellMicrosoft);
    });
  });
  return added;
}

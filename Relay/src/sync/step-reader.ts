// The reader the relay gives its Dataverse steps (Plugins/step.ts StepReader): what a synchronous step
// needs that its delivery does not carry, read through the relay's application user the way the sync
// engine reads it (DataverseSide: the opportunity with its account, contact, currency and solutions, and
// the environment variables, in one $batch).
import type { SavedDeal, StepReader } from "../../../Plugins/step.ts";
import { Opportunity } from "../../../Core/generated/schema.ts";
import type { PartnerCenterClient } from "../clients/partner-center.ts";
import { getReferralOrUndefined } from "./partner-center-side.ts";
import type { Row } from "../clients/dataverse.ts";
import { AccountTable, ContactTable, CurrencyTable, OpportunityTable } from "./dataverse-columns.ts";
import { accountCountryOf, accountExpand, type DataverseSide } from "./dataverse-side.ts";

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value : null);

function accountIdOf(value: unknown): string | null {
  if (!value || typeof value !== "object") return null;
  return text((value as Row)[AccountTable.id])?.toLowerCase() ?? null;
}

export function createStepReader(dv: DataverseSide, relayUserId: string | undefined, pc: PartnerCenterClient): StepReader {
  const client = dv.client;
  return {
    relayUserId,
    async columns() {
      const { mapping } = await dv.settingsAndMapping();
      return { dealValue: mapping.dealValue, country: mapping.country.column };
    },
    async savedDeal(opportunityId): Promise<SavedDeal | undefined> {
      const record = await dv.readOpportunity(opportunityId);
      if (!record) return undefined;
      return {
        facts: record.facts,
        sync: record.sync,
        visible: record.row[Opportunity.columns.referralVisibility] === true,
        parentAccountId: accountIdOf(record.row[OpportunityTable.parentAccount]),
        customerAccountId: accountIdOf(record.row[OpportunityTable.customerAccount]),
      };
    },
    async accountCountry(accountId) {
      const { mapping } = await dv.settingsAndMapping();
      const expand = accountExpand(AccountTable.entitySet, mapping);
      const row = await client.retrieve(AccountTable.entitySet, accountId, { select: expand.select ?? [], ...(expand.expand ? { expand: expand.expand } : {}), formattedValues: false });
      return row ? { country: accountCountryOf(row, mapping) } : undefined;
    },
    async contact(contactId) {
      const row = await client.retrieve(ContactTable.entitySet, contactId, { select: [ContactTable.email, ContactTable.firstName, ContactTable.lastName], formattedValues: false });
      return row ? { email: text(row[ContactTable.email]), firstName: text(row[ContactTable.firstName]), lastName: text(row[ContactTable.lastName]) } : undefined;
    },
    async lead(leadId) {
      const record = await dv.readLead(leadId);
      if (!record) return undefined;
      return {
        sync: record.sync, referralId: record.referralId, statecode: record.statecode, respondBy: record.respondBy,
        estimatedRevenue: record.partial.dealValue ?? null, estimatedCloseDate: record.partial.closeDate ?? null,
      };
    },
    async referral(referralId) {
      const got = await getReferralOrUndefined(pc, referralId);
      return got ? { status: got.referral.status, substatus: got.referral.substatus } : undefined;
    },
    async currencyCode(currencyId) {
      const row = await client.retrieve(CurrencyTable.entitySet, currencyId, { select: [CurrencyTable.isoCode], formattedValues: false });
      return row ? { isoCode: text(row[CurrencyTable.isoCode]) } : undefined;
    },
  };
}

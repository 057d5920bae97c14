// The rules step's registrations and decisions on the contexts Dataverse sends (DataContract JSON, decoded
// as the relay decodes it), with a reader that answers from memory and counts what was read.
import { HowCanMicrosoftHelp, Opportunity } from "../../Core/generated/schema.ts";
import { VISIBILITY_LOCKED, readinessSummary } from "../../Core/messages.ts";
import type { DealFacts } from "../../Core/readiness.ts";
import { decodeRemoteExecutionContext } from "../context.ts";
import { STEPS, findStep } from "../index.ts";
import type { SavedDeal, StepReader } from "../step.ts";
import { RULES_COLUMNS, createStep, updateStep } from "../steps/opportunity-rules.ts";

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
const ID = "0a1b2c3d-0000-4000-8000-00000000000a";
const RELAY_USER = "11111111-0000-4000-8000-000000000001";
const SELLER = "22222222-0000-4000-8000-000000000002";
const ACCOUNT = "33333333-0000-4000-8000-000000000003";
const OTHER_ACCOUNT = "44444444-0000-4000-8000-000000000004";
const CONTACT = "55555555-0000-4000-8000-000000000005";
const EUR = "66666666-0000-4000-8000-000000000006";
const c = Opportunity.columns;

const ref = (logicalName: string, id: string) => ({ __type: `EntityReference:${CONTRACTS}`, Id: id, LogicalName: logicalName, Name: null });
const money = (value: number) => ({ __type: `Money:${CONTRACTS}`, Value: value });
const option = (value: number) => ({ __type: `OptionSetValue:${CONTRACTS}`, Value: value });
const entity = (attributes: Record<string, unknown>) => ({
  __type: `Entity:${CONTRACTS}`, Attributes: Object.entries(attributes).map(([key, value]) => ({ key, value })), Id: ID, LogicalName: "opportunity", FormattedValues: [],
});

function context(message: "Create" | "Update", target: Record<string, unknown>, options: { pre?: Record<string, unknown>; user?: string } = {}) {
  return decodeRemoteExecutionContext({
    MessageName: message, PrimaryEntityName: "opportunity", PrimaryEntityId: ID, Stage: 20, Mode: 0, Depth: 1,
    UserId: options.user ?? SELLER, InitiatingUserId: options.user ?? SELLER,
    InputParameters: [{ key: "Target", value: entity(target) }],
    PreEntityImages: options.pre ? [{ key: "PreImage", value: entity(options.pre) }] : [],
  });
}

const READY: DealFacts = {
  solutionCount: 1, customerCountry: "NL", hasAccount: true, helpRequested: true, contact: { email: "eva@customer.example", firstName: "Eva", lastName: "Bakker" },
  dealValue: 120000, currencyCode: "EUR", closeDate: "2027-03-31",
};

function reader(saved: Omit<Partial<SavedDeal>, "facts"> & { facts?: Partial<DealFacts> } = {}, options: { relayUserId?: string; dealValue?: string } = {}) {
  const reads: string[] = [];
  const r: StepReader = {
    relayUserId: options.relayUserId ?? RELAY_USER,
    async columns() {
      reads.push("columns");
      return { dealValue: options.dealValue ?? "estimatedvalue", country: "address1_country" };
    },
    async lead() {
      return undefined;
    },
    async referral() {
      return undefined;
    },
    async savedDeal(id) {
      reads.push(`deal ${id}`);
      return { sync: true, visible: false, parentAccountId: ACCOUNT, customerAccountId: ACCOUNT, ...saved, facts: { ...READY, ...saved.facts } };
    },
    async accountCountry(id) {
      reads.push(`account ${id}`);
      return id === OTHER_ACCOUNT ? { country: "Netherlands" } : { country: "NL" };
    },
    async contact(id) {
      reads.push(`contact ${id}`);
      return { email: null, firstName: "No", lastName: "Mail" };
    },
    async currencyCode(id) {
      reads.push(`currency ${id}`);
      return { isoCode: id === EUR ? "EUR" : "XXX" };
    },
  };
  return { reader: r, reads };
}

describe("registration", () => {
  test("synchronous, inside the save (PreOperation 20), on Create and on Update with a pre image; listed and unique", () => {
    expect(createStep.registration).toMatchObject({ name: "opportunity-rules-create", message: "Create", table: "opportunity", stage: 20, mode: 0, filteringAttributes: [], images: [] });
    expect(updateStep.registration).toMatchObject({
      name: "opportunity-rules-update", message: "Update", table: "opportunity", stage: 20, mode: 0,
      images: [{ name: "PreImage", type: "Pre", attributes: [c.syncWithPartnerCenter, c.referralVisibility] }],
    });
    expect([...RULES_COLUMNS].sort()).toEqual([
      "budgetamount", "customerid", "estimatedclosedate", "estimatedvalue", "parentaccountid", "parentcontactid", "transactioncurrencyid",
      c.helpRequested, c.referralVisibility, c.syncWithPartnerCenter,
    ].sort());
    expect(STEPS).toContain(createStep);
    expect(STEPS).toContain(updateStep);
    expect(findStep("opportunity-rules-update")).toBe(updateStep);
  });
});

describe("Referral Visibility stays on", () => {
  test("turning it off is refused with the form's words, whoever saves, and nothing is read", async () => {
    const { reader: r, reads } = reader();
    const off = context("Update", { [c.referralVisibility]: false }, { pre: { [c.referralVisibility]: true, [c.syncWithPartnerCenter]: true } });
    expect(await updateStep.handle(off, r)).toEqual({ kind: "refuse", message: VISIBILITY_LOCKED[1033] });
    const byRelay = context("Update", { [c.referralVisibility]: null }, { pre: { [c.referralVisibility]: true }, user: RELAY_USER });
    expect(await updateStep.handle(byRelay, r)).toEqual({ kind: "refuse", message: VISIBILITY_LOCKED[1033] });
    expect(reads).toEqual([]);
  });

  test("without the pre image (a delivery over 256 KB) the saved record says whether it was on", async () => {
    const { reader: r, reads } = reader({ visible: true, sync: false });
    expect(await updateStep.handle(context("Update", { [c.referralVisibility]: false }), r)).toEqual({ kind: "refuse", message: VISIBILITY_LOCKED[1033] });
    expect(reads).toEqual([`deal ${ID}`]);
  });

  test("turning it on, or leaving it off, is allowed", async () => {
    const { reader: r } = reader();
    expect(await updateStep.handle(context("Update", { [c.referralVisibility]: true }, { pre: { [c.referralVisibility]: false, [c.syncWithPartnerCenter]: false } }), r)).toEqual({ kind: "allow" });
    expect(await updateStep.handle(context("Update", { [c.referralVisibility]: false }, { pre: { [c.syncWithPartnerCenter]: false } }), r)).toEqual({ kind: "allow" });
  });
});

describe("Sync = Yes needs a ready deal", () => {
  test("Sync = Yes on a deal without a solution is refused with the readiness summary", async () => {
    const { reader: r } = reader({ sync: false, facts: { solutionCount: 0 } });
    const decision = await updateStep.handle(context("Update", { [c.syncWithPartnerCenter]: true }, { pre: { [c.syncWithPartnerCenter]: false } }), r);
    expect(decision).toEqual({ kind: "refuse", message: readinessSummary(["noSolution"], 1033) });
  });

  test("turning sync off is always allowed, without reading anything", async () => {
    const { reader: r, reads } = reader({ facts: { solutionCount: 0, dealValue: null } });
    expect(await updateStep.handle(context("Update", { [c.syncWithPartnerCenter]: false, estimatedvalue: null }, { pre: { [c.syncWithPartnerCenter]: true } }), r)).toEqual({ kind: "allow" });
    expect(await updateStep.handle(context("Update", { estimatedvalue: null }, { pre: { [c.syncWithPartnerCenter]: false } }), r)).toEqual({ kind: "allow" });
    expect(reads).toEqual([]);
  });

  test("what the save changes is laid over the saved deal: the admin's deal value column, the close date, a new account, the contact when help is asked", async () => {
    const { reader: r, reads } = reader({}, { dealValue: "budgetamount" });
    const update = (target: Record<string, unknown>) => updateStep.handle(context("Update", target, { pre: { [c.syncWithPartnerCenter]: true } }), r);
    expect(await update({ budgetamount: money(0) })).toEqual({ kind: "refuse", message: readinessSummary(["dealValueNotPositive"], 1033) });
    expect(await update({ estimatedvalue: null })).toEqual({ kind: "allow" }); // not the deal value column here
    expect(await update({ estimatedclosedate: null })).toEqual({ kind: "refuse", message: readinessSummary(["noCloseDate"], 1033) });
    expect(await update({ estimatedclosedate: `/Date(${Date.UTC(2027, 5, 30)})/` })).toEqual({ kind: "allow" });
    expect(await update({ parentaccountid: ref("account", OTHER_ACCOUNT) })).toEqual({ kind: "refuse", message: readinessSummary(["countryNotIso"], 1033) });
    expect(await update({ parentaccountid: null, customerid: null })).toEqual({ kind: "refuse", message: readinessSummary(["noAccount"], 1033) });
    expect(await update({ parentcontactid: ref("contact", CONTACT) })).toEqual({ kind: "refuse", message: readinessSummary(["contactWithoutEmail"], 1033) });
    expect(await update({ parentcontactid: ref("contact", CONTACT), [c.helpRequested]: option(HowCanMicrosoftHelp.NoHelpNeeded) })).toEqual({ kind: "allow" });
    expect(await update({ transactioncurrencyid: ref("transactioncurrency", EUR) })).toEqual({ kind: "allow" });
    expect(reads.filter((read) => !read.startsWith("deal") && read !== "columns")).toEqual([`account ${OTHER_ACCOUNT}`, `contact ${CONTACT}`, `currency ${EUR}`]);
  });

  test("the relay's own writes mirror Partner Center: not held to the readiness rules", async () => {
    const { reader: r } = reader({ facts: { dealValue: null } });
    expect(await updateStep.handle(context("Update", { estimatedvalue: null }, { pre: { [c.syncWithPartnerCenter]: true }, user: RELAY_USER }), r)).toEqual({ kind: "allow" });
    expect(await updateStep.handle(context("Update", { estimatedvalue: null }, { pre: { [c.syncWithPartnerCenter]: true } }), r)).toEqual({ kind: "refuse", message: readinessSummary(["noDealValue"], 1033) });
  });

  test("Create: no solution yet and the platform's base currency are left for later, the rest is checked", async () => {
    const { reader: r, reads } = reader();
    const ready = {
      name: "Deal", [c.syncWithPartnerCenter]: true, estimatedvalue: money(1000), estimatedclosedate: `/Date(${Date.UTC(2027, 2, 31)})/`,
      parentaccountid: ref("account", ACCOUNT), [c.helpRequested]: option(HowCanMicrosoftHelp.NoHelpNeeded),
    };
    expect(await createStep.handle(context("Create", ready), r)).toEqual({ kind: "allow" });
    expect(reads).toEqual(["columns", `account ${ACCOUNT}`]);
    const { estimatedvalue: _value, parentaccountid: _account, ...bare } = ready;
    expect(await createStep.handle(context("Create", bare), r)).toEqual({ kind: "refuse", message: readinessSummary(["noAccount", "noDealValue"], 1033) });
    expect(await createStep.handle(context("Create", { ...bare, [c.syncWithPartnerCenter]: false }), r)).toEqual({ kind: "allow" });
    expect(await createStep.handle(context("Create", { name: "No sync" }), r)).toEqual({ kind: "allow" });
  });
});

test("a context for another message is ignored; a decision that needs data fails without a reader", async () => {
  expect(await createStep.handle(context("Update", { [c.syncWithPartnerCenter]: true }))).toMatchObject({ kind: "ignore" });
  expect(await updateStep.handle(context("Update", { [c.syncWithPartnerCenter]: false }))).toEqual({ kind: "allow" });
  await expect(updateStep.handle(context("Update", { [c.syncWithPartnerCenter]: true }))).rejects.toThrow("the rules step needs the relay's Dataverse reader");
});

// The lifecycle steps as Dataverse posts them: Win and Lose name the opportunity in OpportunityClose,
// QualifyLead names the lead in LeadId; the qualify rules refuse before anything changes.
import { Lead } from "../../Core/generated/schema.ts";
import { decodeRemoteExecutionContext } from "../context.ts";
import type { SavedLead, StepReader } from "../step.ts";
import { findStep } from "../index.ts";
import { decideQualify } from "../steps/lead-qualify-rules.ts";
import type { ReferralState } from "../../Core/lifecycle.ts";

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
const OPPORTUNITY = "0a1b2c3d-0000-4000-8000-00000000000a";
const LEAD = "0a1b2c3d-0000-4000-8000-00000000000b";
const SELLER = "22222222-0000-4000-8000-000000000002";
const RELAY = "11111111-0000-4000-8000-000000000001";
const ref = (logicalName: string, id: string) => ({ __type: `EntityReference:${CONTRACTS}`, Id: id, LogicalName: logicalName, Name: null });

function context(message: string, table: string, input: Array<{ key: string; value: unknown }>, options: { stage?: number; mode?: number; user?: string; primaryId?: string } = {}) {
  return decodeRemoteExecutionContext({
    MessageName: message, PrimaryEntityName: table, PrimaryEntityId: options.primaryId ?? "00000000-0000-0000-0000-000000000000", Stage: options.stage ?? 40, Mode: options.mode ?? 1, Depth: 1,
    UserId: options.user ?? SELLER, InitiatingUserId: options.user ?? SELLER, InputParameters: input,
  });
}

test("Win and Lose sync the opportunity the close names", async () => {
  const close = { __type: `Entity:${CONTRACTS}`, Attributes: [{ key: "opportunityid", value: ref("opportunity", OPPORTUNITY) }], Id: "00000000-0000-0000-0000-000000000000", LogicalName: "opportunityclose", FormattedValues: [] };
  for (const [name, message] of [["opportunity-win", "Win"], ["opportunity-lose", "Lose"]] as const) {
    const step = findStep(name)!;
    expect(step.registration).toMatchObject({ message, table: "opportunity", stage: 40, mode: 1 });
    expect(await step.handle(context(message, "opportunity", [{ key: "OpportunityClose", value: close }]))).toEqual({ kind: "sync", subjects: [`opportunity:${OPPORTUNITY}`], reason: `${message} of opportunity` });
  }
  expect(await findStep("opportunity-win")!.handle(context("Lose", "opportunity", []))).toMatchObject({ kind: "ignore" });
});

test("QualifyLead syncs the lead it names", async () => {
  const step = findStep("lead-qualify")!;
  expect(await step.handle(context("QualifyLead", "lead", [{ key: "LeadId", value: ref("lead", LEAD) }]))).toEqual({ kind: "sync", subjects: [`lead:${LEAD}`], reason: "QualifyLead of lead" });
});

test("a lead update syncs only a lead that came from Partner Center", async () => {
  const step = findStep("lead-update")!;
  expect(step.registration.filteringAttributes).toEqual(expect.arrayContaining(["statecode", "statuscode", Lead.columns.syncWithPartnerCenter]));
  const image = (referral: string | null) => [{ key: "PostImage", value: { __type: `Entity:${CONTRACTS}`, Attributes: referral ? [{ key: Lead.columns.referralIdentifier, value: referral }] : [], Id: LEAD, LogicalName: "lead", FormattedValues: [] } }];
  const update = (referral: string | null) => decodeRemoteExecutionContext({
    MessageName: "Update", PrimaryEntityName: "lead", PrimaryEntityId: LEAD, Stage: 40, Mode: 1, Depth: 1, UserId: SELLER, InitiatingUserId: SELLER,
    InputParameters: [{ key: "Target", value: { __type: `Entity:${CONTRACTS}`, Attributes: [{ key: "statecode", value: { __type: `OptionSetValue:${CONTRACTS}`, Value: 2 } }], Id: LEAD, LogicalName: "lead", FormattedValues: [] } }],
    PostEntityImages: image(referral),
  });
  expect(await step.handle(update("referral-1"))).toMatchObject({ kind: "sync", subjects: [`lead:${LEAD}`] });
  expect(await step.handle(update(null))).toMatchObject({ kind: "ignore" });
});

describe("the qualify rules", () => {
  const now = new Date("2027-01-10T00:00:00Z");
  const reader = (lead: Partial<SavedLead> | undefined, referral: ReferralState | undefined): StepReader => ({
    relayUserId: RELAY,
    columns: async () => ({ dealValue: "estimatedvalue", country: "address1_country" }),
    savedDeal: async () => undefined, accountCountry: async () => undefined, contact: async () => undefined, currencyCode: async () => undefined,
    lead: async () => (lead ? { sync: true, referralId: "referral-1", estimatedRevenue: 1000, estimatedCloseDate: "2027-03-01", respondBy: "2027-01-20T00:00:00Z", statecode: 0, ...lead } : undefined),
    referral: async () => referral,
  });
  const qualifying = (user = SELLER) => context("QualifyLead", "lead", [{ key: "LeadId", value: ref("lead", LEAD) }], { stage: 10, mode: 0, user });
  const waiting: ReferralState = { status: "New", substatus: "Pending" };

  test("let a ready lead with a waiting referral through", async () => {
    expect(await decideQualify(qualifying(), reader({}, waiting), now)).toEqual({ kind: "allow" });
  });
  test("refuse without revenue or close date", async () => {
    expect(await decideQualify(qualifying(), reader({ estimatedRevenue: null }, waiting), now)).toEqual({ kind: "refuse", message: expect.stringContaining("Est. Revenue") });
    expect(await decideQualify(qualifying(), reader({ estimatedCloseDate: null }, waiting), now)).toEqual({ kind: "refuse", message: expect.stringContaining("Est. Close Date") });
  });
  test("refuse an expired, closed or withdrawn referral, saying which", async () => {
    expect(await decideQualify(qualifying(), reader({}, { status: "Closed", substatus: "Expired" }), now)).toEqual({ kind: "refuse", message: expect.stringContaining("expired") });
    expect(await decideQualify(qualifying(), reader({}, { status: "Closed", substatus: "Won" }), now)).toEqual({ kind: "refuse", message: expect.stringContaining("Closed/Won") });
    expect(await decideQualify(qualifying(), reader({}, undefined), now)).toEqual({ kind: "refuse", message: expect.stringContaining("withdrawn") });
  });
  test("never hold a lead that did not come from Partner Center, nor the relay itself", async () => {
    expect(await decideQualify(qualifying(), reader({ referralId: null, estimatedRevenue: null }, undefined), now)).toEqual({ kind: "allow" });
    expect(await decideQualify(qualifying(RELAY), reader({ estimatedRevenue: null }, undefined), now)).toEqual({ kind: "allow" });
  });
});

// Each step's registration and its decisions on the contexts Dataverse sends (DataContract JSON,
// decoded as the relay decodes it).
import { MicrosoftSolution, Opportunity } from "../../Core/generated/schema.ts";
import { decodeRemoteExecutionContext } from "../context.ts";
import { STEPS, findStep } from "../index.ts";
import * as opportunityCreate from "../steps/opportunity-create.ts";
import * as opportunityUpdate from "../steps/opportunity-update.ts";
import * as solutionCreate from "../steps/solution-create.ts";
import * as solutionDelete from "../steps/solution-delete.ts";

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";
const OPPORTUNITY_ID = "0a1b2c3d-0000-4000-8000-00000000000a";
const SOLUTION_ID = "5b1b2c3d-0000-4000-8000-00000000000b";
const c = Opportunity.columns;

type Pair = { key: string; value: unknown };
const ref = (logicalName: string, id: string) => ({ __type: `EntityReference:${CONTRACTS}`, Id: id.toUpperCase(), KeyAttributes: [], LogicalName: logicalName, Name: null, RowVersion: null });
const entity = (logicalName: string, id: string, attributes: Record<string, unknown>, typed = true) => ({
  ...(typed ? { __type: `Entity:${CONTRACTS}` } : {}),
  Attributes: Object.entries(attributes).map(([key, value]): Pair => ({ key, value })),
  EntityState: null, FormattedValues: [], Id: id, KeyAttributes: [], LogicalName: logicalName, RelatedEntities: [], RowVersion: null,
});

function context(options: { message: string; table: string; id: string; target: unknown; post?: Record<string, unknown>; pre?: Record<string, unknown> }) {
  return decodeRemoteExecutionContext({
    MessageName: options.message, PrimaryEntityName: options.table, PrimaryEntityId: options.id, Stage: 40, Mode: 1, Depth: 1,
    UserId: "75c2dd85-e89e-e711-8122-000d3aa2331c", InitiatingUserId: "75c2dd85-e89e-e711-8122-000d3aa2331c",
    InputParameters: [{ key: "Target", value: options.target }],
    PostEntityImages: options.post ? [{ key: "PostImage", value: entity(options.table, options.id, options.post, false) }] : [],
    PreEntityImages: options.pre ? [{ key: "PreImage", value: entity(options.table, options.id, options.pre, false) }] : [],
  });
}

const opportunity = (message: "Create" | "Update", target: Record<string, unknown>, post?: Record<string, unknown>) =>
  context({ message, table: Opportunity.logicalName, id: OPPORTUNITY_ID, target: entity(Opportunity.logicalName, OPPORTUNITY_ID, target), ...(post ? { post } : {}) });

describe("registrations", () => {
  test("names are unique and URL-safe; asynchronous steps run after the commit", () => {
    const names = STEPS.map((s) => s.registration.name);
    expect(new Set(names).size).toBe(names.length);
    for (const { registration } of STEPS) {
      expect(registration.name).toMatch(/^[a-z0-9-]+$/);
      if (registration.mode === 1) expect(registration.stage).toBe(40);
      expect(findStep(registration.name)?.registration).toBe(registration);
    }
    expect(findStep("nope")).toBeUndefined();
  });

  test("the opportunity update step is filtered on every mapped column, deal value alternatives included", () => {
    expect(opportunityUpdate.registration).toMatchObject({ message: "Update", table: "opportunity", stage: 40, mode: 1 });
    expect([...opportunityUpdate.registration.filteringAttributes].sort()).toEqual([
      "budgetamount", "customerid", "description", "estimatedclosedate", "estimatedvalue", "name", "parentaccountid", "parentcontactid",
      c.helpRequested, c.referralVisibility, c.syncWithPartnerCenter, "transactioncurrencyid", "statecode",
    ].sort());
    expect(opportunityUpdate.registration.images).toEqual([{ name: "PostImage", type: "Post", attributes: [c.syncWithPartnerCenter, c.referralIdentifier] }]);
    expect(opportunityCreate.registration).toMatchObject({ message: "Create", table: "opportunity", stage: 40, mode: 1, filteringAttributes: [] });
  });

  test("the solution steps: create without image, delete with a pre image holding the opportunity lookup", () => {
    expect(solutionCreate.registration).toMatchObject({ message: "Create", table: MicrosoftSolution.logicalName, stage: 40, mode: 1, images: [] });
    expect(solutionDelete.registration).toMatchObject({
      message: "Delete", table: MicrosoftSolution.logicalName, stage: 40, mode: 1,
      images: [{ name: "PreImage", type: "Pre", attributes: [MicrosoftSolution.lookups.opportunity.column] }],
    });
  });
});

describe("opportunity create and update", () => {
  const subject = `opportunity:${OPPORTUNITY_ID}`;

  test("a deal created with Sync = Yes is synced", () => {
    expect(opportunityCreate.handle(opportunity("Create", { name: "Deal", [c.syncWithPartnerCenter]: true }, { [c.syncWithPartnerCenter]: true, [c.referralIdentifier]: null })))
      .toEqual({ kind: "sync", subjects: [subject], reason: "Create of opportunity" });
  });

  test("a deal with Sync = No that was never shared is ignored, with why", () => {
    expect(opportunityCreate.handle(opportunity("Create", { name: "Deal" }, { [c.syncWithPartnerCenter]: false, [c.referralIdentifier]: null })))
      .toEqual({ kind: "ignore", reason: "Sync with Partner Center is No and the opportunity was never shared" });
    expect(opportunityUpdate.handle(opportunity("Update", { estimatedvalue: { __type: `Money:${CONTRACTS}`, Value: 10 } }, { [c.syncWithPartnerCenter]: false })))
      .toMatchObject({ kind: "ignore" });
  });

  test("a change to a shared deal is synced, even when Sync was just turned off (the engine decides what that means)", () => {
    expect(opportunityUpdate.handle(opportunity("Update", { [c.syncWithPartnerCenter]: false }, { [c.syncWithPartnerCenter]: false, [c.referralIdentifier]: "REF-1" })))
      .toEqual({ kind: "sync", subjects: [subject], reason: "Update of opportunity" });
    expect(opportunityUpdate.handle(opportunity("Update", { estimatedvalue: { __type: `Money:${CONTRACTS}`, Value: 10 } }, { [c.syncWithPartnerCenter]: true, [c.referralIdentifier]: null })))
      .toEqual({ kind: "sync", subjects: [subject], reason: "Update of opportunity" });
  });

  test("without the image (a delivery over 256 KB drops it) the deal is synced and the engine re-reads it", () => {
    expect(opportunityUpdate.handle(opportunity("Update", { name: "Renamed" }))).toEqual({ kind: "sync", subjects: [subject], reason: "Update of opportunity" });
  });

  test("a context for another message or table is ignored, saying so", () => {
    expect(opportunityCreate.handle(opportunity("Update", { name: "x" }))).toEqual({ kind: "ignore", reason: "step opportunity-create is for Create of opportunity, not Update of opportunity" });
  });
});

describe("Microsoft solutions", () => {
  const lookup = MicrosoftSolution.lookups.opportunity.column;

  test("a solution added to an opportunity syncs that opportunity", () => {
    const created = context({
      message: "Create", table: MicrosoftSolution.logicalName, id: SOLUTION_ID,
      target: entity(MicrosoftSolution.logicalName, SOLUTION_ID, { [lookup]: ref(Opportunity.logicalName, OPPORTUNITY_ID), [MicrosoftSolution.columns.primaryName]: "Azure" }),
    });
    expect(solutionCreate.handle(created)).toEqual({ kind: "sync", subjects: [`opportunity:${OPPORTUNITY_ID}`], reason: "Microsoft solution added" });
  });

  test("a solution without an opportunity is ignored", () => {
    const created = context({ message: "Create", table: MicrosoftSolution.logicalName, id: SOLUTION_ID, target: entity(MicrosoftSolution.logicalName, SOLUTION_ID, { [lookup]: null }) });
    expect(solutionCreate.handle(created)).toEqual({ kind: "ignore", reason: "the solution row is not on an opportunity" });
  });

  test("a solution removed syncs the opportunity named in the pre image", () => {
    const deleted = context({
      message: "Delete", table: MicrosoftSolution.logicalName, id: SOLUTION_ID, target: ref(MicrosoftSolution.logicalName, SOLUTION_ID),
      pre: { [lookup]: ref(Opportunity.logicalName, OPPORTUNITY_ID) },
    });
    expect(solutionDelete.handle(deleted)).toEqual({ kind: "sync", subjects: [`opportunity:${OPPORTUNITY_ID}`], reason: "Microsoft solution removed" });
  });

  test("a delete without the pre image cannot name the opportunity: ignored, the reconciler catches up", () => {
    const deleted = context({ message: "Delete", table: MicrosoftSolution.logicalName, id: SOLUTION_ID, target: ref(MicrosoftSolution.logicalName, SOLUTION_ID) });
    expect(solutionDelete.handle(deleted)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("no pre image") });
  });
});

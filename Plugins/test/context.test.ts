// The RemoteExecutionContext decoder on Microsoft's documented sample (dataverse.md §8.4), and on the
// value shapes the sample does not show (choices, money, collections), plus bodies that are not one.
import { ContextDecodeError, currentValue, decodeRemoteExecutionContext, decodeValue, parseDataContractDate, target } from "../context.ts";
import { DOCUMENTED_SAMPLE } from "./documented-sample.ts";

const CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts";

describe("the documented sample", () => {
  const context = decodeRemoteExecutionContext(JSON.parse(DOCUMENTED_SAMPLE));

  test("the envelope", () => {
    expect(context).toMatchObject({
      messageName: "Update", primaryEntityName: "contact", primaryEntityId: "6d81597f-0f9f-e711-8122-000d3aa2331c",
      secondaryEntityName: "none", stage: 40, mode: 1, depth: 1,
      userId: "75c2dd85-e89e-e711-8122-000d3aa2331c", initiatingUserId: "75c2dd85-e89e-e711-8122-000d3aa2331c",
      businessUnitId: "e2b9dd85-e89e-e711-8122-000d3aa2331c", correlationId: "b374239d-4233-41a9-8b17-a86cb4f737b5",
      operationId: "4af10637-4ea2-e711-8122-000d3aa2331c", organizationId: "4ef5b371-e89e-e711-8122-000d3aa2331c",
      organizationName: "OrgName", requestId: null, isInTransaction: false,
      owningExtension: { kind: "reference", logicalName: "sdkmessageprocessingstep", id: "75417616-4ea2-e711-8122-000d3aa2331c", name: null },
      outputParameters: {}, preEntityImages: {}, sharedVariables: {},
    });
    // The -0700 is a display offset: the instant is the milliseconds, UTC.
    expect(context.operationCreatedOn).toEqual(new Date(1506409448000));
  });

  test("the Target: [{key, value}] attributes as a record, /Date()/ as a Date, EntityReference as a reference", () => {
    expect(target(context)).toEqual({
      kind: "entity", logicalName: "contact", id: "6d81597f-0f9f-e711-8122-000d3aa2331c", formattedValues: {}, rowVersion: null,
      attributes: {
        firstname: "James",
        contactid: "6d81597f-0f9f-e711-8122-000d3aa2331c",
        modifiedon: new Date(1506384247000),
        modifiedby: { kind: "reference", logicalName: "systemuser", id: "75c2dd85-e89e-e711-8122-000d3aa2331c", name: null },
        modifiedonbehalfby: null,
      },
    });
  });

  test("post images by key, untyped entities included", () => {
    expect(context.postEntityImages.AsynchronousStepPrimaryName).toEqual({
      kind: "entity", logicalName: "contact", id: "6d81597f-0f9f-e711-8122-000d3aa2331c", formattedValues: {}, rowVersion: null,
      attributes: { fullname: "James Glynn (sample)", contactid: "6d81597f-0f9f-e711-8122-000d3aa2331c" },
    });
    expect(currentValue(context, "fullname")).toBe("James Glynn (sample)");
    expect(currentValue(context, "firstname")).toBe("James");
    expect(currentValue(context, "lastname")).toBeUndefined();
  });

  test("the parent context, stage 30, with its own input parameters", () => {
    expect(context.parentContext).toMatchObject({ stage: 30, mode: 0, isInTransaction: true, owningExtension: null, parentContext: null });
    expect(context.parentContext?.inputParameters.SuppressDuplicateDetection).toBe(false);
  });
});

describe("values the sample does not show", () => {
  test("OptionSetValue and Money objects, multi-select lists, entity collections", () => {
    expect(decodeValue({ __type: `OptionSetValue:${CONTRACTS}`, Value: 613750001 })).toEqual({ kind: "option", value: 613750001 });
    expect(decodeValue({ __type: `Money:${CONTRACTS}`, Value: 120000.5 })).toEqual({ kind: "money", value: 120000.5 });
    expect(decodeValue({ Value: 2 })).toEqual({ kind: "option", value: 2 });
    expect(decodeValue([{ __type: `OptionSetValue:${CONTRACTS}`, Value: 1 }, { __type: `OptionSetValue:${CONTRACTS}`, Value: 3 }]))
      .toEqual([{ kind: "option", value: 1 }, { kind: "option", value: 3 }]);
    expect(decodeValue({ __type: `EntityCollection:${CONTRACTS}`, Entities: [{ Attributes: [{ key: "name", value: "x" }], Id: "ABC", LogicalName: "account" }] }))
      .toEqual([{ kind: "entity", logicalName: "account", id: "abc", attributes: { name: "x" }, formattedValues: {}, rowVersion: null }]);
  });

  test("dates with and without an offset; other text stays text", () => {
    expect(parseDataContractDate("/Date(0)/")).toEqual(new Date(0));
    expect(parseDataContractDate("/Date(1506409448000+0200)/")).toEqual(new Date(1506409448000));
    expect(parseDataContractDate("/Date(-86400000)/")).toEqual(new Date(-86400000));
    expect(decodeValue("/Date(x)/")).toBe("/Date(x)/");
    expect(decodeValue("2026-01-02")).toBe("2026-01-02");
  });

  test("formatted values are kept by column", () => {
    const entity = decodeValue({ Attributes: [], FormattedValues: [{ key: "estimatedvalue", value: "€120,000.00" }], Id: "a", LogicalName: "opportunity" });
    expect(entity).toMatchObject({ formattedValues: { estimatedvalue: "€120,000.00" } });
  });
});

describe("bodies that are not a RemoteExecutionContext", () => {
  test.each([
    ["an array", [], "the body is not a JSON object"],
    ["an object without MessageName", { Stage: 40 }, "the body has no MessageName: it is not a RemoteExecutionContext"],
    ["no Stage", { MessageName: "Update", PrimaryEntityName: "opportunity" }, "Stage is missing"],
    ["InputParameters as a map", { MessageName: "Update", PrimaryEntityName: "opportunity", Stage: 40, InputParameters: { Target: {} } }, "the body.InputParameters is not a [{key, value}] list"],
    ["an image that is not an entity", { MessageName: "Update", PrimaryEntityName: "opportunity", Stage: 40, PostEntityImages: [{ key: "PostImage", value: "x" }] }, "the body.PostEntityImages.PostImage is not an entity image"],
    ["an unknown value shape", { MessageName: "Update", PrimaryEntityName: "opportunity", Stage: 40, InputParameters: [{ key: "Target", value: { odd: true } }] }, "the body.InputParameters.Target has a shape the relay does not know"],
  ])("%s", (_name, body, message) => {
    expect(() => decodeRemoteExecutionContext(body)).toThrow(new ContextDecodeError(message));
  });
});

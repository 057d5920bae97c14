// The form scripts follow the admin's field mapping ("Partner Center field mapping" over the seed's
// variables), as the card does: onSave blocks on the configured deal value column and on the country
// read through the account's lookup to the country table's ISO code column; an invalid mapping is not
// used (the seed's variables are).
import { jest } from "@jest/globals";
import { EnvironmentVariables } from "../../Core/generated/schema.ts";
import { readinessSummary } from "../../Core/messages.ts";
import type { ReadinessProblem } from "../../Core/readiness.ts";
import { NotificationId, Standard } from "../src/names.ts";
import { onLoad, onSave } from "../src/opportunity.ts";
import { COUNTRY, DEAL_VALUE, defaultData, Ids, openForm, withMetadata, type Data, type FormSetup, type MetadataCatalog, type TestForm } from "./fakes.ts";

const COUNTRY_ID = "c0c0c0c0-0000-4000-8000-0000000000be";
const LOOKUP_MAPPING = { opportunity: { dealValue: "new_dealamount" }, account: { country: { lookup: "new_countryid", isoCodeColumn: "new_isocode" } } };

/** The customer's columns as Dataverse's metadata knows them. */
const CUSTOMER_METADATA: MetadataCatalog = withMetadata({
  opportunity: { new_dealamount: { type: "Money" } },
  account: { new_countryid: { type: "Lookup", targets: ["new_country"] }, new_countrycode: { type: "String" } },
  new_country: { new_countryid: { type: "Uniqueidentifier" }, new_isocode: { type: "String" } },
});

/** Dataverse with a customer's country table: the account's text column is empty, its lookup points to Belgium. */
function customized(fieldMapping: unknown, iso: string | null = "BE", metadata: MetadataCatalog = CUSTOMER_METADATA): Data {
  const data = defaultData();
  data.metadata = metadata;
  data.variables[EnvironmentVariables.fieldMapping.schemaName] = typeof fieldMapping === "string" ? fieldMapping : JSON.stringify(fieldMapping);
  const account = data.accounts[Ids.account]!;
  account[COUNTRY] = null;
  account._new_countryid_value = COUNTRY_ID;
  account["_new_countryid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] = "new_country";
  data.tables = { new_country: { [COUNTRY_ID]: { new_countryid: COUNTRY_ID, new_name: "Belgium", new_isocode: iso } } };
  return data;
}

/** The form with a custom deal value column (75 000) next to an Estimated Revenue of 0. */
const setup = (dealAmount: number | null = 75000): FormSetup => ({ dealValue: 0, numbers: { new_dealamount: dealAmount } });

async function loaded(formSetup: FormSetup, data: Data): Promise<TestForm> {
  const t = openForm(formSetup, data);
  await onLoad(t.context());
  return t;
}

function save(t: TestForm): boolean {
  const context = t.saveContext();
  const alert = jest.spyOn(Xrm.Navigation, "openAlertDialog").mockResolvedValue(undefined as never);
  try {
    onSave(context);
    return context.getEventArgs().isDefaultPrevented();
  } finally {
    alert.mockRestore();
  }
}

const blockedFor = (t: TestForm): string | undefined => t.notification(NotificationId.saveBlocked)?.message;
const summary = (problems: ReadinessProblem[]): string => readinessSummary(problems, 1033).replace(/\s*\n\s*/g, " ");

describe("onSave follows the field mapping", () => {
  test("deal value from the configured column, country through the lookup: a ready deal saves", async () => {
    const t = await loaded(setup(), customized(LOOKUP_MAPPING));
    expect(save(t)).toBe(false);
    expect(t.notifications()).toEqual([]);
    // The account's lookup value, then the row of the table the Web API names, for its ISO code.
    expect(t.webApi.callsTo("opportunity")[0]?.options).toContain(`${Standard.opportunity.account}($select=${Standard.account.id},_new_countryid_value)`);
    expect(t.webApi.callsTo("opportunity")[0]?.options).toMatch(/\$select=new_dealamount,/);
    expect(t.webApi.callsTo("new_country")).toEqual([{ method: "retrieveRecord", entity: "new_country", id: COUNTRY_ID, options: "?$select=new_isocode" }]);
  });

  test("the configured deal value column empty: blocked, though Estimated Revenue has a value", async () => {
    const t = await loaded({ ...setup(null), dealValue: 120000 }, customized(LOOKUP_MAPPING));
    expect(save(t)).toBe(true);
    expect(blockedFor(t)).toBe(summary(["noDealValue"]));
    // The configured column is the one made required.
    expect(t.attribute("new_dealamount").getRequiredLevel()).toBe("required");
    expect(t.attribute(DEAL_VALUE).getRequiredLevel()).toBe("none");
  });

  test("the lookup's country row without an ISO code: blocked for the country", async () => {
    const t = await loaded(setup(), customized(LOOKUP_MAPPING, "Belgium"));
    expect(save(t)).toBe(true);
    expect(blockedFor(t)).toBe(summary(["countryNotIso"]));
  });

  test("an account whose lookup is empty has no country", async () => {
    const data = customized(LOOKUP_MAPPING);
    data.accounts[Ids.account]!._new_countryid_value = null;
    const t = await loaded(setup(), data);
    expect(save(t)).toBe(true);
    expect(blockedFor(t)).toBe(summary(["noCountry"]));
  });

  test("a country text column named in the JSON wins over Customer Account Country Code field", async () => {
    const data = customized({ account: { country: { column: "new_countrycode" } } });
    data.accounts[Ids.account]!.new_countrycode = "BE";
    const t = await loaded({}, data);
    expect(save(t)).toBe(false);
    data.accounts[Ids.account]!.new_countrycode = "Belgium";
    const again = await loaded({}, data);
    expect(save(again)).toBe(true);
    expect(blockedFor(again)).toBe(summary(["countryNotIso"]));
  });

  test("an invalid mapping is not used: the seed's variables decide", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    // The lookup lacks its ISO column: the whole value is set aside, so the checklist reads
    // Estimated Revenue (0) and the account's address1_country (empty).
    const t = await loaded(setup(), customized({ opportunity: { dealValue: "new_dealamount" }, account: { country: { lookup: "new_countryid" } } }));
    expect(save(t)).toBe(true);
    expect(blockedFor(t)).toBe(summary(["noCountry", "dealValueNotPositive"]));
    expect(t.webApi.callsTo("new_country")).toEqual([]);
    const broken = await loaded(setup(), customized("{ not json"));
    expect(save(broken)).toBe(true);
    expect(blockedFor(broken)).toBe(summary(["noCountry", "dealValueNotPositive"]));
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});

describe("the columns the mapping names are checked with Xrm.Utility.getEntityMetadata before they are read", () => {
  const expectSeedReads = (t: TestForm): void => {
    const opportunityRead = t.webApi.callsTo("opportunity")[0]?.options ?? "";
    expect(opportunityRead).toMatch(new RegExp(`\\$select=${DEAL_VALUE},`));
    expect(opportunityRead).not.toContain("new_dealamount");
    expect(opportunityRead).toContain(`${Standard.opportunity.account}($select=${Standard.account.id},${COUNTRY})`);
    expect(t.webApi.callsTo("new_country")).toEqual([]);
    for (const call of t.webApi.callsTo(Standard.account.logicalName)) expect(call.options).not.toContain("new_countryid");
  };

  test("a deal value column that does not exist: nothing read through it, the seed's columns decide, a console warning says why", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const metadata = withMetadata({ account: CUSTOMER_METADATA.account!, new_country: CUSTOMER_METADATA.new_country! });
    const t = await loaded(setup(), customized(LOOKUP_MAPPING, "BE", metadata));
    expect(save(t)).toBe(true);
    // Estimated Revenue (0) and address1_country (empty): the seed's columns.
    expect(blockedFor(t)).toBe(summary(["noCountry", "dealValueNotPositive"]));
    expectSeedReads(t);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain("opportunity.dealValue names new_dealamount, which is not a column of opportunity");
    expect(String(warn.mock.calls[0]![0])).toContain("the relay keeps its last good field mapping");
    warn.mockRestore();
  });

  test("a country \"lookup\" that is a text column: not followed, and its table is not asked about", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const metadata = withMetadata({ ...CUSTOMER_METADATA, account: { new_countryid: { type: "String" } } });
    const t = await loaded(setup(), customized(LOOKUP_MAPPING, "BE", metadata));
    expect(save(t)).toBe(true);
    expect(blockedFor(t)).toBe(summary(["noCountry", "dealValueNotPositive"]));
    expectSeedReads(t);
    expect(t.metadata.calls.map((c) => c.entityName)).not.toContain("new_country");
    expect(String(warn.mock.calls[0]![0])).toContain("account.country.lookup names new_countryid, a text column of account; it must be a lookup");
    warn.mockRestore();
  });

  test("columns that fit are used without a warning, and the metadata is asked once per page", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const t = await loaded(setup(), customized(LOOKUP_MAPPING));
    await onLoad(t.context());
    expect(save(t)).toBe(false);
    expect(t.metadata.calls).toEqual([
      { entityName: "opportunity", attributes: ["new_dealamount"] },
      { entityName: "account", attributes: ["new_countryid"] },
      { entityName: "new_country", attributes: ["new_isocode"] },
    ]);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  test("no mapping: the metadata is not asked at all", async () => {
    const t = await loaded({}, defaultData());
    expect(save(t)).toBe(false);
    expect(t.metadata.calls).toEqual([]);
  });
});

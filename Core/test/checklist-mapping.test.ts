import {
  accountCountryColumn, checkChecklistMapping, checkMappedColumns, COLUMN_NAME, columnFactsOf, countryRowToRead, effectiveChecklistMapping, mappedChecklist,
  readChecklistConfig, type ChecklistMapping, type ChecklistMetadata, type ChecklistRecords, type ColumnFacts,
} from "../checklist-mapping.ts";
import { COLUMN_NAME as SCHEMA_COLUMN_NAME, parseFieldMappingConfig } from "../field-mapping-config.ts";
import { EnvironmentVariables } from "../generated/schema.ts";

const seed = { fieldMapping: null, dealValueField: null, countryField: null };
const LOOKUP = JSON.stringify({ opportunity: { dealValue: "new_dealamount" }, account: { country: { lookup: "new_countryid", isoCodeColumn: "new_isocode" } } });

describe("the effective mapping", () => {
  test("no variables at all: the seed variables' defaults", () => {
    const standard = { dealValue: EnvironmentVariables.dealValueField.defaultValue, country: { kind: "column", column: EnvironmentVariables.customerAccountCountryCodeField.defaultValue } };
    expect(effectiveChecklistMapping(seed)).toEqual({
      mapping: standard,
      fieldMappingProblems: [],
      invalidSeed: [],
      named: {},
      fallback: { mapping: standard, invalidSeed: [] },
    });
  });

  test("the seed variables name the columns (read case-insensitively, as before)", () => {
    const { mapping } = effectiveChecklistMapping({ fieldMapping: " ", dealValueField: "New_DealAmount", countryField: "new_countrycode" });
    expect(mapping).toEqual({ dealValue: "new_dealamount", country: { kind: "column", column: "new_countrycode" } });
  });

  test("a column named in the JSON wins over the seed variable; parts it leaves out keep the seed's", () => {
    const effective = effectiveChecklistMapping({ fieldMapping: JSON.stringify({ opportunity: { dealValue: "cust_dealvalue" } }), dealValueField: "new_other", countryField: "new_countrycode" });
    expect(effective.mapping).toEqual({ dealValue: "cust_dealvalue", country: { kind: "column", column: "new_countrycode" } });
    expect(effectiveChecklistMapping({ ...seed, fieldMapping: LOOKUP }).mapping).toEqual({
      dealValue: "new_dealamount", country: { kind: "lookup", lookup: "new_countryid", isoCodeColumn: "new_isocode" },
    });
    expect(effectiveChecklistMapping({ ...seed, fieldMapping: JSON.stringify({ account: { country: { column: "cust_countrycode" } } }) }).mapping.country)
      .toEqual({ kind: "column", column: "cust_countrycode" });
  });

  test("an invalid JSON value is not used: the seed's variables, and the exact problem", () => {
    const effective = effectiveChecklistMapping({ fieldMapping: JSON.stringify({ opportunity: { dealValue: "Deal Amount" }, account: { country: { lookup: "new_countryid" } } }), dealValueField: "new_seeddeal", countryField: null });
    expect(effective.mapping).toEqual({ dealValue: "new_seeddeal", country: { kind: "column", column: "address1_country" } });
    expect(effective.fieldMappingProblems).toEqual([
      "opportunity.dealValue: must be a column's logical name (lower case letters, digits and _), not its display name",
      'account.country: must be {"column": …} or {"lookup": …, "isoCodeColumn": …}',
    ]);
    expect(effectiveChecklistMapping({ ...seed, fieldMapping: "{ opportunity: " }).fieldMappingProblems[0]).toMatch(/^\(the whole value\): is not valid JSON/);
    expect(effectiveChecklistMapping({ ...seed, fieldMapping: "[1]" }).fieldMappingProblems).toEqual(["(the whole value): must be an object"]);
  });

  test("a seed variable that names no column is reported only while it is in use", () => {
    expect(effectiveChecklistMapping({ ...seed, dealValueField: "Deal value" }).invalidSeed).toEqual(["dealValueField"]);
    expect(effectiveChecklistMapping({ fieldMapping: JSON.stringify({ opportunity: { dealValue: "cust_dealvalue" } }), dealValueField: "Deal value", countryField: null }).invalidSeed).toEqual([]);
  });
});

describe("the same answers as the relay's schema (Core/field-mapping-config.ts)", () => {
  test("the same column rule", () => {
    expect(COLUMN_NAME.source).toBe(SCHEMA_COLUMN_NAME.source);
  });

  const values: unknown[] = [
    {}, { opportunity: {} }, { opportunity: { dealValue: "cust_dealvalue" } }, { opportunity: { dealValue: "Deal Value" } }, { opportunity: { dealValue: 5 } },
    { account: { country: { column: "cust_countrycode" } } }, { account: { country: { column: "Country" } } },
    { account: { country: { lookup: "cust_countryid", isoCodeColumn: "cust_isocode" } } }, { account: { country: { lookup: "cust_countryid" } } },
    { account: { country: { lookup: "cust_countryid", isoCodeColumn: "ISO" } } }, { account: { country: { column: "a", lookup: "b", isoCodeColumn: "c" } } },
    { account: { country: "address1_country" } }, { opportunity: "x" }, { account: [] },
  ];
  test.each(values.map((v) => [JSON.stringify(v), v]))("%s", (_, value) => {
    const relay = parseFieldMappingConfig(value);
    const card = readChecklistConfig(JSON.stringify(value));
    expect(card.ok).toBe(relay.ok);
    if (relay.ok && card.ok) {
      expect(card.dealValue).toBe(relay.config.opportunity?.dealValue);
      const country = relay.config.account?.country;
      expect(card.country).toEqual(country === undefined ? undefined : "column" in country ? { kind: "column", column: country.column } : { kind: "lookup", ...country });
    }
    if (!relay.ok && !card.ok) {
      // The same paths (the relay's messages may say more, at deeper paths of the same part).
      const top = (problems: string[]): string[] => [...new Set(problems.map((p) => p.split(/[.:]/)[0]!))];
      expect(top(card.problems)).toEqual(top(relay.problems));
    }
  });
});

describe("the checklist through the mapping", () => {
  const lookup: ChecklistMapping = { dealValue: "new_dealamount", country: { kind: "lookup", lookup: "new_countryid", isoCodeColumn: "new_isocode" } };
  const records = (change: Partial<ChecklistRecords> = {}): ChecklistRecords => ({
    solutionCount: 1, helpRequested: false, contact: null, currencyCode: "EUR",
    opportunity: { new_dealamount: 50000, estimatedvalue: 0, estimatedclosedate: "2027-03-31" },
    account: { accountid: "a1", _new_countryid_value: "c1", "_new_countryid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "new_country", address1_country: "Netherlands" },
    country: { new_countryid: "c1", new_isocode: "NL" },
    ...change,
  });
  const state = (mapping: ChecklistMapping, r: ChecklistRecords): Record<string, string | undefined> =>
    Object.fromEntries(mappedChecklist(mapping, r).items.map((i) => [i.check, i.problem ?? "ok"]));

  test("deal value from the configured column, country through the lookup's ISO column", () => {
    expect(state(lookup, records())).toMatchObject({ dealValue: "ok", country: "ok" });
    // The standard columns would fail this deal: the checklist does not read them.
    expect(state({ dealValue: "estimatedvalue", country: { kind: "column", column: "address1_country" } }, records())).toMatchObject({ dealValue: "dealValueNotPositive", country: "countryNotIso" });
    expect(state(lookup, records({ country: { new_isocode: "Netherlands" } }))).toMatchObject({ country: "countryNotIso" });
    expect(state(lookup, records({ country: null }))).toMatchObject({ country: "noCountry" });
    expect(state(lookup, records({ account: null, country: null }))).toMatchObject({ country: "noAccount" });
    expect(state(lookup, records({ opportunity: { estimatedclosedate: new Date("2027-03-31T00:00:00Z") } }))).toMatchObject({ dealValue: "noDealValue", closeDate: "ok" });
  });

  test("what to read: the account's country column or lookup value, then the country row the annotation names", () => {
    expect(accountCountryColumn(lookup)).toBe("_new_countryid_value");
    expect(accountCountryColumn({ dealValue: "x", country: { kind: "column", column: "cust_countrycode" } })).toBe("cust_countrycode");
    expect(countryRowToRead(lookup, records().account)).toEqual({ read: "row", table: "new_country", id: "c1", column: "new_isocode" });
    expect(countryRowToRead(lookup, { _new_countryid_value: null })).toEqual({ read: "none" });
    expect(countryRowToRead(lookup, null)).toEqual({ read: "none" });
    expect(countryRowToRead(lookup, { _new_countryid_value: "c1" })).toEqual({ read: "unknownTable", lookup: "new_countryid" });
    expect(countryRowToRead({ dealValue: "x", country: { kind: "column", column: "c" } }, records().account)).toEqual({ read: "none" });
  });
});

describe("the named columns against Dataverse's metadata", () => {
  const money: ColumnFacts = { type: "Money", targets: [] };
  const text: ColumnFacts = { type: "String", targets: [] };
  const countryLookup: ColumnFacts = { type: "Lookup", targets: ["new_country"] };
  const inputs = (fieldMapping: unknown) => ({ fieldMapping: JSON.stringify(fieldMapping), dealValueField: "new_seeddeal", countryField: "new_seedcountry" });
  const SEED: ChecklistMapping = { dealValue: "new_seeddeal", country: { kind: "column", column: "new_seedcountry" } };
  const LOOKUP_CONFIG = { opportunity: { dealValue: "new_dealamount" }, account: { country: { lookup: "new_countryid", isoCodeColumn: "new_isocode" } } };
  const GOOD: ChecklistMetadata = {
    opportunity: { columns: { new_dealamount: money } },
    account: { columns: { new_countryid: countryLookup } },
    new_country: { columns: { new_isocode: text } },
  };
  const check = (config: unknown, metadata: ChecklistMetadata) => checkMappedColumns(effectiveChecklistMapping(inputs(config)), metadata);

  test("columns that exist with a fitting type are used", () => {
    const checked = check(LOOKUP_CONFIG, GOOD);
    expect(checked.mapping).toEqual({ dealValue: "new_dealamount", country: { kind: "lookup", lookup: "new_countryid", isoCodeColumn: "new_isocode" } });
    expect(checked.fieldMappingProblems).toEqual([]);
    for (const type of ["Decimal", "Integer", "Double", "BigInt"]) {
      expect(check({ opportunity: { dealValue: "new_dealamount" } }, { opportunity: { columns: { new_dealamount: { type, targets: [] } } } }).fieldMappingProblems).toEqual([]);
    }
    expect(check({ account: { country: { column: "new_code" } } }, { account: { columns: { new_code: { type: "Memo", targets: [] } } } }).mapping.country).toEqual({ kind: "column", column: "new_code" });
  });

  test("a column that does not exist: the seed's columns, and the exact problem", () => {
    const checked = check(LOOKUP_CONFIG, { ...GOOD, opportunity: { columns: {} } });
    expect(checked.mapping).toEqual(SEED);
    expect(checked.fieldMappingProblems).toEqual(["opportunity.dealValue names new_dealamount, which is not a column of opportunity"]);
    expect(check(LOOKUP_CONFIG, { ...GOOD, new_country: { columns: {} } }).fieldMappingProblems).toEqual(["account.country.isoCodeColumn names new_isocode, which is not a column of new_country"]);
  });

  test("a column of an unfitting type", () => {
    expect(check(LOOKUP_CONFIG, { ...GOOD, opportunity: { columns: { new_dealamount: text } } }).fieldMappingProblems)
      .toEqual(["opportunity.dealValue names new_dealamount, a text column of opportunity; it must be a number (currency, decimal, whole number or floating point)"]);
    const notLookup = check(LOOKUP_CONFIG, { ...GOOD, account: { columns: { new_countryid: text } } });
    expect(notLookup.fieldMappingProblems).toEqual(["account.country.lookup names new_countryid, a text column of account; it must be a lookup"]);
    expect(notLookup.mapping).toEqual(SEED);
    expect(check(LOOKUP_CONFIG, { ...GOOD, new_country: { columns: { new_isocode: { type: "Picklist", targets: [] } } } }).fieldMappingProblems)
      .toEqual(["account.country.isoCodeColumn names new_isocode, a choice column of new_country; it must be a text column"]);
    expect(check({ account: { country: { column: "new_countryid" } } }, { account: { columns: { new_countryid: countryLookup } } }).fieldMappingProblems)
      .toEqual(["account.country.column names new_countryid, a lookup column of account; it must be a text column"]);
    expect(check(LOOKUP_CONFIG, { ...GOOD, account: { columns: { new_countryid: { type: "Lookup", targets: [] } } } }).fieldMappingProblems)
      .toEqual(["account.country.lookup names new_countryid, a lookup of account that points to no table"]);
  });

  test("metadata that could not be read: the columns are not confirmed, so not used", () => {
    const checked = check(LOOKUP_CONFIG, { ...GOOD, opportunity: { error: "Network error" } });
    expect(checked.mapping).toEqual(SEED);
    expect(checked.fieldMappingProblems).toEqual(["opportunity.dealValue names new_dealamount, which could not be checked (the metadata of opportunity could not be read: Network error)"]);
  });

  test("the fallback's seed variables are reported when they name no column", () => {
    const checked = checkMappedColumns(effectiveChecklistMapping({ fieldMapping: JSON.stringify({ opportunity: { dealValue: "new_dealamount" } }), dealValueField: "Deal value", countryField: null }), {});
    expect(checked.invalidSeed).toEqual(["dealValueField"]);
    expect(checked.mapping.dealValue).toBe(EnvironmentVariables.dealValueField.defaultValue);
  });

  test("asks the metadata for exactly the named columns, the lookup's table second; nothing when none are named", async () => {
    const asked: Array<[string, string[]]> = [];
    const describe = (table: string, columns: string[]): Promise<Record<string, ColumnFacts>> => {
      asked.push([table, columns]);
      const facts = GOOD[table];
      return facts && "columns" in facts ? Promise.resolve(Object.fromEntries(columns.filter((c) => facts.columns[c]).map((c) => [c, facts.columns[c]!]))) : Promise.reject(new Error(`no table ${table}`));
    };
    expect((await checkChecklistMapping(effectiveChecklistMapping(inputs(LOOKUP_CONFIG)), describe)).fieldMappingProblems).toEqual([]);
    expect(asked).toEqual([["opportunity", ["new_dealamount"]], ["account", ["new_countryid"]], ["new_country", ["new_isocode"]]]);
    asked.length = 0;
    await checkChecklistMapping(effectiveChecklistMapping(inputs({})), describe);
    await checkChecklistMapping(effectiveChecklistMapping(inputs({ opportunity: { dealValue: "Deal value" } })), describe);
    expect(asked).toEqual([]);
    const failing = await checkChecklistMapping(effectiveChecklistMapping(inputs({ opportunity: { dealValue: "new_dealamount" } })), () => Promise.reject(new Error("Service unavailable")));
    expect(failing.fieldMappingProblems).toEqual(["opportunity.dealValue names new_dealamount, which could not be checked (the metadata of opportunity could not be read: Service unavailable)"]);
  });

  test("getEntityMetadata's answer read as the Client API gives it: Attributes.get(name), AttributeType as XrmEnum.AttributeTypeCode, Targets", () => {
    const attributes = [
      { LogicalName: "new_dealamount", AttributeType: 8 },
      { LogicalName: "new_countryid", AttributeType: 6, Targets: ["new_country"] },
      { LogicalName: "new_code", AttributeType: "String" },
    ];
    const collection = { get: (name: string) => attributes.find((a) => a.LogicalName === name) ?? null };
    const expected = { new_dealamount: money, new_countryid: countryLookup, new_code: text };
    expect(columnFactsOf({ LogicalName: "account", Attributes: collection }, ["new_dealamount", "new_countryid", "new_code", "new_missing"])).toEqual(expected);
    expect(columnFactsOf({ Attributes: attributes }, ["new_dealamount", "new_countryid", "new_code", "new_missing"])).toEqual(expected);
    expect(columnFactsOf({ Attributes: Object.fromEntries(attributes.map((a) => [a.LogicalName, a])) }, ["new_countryid"])).toEqual({ new_countryid: countryLookup });
    expect(columnFactsOf({ LogicalName: "account" }, ["new_code"])).toEqual({});
  });
});

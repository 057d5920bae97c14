// The pure check of the admin's field mapping against Dataverse metadata (Relay/src/settings/field-mapping.ts).
import { checkFieldMapping, type AttributeInfo, type TableInfo } from "../../src/settings/field-mapping.ts";

const attr = (logicalName: string, type: string, extra: Partial<AttributeInfo> = {}): [string, AttributeInfo] => [logicalName, { logicalName, schemaName: logicalName, type, validForCreate: true, targets: [], ...extra }];
const TABLES = new Map<string, TableInfo>([
  ["opportunity", { logicalName: "opportunity", entitySetName: "opportunities", attributes: new Map([attr("cust_dealvalue", "Money"), attr("cust_region", "String"), attr("name", "String")]) }],
  ["account", { logicalName: "account", entitySetName: "accounts", attributes: new Map([attr("cust_countryid", "Lookup", { schemaName: "cust_CountryId", targets: ["cust_country"] }), attr("cust_customernumber", "String")]) }],
  ["cust_country", { logicalName: "cust_country", entitySetName: "cust_countries", attributes: new Map([attr("cust_isocode", "String")]) }],
]);
const seed = { dealValueField: "estimatedvalue", customerAccountCountryCodeField: "address1_country" };

test("a configuration naming existing columns of fitting types gives the mapping", () => {
  const result = checkFieldMapping({ ...seed, fieldMapping: {
    opportunity: { dealValue: "cust_dealvalue", defaults: { cust_region: "EMEA" } },
    account: { country: { lookup: "cust_countryid", isoCodeColumn: "cust_isocode" }, match: { by: "customerNumber", column: "cust_customernumber" } },
  } }, TABLES);
  expect(result).toMatchObject({ ok: true, mapping: {
    dealValue: "cust_dealvalue",
    country: { kind: "lookup", column: "cust_countryid", navigation: "cust_CountryId", table: "cust_country", entitySet: "cust_countries", isoColumn: "cust_isocode" },
    accountMatch: { by: "customerNumber", column: "cust_customernumber", idType: "External" },
  } });
});

test("each wrong column is named with its table and why", () => {
  const result = checkFieldMapping({ ...seed, fieldMapping: {
    opportunity: { dealValue: "name", defaults: { cust_nosuch: 1, cust_region: 5 } },
    account: { country: { column: "cust_countryid" } },
    contact: { defaults: { cust_x: "y" } },
  } }, TABLES);
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.problem.message).toContain("opportunity.dealValue: opportunity.name is a String column; it must be Money or Decimal or Integer or Double or BigInt");
    expect(result.problem.message).toContain("opportunity has no column cust_nosuch");
    expect(result.problem.message).toContain("opportunity.defaults.cust_region: opportunity.cust_region is a String column");
    expect(result.problem.message).toContain("account.country.column: account.cust_countryid is a Lookup column");
    expect(result.problem.message).toContain("the table contact does not exist");
  }
});

test("malformed JSON (kept by the settings as its error) is a problem, not a crash", () => {
  const result = checkFieldMapping({ ...seed, fieldMapping: new Error("Environment variable x is not valid JSON: Unexpected end.") }, TABLES);
  expect(result.ok || result.problem.message).toMatch(/is not valid JSON: Unexpected end/);
});

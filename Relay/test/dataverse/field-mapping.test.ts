// The pure check of the admin's field mapping against Dataverse metadata (Relay/src/settings/field-mapping.ts).
import { checkFieldMapping, type AttributeInfo, type PrincipalInfo, type TableInfo } from "../../src/settings/field-mapping.ts";

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

const STATUS_TABLES = new Map<string, TableInfo>([
  ...TABLES,
  ["opportunity", { logicalName: "opportunity", entitySetName: "opportunities", attributes: new Map([
    attr("cust_stage", "Picklist", { options: [{ value: 100000000, label: "Early" }, { value: 100000001, label: "Late" }] }),
    attr("statuscode", "Status", { options: [{ value: 1, state: 0, label: "In Progress" }, { value: 3, state: 1, label: "Won" }, { value: 4, state: 2, label: "Canceled" }, { value: 5, state: 2, label: "Out-Sold" }] }),
  ]) }],
  ["lead", { logicalName: "lead", entitySetName: "leads", attributes: new Map([
    attr("statuscode", "Status", { options: [{ value: 1, state: 0, label: "New" }, { value: 3, state: 1, label: "Qualified" }, { value: 4, state: 2, label: "Lost" }, { value: 5, state: 2, label: "Cannot Contact" }] }),
  ]) }],
]);

test("closing status reasons must be status reasons of the table in the right state; the rest keep the standard", () => {
  const good = checkFieldMapping({ ...seed, fieldMapping: { opportunity: { statuses: { lost: 5 } }, lead: { statuses: { declined: 5 } } } }, STATUS_TABLES);
  expect(good).toMatchObject({ ok: true, mapping: { statuses: { opportunity: { won: 3, lost: 5 }, lead: { declined: 5, lost: 4, expired: 7 } } } });

  const bad = checkFieldMapping({ ...seed, fieldMapping: { opportunity: { statuses: { won: 4, lost: 100000009 } }, lead: { statuses: { expired: 3 } } } }, STATUS_TABLES);
  expect(bad.ok).toBe(false);
  if (!bad.ok) {
    expect(bad.problem.message).toContain("opportunity.statuses.won: 4 (Canceled) is not a Won status reason of opportunity (its Won ones: 3 Won)");
    expect(bad.problem.message).toContain("opportunity.statuses.lost: 100000009 is not a status reason of opportunity (its Lost ones: 4 Canceled, 5 Out-Sold)");
    expect(bad.problem.message).toContain("lead.statuses.expired: 3 (Qualified) is not a Disqualified status reason of lead");
  }
});

test("a choice default must be one of the column's values", () => {
  expect(checkFieldMapping({ ...seed, fieldMapping: { opportunity: { defaults: { cust_stage: 100000001 } } } }, STATUS_TABLES).ok).toBe(true);
  const bad = checkFieldMapping({ ...seed, fieldMapping: { opportunity: { defaults: { cust_stage: 7 } } } }, STATUS_TABLES);
  expect(bad.ok || bad.problem.message).toContain("opportunity.defaults.cust_stage: 7 is not a choice of opportunity.cust_stage (its values: 100000000 Early, 100000001 Late)");
});

test("the owner must be a user or team that exists, and a user must be enabled", () => {
  const principals = new Map<string, PrincipalInfo | undefined>([
    ["team:emea co-sell", { kind: "team", id: "t-1", name: "EMEA Co-sell", disabled: false }],
    ["user:left@contoso.example", { kind: "user", id: "u-2", name: "Left Company", disabled: true }],
  ]);
  expect(checkFieldMapping({ ...seed, fieldMapping: { owner: { matchPartnerCenterTeamMember: true, fallback: { team: "EMEA Co-sell" } } } }, TABLES, principals))
    .toMatchObject({ ok: true, mapping: { owner: { kind: "teamMember", fallback: { kind: "team", id: "t-1" } } } });
  const disabled = checkFieldMapping({ ...seed, fieldMapping: { owner: { user: "left@contoso.example" } } }, TABLES, principals);
  expect(disabled.ok || disabled.problem.message).toContain('owner: the user "left@contoso.example" (Left Company) is disabled and cannot own records');
  const missing = checkFieldMapping({ ...seed, fieldMapping: { owner: { team: "Nobody" } } }, TABLES, principals);
  expect(missing.ok || missing.problem.message).toContain('owner: there is no team "Nobody" in this environment');
  const shape = checkFieldMapping({ ...seed, fieldMapping: { owner: { group: "x" } } }, TABLES, principals);
  expect(shape.ok || shape.problem.message).toContain("owner: must be");
});

test("the other fields' columns must be of a fitting type", () => {
  const tables = new Map<string, TableInfo>([
    ["opportunity", { logicalName: "opportunity", entitySetName: "opportunities", attributes: new Map([attr("cust_dealvalue", "Money"), attr("cust_notes", "Memo"), attr("cust_close", "DateTime"), attr("cust_name", "String")]) }],
    ["account", { logicalName: "account", entitySetName: "accounts", attributes: new Map([attr("cust_zip", "String"), attr("cust_since", "DateTime")]) }],
  ]);
  const opportunityAttributes = tables.get("opportunity")!.attributes as Map<string, AttributeInfo>;
  for (const [name, info] of [
    attr("cust_currencyid", "Lookup", { schemaName: "cust_CurrencyId", targets: ["transactioncurrency"] }), attr("cust_contactid", "Lookup", { schemaName: "cust_ContactId", targets: ["contact"] }),
    attr("cust_accountid", "Lookup", { targets: ["account"] }),
  ]) opportunityAttributes.set(name, info);
  expect(checkFieldMapping({ ...seed, fieldMapping: { opportunity: { currency: "cust_currencyid", customerContact: "cust_contactid" } } }, tables))
    .toMatchObject({ ok: true, mapping: { currency: { kind: "lookup", navigation: "cust_CurrencyId" }, contact: { column: "cust_contactid", navigation: "cust_ContactId" } } });
  expect(checkFieldMapping({ ...seed, fieldMapping: { opportunity: { currency: "cust_name" } } }, tables)).toMatchObject({ ok: true, mapping: { currency: { kind: "text", column: "cust_name" } } });
  const wrongTarget = checkFieldMapping({ ...seed, fieldMapping: { opportunity: { currency: "cust_contactid", customerContact: "cust_accountid" } } }, tables);
  expect(wrongTarget.ok || wrongTarget.problem.message).toContain("opportunity.currency: opportunity.cust_contactid points to contact, not to transactioncurrency");
  expect(wrongTarget.ok || wrongTarget.problem.message).toContain("opportunity.customerContact: opportunity.cust_accountid points to account, not to contact");
  expect(checkFieldMapping({ ...seed, fieldMapping: { opportunity: { name: "cust_name", notes: "cust_notes", closeDate: "cust_close" }, account: { address: { postalCode: "cust_zip" } } } }, tables))
    .toMatchObject({ ok: true, mapping: { opportunity: { name: "cust_name", notes: "cust_notes", closeDate: "cust_close" }, address: { line1: "address1_line1", postalCode: "cust_zip" } } });
  const bad = checkFieldMapping({ ...seed, fieldMapping: { opportunity: { name: "cust_notes", closeDate: "cust_dealvalue" }, account: { address: { city: "cust_since" } } } }, tables);
  expect(bad.ok).toBe(false);
  if (!bad.ok) {
    expect(bad.problem.message).toContain("opportunity.name: opportunity.cust_notes is a Memo column; it must be String");
    expect(bad.problem.message).toContain("opportunity.closeDate: opportunity.cust_dealvalue is a Money column; it must be DateTime");
    expect(bad.problem.message).toContain("account.address.city: account.cust_since is a DateTime column; it must be String or Memo");
  }
});

// A customer's own customizations loaded next to ours (extraSolutionDirs): their new table, their
// columns on standard tables and their lookup are served like the solution's, in data and metadata.
import { join } from "node:path";
import { startSandbox, type TestSandbox } from "./helpers.ts";

const CUSTOMER_SOLUTION = join(import.meta.dirname, "fixtures", "customer-solution");

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ extraSolutionDirs: [CUSTOMER_SOLUTION] });
});
afterAll(async () => {
  await sandbox.close();
});

test("the customer's columns and table are in EntityDefinitions with their types", async () => {
  const opportunity = await sandbox.api("GET", "EntityDefinitions(LogicalName='opportunity')/Attributes?$filter=LogicalName eq 'cust_dealvalue' or LogicalName eq 'cust_region'");
  expect(opportunity.body.value.map((a: { LogicalName: string; AttributeType: string }) => [a.LogicalName, a.AttributeType]).sort()).toEqual([["cust_dealvalue", "Money"], ["cust_region", "String"]]);
  expect(opportunity.body.value.find((a: { LogicalName: string }) => a.LogicalName === "cust_region").RequiredLevel.Value).toBe("ApplicationRequired");
  const lookup = await sandbox.api("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='cust_countryid')");
  expect(lookup.body).toMatchObject({ AttributeType: "Lookup", SchemaName: "cust_CountryId", Targets: ["cust_country"] });
  const country = await sandbox.api("GET", "EntityDefinitions(LogicalName='cust_country')?$select=EntitySetName,PrimaryIdAttribute");
  expect(country.body).toMatchObject({ EntitySetName: "cust_countries", PrimaryIdAttribute: "cust_countryid" });
});

test("an account points at a country row through the lookup, read back with $expand", async () => {
  const created = await sandbox.api("POST", "cust_countries", { body: { cust_name: "Netherlands", cust_isocode: "NL" }, headers: { prefer: "return=representation" } });
  expect(created.status).toBe(201);
  const countryId = created.body.cust_countryid as string;
  const account = await sandbox.api("POST", "accounts", { body: { name: "Fabrikam NL", cust_customernumber: "C-1001", "cust_CountryId@odata.bind": `/cust_countries(${countryId})` }, headers: { prefer: "return=representation" } });
  expect(account.status).toBe(201);
  const read = await sandbox.api("GET", `accounts(${account.body.accountid})?$select=name,cust_customernumber&$expand=cust_CountryId($select=cust_isocode)`);
  expect(read.body).toMatchObject({ cust_customernumber: "C-1001", cust_CountryId: { cust_isocode: "NL" } });
  expect(read.status).toBe(200);
});

test("without the option the customer's columns do not exist", async () => {
  const plain = await startSandbox();
  try {
    const res = await plain.api("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='cust_countryid')");
    expect(res.status).toBe(404);
  } finally {
    await plain.close();
  }
});

// The sandbox's tables and columns are the solution's: every column of Solution/ exists with its type,
// custom columns on opportunity and lead are exactly the solution's, keys and entity sets match, and
// the environment variable definitions and the installed solution are there.
import { readSolutionSource } from "../../../scripts/solution/source.ts";
import { readSchema } from "../../../scripts/solution/model.ts";
import { Opportunity, Lead, Solution, EnvironmentVariables } from "../../../Core/generated/schema.ts";
import { solutionDir, startSandbox, type TestSandbox } from "./helpers.ts";

const schema = readSchema(readSolutionSource(solutionDir));
const TYPE: Record<string, string> = {
  nvarchar: "String", ntext: "Memo", bit: "Boolean", picklist: "Picklist", datetime: "DateTime", lookup: "Lookup", primarykey: "Uniqueidentifier",
  int: "Integer", owner: "Owner", state: "State", status: "Status", money: "Money", decimal: "Decimal",
};

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

describe.each(schema.tables.map((t) => [t.logicalName, t] as const))("table %s", (logicalName, table) => {
  test("EntityDefinitions has every column of the solution with its type", async () => {
    const res = await sandbox.api("GET", `EntityDefinitions(LogicalName='${logicalName}')/Attributes?$select=LogicalName,AttributeType,IsCustomAttribute,MaxLength`);
    expect(res.status).toBe(200);
    const attributes = new Map<string, { AttributeType: string; IsCustomAttribute: boolean; MaxLength?: number }>(res.body.value.map((a: { LogicalName: string }) => [a.LogicalName, a]));
    for (const column of table.columns) {
      const attribute = attributes.get(column.logicalName);
      expect({ column: column.logicalName, type: attribute?.AttributeType }).toEqual({ column: column.logicalName, type: TYPE[column.type] });
      expect(attribute?.IsCustomAttribute).toBe(column.isCustom);
      if (column.maxLength !== undefined && (column.type === "nvarchar" || column.type === "ntext")) expect(attribute?.MaxLength).toBe(column.maxLength);
    }
  });

  test("its custom columns are exactly the solution's", async () => {
    const res = await sandbox.api("GET", `EntityDefinitions(LogicalName='${logicalName}')/Attributes?$select=LogicalName&$filter=IsCustomAttribute eq true`);
    const custom = res.body.value.map((a: { LogicalName: string }) => a.LogicalName).sort();
    expect(custom).toEqual(table.columns.filter((c) => c.isCustom).map((c) => c.logicalName).sort());
  });

  test("the entity definition names its entity set, primary columns and keys", async () => {
    const res = await sandbox.api("GET", `EntityDefinitions(LogicalName='${logicalName}')?$expand=Keys`);
    expect(res.status).toBe(200);
    if (table.entitySetName) expect(res.body.EntitySetName).toBe(table.entitySetName);
    if (table.primaryIdAttribute) expect(res.body.PrimaryIdAttribute).toBe(table.primaryIdAttribute);
    if (table.primaryNameAttribute) expect(res.body.PrimaryNameAttribute).toBe(table.primaryNameAttribute);
    expect(res.body.IsCustomEntity).toBe(table.isNew);
    expect(res.body.Keys.map((k: { KeyAttributes: string[] }) => k.KeyAttributes)).toEqual(table.keys.map((k) => k.attributes));
  });
});

test("opportunity and lead keep their standard columns next to the solution's", async () => {
  for (const [table, standard] of [[Opportunity.logicalName, ["name", "estimatedvalue", "parentaccountid", "statecode", "statuscode", "transactioncurrencyid"]], [Lead.logicalName, ["subject", "companyname", "fullname", "statecode", "qualifyingopportunityid"]]] as const) {
    const res = await sandbox.api("GET", `EntityDefinitions(LogicalName='${table}')/Attributes?$select=LogicalName,IsCustomAttribute`);
    const names = res.body.value.map((a: { LogicalName: string }) => a.LogicalName);
    expect(names).toEqual(expect.arrayContaining([...standard]));
  }
});

test("a choice column's options come from the solution, with labels", async () => {
  const column = Opportunity.columns.syncStatus;
  const res = await sandbox.api("GET", `EntityDefinitions(LogicalName='opportunity')/Attributes(LogicalName='${column}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet`);
  expect(res.status).toBe(200);
  const set = schema.optionSets.find((o) => o.name === Opportunity.choices[column]);
  expect(res.body.OptionSet.Options.map((o: { Value: number }) => o.Value)).toEqual(set!.options.map((o) => o.value));
  expect(res.body.OptionSet.Options[0].Label.UserLocalizedLabel.Label).toBe(set!.options[0]!.label["1033"]);
});

test("an attribute that does not exist is 404, and a table that does not exist too", async () => {
  const missing = await sandbox.api("GET", "EntityDefinitions(LogicalName='opportunity')/Attributes(LogicalName='nosuchcolumn')");
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe("0x80040217");
  const table = await sandbox.api("GET", "EntityDefinitions(LogicalName='nosuchtable')");
  expect(table.status).toBe(404);
});

test("EntityDefinitions can be filtered", async () => {
  const res = await sandbox.api("GET", "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=IsCustomEntity eq true");
  expect(res.body.value.map((e: { LogicalName: string }) => e.LogicalName).sort()).toEqual(schema.tables.filter((t) => t.isNew).map((t) => t.logicalName).sort());
});

test("the environment variable definitions are the solution's, readable the way the relay reads them", async () => {
  const res = await sandbox.api("GET", "environmentvariabledefinitions?$select=schemaname,defaultvalue,type&$expand=environmentvariabledefinition_environmentvariablevalue($select=value)");
  expect(res.status).toBe(200);
  const byName = new Map(res.body.value.map((d: { schemaname: string }) => [d.schemaname, d]));
  for (const variable of Object.values(EnvironmentVariables)) {
    const def = byName.get(variable.schemaName) as { defaultvalue: string | null; environmentvariabledefinition_environmentvariablevalue: unknown[] };
    expect(def).toBeDefined();
    expect(def.defaultvalue).toBe("defaultValue" in variable ? variable.defaultValue : null);
    expect(def.environmentvariabledefinition_environmentvariablevalue).toEqual([]);
  }
  const definition = res.body.value.find((d: { schemaname: string }) => d.schemaname === EnvironmentVariables.dealValueField.schemaName);
  const created = await sandbox.api("POST", "environmentvariablevalues", {
    body: { schemaname: EnvironmentVariables.dealValueField.schemaName, value: "budgetamount", "EnvironmentVariableDefinitionId@odata.bind": `/environmentvariabledefinitions(${definition.environmentvariabledefinitionid})` },
  });
  expect(created.status).toBe(204);
  const value = await sandbox.api("GET", `RetrieveEnvironmentVariableValue(DefinitionSchemaName='${EnvironmentVariables.dealValueField.schemaName}')`);
  expect(value.body.Value).toBe("budgetamount");
  const fallback = await sandbox.api("GET", `RetrieveEnvironmentVariableValue(DefinitionSchemaName='${EnvironmentVariables.referralLinkTemplate.schemaName}')`);
  expect(fallback.body.Value).toBe(EnvironmentVariables.referralLinkTemplate.defaultValue);
});

test("our solution is installed at its version, managed", async () => {
  const res = await sandbox.api("GET", `solutions?$select=uniquename,version,ismanaged&$filter=uniquename eq '${Solution.uniqueName}'`);
  expect(res.body.value).toEqual([expect.objectContaining({ uniquename: Solution.uniqueName, version: Solution.version, ismanaged: true })]);
});

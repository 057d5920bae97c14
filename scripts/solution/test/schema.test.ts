// What the admin and the seller get: every column, table, choice, variable, role and form element
// the foundation issue lists, read back from the built zip, each with en-US and nl-NL labels.
import { buildZips } from "./helpers.ts";
import { unpackZip } from "../unpack.ts";
import { readSchema, type SchemaModel, type TableModel, type ColumnModel, type Labels } from "../model.ts";
import { readSolutionSource } from "../source.ts";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

let schema: SchemaModel;
beforeAll(async () => {
  const zips = await buildZips();
  // Read the schema back out of the managed zip, so these tests see exactly what Dataverse would import.
  const folder = mkdtempSync(join(tmpdir(), "pcr-unpacked-"));
  for (const file of await unpackZip(zips.managedBytes)) {
    mkdirSync(dirname(join(folder, file.path)), { recursive: true });
    writeFileSync(join(folder, file.path), file.content);
  }
  schema = readSchema(readSolutionSource(folder));
});

function table(logicalName: string): TableModel {
  const found = schema.tables.find((t) => t.logicalName === logicalName);
  if (!found) throw new Error(`no table ${logicalName}`);
  return found;
}
function columnByLabel(t: TableModel, englishLabel: string): ColumnModel {
  const found = t.columns.find((c) => c.displayName["1033"] === englishLabel);
  if (!found) throw new Error(`${t.logicalName} has no column labelled "${englishLabel}"`);
  return found;
}
function expectBothLanguages(labels: Labels, what: string): void {
  expect({ what, en: Boolean(labels["1033"]?.trim()), nl: Boolean(labels["1043"]?.trim()) }).toEqual({ what, en: true, nl: true });
}

const OPPORTUNITY_COLUMNS = [
  "Sync with Partner Center", "Referral Identifier", "Referral Link", "How can Microsoft help?",
  "Microsoft Partner Center Referral Visibility", "Microsoft CRM Identifier", "Products: Obsolete", "Audit",
  "Partner Center sync status", "Last synced on", "Last sync error", "Microsoft referral status", "Microsoft referral substatus",
];
const LEAD_COLUMNS = ["Sync with Partner Center", "Referral Identifier", "Referral Link", "Audit"];
// shared/docs/partner-center-api.md: inviteContext.assistanceRequestCode
const ASSISTANCE_CODES = [
  "WorkloadSpecificValueProposition", "CustomerTechnicalArchitecture", "ProofOfConceptOrDemo",
  "QuotesOrLicensing", "PostSalesCustomerSuccess", "GeneralOrOther",
];

describe("opportunity columns", () => {
  test.each(OPPORTUNITY_COLUMNS)("%s is on opportunity with en and nl labels and descriptions", (label) => {
    const column = columnByLabel(table("opportunity"), label);
    expectBothLanguages(column.displayName, label);
    expectBothLanguages(column.description, label);
    expect(column.logicalName.startsWith(`${schema.prefix}_`)).toBe(true);
  });

  test("Sync with Partner Center is Yes/No and defaults to No", () => {
    const column = columnByLabel(table("opportunity"), "Sync with Partner Center");
    expect(column.type).toBe("bit");
    expect(column.defaultValue).toBe(0);
    expect(column.optionSet?.options.map((o) => o.value).sort()).toEqual([0, 1]);
  });

  test("Referral Identifier is text and an alternate key of opportunity", () => {
    const t = table("opportunity");
    const column = columnByLabel(t, "Referral Identifier");
    expect(column.type).toBe("nvarchar");
    expect(t.keys.map((k) => k.attributes)).toContainEqual([column.logicalName]);
    t.keys.forEach((k) => expectBothLanguages(k.displayName, k.name));
  });

  test("Referral Link is a URL and Audit is multiline text", () => {
    expect(columnByLabel(table("opportunity"), "Referral Link")).toMatchObject({ type: "nvarchar", format: "url" });
    expect(columnByLabel(table("opportunity"), "Audit")).toMatchObject({ type: "ntext" });
  });

  test("How can Microsoft help? maps one-to-one to Partner Center's assistanceRequestCode, plus No help needed", () => {
    const column = columnByLabel(table("opportunity"), "How can Microsoft help?");
    expect(column.type).toBe("picklist");
    const options = column.optionSet!.options;
    expect(options.map((o) => o.externalValue).filter(Boolean).sort()).toEqual([...ASSISTANCE_CODES].sort());
    expect(new Set(options.map((o) => o.value)).size).toBe(options.length);
    const none = options.filter((o) => !o.externalValue);
    expect(none.map((o) => o.label["1033"])).toEqual(["No help needed"]);
    expect(column.defaultValue).toBe(none[0]!.value);
  });

  test("Referral Visibility is Yes/No: Visible to Microsoft sellers or Not visible", () => {
    const column = columnByLabel(table("opportunity"), "Microsoft Partner Center Referral Visibility");
    expect(column.type).toBe("bit");
    expect(column.optionSet!.options.map((o) => o.label["1033"]).sort()).toEqual(["Not visible", "Visible to Microsoft sellers"]);
  });

  test("sync status offers Not shared, Pending, Synced, Failed and Closed in Partner Center", () => {
    const column = columnByLabel(table("opportunity"), "Partner Center sync status");
    expect(column.optionSet!.options.map((o) => o.label["1033"])).toEqual(["Not shared", "Pending", "Synced", "Failed", "Closed in Partner Center"]);
  });
});

describe("lead columns", () => {
  test.each(LEAD_COLUMNS)("%s is on lead with en and nl labels", (label) => {
    const column = columnByLabel(table("lead"), label);
    expectBothLanguages(column.displayName, label);
    expectBothLanguages(column.description, label);
  });
  test("Referral Identifier is an alternate key of lead", () => {
    const t = table("lead");
    expect(t.keys.map((k) => k.attributes)).toContainEqual([columnByLabel(t, "Referral Identifier").logicalName]);
  });
});

describe("tables", () => {
  const NEW_TABLES: Array<[string, string[]]> = [
    ["Microsoft Partner Center Solution", ["Name", "Opportunity", "Solution"]],
    ["Microsoft Solution Details", ["Solution Name", "Solution Identifier", "Solution type", "Publisher Name"]],
    ["Partner Center Sync Event", ["Summary", "Direction", "Outcome", "Message", "Referral Identifier", "Correlation Id", "Occurred on", "Opportunity", "Lead"]],
  ];
  test.each(NEW_TABLES)("%s exists with its columns, each labelled in en and nl", (label, columns) => {
    const t = schema.tables.find((x) => x.displayName["1033"] === label);
    expect(t).toBeDefined();
    expectBothLanguages(t!.displayName, label);
    expectBothLanguages(t!.collectionName, label);
    expectBothLanguages(t!.description, label);
    expect(t!.isNew).toBe(true);
    expect(t!.primaryIdAttribute).toBe(`${t!.logicalName}id`);
    for (const c of columns) {
      const column = columnByLabel(t!, c);
      expectBothLanguages(column.displayName, `${label}.${c}`);
      expectBothLanguages(column.description, `${label}.${c}`);
    }
    expect(t!.columns.map((c) => c.logicalName)).toEqual(expect.arrayContaining(["statecode", "statuscode", "createdon", "modifiedon"]));
  });

  test("a Microsoft Partner Center Solution belongs to an opportunity (deleted with it) and points at a catalog entry", () => {
    const solution = schema.tables.find((x) => x.displayName["1033"] === "Microsoft Partner Center Solution")!;
    const details = schema.tables.find((x) => x.displayName["1033"] === "Microsoft Solution Details")!;
    const toOpportunity = schema.relationships.find((r) => r.referencingEntity === solution.logicalName && r.referencedEntity === "opportunity");
    const toDetails = schema.relationships.find((r) => r.referencingEntity === solution.logicalName && r.referencedEntity === details.logicalName);
    expect(toOpportunity?.cascadeDelete).toBe("Cascade");
    expect(toDetails).toBeDefined();
    expect(solution.columns.map((c) => c.logicalName)).toEqual(expect.arrayContaining([toOpportunity!.referencingAttribute, toDetails!.referencingAttribute]));
  });

  test("a Sync Event points at its opportunity or lead", () => {
    const events = schema.tables.find((x) => x.displayName["1033"] === "Partner Center Sync Event")!;
    const targets = schema.relationships.filter((r) => r.referencingEntity === events.logicalName).map((r) => r.referencedEntity).sort();
    expect(targets).toEqual(["lead", "opportunity"]);
  });

  test("every relationship's lookup column exists on the referencing table, and every relationship is described in en and nl", () => {
    for (const r of schema.relationships) {
      expect(table(r.referencingEntity).columns.map((c) => c.logicalName)).toContain(r.referencingAttribute);
      expectBothLanguages(r.description, r.name);
    }
  });
});

describe("choices", () => {
  test("every choice and option is labelled in en and nl, and values carry the publisher's option prefix", () => {
    expect(schema.optionSets.length).toBeGreaterThanOrEqual(5);
    for (const set of schema.optionSets) {
      expectBothLanguages(set.displayName, set.name);
      expectBothLanguages(set.description, set.name);
      for (const option of set.options) {
        expectBothLanguages(option.label, `${set.name}=${option.value}`);
        expect(Math.floor(option.value / 10000)).toBe(schema.optionValuePrefix);
      }
    }
  });
  test("Yes/No columns label both options in en and nl", () => {
    for (const t of schema.tables) {
      for (const c of t.columns.filter((x) => x.type === "bit")) c.optionSet!.options.forEach((o) => expectBothLanguages(o.label, c.logicalName));
    }
  });
});

describe("environment variables", () => {
  const EXPECTED: Array<[string, string, string | undefined]> = [
    ["Display check mark in the opportunity name", "Boolean", "no"],
    ["Deal value field", "String", "estimatedvalue"],
    ["Customer Account Country Code field", "String", "address1_country"],
    ["Relay URL", "String", undefined],
  ];
  test.each(EXPECTED)("%s is a %s variable with default %s", (label, type, defaultValue) => {
    const v = schema.environmentVariables.find((x) => x.displayName["1033"] === label);
    expect(v).toBeDefined();
    expect(v!.type).toBe(type);
    expect(v!.defaultValue).toBe(defaultValue);
  });
  test("every variable has en and nl names and descriptions", () => {
    for (const v of schema.environmentVariables) {
      expectBothLanguages(v.displayName, v.schemaName);
      expectBothLanguages(v.description, v.schemaName);
    }
  });
});

describe("opportunity main form", () => {
  const form = (): SchemaModel["forms"][number] => {
    const f = schema.forms.find((x) => x.table === "opportunity" && x.formType === "main");
    if (!f) throw new Error("no opportunity main form");
    return f;
  };
  test("has a Microsoft Partner Center tab labelled in en and nl", () => {
    const tab = form().tabs.find((t) => t.label["1033"] === "Microsoft Partner Center");
    expect(tab).toBeDefined();
    expectBothLanguages(tab!.label, "tab");
    tab!.sections.forEach((s) => expectBothLanguages(s.label, s.name));
  });
  test("the tab holds the seller's columns, bound to columns that exist, and no Products: Obsolete", () => {
    const tab = form().tabs.find((t) => t.label["1033"] === "Microsoft Partner Center")!;
    const bound = tab.sections.flatMap((s) => s.controls).filter((c) => c.dataFieldName).map((c) => c.dataFieldName!);
    const opportunity = table("opportunity");
    for (const field of bound) expect(opportunity.columns.map((c) => c.logicalName)).toContain(field);
    const labels = bound.map((f) => opportunity.columns.find((c) => c.logicalName === f)!.displayName["1033"]);
    expect(labels).toEqual(expect.arrayContaining(OPPORTUNITY_COLUMNS.filter((l) => l !== "Products: Obsolete")));
    expect(labels).not.toContain("Products: Obsolete");
  });
  test("read-only columns are locked on the form", () => {
    const tab = form().tabs.find((t) => t.label["1033"] === "Microsoft Partner Center")!;
    const opportunity = table("opportunity");
    const byLabel = new Map(tab.sections.flatMap((s) => s.controls).filter((c) => c.dataFieldName).map((c) => [opportunity.columns.find((x) => x.logicalName === c.dataFieldName)!.displayName["1033"], c]));
    for (const label of ["Referral Identifier", "Referral Link", "Microsoft CRM Identifier", "Audit", "Partner Center sync status"]) expect(byLabel.get(label)?.disabled).toBe(true);
    for (const label of ["Sync with Partner Center", "How can Microsoft help?"]) expect(byLabel.get(label)?.disabled).toBe(false);
  });
  test("has the Microsoft Solutions subgrid and a section kept for the Partner Center card", () => {
    const tab = form().tabs.find((t) => t.label["1033"] === "Microsoft Partner Center")!;
    const subgrid = tab.sections.flatMap((s) => s.controls).find((c) => c.classId === "{E7A81278-8635-4D9E-8D4D-59480B391C5B}");
    expect(subgrid?.label["1033"]).toBe("Microsoft Solutions");
    expect(tab.sections.map((s) => s.name)).toContain(`${schema.prefix}_section_card`);
  });
});

describe("security roles", () => {
  test.each(["Partner Center Seller", "Partner Center Relay"])("%s ships with privileges on the solution's tables", (name) => {
    const role = schema.roles.find((r) => r.name === name);
    expect(role).toBeDefined();
    for (const t of schema.tables.filter((x) => x.isNew)) {
      expect(role!.privileges.some((p) => p.name === `prvRead${t.schemaName}`)).toBe(true);
    }
    for (const p of role!.privileges) expect(["Basic", "Local", "Deep", "Global"]).toContain(p.level);
  });
  test("the seller can attach solutions but not write sync events; the relay can write sync events", () => {
    const seller = schema.roles.find((r) => r.name === "Partner Center Seller")!.privileges.map((p) => p.name);
    const relay = schema.roles.find((r) => r.name === "Partner Center Relay")!.privileges.map((p) => p.name);
    expect(seller).toContain(`prvCreate${schema.prefix}_MicrosoftSolution`);
    expect(seller).not.toContain(`prvCreate${schema.prefix}_SyncEvent`);
    expect(relay).toContain(`prvCreate${schema.prefix}_SyncEvent`);
    expect(relay).not.toContain(`prvDelete${schema.prefix}_SyncEvent`);
  });
});

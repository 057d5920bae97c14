import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defaultsFor, parseFieldMappingConfig } from "../field-mapping-config.ts";
import { fieldMappingSchemaText } from "../../scripts/field-mapping-schema.ts";

test("docs/field-mapping.schema.json is the JSON Schema of the zod schema (npm run generate when this fails)", () => {
  const published = readFileSync(fileURLToPath(new URL("../../docs/field-mapping.schema.json", import.meta.url)), "utf8");
  expect(published).toBe(fieldMappingSchemaText());
});

test("docs/customizing.md documents every part of the configuration", () => {
  const doc = readFileSync(fileURLToPath(new URL("../../docs/customizing.md", import.meta.url)), "utf8");
  for (const part of ["dealValue", "country", "lookup", "isoCodeColumn", "match", "customerNumber", "defaults", "fromReferral"]) expect(doc).toContain(`"${part}"`);
});

test("empty is the standard mapping; problems name their path", () => {
  expect(parseFieldMappingConfig(undefined)).toEqual({ ok: true, config: {} });
  expect(parseFieldMappingConfig({})).toEqual({ ok: true, config: {} });
  const bad = parseFieldMappingConfig({ opportunity: { dealValue: "Deal Value" }, account: { match: { by: "customerNumber" } }, extra: 1 });
  expect(bad.ok).toBe(false);
  if (!bad.ok) {
    expect(bad.problems.join("\n")).toMatch(/opportunity\.dealValue: must be a column's logical name/);
    expect(bad.problems.join("\n")).toMatch(/account\.match\.column/);
    expect(bad.problems.join("\n")).toMatch(/Unrecognized key: "extra"/);
  }
});

test("defaults resolve constants and referral values", () => {
  const config = parseFieldMappingConfig({ opportunity: { defaults: { cust_region: "EMEA", cust_source: { fromReferral: "/customerProfile/name" }, cust_flag: true } } });
  expect(config.ok && defaultsFor(config.config, "opportunity", { customerProfile: { name: "Contoso" } })).toEqual({ cust_region: "EMEA", cust_source: "Contoso", cust_flag: true });
});


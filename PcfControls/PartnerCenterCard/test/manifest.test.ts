// The manifest, constants.ts and the two resx files tell one story, and the platform libraries the
// manifest asks for are ones pcf-scripts accepts and the tests run against.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DOMParser } from "@xmldom/xmldom";
import { Lead, Opportunity } from "../../../Core/generated/schema.ts";
import { BoundColumns, InputProperties, LeadBoundColumns, ManifestKeys, Property, Text } from "../constants.ts";
import { CONTROL_DIR, loadStrings } from "./strings.ts";

const require = createRequire(import.meta.url);
const manifest = new DOMParser().parseFromString(readFileSync(join(CONTROL_DIR, "ControlManifest.Input.xml"), "utf8"), "text/xml");
const control = manifest.getElementsByTagName("control")[0]!;
const properties = Array.from(manifest.getElementsByTagName("property")).map((p) => ({
  name: p.getAttribute("name")!,
  type: p.getAttribute("of-type")!,
  usage: p.getAttribute("usage")!,
  required: p.getAttribute("required"),
  display: p.getAttribute("display-name-key")!,
  description: p.getAttribute("description-key")!,
}));
const en = loadStrings(1033);
const nl = loadStrings(1043);

test("a virtual control on React and Fluent v9, with the Web API required", () => {
  expect(control.getAttribute("control-type")).toBe("virtual");
  expect(control.getAttribute("constructor")).toBe("PartnerCenterCard");
  const libraries = Object.fromEntries(Array.from(manifest.getElementsByTagName("platform-library")).map((l) => [l.getAttribute("name"), l.getAttribute("version")]));
  expect(libraries).toEqual({ React: "16.14.0", Fluent: "9.68.0" });
  const feature = manifest.getElementsByTagName("uses-feature")[0]!;
  expect([feature.getAttribute("name"), feature.getAttribute("required")]).toEqual(["WebAPI", "true"]);
  const resx = Array.from(manifest.getElementsByTagName("resx")).map((r) => r.getAttribute("path"));
  expect(resx).toEqual(["strings/PartnerCenterCard.1033.resx", "strings/PartnerCenterCard.1043.resx"]);
});

test("the platform library versions are in pcf-scripts' accepted ranges and match what the tests run on", () => {
  const accepted = JSON.parse(readFileSync(require.resolve("pcf-scripts/PlatformLibraryVersions.json"), "utf8")) as Record<string, Array<{ maxVersion: string; libAlias: string }>>;
  expect(accepted.react!.map((r) => r.maxVersion)).toContain("16.14.0");
  expect(accepted.fluent!.map((r) => r.maxVersion)).toContain("9.68.0");
  expect((require("react/package.json") as { version: string }).version).toBe("16.14.0");
  expect((require("react-dom/package.json") as { version: string }).version).toBe("16.14.0");
  expect((require("@fluentui/react-components/package.json") as { version: string }).version).toBe("9.68.0");
});

test("the manifest's properties are the ones constants.ts names, bound to the solution's opportunity columns", () => {
  expect(properties.map((p) => p.name)).toEqual(Object.values(Property));
  for (const [name, { type, column }] of Object.entries(BoundColumns)) {
    expect(properties.find((p) => p.name === name)).toMatchObject({ type, usage: "bound" });
    expect(Object.values(Opportunity.columns)).toContain(column);
  }
  // Lead mode binds the same properties (and four of its own, all optional) to the lead's columns.
  for (const [name, { type, column }] of Object.entries(LeadBoundColumns)) {
    expect(properties.find((p) => p.name === name)).toMatchObject({ type, usage: "bound" });
    expect(Object.values(Lead.columns)).toContain(column);
  }
  for (const [name, { type }] of Object.entries(InputProperties)) expect(properties.find((p) => p.name === name)).toMatchObject({ type, usage: "input", required: "false" });
  // Only the column the card sits on is required; a missing other binding shows a message instead.
  expect(properties.filter((p) => p.required === "true").map((p) => p.name)).toEqual([Property.syncWithPartnerCenter]);
  expect(properties.map(({ name, display, description }) => ({ name, display, description }))).toEqual(
    Object.entries(ManifestKeys.properties).map(([name, keys]) => ({ name, display: keys.display, description: keys.description })),
  );
  expect([control.getAttribute("display-name-key"), control.getAttribute("description-key")]).toEqual([ManifestKeys.control.display, ManifestKeys.control.description]);
});

test("both resx files hold every key, with text, and the same placeholders", () => {
  const keys = [ManifestKeys.control.display, ManifestKeys.control.description, ...properties.flatMap((p) => [p.display, p.description]), ...Object.values(Text)];
  expect(Object.keys(en).sort()).toEqual([...new Set(keys)].sort());
  expect(Object.keys(nl).sort()).toEqual(Object.keys(en).sort());
  const placeholders = (s: string): string => (s.match(/\{\d\}/g) ?? []).sort().join();
  for (const key of Object.keys(en)) {
    expect(en[key]!.trim()).not.toBe("");
    expect(nl[key]!.trim()).not.toBe("");
    expect([key, placeholders(nl[key]!)]).toEqual([key, placeholders(en[key]!)]);
  }
});

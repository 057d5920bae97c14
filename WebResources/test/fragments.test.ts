// solution-fragments.md is what fragments.ts writes today, and its XML is well formed.
import { readFileSync } from "node:fs";
import { DOMParser } from "@xmldom/xmldom";
import { Opportunity } from "../../Core/generated/schema.ts";
import { FRAGMENTS_PATH, formEventsXml, formLibrariesXml, fragmentsMarkdown, ribbonDiffXml, webResourceDataXml } from "../fragments.ts";
import { WEB_RESOURCE_NAME } from "../src/names.ts";

function parse(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => { if (level !== "warning") errors.push(message); } }).parseFromString(xml, "text/xml");
  expect(errors).toEqual([]);
  return doc as unknown as Document;
}

test("WebResources/solution-fragments.md is up to date (node WebResources/fragments.ts)", () => {
  expect(readFileSync(FRAGMENTS_PATH, "utf8") === fragmentsMarkdown()).toBe(true);
});

test("the form XML registers onload, onsave and one onchange per column, each passing the execution context", () => {
  const events = parse(formEventsXml());
  const handlers = Array.from(events.getElementsByTagName("event")).map((event) => ({
    name: event.getAttribute("name"),
    attribute: event.getAttribute("attribute"),
    library: event.getElementsByTagName("Handler")[0]?.getAttribute("libraryName"),
    context: event.getElementsByTagName("Handler")[0]?.getAttribute("passExecutionContext"),
  }));
  expect(handlers.map((h) => [h.name, h.attribute])).toEqual([
    ["onload", null],
    ["onsave", null],
    ["onchange", Opportunity.columns.helpRequested],
    ["onchange", Opportunity.columns.syncWithPartnerCenter],
    ["onchange", Opportunity.columns.referralVisibility],
  ]);
  expect(handlers.every((h) => h.library === WEB_RESOURCE_NAME && h.context === "true")).toBe(true);
  expect(parse(formLibrariesXml()).getElementsByTagName("Library")[0]?.getAttribute("name")).toBe(WEB_RESOURCE_NAME);
});

test("the ribbon XML: two buttons on the form's Actions group, each with a PrimaryControl action and custom enable rule, labelled in en and nl", () => {
  const ribbon = parse(ribbonDiffXml());
  const actions = Array.from(ribbon.getElementsByTagName("CustomAction"));
  expect(actions.map((a) => a.getAttribute("Location"))).toEqual(Array(2).fill("Mscrm.Form.opportunity.MainTab.Actions.Controls._children"));
  const commands = Array.from(ribbon.getElementsByTagName("CommandDefinition"));
  for (const command of commands) {
    const fn = command.getElementsByTagName("JavaScriptFunction")[0];
    expect(fn?.getAttribute("Library")).toBe(`$webresource:${WEB_RESOURCE_NAME}`);
    expect(fn?.getElementsByTagName("CrmParameter")[0]?.getAttribute("Value")).toBe("PrimaryControl");
    const ruleId = command.getElementsByTagName("EnableRule")[0]?.getAttribute("Id");
    const rule = Array.from(ribbon.getElementsByTagName("RuleDefinitions")[0]!.getElementsByTagName("EnableRule")).find((r) => r.getAttribute("Id") === ruleId);
    expect(rule?.getElementsByTagName("CustomRule")[0]?.getElementsByTagName("CrmParameter")[0]?.getAttribute("Value")).toBe("PrimaryControl");
  }
  const labelIds = new Set(Array.from(ribbon.getElementsByTagName("LocLabel")).map((l) => l.getAttribute("Id")));
  for (const button of Array.from(ribbon.getElementsByTagName("Button"))) {
    for (const attribute of ["LabelText", "ToolTipDescription"]) {
      expect(labelIds.has(button.getAttribute(attribute)!.replace("$LocLabels:", ""))).toBe(true);
    }
  }
  for (const label of Array.from(ribbon.getElementsByTagName("LocLabel"))) {
    expect(Array.from(label.getElementsByTagName("Title")).map((t) => t.getAttribute("languagecode"))).toEqual(["1033", "1043"]);
  }
});

test("the web resource's file name follows Dataverse's rule", () => {
  const data = parse(webResourceDataXml());
  const fileName = data.getElementsByTagName("FileName")[0]?.textContent ?? "";
  expect(fileName).toMatch(/^\/WebResources\/[A-Za-z0-9_-]+[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  expect(data.getElementsByTagName("WebResourceType")[0]?.textContent).toBe("3");
});

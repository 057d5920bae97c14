// The form library ships in both zips, and everything that names it (form handlers, command bar) finds it.
import { buildZips } from "./helpers.ts";
import { parseXml, descendants, child } from "../xml.ts";

type XmlElement = ReturnType<typeof descendants>[number];

test("the opportunity form's handlers and commands point at a web resource in the zip, whose script defines them", async () => {
  const zips = await buildZips();
  for (const zip of [zips.managedZip, zips.unmanagedZip]) {
    const customizations = parseXml(await zip.file("customizations.xml")!.async("string"), "customizations.xml");
    const resources = new Map(descendants(customizations, "WebResource").map((w) => [child(w, "Name")!.textContent!, child(w, "FileName")!.textContent!.replace(/^\//, "")]));
    expect(resources.size).toBeGreaterThan(0);
    const scripts = new Map<string, string>();
    for (const [name, path] of resources) {
      const file = zip.file(path);
      expect({ name, inZip: Boolean(file) }).toEqual({ name, inZip: true });
      scripts.set(name, await file!.async("string"));
    }
    const handlers = descendants(customizations, "Handler");
    expect(handlers.map((h) => h.getAttribute("functionName"))).toEqual(expect.arrayContaining([expect.stringMatching(/onLoad$/), expect.stringMatching(/onSave$/)]));
    const ribbonCalls = [...descendants(customizations, "JavaScriptFunction"), ...descendants(customizations, "CustomRule")]
      .map((f) => ({ library: f.getAttribute("Library")!.replace(/^\$webresource:/, ""), functionName: f.getAttribute("FunctionName")! }));
    expect(ribbonCalls.length).toBeGreaterThanOrEqual(4);
    for (const call of [...handlers.map((h) => ({ library: h.getAttribute("libraryName")!, functionName: h.getAttribute("functionName")! })), ...ribbonCalls]) {
      const script = scripts.get(call.library);
      expect({ ...call, known: Boolean(script) }).toEqual({ ...call, known: true });
      // The library is minified but keeps its exported names: each function a handler names is defined.
      expect({ ...call, defined: script!.includes(call.functionName.split(".").pop()!) }).toEqual({ ...call, defined: true });
    }
    const libraries = descendants(customizations, "Library").map((l) => l.getAttribute("name"));
    expect(libraries.every((l) => resources.has(l!))).toBe(true);
  }
});

test("in both zips, the opportunity form runs the library on load, save and each column's change, its command bar has Open in Partner Center and Sync now, and the lead form loads it", async () => {
  const zips = await buildZips();
  for (const [kind, zip] of [["managed", zips.managedZip], ["unmanaged", zips.unmanagedZip]] as const) {
    const customizations = parseXml(await zip.file("customizations.xml")!.async("string"), "customizations.xml");
    const entity = (name: string): XmlElement => descendants(customizations, "Entity").find((e) => child(e, "Name")?.textContent === name)!;
    const handlersOf = (table: XmlElement): string[] => descendants(table, "event").flatMap((event) =>
      descendants(event, "Handler").map((h) => `${event.getAttribute("name")}${event.getAttribute("attribute") ? `:${event.getAttribute("attribute")}` : ""} ${h.getAttribute("functionName")} ${h.getAttribute("libraryName")}`));
    const library = "pcr_/scripts/partnercenter.form.js";

    const opportunity = entity("Opportunity");
    expect({ kind, handlers: handlersOf(opportunity).sort() }).toEqual({ kind, handlers: [
      `onchange:pcr_helprequested PartnerCenter.Opportunity.onHelpRequestedChange ${library}`,
      `onchange:pcr_referralvisibility PartnerCenter.Opportunity.onReferralVisibilityChange ${library}`,
      `onchange:pcr_syncwithpartnercenter PartnerCenter.Opportunity.onSyncChange ${library}`,
      `onload PartnerCenter.Opportunity.onLoad ${library}`,
      `onsave PartnerCenter.Opportunity.onSave ${library}`,
    ] });
    expect(descendants(opportunity, "Library").map((l) => l.getAttribute("name"))).toEqual([library]);
    const actions = descendants(opportunity, "CustomAction").map((a) => ({ id: a.getAttribute("Id"), location: a.getAttribute("Location") }));
    expect(actions).toEqual([
      { id: "pcr.opportunity.OpenInPartnerCenter.CustomAction", location: "Mscrm.Form.opportunity.MainTab.Actions.Controls._children" },
      { id: "pcr.opportunity.SyncNow.CustomAction", location: "Mscrm.Form.opportunity.MainTab.Actions.Controls._children" },
    ]);
    const commands = descendants(opportunity, "JavaScriptFunction").map((f) => `${f.getAttribute("Library")} ${f.getAttribute("FunctionName")}`);
    expect(commands).toEqual([`$webresource:${library} PartnerCenter.Opportunity.openInPartnerCenter`, `$webresource:${library} PartnerCenter.Opportunity.syncNow`]);
    const rules = descendants(opportunity, "CustomRule").map((r) => r.getAttribute("FunctionName"));
    expect(rules).toEqual(["PartnerCenter.Opportunity.isOpenInPartnerCenterEnabled", "PartnerCenter.Opportunity.isSyncNowEnabled"]);

    expect(handlersOf(entity("Lead"))).toEqual([`onload PartnerCenter.Lead.onLoad ${library}`]);
    // The web resource itself is a root component of the solution, so an import brings it.
    const solution = parseXml(await zip.file("solution.xml")!.async("string"), "solution.xml");
    expect(descendants(solution, "RootComponent").some((c) => c.getAttribute("type") === "61" && c.getAttribute("schemaName") === library)).toBe(true);
  }
});

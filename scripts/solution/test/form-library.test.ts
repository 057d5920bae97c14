// The form library ships in both zips, and everything that names it (form handlers, command bar) finds it.
import { buildZips } from "./helpers.ts";
import { parseXml, descendants, child } from "../xml.ts";

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

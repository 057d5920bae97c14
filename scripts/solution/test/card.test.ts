// The Partner Center card ships in both zips and sits on the opportunity form's Partner Center tab.
import JSZip from "jszip";
import { MAX_BUNDLE_BYTES } from "../../../PcfControls/build.ts";
import { buildZips } from "./helpers.ts";
import { parseXml, descendants, child, childElements, type Element } from "../xml.ts";

let zips: Awaited<ReturnType<typeof buildZips>>;
beforeAll(async () => {
  zips = await buildZips();
});

async function text(zip: JSZip, name: string): Promise<string> {
  const file = zip.file(name);
  if (!file) throw new Error(`zip lacks ${name}`);
  return file.async("string");
}

test("both zips carry the built control: manifest, bundle and en/nl strings, registered as a custom control", async () => {
  for (const zip of [zips.managedZip, zips.unmanagedZip]) {
    const customizations = parseXml(await text(zip, "customizations.xml"), "customizations.xml");
    const controls = descendants(customizations, "CustomControl");
    expect(controls).toHaveLength(1);
    const name = child(controls[0]!, "Name")!.textContent!;
    const manifestPath = child(controls[0]!, "FileName")!.textContent!.replace(/^\//, "");
    expect(manifestPath).toBe(`Controls/${name}/ControlManifest.xml`);
    const manifest = parseXml(await text(zip, manifestPath), manifestPath);
    const control = descendants(manifest, "control")[0]!;
    expect(`${control.getAttribute("namespace")}.${control.getAttribute("constructor")}`).toBe(name.slice(name.indexOf("_") + 1));
    expect(control.getAttribute("control-type")).toBe("virtual");
    for (const resource of descendants(manifest, "code").concat(descendants(manifest, "resx"))) {
      expect(zip.file(`Controls/${name}/${resource.getAttribute("path")}`)).not.toBeNull();
    }
    expect(descendants(manifest, "resx").map((r) => r.getAttribute("path")).sort()).toEqual(expect.arrayContaining([expect.stringContaining(".1033.resx"), expect.stringContaining(".1043.resx")]));
    const bundle = await zip.file(`Controls/${name}/bundle.js`)!.async("nodebuffer");
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle.length).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  }
});

async function checkBinding(table: "Opportunity" | "Lead"): Promise<void> {
  const zip = zips.unmanagedZip;
  const customizations = parseXml(await text(zip, "customizations.xml"), "customizations.xml");
  const controlName = child(descendants(customizations, "CustomControl")[0]!, "Name")!.textContent!;
  const manifest = parseXml(await text(zip, `Controls/${controlName}/ControlManifest.xml`), "manifest");
  const properties = new Map(descendants(manifest, "property").map((p) => [p.getAttribute("name")!, p]));
  const entity = childElements(child(customizations.documentElement as unknown as Element, "Entities")!, "Entity")
    .find((e) => child(e, "Name")?.textContent === table)!;
  const columns = new Set(descendants(entity, "attribute").map((a) => child(a, "LogicalName")?.textContent));
  const form = descendants(entity, "systemform")[0]!;
  const cardControls = descendants(form, "customControl").filter((c) => c.getAttribute("name") === controlName);
  expect(cardControls.map((c) => c.getAttribute("formFactor")).sort()).toEqual(["0", "1", "2"]);
  const description = cardControls[0]!.parentNode as unknown as Element;
  const forControl = description.getAttribute("forControl");
  const host = descendants(form, "control").find((c) => c.getAttribute("uniqueid") === forControl);
  expect(host).toBeDefined();
  for (const customControl of cardControls) {
    for (const parameter of childElements(child(customControl, "parameters")!)) {
      const property = properties.get(parameter.nodeName);
      expect({ parameter: parameter.nodeName, declared: Boolean(property) }).toEqual({ parameter: parameter.nodeName, declared: true });
      expect(parameter.getAttribute("type")).toBe(property!.getAttribute("of-type"));
      if (parameter.getAttribute("static") !== "true") expect(columns).toContain(parameter.textContent);
    }
    for (const [name, property] of properties) {
      if (property.getAttribute("usage") === "bound" && property.getAttribute("required") === "true") expect(child(child(customControl, "parameters")!, name)).toBeDefined();
    }
  }
}

test("the opportunity form binds the card on every form factor, to columns that exist, with the manifest's property names", async () => {
  await checkBinding("Opportunity");
});

test("the lead form binds the same card (lead mode) on every form factor, to lead columns, with the manifest's property names", async () => {
  await checkBinding("Lead");
});

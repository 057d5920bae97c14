// The built zips as Dataverse receives them: parts, XML well-formedness, root components, managed vs unmanaged.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import JSZip from "jszip";
import { buildZips, repoRoot } from "./helpers.ts";
import { parseXml, childElements, child, descendants, type Element } from "../xml.ts";
import { toSolutionVersion } from "../pack.ts";

let zips: Awaited<ReturnType<typeof buildZips>>;
beforeAll(async () => {
  zips = await buildZips();
});

async function entry(zip: JSZip, name: string): Promise<string> {
  const file = zip.file(name);
  if (!file) throw new Error(`zip lacks ${name}`);
  return file.async("string");
}

describe("solution zips", () => {
  test("both zips open and carry the three package parts", async () => {
    for (const zip of [zips.managedZip, zips.unmanagedZip]) {
      const names = Object.keys(zip.files);
      expect(names).toEqual(expect.arrayContaining(["[Content_Types].xml", "solution.xml", "customizations.xml"]));
      for (const name of names) {
        expect(name.startsWith("/")).toBe(false);
        expect(name.includes("\\")).toBe(false);
      }
    }
  });

  test("every XML part is well-formed", async () => {
    for (const zip of [zips.managedZip, zips.unmanagedZip]) {
      const xmlNames = Object.keys(zip.files).filter((n) => /\.(xml|resx)$/.test(n));
      expect(xmlNames.length).toBeGreaterThan(3);
      for (const name of xmlNames) {
        const text = await entry(zip, name);
        expect(() => parseXml(text, name)).not.toThrow();
      }
    }
  });

  test("every entry is DEFLATE-compressed", () => {
    // Central directory records (PK\x01\x02) carry the compression method at offset 10; 8 is DEFLATE.
    for (const bytes of [zips.managedBytes, zips.unmanagedBytes]) {
      let records = 0;
      for (let i = bytes.indexOf("PK\x01\x02", 0, "latin1"); i >= 0; i = bytes.indexOf("PK\x01\x02", i + 4, "latin1")) {
        expect(bytes.readUInt16LE(i + 10)).toBe(8);
        records++;
      }
      expect(records).toBe(Object.keys(zips.managedZip.files).length);
    }
  });

  test("the version is package.json's, as four parts", async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const doc = parseXml(await entry(zips.managedZip, "solution.xml"), "solution.xml");
    expect(doc.getElementsByTagName("Version")[0]?.textContent).toBe(toSolutionVersion(pkg.version));
    expect(doc.getElementsByTagName("UniqueName")[0]?.textContent).toBe("PartnerCenterReferrals");
  });

  test("managed says Managed 1, unmanaged says 0, and nothing else differs", async () => {
    const managed = parseXml(await entry(zips.managedZip, "solution.xml"), "m");
    const unmanaged = parseXml(await entry(zips.unmanagedZip, "solution.xml"), "u");
    expect(managed.getElementsByTagName("Managed")[0]?.textContent).toBe("1");
    expect(unmanaged.getElementsByTagName("Managed")[0]?.textContent).toBe("0");
    const managedSolution = (await entry(zips.managedZip, "solution.xml")).replace("<Managed>1</Managed>", "<Managed>0</Managed>");
    expect(managedSolution).toBe(await entry(zips.unmanagedZip, "solution.xml"));
    const names = Object.keys(zips.managedZip.files).sort();
    expect(Object.keys(zips.unmanagedZip.files).sort()).toEqual(names);
    for (const name of names.filter((n) => n !== "solution.xml")) {
      expect(await entry(zips.managedZip, name)).toBe(await entry(zips.unmanagedZip, name));
    }
  });

  test("[Content_Types].xml covers every extension and every extension-less part", async () => {
    const zip = zips.unmanagedZip;
    const types = parseXml(await entry(zip, "[Content_Types].xml"), "types").documentElement as unknown as Element;
    const defaults = new Set(childElements(types, "Default").map((d) => d.getAttribute("Extension")));
    const overrides = new Set(childElements(types, "Override").map((o) => o.getAttribute("PartName")));
    for (const name of Object.keys(zip.files).filter((n) => !zip.files[n]!.dir && n !== "[Content_Types].xml")) {
      const base = name.split("/").pop()!;
      const dot = base.lastIndexOf(".");
      if (dot > 0) expect(defaults).toContain(base.slice(dot + 1).toLowerCase());
      else expect(overrides).toContain(`/${name}`);
    }
  });

  test("every root component exists in the package, and every component is a root component", async () => {
    const zip = zips.unmanagedZip;
    const solution = parseXml(await entry(zip, "solution.xml"), "solution.xml");
    const customizations = parseXml(await entry(zip, "customizations.xml"), "customizations.xml");
    const roots = descendants(solution, "RootComponent").map((r) => ({
      type: Number(r.getAttribute("type")),
      schemaName: r.getAttribute("schemaName") ?? "",
      id: (r.getAttribute("id") ?? "").toLowerCase(),
    }));
    const root = customizations.documentElement as unknown as Element;
    const entities = childElements(child(root, "Entities")!, "Entity").map((e) => (child(e, "Name")?.textContent ?? "").toLowerCase());
    const optionSets = childElements(child(root, "optionsets")!, "optionset").map((o) => o.getAttribute("Name"));
    const roles = childElements(child(root, "Roles")!, "Role").map((r) => (r.getAttribute("id") ?? "").toLowerCase());
    const forms = descendants(customizations, "formid").map((f) => (f.textContent ?? "").toLowerCase());
    const views = descendants(customizations, "savedqueryid").map((q) => (q.textContent ?? "").toLowerCase());
    const envVars = Object.keys(zip.files)
      .map((n) => /^environmentvariabledefinitions\/([^/]+)\/environmentvariabledefinition\.xml$/.exec(n)?.[1])
      .filter((n): n is string => Boolean(n));
    const webResources = descendants(customizations, "WebResource").map((w) => child(w, "Name")?.textContent);
    const controls = descendants(customizations, "CustomControl").map((c) => child(c, "Name")?.textContent);

    for (const r of roots) {
      switch (r.type) {
        case 1: expect(entities).toContain(r.schemaName); break;
        case 9: expect(optionSets).toContain(r.schemaName); break;
        case 20: expect(roles).toContain(r.id); break;
        case 26: expect(views).toContain(r.id); break;
        case 60: expect(forms).toContain(r.id); break;
        case 61: expect(webResources).toContain(r.schemaName); break;
        case 66: expect(controls).toContain(r.schemaName); break;
        case 380: expect(envVars).toContain(r.schemaName); break;
        default: throw new Error(`unexpected root component type ${r.type}`);
      }
    }
    const rootNames = (type: number): string[] => roots.filter((r) => r.type === type).map((r) => r.schemaName || r.id);
    expect(rootNames(1).sort()).toEqual([...entities].sort());
    expect(rootNames(9).sort()).toEqual([...optionSets].sort());
    expect(rootNames(20).sort()).toEqual(roles.map((r) => r).sort());
    expect(rootNames(380).sort()).toEqual([...envVars].sort());
    expect(rootNames(61).sort()).toEqual([...webResources].sort());
    expect(rootNames(66).sort()).toEqual([...controls].sort());
  });

  test("customizations.xml keeps the schema's element order and declares both languages", async () => {
    const doc = parseXml(await entry(zips.unmanagedZip, "customizations.xml"), "customizations.xml");
    const root = doc.documentElement as unknown as Element;
    const order = childElements(root).map((e) => e.nodeName);
    const { CUSTOMIZATIONS_ORDER } = await import("../pack.ts");
    const ranks = order.map((n) => CUSTOMIZATIONS_ORDER.indexOf(n));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(childElements(child(root, "Languages")!, "Language").map((l) => l.textContent)).toEqual(["1033", "1043"]);
  });

  test("the same source gives the same zip bytes", async () => {
    const again = await buildZips();
    expect(again.managedBytes.equals(zips.managedBytes)).toBe(true);
    expect(again.unmanagedBytes.equals(zips.unmanagedBytes)).toBe(true);
  });
});

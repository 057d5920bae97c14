// Unpacks a solution zip into the folder layout `pac solution unpack` writes, so a built zip (or one
// exported from an environment) can be compared with, or turned back into, Solution/.
import JSZip from "jszip";
import { parseXml, serializeXml, child, childElements, type Element, type Document } from "./xml.ts";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

export interface UnpackedFile {
  path: string;
  content: Buffer;
}

function docWithRoot(element: Element): Document {
  const doc = parseXml("<root/>", "new");
  const imported = doc.importNode(element as never, true) as unknown as Element;
  doc.replaceChild(imported, doc.documentElement as never);
  imported.setAttribute("xmlns:xsi", XSI);
  return doc;
}

function wrap(rootName: string, items: Element[], attributes: Record<string, string> = {}): Document {
  const doc = parseXml(`<${rootName} xmlns:xsi="${XSI}"/>`, rootName);
  const root = doc.documentElement as unknown as Element;
  for (const [k, v] of Object.entries(attributes)) root.setAttribute(k, v);
  for (const item of items) root.appendChild(doc.importNode(item as never, true));
  return doc;
}

function xmlFile(path: string, doc: Document): UnpackedFile {
  return { path, content: Buffer.from(serializeXml(doc) + "\n", "utf8") };
}

function emptyElement(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export async function unpackZip(zipBytes: Buffer, options: { managedFlag?: string } = {}): Promise<UnpackedFile[]> {
  const zip = await JSZip.loadAsync(zipBytes);
  const read = async (name: string): Promise<string> => {
    const entry = zip.file(name);
    if (!entry) throw new Error(`the zip has no ${name}`);
    return entry.async("string");
  };
  const out: UnpackedFile[] = [];
  const consumed = new Set<string>(["[Content_Types].xml", "solution.xml", "customizations.xml"]);

  const solution = parseXml(await read("solution.xml"), "solution.xml");
  if (options.managedFlag !== undefined) {
    const managed = solution.getElementsByTagName("Managed")[0];
    if (managed) managed.textContent = options.managedFlag;
  }
  out.push(xmlFile("Other/Solution.xml", solution));

  const customizations = parseXml(await read("customizations.xml"), "customizations.xml");
  const root = customizations.documentElement as unknown as Element;

  const entities = child(root, "Entities");
  for (const entity of entities ? childElements(entities, "Entity") : []) {
    const folder = child(entity, "Name")?.textContent ?? "unnamed";
    const formXml = child(entity, "FormXml");
    for (const forms of formXml ? childElements(formXml, "forms") : []) {
      const formType = forms.getAttribute("type") ?? "main";
      for (const systemform of childElements(forms, "systemform")) {
        const formId = child(systemform, "formid")?.textContent ?? "unknown";
        out.push(xmlFile(`Entities/${folder}/FormXml/${formType}/${formId}.xml`, wrap("forms", [systemform])));
      }
    }
    if (formXml) emptyElement(formXml);
    const savedQueries = child(entity, "SavedQueries");
    const list = savedQueries ? child(savedQueries, "savedqueries") : undefined;
    for (const query of list ? childElements(list, "savedquery") : []) {
      const id = child(query, "savedqueryid")?.textContent ?? "unknown";
      out.push(xmlFile(`Entities/${folder}/SavedQueries/${id}.xml`, wrap("savedqueries", [query])));
    }
    if (savedQueries) emptyElement(savedQueries);
    const ribbon = child(entity, "RibbonDiffXml");
    if (ribbon && childElements(ribbon).length > 0) {
      out.push(xmlFile(`Entities/${folder}/RibbonDiff.xml`, docWithRoot(ribbon)));
      emptyElement(ribbon);
    }
    out.push(xmlFile(`Entities/${folder}/Entity.xml`, docWithRoot(entity)));
  }
  if (entities) emptyElement(entities);

  const roles = child(root, "Roles");
  for (const role of roles ? childElements(roles, "Role") : []) {
    out.push(xmlFile(`Roles/${role.getAttribute("name")}.xml`, docWithRoot(role)));
  }
  if (roles) emptyElement(roles);

  const relationships = child(root, "EntityRelationships");
  if (relationships) {
    const all = childElements(relationships, "EntityRelationship");
    const byReferenced = new Map<string, Element[]>();
    for (const r of all) {
      const referenced = child(r, "ReferencedEntityName")?.textContent ?? "Unknown";
      byReferenced.set(referenced, [...(byReferenced.get(referenced) ?? []), r]);
    }
    for (const [referenced, list] of byReferenced) out.push(xmlFile(`Other/Relationships/${referenced}.xml`, wrap("EntityRelationships", list)));
    if (all.length > 0) {
      const index = parseXml(`<EntityRelationships xmlns:xsi="${XSI}"/>`, "index");
      for (const name of all.map((r) => r.getAttribute("Name") ?? "").sort()) {
        const item = index.createElement("EntityRelationship");
        item.setAttribute("Name", name);
        index.documentElement?.appendChild(item);
      }
      out.push(xmlFile("Other/Relationships.xml", index));
    }
    emptyElement(relationships);
  }

  const optionsets = child(root, "optionsets");
  for (const optionset of optionsets ? childElements(optionsets, "optionset") : []) {
    out.push(xmlFile(`OptionSets/${optionset.getAttribute("Name")}.xml`, docWithRoot(optionset)));
  }
  if (optionsets) emptyElement(optionsets);

  const webResources = child(root, "WebResources");
  for (const resource of webResources ? childElements(webResources, "WebResource") : []) {
    const name = child(resource, "Name")?.textContent ?? "unnamed";
    const fileName = (child(resource, "FileName")?.textContent ?? "").replace(/^\//, "");
    const entry = zip.file(fileName);
    if (!entry) throw new Error(`web resource ${name} points at ${fileName}, which is not in the zip`);
    consumed.add(fileName);
    out.push({ path: `WebResources/${name}`, content: await entry.async("nodebuffer") });
    out.push(xmlFile(`WebResources/${name}.data.xml`, docWithRoot(resource)));
  }
  if (webResources) root.removeChild(webResources as never);

  const controls = child(root, "CustomControls");
  for (const control of controls ? childElements(controls, "CustomControl") : []) {
    const name = child(control, "Name")?.textContent ?? "unnamed";
    out.push(xmlFile(`Controls/${name}/ControlManifest.xml.data.xml`, docWithRoot(control)));
  }
  if (controls) emptyElement(controls);

  out.push(xmlFile("Other/Customizations.xml", customizations));

  // Everything else (environment variables, control files, custom APIs) keeps its zip path.
  for (const name of Object.keys(zip.files).sort()) {
    const entry = zip.files[name];
    if (!entry || entry.dir || consumed.has(name)) continue;
    out.push({ path: name, content: await entry.async("nodebuffer") });
  }
  return out;
}

// Packs the Solution/ folder into the zip layout Dataverse imports (solution.xml, customizations.xml,
// [Content_Types].xml and the component folders), the way `pac solution pack` would, with Node only.
import JSZip from "jszip";
import { type SolutionSource, type RawFile } from "./source.ts";
import { child, childElements, requireChild, serializeXml, parseXml, type Document, type Element } from "./xml.ts";

/** Element order of <ImportExportXml> in customizations.xml (CustomizationsSolution.xsd, plus newer exports). */
export const CUSTOMIZATIONS_ORDER = [
  "Entities", "Roles", "Workflows", "FieldSecurityProfiles", "Templates", "RibbonDiffXml", "IsvConfig", "RelationshipRoles",
  "ConnectionRoles", "SiteMap", "EntityMaps", "EntityRelationships", "OrganizationSettings", "optionsets", "Reports",
  "RoutingRules", "ChannelPropertyGroups", "ConvertRules", "MobileOfflineProfiles", "Slas", "ChannelAccessProfiles",
  "ChannelAccessProfileRules", "Dashboards", "InteractionCentricDashboards", "Dialogs", "WebResources", "CustomControls",
  "SolutionPluginAssemblies", "SdkMessageProcessingSteps", "ServiceEndpoints", "AppModuleSiteMaps", "AppModules",
  "EntityDataProviders", "EntityDataSources", "CanvasApps", "connectionreferences", "Languages",
  "GlobalSearchConfigurations", "StoredProcedures",
];

export interface PackOptions {
  managed: boolean;
  /** Four-part solution version, e.g. 0.1.0.0. */
  version: string;
}

/** package.json's semver (0.1.0, 1.2.3-beta.1) as a Dataverse four-part version (0.1.0.0, 1.2.3.0). */
export function toSolutionVersion(semver: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(semver);
  if (!match) throw new Error(`package.json version ${JSON.stringify(semver)} is not semver`);
  return `${match[1]}.${match[2]}.${match[3]}.0`;
}

// Entries get a fixed date so that the same source always gives the same zip bytes.
const FIXED_DATE = new Date("2026-01-01T00:00:00Z");

function fresh(doc: Document, source: string): Document {
  return parseXml(serializeXml(doc), source);
}

function stripXsi(element: Element): Element {
  element.removeAttribute("xmlns:xsi");
  return element;
}

/** Finds or creates a top-level section of customizations.xml, keeping the schema's element order. */
export function ensureSection(root: Element, name: string): Element {
  const existing = child(root, name);
  if (existing) return existing;
  const created = root.ownerDocument!.createElement(name);
  const rank = CUSTOMIZATIONS_ORDER.indexOf(name);
  const before = childElements(root).find((el) => CUSTOMIZATIONS_ORDER.indexOf(el.nodeName) > rank);
  root.insertBefore(created, before ?? null);
  return created;
}

function clearChildren(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

function importRoot(target: Document, from: Document): Element {
  return stripXsi(target.importNode(from.documentElement as never, true) as unknown as Element);
}

export function buildSolutionXml(source: SolutionSource, options: PackOptions): string {
  const doc = fresh(source.solution.doc, source.solution.path);
  const manifest = requireChild(doc.documentElement as never, "SolutionManifest", source.solution.path);
  requireChild(manifest, "Version", source.solution.path).textContent = options.version;
  requireChild(manifest, "Managed", source.solution.path).textContent = options.managed ? "1" : "0";
  return serializeXml(doc);
}

export function buildCustomizationsXml(source: SolutionSource): { xml: string; files: RawFile[] } {
  const doc = fresh(source.customizations.doc, source.customizations.path);
  const root = doc.documentElement as unknown as Element;
  const files: RawFile[] = [];

  const entities = ensureSection(root, "Entities");
  clearChildren(entities);
  for (const entity of source.entities) {
    const el = importRoot(doc, entity.entity.doc);
    const formXml = child(el, "FormXml") ?? (el.appendChild(doc.createElement("FormXml")) as unknown as Element);
    clearChildren(formXml);
    const formTypes = [...new Set(entity.forms.map((f) => f.formType))];
    for (const formType of formTypes) {
      const forms = doc.createElement("forms");
      forms.setAttribute("type", formType);
      for (const form of entity.forms.filter((f) => f.formType === formType)) {
        for (const systemform of childElements(form.doc.documentElement as never, "systemform")) {
          forms.appendChild(doc.importNode(systemform as never, true));
        }
      }
      formXml.appendChild(forms);
    }
    const savedQueries = child(el, "SavedQueries") ?? (el.insertBefore(doc.createElement("SavedQueries"), child(el, "RibbonDiffXml") ?? null) as unknown as Element);
    clearChildren(savedQueries);
    if (entity.savedQueries.length > 0) {
      const list = savedQueries.appendChild(doc.createElement("savedqueries"));
      for (const query of entity.savedQueries) {
        for (const saved of childElements(query.doc.documentElement as never, "savedquery")) list.appendChild(doc.importNode(saved as never, true));
      }
    }
    if (entity.ribbonDiff) {
      const ribbon = importRoot(doc, entity.ribbonDiff.doc);
      const existing = child(el, "RibbonDiffXml");
      if (existing) el.replaceChild(ribbon, existing);
      else el.appendChild(ribbon);
    }
    entities.appendChild(el);
  }

  const fill = (section: string, docs: Array<{ doc: Document }>, itemName?: string): void => {
    const target = ensureSection(root, section);
    clearChildren(target);
    for (const file of docs) {
      const top = file.doc.documentElement as unknown as Element;
      const items = itemName ? childElements(top, itemName) : [top];
      for (const item of items) target.appendChild(stripXsi(doc.importNode(item as never, true) as unknown as Element));
    }
  };
  fill("Roles", source.roles);
  fill("EntityRelationships", source.relationships, "EntityRelationship");
  fill("optionsets", source.optionSets);

  if (source.webResources.length > 0) {
    const target = ensureSection(root, "WebResources");
    clearChildren(target);
    for (const resource of source.webResources) {
      const el = importRoot(doc, resource.data.doc);
      const fileName = child(el, "FileName")?.textContent ?? "";
      files.push({ path: fileName.replace(/^\//, ""), content: resource.file.content });
      target.appendChild(el);
    }
  }
  if (source.controls.length > 0) {
    const target = ensureSection(root, "CustomControls");
    clearChildren(target);
    for (const control of source.controls) {
      target.appendChild(importRoot(doc, control.data.doc));
      files.push(...control.files);
    }
  }
  return { xml: serializeXml(doc), files };
}

/** [Content_Types].xml: a Default per extension and an Override per extension-less part (web resources). */
export function buildContentTypes(paths: string[]): string {
  const extensions = new Set<string>(["xml"]);
  const overrides: string[] = [];
  for (const p of paths) {
    const name = p.split("/").pop() ?? p;
    const dot = name.lastIndexOf(".");
    if (dot > 0) extensions.add(name.slice(dot + 1).toLowerCase());
    else overrides.push(p);
  }
  const defaults = [...extensions].sort().map((ext) => `<Default Extension="${ext}" ContentType="application/octet-stream" />`);
  const overrideXml = overrides.sort().map((p) => `<Override PartName="/${p}" ContentType="application/octet-stream" />`);
  return `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">${defaults.join("")}${overrideXml.join("")}</Types>`;
}

/** All zip entries, by path. */
export function packEntries(source: SolutionSource, options: PackOptions): Map<string, Buffer> {
  const customizations = buildCustomizationsXml(source);
  const entries = new Map<string, Buffer>();
  entries.set("solution.xml", Buffer.from(buildSolutionXml(source, options), "utf8"));
  entries.set("customizations.xml", Buffer.from(customizations.xml, "utf8"));
  for (const file of [...source.copiedFiles, ...customizations.files]) entries.set(file.path, file.content);
  entries.set("[Content_Types].xml", Buffer.from(buildContentTypes([...entries.keys()]), "utf8"));
  return entries;
}

export async function zipEntries(entries: Map<string, Buffer>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, content] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
    zip.file(name, content, { date: FIXED_DATE, createFolders: false });
  }
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE", compressionOptions: { level: 9 }, platform: "DOS" });
}

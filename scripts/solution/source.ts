// Reads the Solution/ folder (the layout `pac solution unpack` writes) into parsed documents.
// Nothing here changes the files; pack.ts and model.ts work from what this returns.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { parseXml, child, text, requireChild, type Document } from "./xml.ts";

export interface XmlFile {
  /** Path relative to the Solution/ folder, with forward slashes. */
  path: string;
  doc: Document;
}

export interface EntitySource {
  /** Folder name under Entities/, which is the table's schema name (Opportunity, pcr_SyncEvent). */
  folder: string;
  entity: XmlFile;
  forms: Array<XmlFile & { formType: string }>;
  savedQueries: XmlFile[];
  ribbonDiff?: XmlFile;
}

export interface RawFile {
  path: string;
  content: Buffer;
}

export interface SolutionSource {
  dir: string;
  solution: XmlFile;
  customizations: XmlFile;
  relationshipIndex?: XmlFile;
  entities: EntitySource[];
  relationships: XmlFile[];
  optionSets: XmlFile[];
  roles: XmlFile[];
  /** environmentvariabledefinitions/** and other folders copied into the zip as they are. */
  copiedFiles: RawFile[];
  /** WebResources/<name>.data.xml with the raw file next to it. */
  webResources: Array<{ data: XmlFile; file: RawFile }>;
  /** Controls/<name>/ControlManifest.xml.data.xml with the control's other files. */
  controls: Array<{ data: XmlFile; files: RawFile[] }>;
}

const COPIED_FOLDERS = ["environmentvariabledefinitions", "customapis", "maskingrules"];

export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

function rel(dir: string, full: string): string {
  return relative(dir, full).split(sep).join("/");
}

function readXml(dir: string, relativePath: string): XmlFile {
  const full = join(dir, relativePath);
  return { path: relativePath, doc: parseXml(readFileSync(full, "utf8"), relativePath) };
}

function xmlFilesIn(dir: string, folder: string): XmlFile[] {
  return listFiles(join(dir, folder))
    .filter((f) => f.endsWith(".xml"))
    .map((f) => readXml(dir, rel(dir, f)));
}

export interface ReadOptions {
  /**
   * Where built controls are (pcf-scripts' out/controls). A control's files come from
   * <controlsOutDir>/<constructor>/ the way `pac solution pack --map` maps them; Solution/ keeps only
   * the control's .data.xml.
   */
  controlsOutDir?: string;
  /** Where built web resources are (out/webresources): a web resource's file comes from <dir>/<name>. */
  webResourcesOutDir?: string;
}

export function readSolutionSource(dir: string, options: ReadOptions = {}): SolutionSource {
  if (!existsSync(join(dir, "Other", "Solution.xml"))) {
    throw new Error(`${dir} is not a solution folder: Other/Solution.xml is missing`);
  }
  const entities: EntitySource[] = [];
  const entitiesDir = join(dir, "Entities");
  for (const folder of existsSync(entitiesDir) ? readdirSync(entitiesDir).sort() : []) {
    const base = `Entities/${folder}`;
    const forms = listFiles(join(dir, base, "FormXml"))
      .filter((f) => f.endsWith(".xml"))
      .map((f) => {
        const relativePath = rel(dir, f);
        const formType = relativePath.split("/")[3] ?? "main";
        return { ...readXml(dir, relativePath), formType };
      });
    const ribbonPath = `${base}/RibbonDiff.xml`;
    entities.push({
      folder,
      entity: readXml(dir, `${base}/Entity.xml`),
      forms,
      savedQueries: xmlFilesIn(dir, `${base}/SavedQueries`),
      ...(existsSync(join(dir, ribbonPath)) ? { ribbonDiff: readXml(dir, ribbonPath) } : {}),
    });
  }

  const webResources: SolutionSource["webResources"] = [];
  for (const full of listFiles(join(dir, "WebResources")).filter((f) => f.endsWith(".data.xml"))) {
    const data = readXml(dir, rel(dir, full));
    const rawPath = data.path.slice(0, -".data.xml".length);
    const inSource = join(dir, rawPath);
    const built = options.webResourcesOutDir ? join(options.webResourcesOutDir, rawPath.slice("WebResources/".length)) : undefined;
    const file = existsSync(inSource) ? inSource : built;
    if (file && existsSync(file)) webResources.push({ data, file: { path: rawPath, content: readFileSync(file) } });
    else if (built) throw new Error(`web resource ${rawPath} has no file: neither in Solution/ nor built at ${built} (node WebResources/build.ts)`);
    // Without a build folder (reading the schema only) a built web resource's content is not needed.
    else webResources.push({ data, file: { path: rawPath, content: Buffer.alloc(0) } });
  }

  const controls: SolutionSource["controls"] = [];
  const controlsDir = join(dir, "Controls");
  for (const folder of existsSync(controlsDir) ? readdirSync(controlsDir).sort() : []) {
    const files = listFiles(join(controlsDir, folder)).map((f) => ({ path: rel(dir, f), content: readFileSync(f) }));
    const dataFile = files.find((f) => f.path.endsWith("ControlManifest.xml.data.xml"));
    if (!dataFile) throw new Error(`Controls/${folder} has no ControlManifest.xml.data.xml`);
    if (options.controlsOutDir) {
      // <prefix>_<namespace>.<constructor>: pcf-scripts writes the build to a folder named after the constructor.
      const constructorName = folder.slice(folder.lastIndexOf(".") + 1);
      const built = join(options.controlsOutDir, constructorName);
      if (!existsSync(join(built, "ControlManifest.xml"))) {
        throw new Error(`control ${folder} is not built: ${built}/ControlManifest.xml is missing (node PcfControls/build.ts)`);
      }
      const own = new Set(files.map((f) => f.path));
      for (const full of listFiles(built)) {
        const path = `Controls/${folder}/${relative(built, full).split(sep).join("/")}`;
        if (!own.has(path)) files.push({ path, content: readFileSync(full) });
      }
    }
    controls.push({
      data: { path: dataFile.path, doc: parseXml(dataFile.content.toString("utf8"), dataFile.path) },
      files: files.filter((f) => f !== dataFile),
    });
  }

  const copiedFiles = COPIED_FOLDERS.flatMap((folder) =>
    listFiles(join(dir, folder)).map((f) => ({ path: rel(dir, f), content: readFileSync(f) })),
  );

  return {
    dir,
    solution: readXml(dir, "Other/Solution.xml"),
    customizations: readXml(dir, "Other/Customizations.xml"),
    ...(existsSync(join(dir, "Other", "Relationships.xml")) ? { relationshipIndex: readXml(dir, "Other/Relationships.xml") } : {}),
    entities,
    relationships: xmlFilesIn(dir, "Other/Relationships"),
    optionSets: xmlFilesIn(dir, "OptionSets"),
    roles: xmlFilesIn(dir, "Roles"),
    copiedFiles,
    webResources,
    controls,
  };
}

export function solutionManifest(source: SolutionSource): { uniqueName: string; version: string; prefix: string; optionValuePrefix: number } {
  const manifest = requireChild(source.solution.doc.documentElement as never, "SolutionManifest", source.solution.path);
  const publisher = requireChild(manifest, "Publisher", source.solution.path);
  return {
    uniqueName: text(child(manifest, "UniqueName")) ?? "",
    version: text(child(manifest, "Version")) ?? "",
    prefix: text(child(publisher, "CustomizationPrefix")) ?? "",
    optionValuePrefix: Number(text(child(publisher, "CustomizationOptionValuePrefix"))),
  };
}

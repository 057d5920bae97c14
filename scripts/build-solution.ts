// Builds dist/PartnerCenterReferrals_managed.zip and dist/PartnerCenterReferrals_unmanaged.zip from Solution/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSolutionSource, solutionManifest } from "./solution/source.ts";
import { packEntries, toSolutionVersion, zipEntries } from "./solution/pack.ts";

export interface BuiltSolution {
  version: string;
  managed: string;
  unmanaged: string;
}

/** Where pcf-scripts writes built controls (pcfconfig.json's outDir). */
export function controlsOutDir(root: string): string {
  return join(root, "out", "controls");
}

/** Where the form library's build writes web resources. */
export function webResourcesOutDir(root: string): string {
  return join(root, "out", "webresources");
}

/** Packs the zips; the card and the form library must be built first (scripts/build.ts does it all). */
export async function buildSolution(root: string, outDir = join(root, "dist")): Promise<BuiltSolution> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const version = toSolutionVersion(pkg.version);
  const source = readSolutionSource(join(root, "Solution"), { controlsOutDir: controlsOutDir(root), webResourcesOutDir: webResourcesOutDir(root) });
  const { uniqueName, version: sourceVersion } = solutionManifest(source);
  if (sourceVersion !== version) {
    throw new Error(`Solution/Other/Solution.xml says version ${sourceVersion} but package.json gives ${version}: run node scripts/sync-version.ts`);
  }
  mkdirSync(outDir, { recursive: true });
  const managed = join(outDir, `${uniqueName}_managed.zip`);
  const unmanaged = join(outDir, `${uniqueName}_unmanaged.zip`);
  writeFileSync(managed, await zipEntries(packEntries(source, { managed: true, version })));
  writeFileSync(unmanaged, await zipEntries(packEntries(source, { managed: false, version })));
  return { version, managed, unmanaged };
}

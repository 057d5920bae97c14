// Builds the zips once per test file into a temporary folder, the same way `npm run build` does.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import JSZip from "jszip";
import { existsSync } from "node:fs";
import { buildSolution, controlsOutDir, type BuiltSolution } from "../../build-solution.ts";
import { buildCard } from "../../../PcfControls/build.ts";
import { buildWebResources, SIGN_IN_SCRIPTS } from "../../../WebResources/build.ts";
import { WEB_RESOURCE_NAME } from "../../../WebResources/src/names.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export async function buildZips(): Promise<BuiltSolution & { managedZip: JSZip; unmanagedZip: JSZip; managedBytes: Buffer; unmanagedBytes: Buffer }> {
  // npm test builds the card first; a test run on its own builds it once here.
  if (!existsSync(join(controlsOutDir(repoRoot), "PartnerCenterCard", "bundle.js"))) await buildCard({ quiet: true, typecheck: false });
  // Every built web resource, the sign-in's included (an older out/ may lack them).
  if (![WEB_RESOURCE_NAME, ...SIGN_IN_SCRIPTS.map((s) => s.name)].every((name) => existsSync(join(repoRoot, "out", "webresources", ...name.split("/"))))) await buildWebResources();
  const built = await buildSolution(repoRoot, mkdtempSync(join(tmpdir(), "pcr-solution-")));
  const managedBytes = readFileSync(built.managed);
  const unmanagedBytes = readFileSync(built.unmanaged);
  return { ...built, managedBytes, unmanagedBytes, managedZip: await JSZip.loadAsync(managedBytes), unmanagedZip: await JSZip.loadAsync(unmanagedBytes) };
}

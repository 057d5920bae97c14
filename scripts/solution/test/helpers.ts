// Builds the zips once per test file into a temporary folder, the same way `npm run build` does.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import JSZip from "jszip";
import { buildSolution, type BuiltSolution } from "../../build-solution.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export async function buildZips(): Promise<BuiltSolution & { managedZip: JSZip; unmanagedZip: JSZip; managedBytes: Buffer; unmanagedBytes: Buffer }> {
  const built = await buildSolution(repoRoot, mkdtempSync(join(tmpdir(), "pcr-solution-")));
  const managedBytes = readFileSync(built.managed);
  const unmanagedBytes = readFileSync(built.unmanaged);
  return { ...built, managedBytes, unmanagedBytes, managedZip: await JSZip.loadAsync(managedBytes), unmanagedZip: await JSZip.loadAsync(unmanagedBytes) };
}

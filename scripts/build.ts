// npm run build: checks that the generated names match Solution/, builds the Partner Center card,
// then writes both solution zips (with the card) to dist/.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSolution } from "./build-solution.ts";
import { GENERATED_PATH, generatedSource } from "./generate-names.ts";
import { buildCard } from "../PcfControls/build.ts";
import { buildWebResources } from "../WebResources/build.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  const current = existsSync(GENERATED_PATH) ? readFileSync(GENERATED_PATH, "utf8") : "";
  if (current !== generatedSource()) {
    throw new Error(`${relative(root, GENERATED_PATH)} does not match Solution/: run npm run generate and commit the result`);
  }
  const card = await buildCard({ quiet: true });
  console.log(`card bundle.js ${(card.bundleBytes / 1024).toFixed(1)} KB`);
  const library = await buildWebResources();
  console.log(`form library ${(library.bytes / 1024).toFixed(1)} KB; sign-in ${library.signIn.map((s) => `${s.name} ${(s.bytes / 1024).toFixed(1)} KB`).join(", ")}`);
  const built = await buildSolution(root);
  console.log(`solution ${built.version}`);
  console.log(`  managed:   ${relative(root, built.managed)}`);
  console.log(`  unmanaged: ${relative(root, built.unmanaged)}`);
}

main().catch((error: unknown) => {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

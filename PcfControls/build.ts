// Builds the Partner Center card: runs pcf-scripts' production build with telemetry opted out, then
// type-checks all of PcfControls/ (the card, its tests and mocks, this file), and prints where the
// outputs are.
//
//   node PcfControls/build.ts              build, type-check, print paths
//   node PcfControls/build.ts --no-check   build only (the browser test uses this)
//
// pcf-scripts runs with PcfControls/ as its working directory, so that featureconfig.json,
// pcfconfig.json and webpack.config.js here apply (they let webpack follow Core's `.ts` imports and
// set the browser targets); the outputs still land in the repository's out/controls/.
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const require = createRequire(import.meta.url);

/**
 * bundle.js may not grow past this (React and Fluent are platform libraries, not in the bundle: with
 * either bundled it would pass 1 MB). The card with lead mode and relay sign-in is about 70 KB.
 */
export const MAX_BUNDLE_BYTES = 80 * 1024;

export interface CardBuild {
  outDir: string;
  manifest: string;
  bundle: string;
  bundleBytes: number;
}

function run(command: string, args: string[], cwd: string, quiet: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, PP_TOOLS_TELEMETRY_OPTOUT: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${relative(root, args[0] ?? command)} ${args.slice(1).join(" ")} failed (exit ${code})\n${quiet ? output : ""}`))));
  });
}

export async function buildCard(options: { typecheck?: boolean; quiet?: boolean } = {}): Promise<CardBuild> {
  const quiet = options.quiet ?? false;
  // pcf-scripts first: it writes PartnerCenterCard/generated/ManifestTypes.d.ts, which the type-check reads
  // (and its ts-loader already type-checks the control itself).
  await run(process.execPath, [require.resolve("pcf-scripts/bin/pcf-scripts.js"), "build", "--buildMode", "production"], here, quiet);
  if (options.typecheck ?? true) {
    await run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], root, quiet);
  }
  const outDir = join(root, "out", "controls", "PartnerCenterCard");
  const bundle = join(outDir, "bundle.js");
  const bundleBytes = statSync(bundle).size;
  if (bundleBytes > MAX_BUNDLE_BYTES) throw new Error(`bundle.js is ${bundleBytes} bytes, more than ${MAX_BUNDLE_BYTES}: is React or Fluent bundled?`);
  return { outDir, manifest: join(outDir, "ControlManifest.xml"), bundle, bundleBytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildCard({ typecheck: !process.argv.includes("--no-check"), quiet: true }).then(
    (built) => {
      console.log("Partner Center card");
      console.log(`  manifest: ${relative(root, built.manifest)}`);
      console.log(`  bundle:   ${relative(root, built.bundle)} (${(built.bundleBytes / 1024).toFixed(1)} KB)`);
      console.log(`  strings:  ${relative(root, join(built.outDir, "strings"))}/`);
    },
    (error: unknown) => {
      console.error(`card build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

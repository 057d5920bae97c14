// Builds the form library: one minified JavaScript web resource, an IIFE that assigns the global
// `PartnerCenter`, for the browsers Dynamics 365 supports (ES2020).
//
//   node WebResources/build.ts    writes out/webresources/<prefix>_/scripts/partnercenter.form.js
import { statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { GLOBAL_NAME, WEB_RESOURCE_NAME } from "./src/names.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

/** The library may not grow past this: it loads with every opportunity form. */
export const MAX_LIBRARY_BYTES = 64 * 1024;

export interface WebResourcesBuild {
  /** The web resource's name in Dataverse (the path under outDir). */
  name: string;
  file: string;
  bytes: number;
}

export async function buildWebResources(options: { outDir?: string } = {}): Promise<WebResourcesBuild> {
  const outDir = options.outDir ?? join(root, "out", "webresources");
  const file = join(outDir, ...WEB_RESOURCE_NAME.split("/"));
  await build({
    entryPoints: [join(here, "src", "index.ts")],
    outfile: file,
    bundle: true,
    format: "iife",
    globalName: GLOBAL_NAME,
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "silent",
  });
  const bytes = statSync(file).size;
  if (bytes > MAX_LIBRARY_BYTES) throw new Error(`${WEB_RESOURCE_NAME} is ${bytes} bytes, more than ${MAX_LIBRARY_BYTES}`);
  return { name: WEB_RESOURCE_NAME, file, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWebResources().then(
    (built) => console.log(`form library ${built.name}: ${relative(root, built.file)} (${(built.bytes / 1024).toFixed(1)} KB)`),
    (error: unknown) => {
      console.error(`web resource build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

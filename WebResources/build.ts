// Builds the form library: one minified JavaScript web resource, an IIFE that assigns the global
// `PartnerCenter`, for the browsers Dynamics 365 supports (ES2020).
//
//   node WebResources/build.ts    writes out/webresources/<prefix>_/scripts/partnercenter.form.js
//                                 and the sign-in's scripts, <prefix>_/signin/msal.js and redirect.js
//                                 (redirect.html is plain HTML, kept in Solution/WebResources/)
import { statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Solution } from "../Core/generated/schema.ts";
import { SIGN_IN_FILES, SIGN_IN_FOLDER } from "../PcfControls/PartnerCenterCard/services/signIn.ts";
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
  /** The sign-in's scripts: msal-browser (loaded on demand) and the redirect page's bridge. */
  signIn: Array<{ name: string; file: string; bytes: number }>;
}

/** Names of the sign-in web resources built here. */
export const SIGN_IN_SCRIPTS = [
  { name: `${Solution.prefix}_/${SIGN_IN_FOLDER}/${SIGN_IN_FILES.msal}`, entry: "msal.ts" },
  { name: `${Solution.prefix}_/${SIGN_IN_FOLDER}/${SIGN_IN_FILES.redirectScript}`, entry: "redirect.ts" },
] as const;

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
  const signIn: WebResourcesBuild["signIn"] = [];
  for (const script of SIGN_IN_SCRIPTS) {
    const out = join(outDir, ...script.name.split("/"));
    await build({
      entryPoints: [join(here, "signin", script.entry)],
      outfile: out, bundle: true, format: "iife", platform: "browser", target: "es2020", minify: true, legalComments: "none", charset: "utf8", logLevel: "silent",
    });
    signIn.push({ name: script.name, file: out, bytes: statSync(out).size });
  }
  return { name: WEB_RESOURCE_NAME, file, bytes, signIn };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWebResources().then(
    (built) => {
      console.log(`form library ${built.name}: ${relative(root, built.file)} (${(built.bytes / 1024).toFixed(1)} KB)`);
      for (const script of built.signIn) console.log(`sign-in ${script.name}: ${relative(root, script.file)} (${(script.bytes / 1024).toFixed(1)} KB)`);
    },
    (error: unknown) => {
      console.error(`web resource build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

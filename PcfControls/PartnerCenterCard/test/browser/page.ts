// Puts together the page the browser test opens: the platform libraries as Dataverse exposes them to
// virtual controls (globals named by pcf-scripts' PlatformLibraryVersions.json: Reactv16 and
// FluentUIReactv940), the harness, and the real bundle.js from the production build. Also how Chromium
// is started and how the page is served to it, shared by the browser test and bench/card-render.ts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import type { BrowserContext, LaunchOptions } from "playwright-core";
import { loadStrings } from "../strings.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, "..", "..", "..", "..");
export const PAGE_DIR = join(REPO_ROOT, "out", "card-browser");
const require = createRequire(import.meta.url);

/** Debian's Chromium (apt-get install chromium); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** The page is served from the organisation's origin, as Dynamics serves the control. */
export const ORIGIN = "https://org.crm.test";

/** chromium.launch options: headless, offline-quiet, no GPU. */
export const launchOptions = (): LaunchOptions => ({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

interface LibraryAlias {
  libAlias: string;
  maxVersion: string;
}

/** The global names pcf-scripts compiles the bundle against (the externals of its webpack config). */
export function platformAliases(): { react: string; fluent: string } {
  const versions = JSON.parse(readFileSync(require.resolve("pcf-scripts/PlatformLibraryVersions.json"), "utf8")) as Record<string, LibraryAlias[]>;
  const react = versions.react!.find((v) => v.maxVersion.startsWith("16."))!.libAlias;
  const fluent = versions.fluent!.find((v) => v.maxVersion.startsWith("9."))!.libAlias;
  return { react, fluent };
}

/** react and react-dom inside the Fluent bundle resolve to the page's platform React, as on the platform. */
const platformReact = (aliases: { react: string }): Plugin => ({
  name: "platform-react",
  setup(builder) {
    builder.onResolve({ filter: /^react(-dom)?$/ }, (args) => ({ path: args.path, namespace: "platform" }));
    builder.onLoad({ filter: /.*/, namespace: "platform" }, (args) => ({
      contents: `module.exports = window.${args.path === "react" ? aliases.react : "ReactDOM"};`,
      loader: "js",
    }));
  },
});

export interface PreparedPage {
  /** path in the page → file on disk */
  files: Record<string, string>;
  html: string;
}

/**
 * `harness` is the script that plays the runtime (harness.ts by default), `dir` where the page's files
 * are written (PAGE_DIR by default): a test with another harness writes elsewhere, as tests run in parallel.
 */
export async function preparePage(bundlePath: string, options: { harness?: string; dir?: string } = {}): Promise<PreparedPage> {
  const pageDir = options.dir ?? PAGE_DIR;
  mkdirSync(pageDir, { recursive: true });
  const aliases = platformAliases();
  const fluentFile = join(pageDir, "fluent_9_68_0.js");
  await build({
    stdin: { contents: 'export * from "@fluentui/react-components";', resolveDir: REPO_ROOT, loader: "js" },
    bundle: true,
    format: "iife",
    globalName: aliases.fluent,
    minify: true,
    target: "chrome110",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [platformReact(aliases)],
    outfile: fluentFile,
    logLevel: "silent",
  });
  const harnessFile = join(pageDir, "harness.js");
  await build({
    entryPoints: [options.harness ?? join(here, "harness.ts")],
    bundle: true,
    format: "iife",
    target: "chrome110",
    outfile: harnessFile,
    logLevel: "silent",
  });
  const strings = JSON.stringify({ 1033: loadStrings(1033), 1043: loadStrings(1043) });
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Partner Center card</title>
<style>
  body { margin: 0; padding: 24px; background: #f3f2f1; font-family: 'Segoe UI', 'Liberation Sans', Arial, sans-serif; }
  .form-section { display: inline-block; background: #fff; border-radius: 4px; box-shadow: 0 1.6px 3.6px rgba(0,0,0,.13), 0 .3px .9px rgba(0,0,0,.11); padding: 4px; }
</style>
<script src="react.js"></script>
<script>window.${aliases.react} = window.React;</script>
<script src="react-dom.js"></script>
<script src="fluent_9_68_0.js"></script>
<script>window.cardStrings = ${strings};</script>
<script src="harness.js"></script>
<script src="bundle.js"></script>
</head>
<body>
<div class="form-section"><div id="card"></div></div>
</body>
</html>
`;
  writeFileSync(join(pageDir, "index.html"), html);
  return {
    html,
    files: {
      "index.html": join(pageDir, "index.html"),
      "react.js": require.resolve("react/umd/react.production.min.js"),
      "react-dom.js": require.resolve("react-dom/umd/react-dom.production.min.js"),
      "fluent_9_68_0.js": fluentFile,
      "harness.js": harnessFile,
      "bundle.js": bundlePath,
    },
  };
}

/**
 * Serves the prepared page's files at ORIGIN in this browser context and aborts every other request
 * except those under `allowed` (which the caller routes itself): the page works offline, like the test
 * machine.
 */
export async function servePage(context: BrowserContext, prepared: PreparedPage, allowed: string[] = []): Promise<void> {
  await context.route(`${ORIGIN}/**`, (route) => {
    const file = prepared.files[new URL(route.request().url()).pathname.slice(1)];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, contentType: file.endsWith(".html") ? "text/html" : "text/javascript", body: readFileSync(file) });
  });
  await context.route((url) => !url.href.startsWith(ORIGIN) && !allowed.some((prefix) => url.href.startsWith(prefix)), (route) => route.abort());
}

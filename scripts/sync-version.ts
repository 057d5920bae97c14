// Copies package.json's version into Solution/Other/Solution.xml as a four-part version.
// Runs from the npm `version` hook, so `npm version minor` keeps both in step.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toSolutionVersion } from "./solution/pack.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const file = join(root, "Solution", "Other", "Solution.xml");
const version = toSolutionVersion(pkg.version);
const xml = readFileSync(file, "utf8");
const updated = xml.replace(/(<SolutionManifest>[\s\S]*?<Version>)[^<]*(<\/Version>)/, `$1${version}$2`);
if (updated === xml) console.log(`Solution.xml already at ${version}`);
else {
  writeFileSync(file, updated);
  console.log(`Solution.xml set to ${version}`);
}

// npm run unpack:solution -- <zip> <folder>: unpacks a solution zip into the pac unpack layout,
// e.g. to compare an export from a real environment with Solution/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { unpackZip } from "./solution/unpack.ts";

const [zipPath, folder] = process.argv.slice(2);
if (!zipPath || !folder) {
  console.error("usage: npm run unpack:solution -- <solution.zip> <output folder>");
  process.exit(2);
}
const files = await unpackZip(readFileSync(zipPath), { managedFlag: "2" });
for (const file of files) {
  const target = join(folder, file.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
}
console.log(`unpacked ${files.length} files into ${folder}`);

// Unpacking a built zip gives back Solution/: the source is exactly what `pac solution unpack` would write.
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { buildZips, repoRoot } from "./helpers.ts";
import { unpackZip } from "../unpack.ts";
import { listFiles } from "../source.ts";
import { canonicalXml } from "../xml.ts";

test("unpacking the built unmanaged zip reproduces every file of Solution/", async () => {
  const zips = await buildZips();
  const unpacked = new Map((await unpackZip(zips.unmanagedBytes, { managedFlag: "2" })).map((f) => [f.path, f.content]));
  const solutionDir = join(repoRoot, "Solution");
  const sourceFiles = listFiles(solutionDir).map((f) => relative(solutionDir, f).split(sep).join("/"));
  // Built control files (bundle.js, ControlManifest.xml, resx) come from the card's build, as pac --map does;
  // built web resources from out/webresources, unless their file is kept in Solution/ (the sign-in's redirect page).
  const fromBuild = [...unpacked.keys()].filter((p) => (p.startsWith("Controls/") || p.startsWith("WebResources/")) && !p.endsWith(".data.xml") && !sourceFiles.includes(p));
  expect(fromBuild).toEqual(expect.arrayContaining([expect.stringMatching(/\/bundle\.js$/), expect.stringMatching(/\/ControlManifest\.xml$/)]));
  expect([...unpacked.keys()].filter((p) => !fromBuild.includes(p)).sort()).toEqual([...sourceFiles].sort());
  for (const path of sourceFiles) {
    const original = readFileSync(join(solutionDir, path));
    const back = unpacked.get(path)!;
    if (/\.(xml|resx)$/.test(path)) expect({ path, xml: canonicalXml(back.toString("utf8"), path) }).toEqual({ path, xml: canonicalXml(original.toString("utf8"), path) });
    else expect({ path, same: back.equals(original) }).toEqual({ path, same: true });
  }
});

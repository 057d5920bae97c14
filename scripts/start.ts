// npm start: builds everything and says where it is. Later issues grow this into
// "start the sandboxes and the relay on loopback" (see README.md).
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSolution } from "./build-solution.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = await buildSolution(root);
console.log(`Partner Center Referrals solution ${built.version} built:`);
console.log(`  managed:   ${relative(root, built.managed)}`);
console.log(`  unmanaged: ${relative(root, built.unmanaged)}`);
console.log("Import with: pac solution import --path dist/PartnerCenterReferrals_managed.zip");

// npm start: builds the solution, starts the three sandboxes (Entra ID, Partner Center, Dataverse)
// over HTTPS on loopback with seed data, writes .sandbox/endpoints.json, and runs until Ctrl+C.
// The relay joins here when it lands (README, Status).
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSolution } from "./build-solution.ts";
import { buildCard } from "../PcfControls/build.ts";
import { startSandboxes } from "../Sandbox/start.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await buildCard({ quiet: true, typecheck: false });
const built = await buildSolution(root);
console.log(`solution ${built.version}: ${relative(root, built.managed)}, ${relative(root, built.unmanaged)}`);

const started = Date.now();
const sandboxes = await startSandboxes({ root });
const { endpoints } = sandboxes;
console.log(`sandboxes up in ${Date.now() - started} ms`);
console.log(`  Entra ID        ${endpoints.identity}/${endpoints.tenantId}/v2.0/.well-known/openid-configuration`);
console.log(`  Partner Center  ${endpoints.partnerCenter}/v1.0/engagements/referrals`);
console.log(`  Dataverse       ${endpoints.dataverse}/api/data/v9.2/`);
console.log(`  trust           ${relative(root, endpoints.caFile)}`);
console.log(`  endpoints       ${relative(root, sandboxes.endpointsFile)}`);
console.log("Ctrl+C stops them.");

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await sandboxes.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

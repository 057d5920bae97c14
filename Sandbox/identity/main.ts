// Runs the identity sandbox on its own: node Sandbox/identity/main.ts
// State and certificates go under .sandbox/ as for the other sandboxes. PCR_SANDBOX_IDENTITY_PORT
// and PCR_SANDBOX_DATAVERSE_URL override the port (4703) and the Dataverse org URL (the Dataverse
// sandbox, https://127.0.0.1:4701).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSandboxCa } from "../shared/tls.ts";
import { DEFAULT_PORTS } from "../shared/demo-tenant.ts";
import { createIdentitySandbox } from "./server.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const port = Number(process.env.PCR_SANDBOX_IDENTITY_PORT ?? DEFAULT_PORTS.identity);
const ca = await ensureSandboxCa(join(root, ".sandbox", "tls"));
const app = await createIdentitySandbox({
  baseUrl: `https://127.0.0.1:${port}`,
  tls: ca.server,
  stateDir: join(root, ".sandbox", "identity"),
  dataverseUrl: process.env.PCR_SANDBOX_DATAVERSE_URL ?? `https://127.0.0.1:${DEFAULT_PORTS.dataverse}`,
  logger: process.env.PCR_SANDBOX_LOG === "1",
});
await app.listen({ host: "127.0.0.1", port });
console.log(`Identity sandbox on https://127.0.0.1:${port} (CA: ${ca.caFile}). Sign-in page: https://127.0.0.1:${port}/sandbox/device`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close());

// npm start: everything built and running locally in sandbox mode, on an embedded database.
//  1. builds the card and the solution zips;
//  2. starts the three sandboxes (Entra ID, Partner Center, Dataverse) over HTTPS on loopback, seeded;
//  3. signs the relay's Partner Center service account in once (device code; here the identity
//     sandbox plays the admin approving it, exactly where a person would approve it for real);
//  4. starts the relay (PGlite under .sandbox/relay) and runs `relay init` against the sandboxes;
//  5. writes .sandbox/endpoints.json (with the relay's URL) and runs until Ctrl+C.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { buildSolution } from "./build-solution.ts";
import { buildCard } from "../PcfControls/build.ts";
import { buildWebResources } from "../WebResources/build.ts";
import { startSandboxes } from "../Sandbox/start.ts";
import { DEMO_APPS, DEMO_USERS } from "../Sandbox/shared/demo-tenant.ts";
import { sandboxConfig } from "../Relay/src/config.ts";
import { openClients, startRelay } from "../Relay/src/relay.ts";
import { createLogger } from "../Relay/src/logger.ts";
import { runCli, terminalIo } from "../Relay/src/cli.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

await buildCard({ quiet: true, typecheck: false });
await buildWebResources();
const built = await buildSolution(root);
console.log(`solution ${built.version}: ${relative(root, built.managed)}, ${relative(root, built.unmanaged)}`);

const started = Date.now();
const sandboxes = await startSandboxes({ root });
const { endpoints, endpointsFile } = sandboxes;
console.log(`sandboxes up in ${Date.now() - started} ms`);

const config = sandboxConfig(endpointsFile);
const quiet = createLogger({ level: "warn" });
const agent = new Agent({ connect: { ca: readFileSync(endpoints.caFile, "utf8") } });

// The Partner Center service account signs in once; the encrypted sign-in stays in the relay's store.
const clients = await openClients(config, { log: quiet });
try {
  const status = await clients.signIn.status();
  if (!status.signedIn) {
    const account = await clients.signIn.signIn({
      onDeviceCode: (prompt) => {
        console.log(`relay login: ${prompt.message}`);
        void fetch(`${endpoints.identity}/sandbox/device/approve`, {
          method: "POST", dispatcher: agent, headers: { "content-type": "application/json" },
          body: JSON.stringify({ user_code: prompt.userCode, username: DEMO_USERS.referralsAdmin.username }),
        }).then((r) => console.log(`  approved in the identity sandbox as ${DEMO_USERS.referralsAdmin.username} (${r.status})`));
      },
    });
    console.log(`  signed in as ${account.username}`);
  }
} finally {
  await clients.close();
}

const relay = await startRelay(config);
const io = { ...terminalIo(), ask: undefined };
const initExit = await runCli(["init", "--sandbox", endpointsFile, "--yes", "--replace-webhook"], io);
if (initExit !== 0) console.log("relay init reported problems (above); the relay keeps running.");

// What the admin does once in the app registration: the status page's sign-in redirect URI (the relay's /ui/signin).
const redirect = await fetch(`${endpoints.identity}/sandbox/apps/${DEMO_APPS.cardSignIn.clientId}/redirect-uris`, {
  method: "POST", dispatcher: agent, headers: { "content-type": "application/json" },
  body: JSON.stringify({ redirectUri: `${relay.url}/ui/signin` }),
});
if (!redirect.ok) console.log(`the status page's sign-in redirect URI was not registered (${redirect.status}); sign in there with the step key.`);

writeFileSync(endpointsFile, JSON.stringify({ ...endpoints, relay: relay.url }, null, 2) + "\n");
console.log("");
console.log(`  Relay           ${relay.url}  (/healthz, /readyz, /metrics)`);
console.log(`  Status page     ${relay.url}/ui  (sign in as ${DEMO_USERS.referralsAdmin.username}, who holds Relay.Admin; break-glass: the step key in ${relative(root, join(dirname(endpointsFile), "relay-secrets.json"))})`);
console.log(`  Entra ID        ${endpoints.identity}/${endpoints.tenantId}/v2.0/.well-known/openid-configuration`);
console.log(`  Partner Center  ${endpoints.partnerCenter}/v1.0/engagements/referrals`);
console.log(`  Dataverse       ${endpoints.dataverse}/api/data/v9.2/`);
console.log(`  trust           ${relative(root, endpoints.caFile)}`);
console.log(`  endpoints       ${relative(root, endpointsFile)}`);
console.log("Ctrl+C stops everything.");

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await relay.close();
  await sandboxes.close();
  await agent.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

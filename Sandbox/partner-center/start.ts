// Starts the Partner Center sandbox on loopback with the repo's .sandbox/ CA and identity key, seeded with
// demo referrals. `npm start` can call startPartnerCenterSandbox(); run this file to start it alone:
//   node Sandbox/partner-center/start.ts
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_PORTS } from "../shared/demo-tenant.ts";
import { ensureSandboxCa } from "../shared/tls.ts";
import { createPartnerCenterSandbox, type PartnerCenterSandbox, type PartnerCenterSandboxOptions } from "./server.ts";

export interface StartOptions {
  /** Repository root; .sandbox/ lives under it. */
  root?: string;
  host?: string;
  port?: number;
  /** The identity sandbox's URL (token issuer). */
  identityBaseUrl?: string;
  seed?: boolean;
  logger?: boolean;
  /** Anything else the factory takes (delivery schedule, rules…). */
  overrides?: Partial<PartnerCenterSandboxOptions>;
}

export async function startPartnerCenterSandbox(options: StartOptions = {}): Promise<{ app: PartnerCenterSandbox; url: string; caFile: string }> {
  const root = options.root ?? resolve(fileURLToPath(new URL("../..", import.meta.url)));
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORTS.partnerCenter;
  const url = `https://${host}:${port}`;
  const ca = await ensureSandboxCa(join(root, ".sandbox", "tls"));
  const app = await createPartnerCenterSandbox({
    baseUrl: url,
    tls: ca.server,
    webhookSigning: ca.webhookSigning,
    caPem: ca.certPem,
    stateDir: join(root, ".sandbox", "partner-center"),
    identity: { baseUrl: options.identityBaseUrl ?? `https://127.0.0.1:${DEFAULT_PORTS.identity}`, signingKeyFile: join(root, ".sandbox", "identity", "signing-key.json") },
    logger: options.logger ?? false,
    seed: options.seed ?? true,
    ...options.overrides,
  });
  await app.listen({ host, port });
  return { app, url, caFile: ca.caFile };
}

if (import.meta.main) {
  const { app, url, caFile } = await startPartnerCenterSandbox({ logger: process.argv.includes("--log") });
  console.log(`Partner Center sandbox on ${url} (CA: ${caFile})`);
  console.log(`  referrals: ${url}/v1.0/engagements/referrals   webhooks: ${url}/webhooks/v1/registration   control: ${url}/sandbox/stats`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

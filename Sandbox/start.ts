// Starts the three sandboxes on loopback over HTTPS, seeds them, and writes .sandbox/endpoints.json:
// everything a script outside the project needs to call them as it would call the real services.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ensureSandboxCa } from "./shared/tls.ts";
import { DEFAULT_PORTS, DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE } from "./shared/demo-tenant.ts";
import { createIdentitySandbox } from "./identity/server.ts";
import { createPartnerCenterSandbox } from "./partner-center/server.ts";
import { createDataverseSandbox } from "./dataverse/server.ts";
import type { WebhookOptions } from "./dataverse/webhooks.ts";
import type { Limits } from "./dataverse/engine/limits.ts";

export interface SandboxEndpoints {
  relay: string | null;
  dataverse: string;
  partnerCenter: string;
  identity: string;
  caFile: string;
  tenantId: string;
  tokenEndpoint: string;
  dataverseScope: string;
  partnerCenterScope: string;
  clients: { script: { clientId: string; clientSecret: string } };
  users: Record<"seller" | "referralsAdmin", { username: string; password: string }>;
}

export interface RunningSandboxes {
  endpoints: SandboxEndpoints;
  endpointsFile: string;
  apps: { identity: FastifyInstance; partnerCenter: FastifyInstance; dataverse: FastifyInstance };
  close(): Promise<void>;
}

function port(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}=${value} is not a port number`);
  return n;
}

export interface StartOptions {
  /** Project root; state goes to <root>/.sandbox. */
  root: string;
  /** Ports; 0 picks free ones (tests). Defaults: environment variables, then 4701-4703. */
  ports?: { dataverse?: number; partnerCenter?: number; identity?: number };
  stateDir?: string;
  seed?: boolean;
  relayUrl?: string | null;
  /** The Dataverse sandbox's webhook deliveries (tests: `syncFailureMessage: "body"` passes a step's refusal on). */
  dataverseWebhooks?: WebhookOptions;
  /** The Dataverse sandbox's service protection limits (benchmarks: the documented rate over a shorter window). */
  dataverseLimits?: Partial<Limits>;
  /** More unpacked solutions the Dataverse sandbox loads after Solution/ (a customer's own customizations). */
  extraSolutionDirs?: readonly string[];
}

export async function startSandboxes(options: StartOptions): Promise<RunningSandboxes> {
  const stateDir = options.stateDir ?? join(options.root, ".sandbox");
  mkdirSync(stateDir, { recursive: true });
  const ca = await ensureSandboxCa(join(stateDir, "tls"));
  const ports = {
    identity: options.ports?.identity ?? port("PCR_SANDBOX_IDENTITY_PORT", DEFAULT_PORTS.identity),
    partnerCenter: options.ports?.partnerCenter ?? port("PCR_SANDBOX_PARTNER_CENTER_PORT", DEFAULT_PORTS.partnerCenter),
    dataverse: options.ports?.dataverse ?? port("PCR_SANDBOX_DATAVERSE_PORT", DEFAULT_PORTS.dataverse),
  };
  const tls = { certPem: ca.server.certPem, keyPem: ca.server.keyPem };
  const started: FastifyInstance[] = [];
  const listen = async (app: FastifyInstance, p: number): Promise<string> => {
    started.push(app);
    await app.listen({ port: p, host: "127.0.0.1" });
    const address = app.server.address();
    if (!address || typeof address === "string") throw new Error("sandbox did not bind a TCP port");
    return `https://127.0.0.1:${address.port}`;
  };

  try {
    // Identity first: the other two verify tokens with its signing key. Ports are bound before the
    // apps are built when a fixed port is asked, so base URLs are known up front.
    const identityUrl = `https://127.0.0.1:${ports.identity}`;
    const dataverseUrl = `https://127.0.0.1:${ports.dataverse}`;
    const partnerCenterUrl = `https://127.0.0.1:${ports.partnerCenter}`;
    if (ports.identity === 0 || ports.dataverse === 0 || ports.partnerCenter === 0) {
      throw new Error("startSandboxes needs fixed ports: pick free ones with freePorts() first");
    }
    const identityDir = join(stateDir, "identity");
    const identityOptions = { baseUrl: identityUrl, signingKeyFile: join(identityDir, "signing-key.json") };
    const identity = await createIdentitySandbox({ baseUrl: identityUrl, tls, stateDir: identityDir, dataverseUrl });
    await listen(identity, ports.identity);
    const partnerCenter = await createPartnerCenterSandbox({
      baseUrl: partnerCenterUrl, tls, webhookSigning: ca.webhookSigning, caPem: ca.certPem,
      stateDir: join(stateDir, "partner-center"), identity: identityOptions,
    });
    await listen(partnerCenter, ports.partnerCenter);
    const dataverse = await createDataverseSandbox({
      baseUrl: dataverseUrl, tls, caPem: ca.certPem, stateDir: join(stateDir, "dataverse"),
      solutionDir: join(options.root, "Solution"), identity: identityOptions,
      ...(options.extraSolutionDirs ? { extraSolutionDirs: options.extraSolutionDirs } : {}),
      ...(options.dataverseWebhooks ? { webhooks: options.dataverseWebhooks } : {}),
      ...(options.dataverseLimits ? { limits: options.dataverseLimits } : {}),
    });
    await listen(dataverse, ports.dataverse);

    if (options.seed !== false) {
      for (const [app, url] of [[dataverse, "/sandbox/seed"], [partnerCenter, "/sandbox/seed"]] as const) {
        const response = await app.inject({ method: "POST", url, remoteAddress: "127.0.0.1" });
        if (response.statusCode >= 300) throw new Error(`seeding ${url} failed: ${response.statusCode} ${response.body}`);
      }
    }

    const endpoints: SandboxEndpoints = {
      relay: options.relayUrl ?? null,
      dataverse: dataverseUrl,
      partnerCenter: partnerCenterUrl,
      identity: identityUrl,
      caFile: ca.caFile,
      tenantId: DEMO_TENANT_ID,
      tokenEndpoint: `${identityUrl}/${DEMO_TENANT_ID}/oauth2/v2.0/token`,
      dataverseScope: `${dataverseUrl}/.default`,
      partnerCenterScope: `${PARTNER_CENTER_RESOURCE}/.default`,
      clients: { script: { clientId: DEMO_APPS.script.clientId, clientSecret: DEMO_APPS.script.clientSecret } },
      users: {
        seller: { username: DEMO_USERS.seller.username, password: DEMO_USERS.seller.password },
        referralsAdmin: { username: DEMO_USERS.referralsAdmin.username, password: DEMO_USERS.referralsAdmin.password },
      },
    };
    const endpointsFile = join(stateDir, "endpoints.json");
    writeFileSync(endpointsFile, JSON.stringify(endpoints, null, 2) + "\n");
    return {
      endpoints,
      endpointsFile,
      apps: { identity, partnerCenter, dataverse },
      close: async () => {
        await Promise.allSettled(started.reverse().map((app) => app.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((app) => app.close()));
    throw error;
  }
}

/** Free loopback ports for tests that start several sandboxes side by side. */
export async function freePorts(count: number): Promise<number[]> {
  const { createServer } = await import("node:net");
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import("node:net").Server>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

// Test harness for the relay's Dataverse client: the sandboxes started in-process on free loopback
// ports over HTTPS (startSandboxes, as `npm start` runs them), or, when a test needs its own service
// protection limits, an identity and a Dataverse sandbox created directly. The relay signs in through
// its real MSAL token provider and trusts the sandbox CA by configuration only.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import type { Agent } from "undici";
import { startSandboxes, freePorts } from "../../../Sandbox/start.ts";
import { ensureSandboxCa } from "../../../Sandbox/shared/tls.ts";
import { DEMO_APPS, DEMO_TENANT_ID } from "../../../Sandbox/shared/demo-tenant.ts";
import { createIdentitySandbox } from "../../../Sandbox/identity/server.ts";
import { createDataverseSandbox } from "../../../Sandbox/dataverse/server.ts";
import type { Limits } from "../../../Sandbox/dataverse/engine/limits.ts";
import { DataverseTokenProvider } from "../../src/auth/dataverse-token.ts";
import { DataverseClient, type DataverseClientOptions } from "../../src/clients/dataverse.ts";
import { createAgent } from "../../src/http/agent.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface DataverseStats {
  requests: { total: number; byRoute: Record<string, number>; byStatus: Record<string, number> };
  webhooks: { delivered: number; failed: number };
  rows: Record<string, number>;
}

export interface TestEnvironment {
  orgUrl: string;
  identityUrl: string;
  caPem: string;
  dataverse: FastifyInstance;
  tokens: DataverseTokenProvider;
  agent: Agent;
  /** A client on the shared agent, signed in as the relay's application user. */
  client(options?: Partial<DataverseClientOptions>): DataverseClient;
  control(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stats(): Promise<DataverseStats>;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  /** Creates the Dataverse sandbox directly with these service protection limits. */
  limits?: Partial<Limits>;
}

export async function startEnvironment(options: EnvironmentOptions = {}): Promise<TestEnvironment> {
  const stateDir = mkdtempSync(join(tmpdir(), "pcr-relay-dataverse-"));
  let orgUrl: string;
  let identityUrl: string;
  let caPem: string;
  let dataverse: FastifyInstance;
  let closeSandboxes: () => Promise<void>;

  if (!options.limits) {
    const [identity, partnerCenter, dataversePort] = await freePorts(3);
    const running = await startSandboxes({ root: repoRoot, stateDir, ports: { identity, partnerCenter, dataverse: dataversePort } });
    orgUrl = running.endpoints.dataverse;
    identityUrl = running.endpoints.identity;
    caPem = readFileSync(running.endpoints.caFile, "utf8");
    dataverse = running.apps.dataverse;
    closeSandboxes = () => running.close();
  } else {
    const ca = await ensureSandboxCa(join(stateDir, "tls"));
    const tls = { certPem: ca.server.certPem, keyPem: ca.server.keyPem };
    const [identityPort, dataversePort] = await freePorts(2);
    identityUrl = `https://127.0.0.1:${identityPort}`;
    orgUrl = `https://127.0.0.1:${dataversePort}`;
    caPem = ca.certPem;
    const identityApp = await createIdentitySandbox({ baseUrl: identityUrl, tls, stateDir: join(stateDir, "identity"), dataverseUrl: orgUrl });
    await identityApp.listen({ port: identityPort!, host: "127.0.0.1" });
    dataverse = await createDataverseSandbox({
      baseUrl: orgUrl, tls, caPem, stateDir: join(stateDir, "dataverse"), solutionDir: join(repoRoot, "Solution"),
      identity: { baseUrl: identityUrl, signingKeyFile: join(stateDir, "identity", "signing-key.json") },
      limits: options.limits,
    });
    await dataverse.listen({ port: dataversePort!, host: "127.0.0.1" });
    await dataverse.inject({ method: "POST", url: "/sandbox/seed", remoteAddress: "127.0.0.1" });
    closeSandboxes = async () => {
      await dataverse.close();
      await identityApp.close();
    };
  }

  const tokens = new DataverseTokenProvider({
    orgUrl, tenant: DEMO_TENANT_ID, authorityHost: identityUrl, extraCaPem: caPem,
    clientId: DEMO_APPS.relayDataverse.clientId, clientSecret: DEMO_APPS.relayDataverse.clientSecret,
  });
  const agent = createAgent({ extraCaPem: caPem, connections: 8 });
  const clients: DataverseClient[] = [];

  const control = async (method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const response = await dataverse.inject({
      method, url: path, remoteAddress: "127.0.0.1",
      ...(body !== undefined ? { payload: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    });
    return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
  };

  return {
    orgUrl, identityUrl, caPem, dataverse, tokens, agent,
    client(overrides = {}) {
      const client = new DataverseClient({ orgUrl, getToken: tokens.getToken, agent, ...overrides });
      clients.push(client);
      return client;
    },
    control,
    stats: async () => (await control("GET", "/sandbox/stats")).body as DataverseStats,
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await agent.close();
      await tokens.close();
      await closeSandboxes();
    },
  };
}

/** How many requests a route saw between two stats snapshots. */
export function routeDelta(before: DataverseStats, after: DataverseStats, route: string): number {
  return (after.requests.byRoute[route] ?? 0) - (before.requests.byRoute[route] ?? 0);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

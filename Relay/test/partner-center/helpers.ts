// The three sandboxes started in-process on free loopback ports, called over real HTTPS trusting the
// sandbox CA the way the relay is configured to (createAgent's extra CA), plus small helpers: control
// calls, sandbox-only password-grant tokens, create bodies, and an HTTPS webhook receiver.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { request, type Agent } from "undici";
import { startSandboxes, freePorts, type RunningSandboxes, type SandboxEndpoints } from "../../../Sandbox/start.ts";
import { DEMO_APPS, DEMO_USERS, type DemoUser } from "../../../Sandbox/shared/demo-tenant.ts";
import { createAgent } from "../../src/http/agent.ts";
import { REFERRALS_RESOURCE, WEBHOOKS_RESOURCE, type NewReferral } from "../../src/clients/partner-center.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface Environment {
  running: RunningSandboxes;
  endpoints: SandboxEndpoints;
  caPem: string;
  /** The sandbox server certificate (127.0.0.1), for a local HTTPS webhook receiver. */
  serverTls: { cert: string; key: string };
  agent: Agent;
  referralsBaseUrl: string;
  webhooksBaseUrl: string;
  close(): Promise<void>;
}

export async function startEnvironment(options: { extraSolutionDirs?: readonly string[] } = {}): Promise<Environment> {
  const stateDir = mkdtempSync(join(tmpdir(), "pcr-relay-pc-"));
  const [identity, partnerCenter, dataverse] = await freePorts(3);
  const running = await startSandboxes({ root, stateDir, ports: { identity: identity!, partnerCenter: partnerCenter!, dataverse: dataverse! }, ...(options.extraSolutionDirs ? { extraSolutionDirs: options.extraSolutionDirs } : {}) });
  const caPem = readFileSync(running.endpoints.caFile, "utf8");
  const tlsDir = dirname(running.endpoints.caFile);
  const agent = createAgent({ extraCaPem: caPem });
  return {
    running,
    endpoints: running.endpoints,
    caPem,
    serverTls: { cert: readFileSync(join(tlsDir, "server.pem"), "utf8"), key: readFileSync(join(tlsDir, "server-key.pem"), "utf8") },
    agent,
    referralsBaseUrl: `${running.endpoints.partnerCenter}/v1.0/engagements/referrals`,
    webhooksBaseUrl: `${running.endpoints.partnerCenter}/webhooks/v1/registration`,
    close: async () => {
      await running.close();
      await agent.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** A call to a sandbox's /sandbox/ control API. */
export async function control<T = Record<string, unknown>>(env: Environment, service: "partnerCenter" | "identity", path: string, body?: unknown, method?: "GET" | "POST" | "DELETE"): Promise<Answer<T>> {
  const response = await request(`${env.endpoints[service]}${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    dispatcher: env.agent,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

export type RouteCounts = Record<string, Record<string, number>>;

/** The Partner Center sandbox's request counts by route and status. */
export async function routeCounts(env: Environment): Promise<RouteCounts> {
  const stats = await control<{ requests: { byRoute: RouteCounts } }>(env, "partnerCenter", "/sandbox/stats");
  return stats.body.requests.byRoute;
}

export async function clearStats(env: Environment): Promise<void> {
  await control(env, "partnerCenter", "/sandbox/stats", undefined, "DELETE");
}

export async function addFault(env: Environment, rule: Record<string, unknown> | Array<Record<string, unknown>>): Promise<void> {
  const answer = await control(env, "partnerCenter", "/sandbox/faults", rule);
  if (answer.status >= 300) throw new Error(`fault not accepted: ${answer.status} ${JSON.stringify(answer.body)}`);
}

export async function clearFaults(env: Environment): Promise<void> {
  await control(env, "partnerCenter", "/sandbox/faults", undefined, "DELETE");
}

async function token(env: Environment, form: Record<string, string>): Promise<string> {
  const response = await request(env.endpoints.tokenEndpoint, {
    method: "POST",
    body: new URLSearchParams(form).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    dispatcher: env.agent,
  });
  const body = (await response.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${body.error_description}`);
  return body.access_token;
}

/**
 * Tokens for the client tests without a device code sign-in: App+User through the sandbox's password
 * grant (a sandbox-only convenience of the `script` client; the relay never uses it) and app-only through
 * client credentials of the relay's Partner Center app. partner-center-signin.test.ts covers the real path.
 */
export function sandboxTokens(env: Environment, user: DemoUser = DEMO_USERS.referralsAdmin): (resource: string) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (resource) => {
    let pending = cache.get(resource);
    if (!pending) {
      if (resource === REFERRALS_RESOURCE) {
        pending = token(env, {
          grant_type: "password", client_id: DEMO_APPS.script.clientId, client_secret: DEMO_APPS.script.clientSecret,
          username: user.username, password: user.password, scope: `${REFERRALS_RESOURCE}/.default`,
        });
      } else if (resource === WEBHOOKS_RESOURCE) {
        pending = token(env, {
          grant_type: "client_credentials", client_id: DEMO_APPS.relayPartnerCenter.clientId, client_secret: DEMO_APPS.relayPartnerCenter.clientSecret,
          scope: `${WEBHOOKS_RESOURCE}/.default`,
        });
      } else {
        return Promise.reject(new Error(`unexpected resource ${resource}`));
      }
      cache.set(resource, pending);
    }
    return pending;
  };
}

/** A valid Private deal (partner-center-referrals.md §4.1). */
export function privateDeal(overrides: Partial<NewReferral> = {}): NewReferral {
  return {
    name: "Contoso test deal",
    type: "Independent",
    qualification: "SalesQualified",
    customerProfile: {
      name: "Contoso Customer Inc",
      address: { addressLine1: "One Microsoft Way", city: "Redmond", state: "WA", postalCode: "98052", country: "US" },
      team: [{ firstName: "Sue", lastName: "Smith", phoneNumber: "1234567890", email: "sue@contoso.example" }],
    },
    consent: { consentToContact: true, consentToToShareInfoWithOthers: true, consentToShareReferralWithMicrosoftSellers: false },
    details: { notes: "Supply chain on Dynamics 365", dealValue: 50000, currency: "USD", closingDateTime: "2027-11-14T00:00:00Z" },
    team: [{ firstName: "John", lastName: "Doe", phoneNumber: "1231231234", email: "john@contoso.example" }],
    target: [],
    ...overrides,
  };
}

export interface CapturedDelivery {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  event: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  deliveries: CapturedDelivery[];
  /** Resolves with the first delivery (arrived or to come) that `match` accepts. */
  next(match: (delivery: CapturedDelivery) => boolean, timeoutMs?: number): Promise<CapturedDelivery>;
  close(): Promise<void>;
}

/** A small HTTPS webhook receiver on 127.0.0.1 that keeps the raw body and headers of every POST. */
export async function startReceiver(tls: { cert: string; key: string }): Promise<Receiver> {
  const deliveries: CapturedDelivery[] = [];
  let wake: Array<() => void> = [];
  const server: Server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks);
      let event: Record<string, unknown> = {};
      try {
        event = JSON.parse(rawBody.toString("utf8")) as Record<string, unknown>;
      } catch {
        // kept raw
      }
      deliveries.push({ headers: req.headers, rawBody, event });
      res.statusCode = 200;
      res.end();
      const waiting = wake;
      wake = [];
      for (const fn of waiting) fn();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/partner-center/webhook`,
    deliveries,
    next: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching delivery in ${timeoutMs} ms (got ${deliveries.length})`)), timeoutMs);
        const check = () => {
          const found = deliveries.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else wake.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Test helpers: a sandbox on a fresh CA and identity key, tokens shaped like the identity sandbox's
// (App+User with and without MFA, app-only), and an HTTPS webhook receiver on loopback.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE, PARTNER_CENTER_WEBHOOKS_RESOURCE, type DemoUser } from "../../shared/demo-tenant.ts";
import { ensureSandboxCa, type SandboxCa } from "../../shared/tls.ts";
import { ensureSigningKey, issuerFor, signToken, type SigningKeySet } from "../../shared/tokens.ts";
import { createPartnerCenterSandbox, type PartnerCenterSandbox, type PartnerCenterSandboxOptions } from "../server.ts";

export const IDENTITY_BASE_URL = "https://127.0.0.1:4703";
export const REFERRALS = "/v1.0/engagements/referrals";
export const REGISTRATION = "/webhooks/v1/registration";

export interface TestEnvironment {
  dir: string;
  ca: SandboxCa;
  keys: SigningKeySet;
  signingKeyFile: string;
  cleanup: () => void;
}

/** A CA and identity signing key in a fresh temporary directory. */
export async function testEnvironment(): Promise<TestEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), "pc-sandbox-test-"));
  const ca = await ensureSandboxCa(join(dir, "tls"));
  const signingKeyFile = join(dir, "identity", "signing-key.json");
  const keys = await ensureSigningKey(signingKeyFile);
  return { dir, ca, keys, signingKeyFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function sandbox(env: TestEnvironment, options: Partial<PartnerCenterSandboxOptions> = {}): Promise<PartnerCenterSandbox> {
  return createPartnerCenterSandbox({
    baseUrl: "https://127.0.0.1:4702",
    tls: env.ca.server,
    webhookSigning: env.ca.webhookSigning,
    caPem: env.ca.certPem,
    stateDir: join(env.dir, "partner-center"),
    identity: { baseUrl: IDENTITY_BASE_URL, signingKeyFile: env.signingKeyFile },
    ...options,
  });
}

/** A port that was free a moment ago, so a sandbox can know its own URL before it listens. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TokenOptions {
  user?: DemoUser;
  appOnly?: boolean;
  mfa?: boolean;
  audience?: string;
  issuer?: string;
  lifetimeSeconds?: number;
  now?: number;
}

/** Mints a token as the identity sandbox would: App+User (device code, MFA) by default. */
export async function token(env: TestEnvironment, options: TokenOptions = {}): Promise<string> {
  const iss = options.issuer ?? issuerFor(IDENTITY_BASE_URL, DEMO_TENANT_ID);
  const app = DEMO_APPS.relayPartnerCenter;
  if (options.appOnly) {
    return signToken(
      env.keys,
      { iss, aud: options.audience ?? PARTNER_CENTER_WEBHOOKS_RESOURCE, tid: DEMO_TENANT_ID, sub: app.clientId, oid: "5e000000-0000-4000-8000-000000000002", azp: app.clientId, appid: app.clientId, idtyp: "app", roles: [] },
      options.lifetimeSeconds ?? 3600,
      options.now,
    );
  }
  const user = options.user ?? DEMO_USERS.referralsAdmin;
  return signToken(
    env.keys,
    {
      iss,
      aud: options.audience ?? PARTNER_CENTER_RESOURCE,
      tid: DEMO_TENANT_ID,
      sub: `sub-${user.oid}`,
      oid: user.oid,
      name: user.displayName,
      preferred_username: user.username,
      upn: user.username,
      scp: "user_impersonation",
      azp: app.clientId,
      appid: app.clientId,
      idtyp: "user",
      amr: options.mfa === false ? ["pwd"] : ["pwd", "mfa"],
    },
    options.lifetimeSeconds ?? 3600,
    options.now,
  );
}

export const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

/** JSON body of an inject response. */
export function json<T = Record<string, unknown>>(response: { body: string }): T {
  return JSON.parse(response.body) as T;
}

/** A minimal valid create body (Private deal, docs §4.1 example). */
export function privateDeal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "Contoso Test Deal - [Private]",
    qualification: "SalesQualified",
    type: "Independent",
    customerProfile: {
      name: "Contoso Customer Inc",
      address: { addressLine1: "One Microsoft Way", city: "Redmond", state: "WA", postalCode: "98052", country: "US" },
      size: "10to50employees",
      team: [{ firstName: "Sue", lastName: "Smith", phoneNumber: "1234567890", email: "sue@contoso.example" }],
    },
    consent: { ConsentToToShareInfoWithOthers: true, ConsentToContact: true, consentToShareReferralWithMicrosoftSellers: false },
    details: { notes: "Supply chain on Dynamics 365", dealValue: 50000, currency: "USD", closingDateTime: "2027-11-14T00:00:00Z" },
    team: [{ firstName: "John", lastName: "Doe", phoneNumber: "1231231234", email: "john@contoso.example" }],
    target: [],
    ...overrides,
  };
}

/** A co-sell create body (help requested, visible, a solution and a customer contact). */
export function coSellDeal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return privateDeal({
    name: "Fabrikam migration",
    type: "Shared",
    externalReferenceId: "CRM-OPP-0042",
    consent: { consentToToShareInfoWithOthers: true, consentToContact: true, consentToShareReferralWithMicrosoftSellers: true },
    details: { dealValue: 120000, currency: "USD", closingDateTime: "2027-03-31T00:00:00Z", notes: "Need architecture help", requirements: { solutions: [{ id: "SOL-34104-EBB", type: "Name" }] } },
    inviteContext: { assistanceRequestCode: "CustomerTechnicalArchitecture", notes: "Please engage the account team" },
    target: [{ type: "SolutionProfile", id: "SOL-34104-EBB" }],
    ...overrides,
  });
}

export interface ReceivedDelivery {
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  body: Record<string, unknown>;
  at: number;
}

export interface Receiver {
  url: string;
  received: ReceivedDelivery[];
  /** Status codes to answer with, in order; then `defaultStatus`. */
  respond: number[];
  defaultStatus: number;
  waitFor: (count: number, timeoutMs?: number) => Promise<ReceivedDelivery[]>;
  close: () => Promise<void>;
}

/** An HTTPS webhook receiver on 127.0.0.1 with the sandbox server certificate. */
export async function receiver(env: TestEnvironment, path = "/pc/callback"): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  let waiters: Array<() => void> = [];
  const state: Pick<Receiver, "respond" | "defaultStatus"> = { respond: [], defaultStatus: 200 };
  const server: Server = createHttpsServer({ cert: env.ca.server.certPem, key: env.ca.server.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString("utf8")) as Record<string, unknown>, at: Date.now() });
      res.statusCode = state.respond.shift() ?? state.defaultStatus;
      res.end();
      const current = waiters;
      waiters = [];
      for (const wake of current) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const result: Receiver = {
    url: `https://127.0.0.1:${port}${path}`,
    received,
    get respond() {
      return state.respond;
    },
    set respond(value: number[]) {
      state.respond = value;
    },
    get defaultStatus() {
      return state.defaultStatus;
    },
    set defaultStatus(value: number) {
      state.defaultStatus = value;
    },
    waitFor: (count, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} deliveries, got ${received.length}`)), timeoutMs);
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received.slice());
          } else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return result;
}

/** GET over real HTTPS trusting the sandbox CA only. */
export async function httpsGet(url: string, caPem: string): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  try {
    const response = await request(url, { dispatcher });
    return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()), headers: response.headers };
  } finally {
    await dispatcher.close();
  }
}

/** Registers `url` for every referral event plus test-created (app-only token, as the relay does). */
export async function register(app: PartnerCenterSandbox, env: TestEnvironment, url: string, extra: Record<string, unknown> = {}): Promise<void> {
  const response = await app.inject({
    method: "POST",
    url: REGISTRATION,
    headers: { ...bearer(await token(env, { appOnly: true })), "content-type": "application/json" },
    payload: { WebhookUrl: url, WebhookEvents: ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated", "test-created"], ...extra },
  });
  if (response.statusCode !== 200) throw new Error(`registration failed: ${response.statusCode} ${response.body}`);
}

// Starting the identity sandbox on a free loopback port and calling it over real HTTPS, trusting the
// sandbox CA the way clients do (undici's connect.ca), never by turning TLS checks off.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, type JWTPayload } from "jose";
import { Agent, request } from "undici";
import { ensureSandboxCa, type SandboxCa } from "../../shared/tls.ts";
import { DEMO_TENANT_ID } from "../../shared/demo-tenant.ts";
import { createTokenVerifier, issuerFor, type TokenVerifier } from "../../shared/tokens.ts";
import { createIdentitySandbox, type IdentitySandbox, type IdentitySandboxOptions } from "../server.ts";

/** The Dataverse organisation URL the tests configure (the Dataverse sandbox's default). */
export const DATAVERSE_URL = "https://127.0.0.1:4701";

export type Json = Record<string, unknown>;

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or {} when it is not JSON. */
  json: Json;
}

export interface CallOptions {
  method?: "GET" | "POST";
  form?: Record<string, string | undefined>;
  json?: unknown;
  headers?: Record<string, string>;
  body?: string;
}

export async function call(agent: Agent, url: string, options: CallOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.body;
  if (options.form) {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(options.form)) if (value !== undefined) form.append(name, value);
    body = form.toString();
    headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const method = options.method ?? (body === undefined ? "GET" : "POST");
  const response = await request(url, { method, headers, body, dispatcher: agent });
  const text = await response.body.text();
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON (HTML page, empty body)
  }
  return { status: response.statusCode, headers: flat, text, json };
}

// Temporary directories live until the test file is done (restart tests reuse a state directory).
// This module is loaded by each test file, so the hook lands at the top level of that file.
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

let ca: Promise<SandboxCa> | undefined;

/** One CA per test file, in a temporary directory (test files run in parallel workers). */
export function testCa(): Promise<SandboxCa> {
  ca ??= ensureSandboxCa(temporaryDir("identity-sandbox-tls-"));
  return ca;
}

export function tempStateDir(): string {
  return temporaryDir("identity-sandbox-state-");
}

export interface RunningIdentity {
  app: IdentitySandbox;
  ca: SandboxCa;
  agent: Agent;
  stateDir: string;
  baseUrl: string;
  /** `${baseUrl}/${DEMO_TENANT_ID}` */
  tenantUrl: string;
  issuer: string;
  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  post(path: string, form: Record<string, string | undefined>, headers?: Record<string, string>): Promise<HttpAnswer>;
  control(path: string, json?: unknown): Promise<HttpAnswer>;
  /** Requests to the Entra ID API so far, by "METHOD /route" and status. */
  stats(): Promise<{ total: number; routes: Record<string, Record<string, number>> }>;
  /** A verifier for tokens of `audience`, fed with the JWKS the sandbox serves. */
  verifier(audience: string): Promise<TokenVerifier>;
  close(): Promise<void>;
}

export async function startIdentity(overrides: Partial<IdentitySandboxOptions> = {}): Promise<RunningIdentity> {
  const sandboxCa = await testCa();
  const stateDir = overrides.stateDir ?? tempStateDir();
  const app = await createIdentitySandbox({
    baseUrl: "https://127.0.0.1:0",
    tls: sandboxCa.server,
    stateDir,
    dataverseUrl: DATAVERSE_URL,
    ...overrides,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const baseUrl = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const agent = new Agent({ connect: { ca: sandboxCa.certPem } });
  const running: RunningIdentity = {
    app,
    ca: sandboxCa,
    agent,
    stateDir,
    baseUrl,
    tenantUrl: `${baseUrl}/${DEMO_TENANT_ID}`,
    issuer: issuerFor(baseUrl, DEMO_TENANT_ID),
    get: (path, headers) => call(agent, `${baseUrl}${path}`, { method: "GET", ...(headers ? { headers } : {}) }),
    post: (path, form, headers) => call(agent, `${baseUrl}${path}`, { form, ...(headers ? { headers } : {}) }),
    control: (path, json) => call(agent, `${baseUrl}${path}`, json === undefined ? { method: "POST" } : { json }),
    stats: async () => (await call(agent, `${baseUrl}/sandbox/stats`)).json as { total: number; routes: Record<string, Record<string, number>> },
    verifier: async (audience) => {
      const jwks = (await call(agent, `${baseUrl}/${DEMO_TENANT_ID}/discovery/v2.0/keys`)).json as unknown as Parameters<typeof createTokenVerifier>[0]["jwks"];
      return createTokenVerifier({ jwks, issuer: issuerFor(baseUrl, DEMO_TENANT_ID), audience });
    },
    close: async () => {
      await agent.close();
      await app.close();
    },
  };
  return running;
}

export function claimsOf(token: unknown): JWTPayload & Json {
  return decodeJwt(String(token)) as JWTPayload & Json;
}

/** Asserts an answer is an Entra ID error: status, `error`, `AADSTSnnnn: …` description, ids and timestamp. */
export function expectEntraError(answer: HttpAnswer, status: number, error: string, code: number): void {
  expect({ status: answer.status, error: answer.json.error, error_codes: answer.json.error_codes }).toEqual({ status, error, error_codes: [code] });
  expect(answer.headers["content-type"]).toMatch(/^application\/json; charset=utf-8/);
  const description = String(answer.json.error_description);
  expect(description).toMatch(new RegExp(`^AADSTS${code}: `));
  expect(description).toContain(`\r\nTrace ID: ${String(answer.json.trace_id)}\r\nCorrelation ID: ${String(answer.json.correlation_id)}\r\nTimestamp: ${String(answer.json.timestamp)}`);
  expect(answer.json.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  expect(answer.json.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(answer.json.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

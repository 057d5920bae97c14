// Test harness: a Dataverse sandbox with its own CA and identity signing key in a temporary folder,
// tokens minted the way the identity sandbox mints them, requests through fastify inject, and a small
// webhook receiver on loopback.
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { ensureSandboxCa, type SandboxCa } from "../../shared/tls.ts";
import { ensureSigningKey, issuerFor, signToken, type SigningKeySet } from "../../shared/tokens.ts";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../shared/demo-tenant.ts";
import { createDataverseSandbox, type DataverseSandboxOptions } from "../server.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const solutionDir = join(repoRoot, "Solution");
export const ORG_URL = "https://127.0.0.1:4701";
export const IDENTITY_URL = "https://127.0.0.1:4703";
export const API = "/api/data/v9.2";

export type Who = "seller" | "referralsAdmin" | "noReferralRole" | "relay" | "script";

export interface ApiResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  as?: Who | null;
}

export interface TestSandbox {
  app: FastifyInstance;
  ca: SandboxCa;
  keys: SigningKeySet;
  dir: string;
  token(who: Who, claims?: Record<string, unknown>, lifetimeSeconds?: number): Promise<string>;
  api(method: string, path: string, options?: RequestOptions): Promise<ApiResult>;
  control(method: string, path: string, body?: unknown): Promise<ApiResult>;
  close(): Promise<void>;
}

let sharedCa: { dir: string; ca: SandboxCa } | undefined;

/** One CA per test file (key generation is slow); each sandbox gets its own state folder. */
export async function testCa(): Promise<{ dir: string; ca: SandboxCa }> {
  if (!sharedCa) {
    const dir = mkdtempSync(join(tmpdir(), "pcr-dataverse-"));
    sharedCa = { dir, ca: await ensureSandboxCa(join(dir, "tls")) };
  }
  return sharedCa;
}

function parse(text: string, contentType: string | undefined): unknown {
  if (!text || !/json/.test(contentType ?? "")) return text;
  return JSON.parse(text);
}

export async function startSandbox(options: Partial<DataverseSandboxOptions> = {}): Promise<TestSandbox> {
  const { dir: root, ca } = await testCa();
  const dir = mkdtempSync(join(root, "state-"));
  const signingKeyFile = join(root, "identity", "signing-key.json");
  const app = await createDataverseSandbox({
    baseUrl: ORG_URL,
    tls: { certPem: ca.server.certPem, keyPem: ca.server.keyPem },
    caPem: ca.certPem,
    stateDir: dir,
    solutionDir,
    identity: { baseUrl: IDENTITY_URL, signingKeyFile },
    webhooks: { retryDelayMs: 10, timeoutMs: 5000 },
    ...options,
  });
  const keys = await ensureSigningKey(signingKeyFile);
  const tokens = new Map<string, string>();

  const token = async (who: Who, claims: Record<string, unknown> = {}, lifetimeSeconds = 3600): Promise<string> => {
    const cacheKey = `${who}:${JSON.stringify(claims)}:${lifetimeSeconds}`;
    const cached = tokens.get(cacheKey);
    if (cached) return cached;
    const iss = issuerFor(IDENTITY_URL, DEMO_TENANT_ID);
    let minted: string;
    if (who === "relay" || who === "script") {
      const app = who === "relay" ? DEMO_APPS.relayDataverse : DEMO_APPS.script;
      minted = await signToken(keys, { iss, aud: ORG_URL, appid: app.clientId, azp: app.clientId, idtyp: "app", oid: "0a0a0a0a-0000-4000-8000-000000000001", tid: DEMO_TENANT_ID, ...claims }, lifetimeSeconds);
    } else {
      const user = DEMO_USERS[who];
      minted = await signToken(keys, { iss, aud: ORG_URL, oid: user.oid, upn: user.username, scp: "user_impersonation", azp: DEMO_APPS.script.clientId, tid: DEMO_TENANT_ID, ...claims }, lifetimeSeconds);
    }
    tokens.set(cacheKey, minted);
    return minted;
  };

  const api = async (method: string, path: string, request: RequestOptions = {}): Promise<ApiResult> => {
    const headers: Record<string, string> = { accept: "application/json", "odata-maxversion": "4.0", "odata-version": "4.0", ...request.headers };
    const who = request.as === undefined ? "relay" : request.as;
    if (who) headers.authorization = `Bearer ${await token(who)}`;
    let payload: string | undefined = request.raw;
    if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers["content-type"] ??= "application/json";
    }
    const relative = path.replace(/^https?:\/\/[^/]+/, "");
    const response = await app.inject({ method: method as "GET", url: relative.startsWith("/") ? relative : `${API}/${relative}`, headers, ...(payload !== undefined ? { payload } : {}) });
    const contentType = response.headers["content-type"] as string | undefined;
    return { status: response.statusCode, headers: response.headers as ApiResult["headers"], text: response.body, body: parse(response.body, contentType) };
  };

  const control = async (method: string, path: string, body?: unknown): Promise<ApiResult> => {
    const response = await app.inject({ method: method as "GET", url: path, remoteAddress: "127.0.0.1", ...(body !== undefined ? { payload: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}) });
    return { status: response.statusCode, headers: response.headers as ApiResult["headers"], text: response.body, body: parse(response.body, response.headers["content-type"] as string) };
  };

  return { app, ca, keys, dir, token, api, control, close: () => app.close() };
}

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with (per call), default 200. */
  respond: (request: Received) => number | { status: number; body?: string; delayMs?: number };
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A webhook endpoint on loopback: plain HTTP, or HTTPS with the sandbox CA's server certificate. */
export async function startReceiver(tls?: { certPem: string; keyPem: string }): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: "",
    received,
    respond: () => 200,
    async waitFor(count, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} webhook deliveries, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return received;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const entry: Received = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, text, body };
      received.push(entry);
      const answer = receiver.respond(entry);
      const { status, body: answerBody, delayMs } = typeof answer === "number" ? { status: answer, body: undefined, delayMs: 0 } : answer;
      setTimeout(() => {
        response.writeHead(status, { "content-type": "text/plain" });
        response.end(answerBody ?? "");
      }, delayMs ?? 0);
    });
  };
  const server: Server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** Value of one key in a DataContract [{key, value}] list. */
export function kv(list: Array<{ key: string; value: unknown }> | undefined, key: string): unknown {
  return list?.find((e) => e.key === key)?.value;
}

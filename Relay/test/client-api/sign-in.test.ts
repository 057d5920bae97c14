// GET /api/sign-in: what the card and the form scripts need to sign a seller in with msal-browser, so
// that the admin sets only the Relay URL in Dynamics. Public (it is how a token is got), CORS-limited to
// the org like the other client API routes, in the OpenAPI description; and its settings in the config.
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { ConfigError, loadConfig, SETTINGS } from "../../src/config.ts";
import { signInSettings } from "../../src/client-api/sign-in.ts";
import { clientApiRoutes, type ClientApiServices } from "../../src/routes/client-api.ts";

const ORG = "https://contoso.crm4.dynamics.com";
const TENANT = "7d3f2c1b-5a4e-4f6d-8c9b-0a1e2f3d4c5b";
const API_APP = "b1c2d3e4-0004-4a5b-8c7d-9e0f1a2b3c4d";
const SPA_APP = "b1c2d3e4-0005-4a5b-8c7d-9e0f1a2b3c4d";

const ENV = {
  PCR_DATAVERSE_URL: ORG,
  PCR_TENANT_ID: TENANT,
  PCR_DATAVERSE_CLIENT_ID: "b1c2d3e4-0001-4a5b-8c7d-9e0f1a2b3c4d",
  PCR_DATAVERSE_CLIENT_SECRET: "dv-secret",
  PCR_PARTNER_CENTER_CLIENT_ID: "b1c2d3e4-0002-4a5b-8c7d-9e0f1a2b3c4d",
  PCR_PARTNER_CENTER_CLIENT_SECRET: "pc-secret",
  PCR_TOKEN_CACHE_KEY: randomBytes(32).toString("base64"),
  PCR_STEP_KEY: "s".repeat(40),
  PCR_PUBLIC_URL: "https://relay.contoso.example",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("PCR_API_SPA_CLIENT_ID", () => {
  test("defaults to the API's own app id: one registration may expose the API and sign in to it", () => {
    expect(loadConfig({ ...ENV, PCR_API_AUDIENCE: `api://${API_APP.toUpperCase()}` }).clientApi.spaClientId).toBe(API_APP);
    expect(loadConfig({ ...ENV, PCR_API_AUDIENCE: API_APP }).clientApi.spaClientId).toBe(API_APP);
    expect(loadConfig({ ...ENV, PCR_API_AUDIENCE: `api://${API_APP}`, PCR_API_SPA_CLIENT_ID: SPA_APP }).clientApi.spaClientId).toBe(SPA_APP);
    expect(loadConfig(ENV).clientApi.spaClientId).toBeUndefined();
    expect(SETTINGS.find((s) => s.env === "PCR_API_SPA_CLIENT_ID")?.what).toContain("redirect.html");
  });

  test("a wrong value, or an API URI that names no app id to default to, is named with what to set", () => {
    expect(problems({ ...ENV, PCR_API_AUDIENCE: `api://${API_APP}`, PCR_API_SPA_CLIENT_ID: "card-app" })).toEqual([
      expect.stringMatching(/^PCR_API_SPA_CLIENT_ID is not a GUID: expected application \(client\) id of the single-page app registration/),
    ]);
    expect(problems({ ...ENV, PCR_API_AUDIENCE: "https://relay.contoso.example/api" })).toEqual([
      expect.stringMatching(/^PCR_API_SPA_CLIENT_ID is not set, and PCR_API_AUDIENCE \(https:\/\/relay\.contoso\.example\/api\) names no app id to default to/),
    ]);
  });
});

test("the settings: the tenant's authority, the SPA app, the API's user_impersonation scope on its Application ID URI", () => {
  const expected = { authority: `https://login.microsoftonline.com/${TENANT}`, clientId: SPA_APP, scopes: [`api://${API_APP}/user_impersonation`], knownAuthorities: ["login.microsoftonline.com"] };
  expect(signInSettings({ authorityHost: "https://login.microsoftonline.com/", tenantId: TENANT, audience: `api://${API_APP}`, spaClientId: SPA_APP })).toEqual(expected);
  expect(signInSettings({ authorityHost: "https://login.microsoftonline.com", tenantId: TENANT, audience: API_APP, spaClientId: SPA_APP })).toEqual(expected);
  expect(signInSettings({ authorityHost: "https://127.0.0.1:4703", tenantId: TENANT, audience: "https://relay.contoso.example/api", spaClientId: SPA_APP }))
    .toMatchObject({ authority: `https://127.0.0.1:4703/${TENANT}`, scopes: ["https://relay.contoso.example/api/user_impersonation"], knownAuthorities: ["127.0.0.1:4703"] });
});

describe("GET /api/sign-in", () => {
  const settings = signInSettings({ authorityHost: "https://login.microsoftonline.com", tenantId: TENANT, audience: `api://${API_APP}`, spaClientId: SPA_APP });
  let on: FastifyInstance;
  let off: FastifyInstance;

  async function app(services: Partial<ClientApiServices>): Promise<FastifyInstance> {
    const instance = Fastify();
    const unused = undefined as never;
    await instance.register(async (api) => clientApiRoutes(api, {
      tenantId: "default", db: unused, engine: unused, dataverse: unused, dv: unused, partnerCenter: unused, allowedOrigins: [ORG], tokens: undefined, ...services,
    }));
    await instance.ready();
    return instance;
  }

  beforeAll(async () => {
    on = await app({ tokens: { verify: () => Promise.reject(new Error("no token is needed here")) }, signIn: settings });
    off = await app({});
  });
  afterAll(async () => {
    await on.close();
    await off.close();
  });

  test("needs no token, and answers the org's origin with CORS", async () => {
    const reply = await on.inject({ method: "GET", url: "/api/sign-in", headers: { origin: ORG } });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual(settings);
    expect(reply.headers["access-control-allow-origin"]).toBe(ORG);
  });

  test("another origin is refused, as for every client API route", async () => {
    const reply = await on.inject({ method: "GET", url: "/api/sign-in", headers: { origin: "https://evil.example" } });
    expect(reply.statusCode).toBe(403);
    expect(reply.json()).toEqual({ error: { code: "origin-not-allowed", message: expect.any(String) } });
  });

  test("a relay whose client API is off says so (503)", async () => {
    const reply = await off.inject({ method: "GET", url: "/api/sign-in", headers: { origin: ORG } });
    expect(reply.statusCode).toBe(503);
    expect(reply.json().error).toEqual({ code: "client-api-off", message: expect.stringContaining("PCR_API_AUDIENCE") });
  });

  test("is in the OpenAPI description, without a security requirement", async () => {
    const document = (await on.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const route = document.paths["/api/sign-in"].get;
    expect(route).toMatchObject({ summary: "How to sign in for the client API", tags: ["sign-in"] });
    expect(route.security).toBeUndefined();
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(["200", "403", "503"]));
  });
});

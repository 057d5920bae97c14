// End to end over HTTPS: tokens from the identity sandbox's token endpoint (client credentials for the
// relay's application user, password grant for the seller) are accepted by the Dataverse sandbox.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import type { FastifyInstance } from "fastify";
import { createIdentitySandbox } from "../../identity/server.ts";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../shared/demo-tenant.ts";
import { createDataverseSandbox } from "../server.ts";
import { solutionDir, testCa } from "./helpers.ts";

let identity: FastifyInstance;
let dataverse: FastifyInstance;
let agent: Agent;
let identityUrl: string;
let dataverseUrl: string;

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const { dir, ca } = await testCa();
  const state = mkdtempSync(join(dir, "e2e-"));
  const tls = { certPem: ca.server.certPem, keyPem: ca.server.keyPem };
  const [identityPort, dataversePort] = [await freePort(), await freePort()];
  identityUrl = `https://127.0.0.1:${identityPort}`;
  dataverseUrl = `https://127.0.0.1:${dataversePort}`;
  identity = await createIdentitySandbox({ baseUrl: identityUrl, tls, stateDir: join(state, "identity"), dataverseUrl });
  await identity.listen({ port: identityPort, host: "127.0.0.1" });
  dataverse = await createDataverseSandbox({
    baseUrl: dataverseUrl, tls, caPem: ca.certPem, stateDir: join(state, "dataverse"), solutionDir,
    identity: { baseUrl: identityUrl, signingKeyFile: join(state, "identity", "signing-key.json") },
  });
  await dataverse.listen({ port: dataversePort, host: "127.0.0.1" });
  agent = new Agent({ connect: { ca: ca.certPem } });
});

afterAll(async () => {
  await agent?.close();
  await dataverse?.close();
  await identity?.close();
});

async function token(form: Record<string, string>): Promise<string> {
  const res = await request(`${identityUrl}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
    method: "POST", dispatcher: agent, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString(),
  });
  const body = (await res.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${res.statusCode} ${body.error_description}`);
  return body.access_token;
}

async function whoAmI(accessToken: string): Promise<{ status: number; body: { UserId: string } }> {
  const res = await request(`${dataverseUrl}/api/data/v9.2/WhoAmI`, { dispatcher: agent, headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" } });
  return { status: res.statusCode, body: (await res.body.json()) as { UserId: string } };
}

test("the relay's client-credentials token maps to its application user; the seller's to the seller", async () => {
  const relay = await token({ grant_type: "client_credentials", client_id: DEMO_APPS.relayDataverse.clientId, client_secret: DEMO_APPS.relayDataverse.clientSecret, scope: `${dataverseUrl}/.default` });
  const relayWho = await whoAmI(relay);
  expect(relayWho.status).toBe(200);
  const seller = await token({ grant_type: "password", client_id: DEMO_APPS.script.clientId, client_secret: DEMO_APPS.script.clientSecret, username: DEMO_USERS.seller.username, password: DEMO_USERS.seller.password, scope: `${dataverseUrl}/user_impersonation` });
  const sellerWho = await whoAmI(seller);
  expect(sellerWho.status).toBe(200);
  expect(sellerWho.body.UserId).not.toBe(relayWho.body.UserId);
  const user = await request(`${dataverseUrl}/api/data/v9.2/systemusers(${relayWho.body.UserId})?$select=applicationid`, { dispatcher: agent, headers: { authorization: `Bearer ${relay}` } });
  expect(((await user.body.json()) as { applicationid: string }).applicationid).toBe(DEMO_APPS.relayDataverse.clientId);
});

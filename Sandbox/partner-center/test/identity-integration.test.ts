// Tokens from the identity sandbox itself (not minted here) are accepted and refused as the docs say.
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Agent, request } from "undici";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE, PARTNER_CENTER_WEBHOOKS_RESOURCE } from "../../shared/demo-tenant.ts";
import { createIdentitySandbox } from "../../identity/server.ts";
import type { PartnerCenterSandbox } from "../server.ts";
import { REFERRALS, REGISTRATION, bearer, sandbox, testEnvironment, type TestEnvironment } from "./helpers.ts";

let env: TestEnvironment;
let identity: Awaited<ReturnType<typeof createIdentitySandbox>>;
let identityUrl: string;
let app: PartnerCenterSandbox;
let agent: Agent;

beforeAll(async () => {
  env = await testEnvironment();
  const stateDir = join(env.dir, "identity-sandbox");
  identity = await createIdentitySandbox({ baseUrl: "https://127.0.0.1:0", tls: env.ca.server, stateDir, dataverseUrl: "https://127.0.0.1:4701" });
  await identity.listen({ host: "127.0.0.1", port: 0 });
  identityUrl = `https://127.0.0.1:${(identity.server.address() as AddressInfo).port}`;
  app = await sandbox(env, { identity: { baseUrl: identityUrl, signingKeyFile: join(stateDir, "signing-key.json") }, seed: true });
  agent = new Agent({ connect: { ca: env.ca.certPem } });
});
afterAll(async () => {
  await app.close();
  await identity.close();
  await agent.close();
  env.cleanup();
});

async function tokenFor(form: Record<string, string>): Promise<string> {
  const response = await request(`${identityUrl}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.body.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

const userToken = (username: string, password: string, resource: string) =>
  tokenFor({ grant_type: "password", client_id: DEMO_APPS.script.clientId, client_secret: DEMO_APPS.script.clientSecret, username, password, scope: `${resource}/.default` });
const appToken = (resource: string) =>
  tokenFor({ grant_type: "client_credentials", client_id: DEMO_APPS.relayPartnerCenter.clientId, client_secret: DEMO_APPS.relayPartnerCenter.clientSecret, scope: `${resource}/.default` });

test("a Referrals User's App+User token reads referrals; a user without a role gets 403", async () => {
  const seller = await userToken(DEMO_USERS.seller.username, DEMO_USERS.seller.password, PARTNER_CENTER_RESOURCE);
  expect((await app.inject({ method: "GET", url: REFERRALS, headers: bearer(seller) })).statusCode).toBe(200);
  const noRole = await userToken(DEMO_USERS.noReferralRole.username, DEMO_USERS.noReferralRole.password, PARTNER_CENTER_RESOURCE);
  expect((await app.inject({ method: "GET", url: REFERRALS, headers: bearer(noRole) })).statusCode).toBe(403);
});

test("an app-only token is refused by the referrals API and accepted by the webhooks API", async () => {
  expect((await app.inject({ method: "GET", url: REFERRALS, headers: bearer(await appToken(PARTNER_CENTER_RESOURCE)) })).statusCode).toBe(401);
  expect((await app.inject({ method: "GET", url: REGISTRATION, headers: bearer(await appToken(PARTNER_CENTER_WEBHOOKS_RESOURCE)) })).statusCode).toBe(404);
});

// A script outside the project reads .sandbox/endpoints.json, trusts caFile, signs in with the
// password grant and the script client, and uses both APIs exactly as documented.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { startSandboxes, freePorts, type RunningSandboxes, type SandboxEndpoints } from "../start.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let running: RunningSandboxes;
let endpoints: SandboxEndpoints;
let agent: Agent;

beforeAll(async () => {
  const [identity, partnerCenter, dataverse] = await freePorts(3);
  running = await startSandboxes({ root, stateDir: mkdtempSync(join(tmpdir(), "pcr-sandbox-")), ports: { identity, partnerCenter, dataverse } });
  endpoints = JSON.parse(readFileSync(running.endpointsFile, "utf8")) as SandboxEndpoints;
  agent = new Agent({ connect: { ca: readFileSync(endpoints.caFile, "utf8") } });
}, 60000);
afterAll(async () => {
  await running?.close();
  await agent?.close();
});

async function passwordToken(user: "seller" | "referralsAdmin", scope: string): Promise<string> {
  const body = new URLSearchParams({
    grant_type: "password", client_id: endpoints.clients.script.clientId, client_secret: endpoints.clients.script.clientSecret,
    username: endpoints.users[user].username, password: endpoints.users[user].password, scope,
  });
  const response = await fetch(endpoints.tokenEndpoint, { method: "POST", body, dispatcher: agent });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

test("endpoints.json has the documented shape", () => {
  expect(endpoints).toMatchObject({
    dataverse: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    partnerCenter: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    identity: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    tenantId: expect.any(String),
    tokenEndpoint: expect.stringContaining("/oauth2/v2.0/token"),
    dataverseScope: expect.stringMatching(/\/\.default$/),
    partnerCenterScope: expect.stringMatching(/\/\.default$/),
  });
});

test("a seller token works against the Dataverse Web API", async () => {
  const token = await passwordToken("seller", endpoints.dataverseScope);
  const response = await fetch(`${endpoints.dataverse}/api/data/v9.2/WhoAmI`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0" }, dispatcher: agent,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ UserId: expect.any(String) });
  const accounts = await fetch(`${endpoints.dataverse}/api/data/v9.2/accounts?$select=name,address1_country&$top=5`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" }, dispatcher: agent,
  });
  expect(accounts.status).toBe(200);
  expect(((await accounts.json()) as { value: unknown[] }).value.length).toBeGreaterThan(0);
});

test("a referrals-admin token works against the Partner Center Referrals API", async () => {
  const token = await passwordToken("referralsAdmin", endpoints.partnerCenterScope);
  const response = await fetch(`${endpoints.partnerCenter}/v1.0/engagements/referrals`, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { value: Array<{ direction: string; status: string }> };
  expect(body.value.some((r) => r.direction === "Incoming" && r.status === "New")).toBe(true);
});

test("without trusting caFile the connection is refused", async () => {
  await expect(fetch(`${endpoints.identity}/${endpoints.tenantId}/v2.0/.well-known/openid-configuration`)).rejects.toThrow();
});

// The relay's client-credentials sign-in: MSAL against the identity sandbox, the token accepted by the
// Dataverse sandbox, WhoAmI answering the relay's application user; sign-in and 401 failures explained.
import { DEMO_APPS, DEMO_TENANT_ID } from "../../../Sandbox/shared/demo-tenant.ts";
import { DataverseSignInError, DataverseTokenProvider, dataverseScope } from "../../src/auth/dataverse-token.ts";
import { DataverseError } from "../../src/clients/dataverse.ts";
import { startEnvironment, type TestEnvironment } from "./helpers.ts";

let env: TestEnvironment;
beforeAll(async () => {
  env = await startEnvironment();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

test("the scope is the org URL's origin with /.default", () => {
  expect(dataverseScope("https://contoso.crm4.dynamics.com/")).toBe("https://contoso.crm4.dynamics.com/.default");
  expect(() => dataverseScope("http://contoso.crm4.dynamics.com")).toThrow(/https/);
});

test("a client-credentials token is accepted and WhoAmI is the relay's application user", async () => {
  const client = env.client();
  const me = await client.whoAmI();
  expect(me.UserId).toMatch(/^[0-9a-f-]{36}$/);
  const user = await client.retrieve("systemusers", me.UserId, { select: ["applicationid", "fullname"] });
  expect(user).toMatchObject({ applicationid: DEMO_APPS.relayDataverse.clientId, fullname: DEMO_APPS.relayDataverse.displayName });
});

test("MSAL's cache hands out the same token until it is forced to refresh", async () => {
  const first = await env.tokens.getToken();
  expect(await env.tokens.getToken()).toBe(first);
  const fresh = await env.tokens.getToken({ forceRefresh: true });
  expect(typeof fresh).toBe("string");
});

test("a wrong client secret is a DataverseSignInError that says to renew the secret", async () => {
  const tokens = new DataverseTokenProvider({
    orgUrl: env.orgUrl, tenant: DEMO_TENANT_ID, authorityHost: env.identityUrl, extraCaPem: env.caPem,
    clientId: DEMO_APPS.relayDataverse.clientId, clientSecret: "not-the-secret",
  });
  try {
    await expect(tokens.getToken()).rejects.toBeInstanceOf(DataverseSignInError);
    await expect(tokens.getToken()).rejects.toMatchObject({ errorCode: "invalid_client", whatToDo: expect.stringMatching(/client secret/) });
  } finally {
    await tokens.close();
  }
});

test("a token Dataverse refuses: one fresh token is tried, then a 401 DataverseError about the app registration", async () => {
  const asked: Array<boolean | undefined> = [];
  const client = env.client({ getToken: async (options) => { asked.push(options?.forceRefresh); return "not-a-token"; } });
  const error = await client.whoAmI().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataverseError);
  expect(error).toMatchObject({ status: 401, attempts: 2, whatToDo: expect.stringMatching(/app registration/) });
  expect(asked).toEqual([undefined, true]);
});

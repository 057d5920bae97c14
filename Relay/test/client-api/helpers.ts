// What the client API tests share: the seller's token for the relay's API as the card gets it (the demo
// tenant's card app exposes the API: api://<card client id>), tokens minted with the identity sandbox's
// key for the cases Entra ID would not issue (expired, another tenant), a call helper that shows the
// answer's headers, and a seller's deals made through the Web API with her own token.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { request } from "undici";
import { MicrosoftSolution, MicrosoftSolutionDetail, Opportunity } from "../../../Core/generated/schema.ts";
import { DEMO_APPS, DEMO_TENANT_ID, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { ensureSigningKey, issuerFor, signToken } from "../../../Sandbox/shared/tokens.ts";
import { DataverseClient, literal } from "../../src/clients/dataverse.ts";
import type { Sandboxes, TestRelay } from "../edge/helpers.ts";

export const API_AUDIENCE = `api://${DEMO_APPS.card.clientId}`;
export const API_SCOPE = `${API_AUDIENCE}/user_impersonation`;

type User = { username: string; password: string };

/** A delegated token through the password grant (a sandbox shortcut for msal-browser's sign-in); the card app by default. */
export async function userToken(s: Sandboxes, user: User, scope = API_SCOPE, client: { clientId: string; clientSecret?: string } = DEMO_APPS.card): Promise<string> {
  const form: Record<string, string> = { grant_type: "password", client_id: client.clientId, username: user.username, password: user.password, scope };
  if (client.clientSecret) form.client_secret = client.clientSecret;
  const response = await request(s.running.endpoints.tokenEndpoint, {
    method: "POST", body: new URLSearchParams(form).toString(), headers: { "content-type": "application/x-www-form-urlencoded" }, dispatcher: s.agent,
  });
  const body = (await response.body.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${body.error_description}`);
  return body.access_token;
}

/** A token signed with the identity sandbox's key, shaped like a seller's for the API unless `claims` say otherwise. */
export async function mintToken(s: Sandboxes, claims: Record<string, unknown> = {}, options: { lifetimeSeconds?: number; issuedAt?: number; tenantId?: string } = {}): Promise<string> {
  const keys = await ensureSigningKey(join(s.stateDir, "identity", "signing-key.json"));
  const tenantId = options.tenantId ?? DEMO_TENANT_ID;
  return signToken(keys, {
    iss: issuerFor(s.running.endpoints.identity, tenantId), aud: DEMO_APPS.card.clientId, tid: tenantId, oid: DEMO_USERS.seller.oid,
    scp: "user_impersonation", name: DEMO_USERS.seller.displayName, preferred_username: DEMO_USERS.seller.username, ...claims,
  }, options.lifetimeSeconds ?? 3600, options.issuedAt);
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export async function call(t: TestRelay, method: "GET" | "POST" | "OPTIONS", path: string, options: { token?: string; origin?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.origin) headers.origin = options.origin;
  const response = await request(`${t.relay.url}${path}`, { method, headers });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.statusCode, headers: response.headers, body, text };
}

/** The Web API as a user (her own delegated token through the script client). */
export function dataverseAs(s: Sandboxes, user: User): DataverseClient {
  let token: Promise<string> | undefined;
  const script = { clientId: DEMO_APPS.script.clientId, clientSecret: DEMO_APPS.script.clientSecret };
  return new DataverseClient({ orgUrl: s.running.endpoints.dataverse, agent: s.agent, getToken: () => (token ??= userToken(s, user, s.running.endpoints.dataverseScope, script)) });
}

export interface DealOptions {
  sync?: boolean;
  solution?: boolean;
  country?: string | null;
  dealValue?: number | null;
  help?: number | null;
}

/** A seller's opportunity with everything Partner Center needs unless told otherwise. */
export async function sellerDeal(dv: DataverseClient, options: DealOptions = {}): Promise<{ opportunityId: string; accountId: string; contactId: string; name: string }> {
  const suffix = randomUUID().slice(0, 8);
  const { id: accountId } = await dv.create("accounts", {
    name: `Client API Co ${suffix}`, address1_city: "Utrecht", address1_postalcode: "3511 AB", ...(options.country === null ? {} : { address1_country: options.country ?? "NL" }),
  });
  const { id: contactId } = await dv.create("contacts", {
    firstname: "Eva", lastname: `Bakker ${suffix}`, emailaddress1: `eva.${suffix}@customer.example`, "parentcustomerid_account@odata.bind": `/accounts(${accountId})`,
  });
  let eur = "";
  for await (const row of dv.retrieveMultiple("transactioncurrencies", { select: ["transactioncurrencyid"], filter: `isocurrencycode eq ${literal("EUR")}` })) eur = String(row.transactioncurrencyid);
  const c = Opportunity.columns;
  const name = `Client API deal ${suffix}`;
  const { id: opportunityId } = await dv.create("opportunities", {
    name, description: "Data platform migration", estimatedclosedate: "2027-03-31",
    ...(options.dealValue === null ? {} : { estimatedvalue: options.dealValue ?? 120000 }),
    "transactioncurrencyid@odata.bind": `/transactioncurrencies(${eur})`,
    "parentaccountid@odata.bind": `/accounts(${accountId})`, "customerid_account@odata.bind": `/accounts(${accountId})`,
    "parentcontactid@odata.bind": `/contacts(${contactId})`,
    [c.syncWithPartnerCenter]: options.sync ?? true,
    ...(options.help === null ? {} : { [c.helpRequested]: options.help ?? 613750003 }),
  });
  if (options.solution !== false) await attachSolution(dv, opportunityId);
  return { opportunityId, accountId, contactId, name };
}

/** A Microsoft solution (from the Solution Details catalog) on the opportunity. */
export async function attachSolution(dv: DataverseClient, opportunityId: string, identifier = "SOL-AZ-MIGRATE"): Promise<void> {
  const detail = await dv.retrieve(MicrosoftSolutionDetail.entitySetName, { [MicrosoftSolutionDetail.columns.solutionIdentifier]: identifier }, { select: [MicrosoftSolutionDetail.primaryId] });
  await dv.create(MicrosoftSolution.entitySetName, {
    [MicrosoftSolution.columns.primaryName]: identifier,
    [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/opportunities(${opportunityId})`,
    [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${String(detail![MicrosoftSolutionDetail.primaryId])})`,
  });
}

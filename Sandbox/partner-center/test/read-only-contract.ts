// The read-only part of the Referrals API contract, written from the docs (partner-center-referrals.md
// §3, §4.2, §4.3, §8). It runs against the sandbox and, when PCR_REAL_PARTNER_CENTER_TOKEN is set,
// against the real Partner Center: GETs only, nothing is written there.
import { randomUUID } from "node:crypto";

export interface ContractResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface ContractClient {
  /** `path` is relative to the host (starts with /v1.0/…) or an absolute URL (nextLink). */
  get(path: string, options?: { token?: string | null; headers?: Record<string, string> }): Promise<ContractResponse>;
}

const REFERRALS = "/v1.0/engagements/referrals";
const body = (response: ContractResponse) => JSON.parse(response.text) as Record<string, unknown>;
type Item = Record<string, unknown>;

export function readOnlyReferralContract(client: () => ContractClient): void {
  test("GET /referrals without a bearer token is 401", async () => {
    const response = await client().get(`${REFERRALS}?$top=1`, { token: null });
    expect(response.status).toBe(401);
  });

  test("GET /referrals returns an OData collection of camelCase referrals with quoted eTags", async () => {
    const response = await client().get(`${REFERRALS}?$top=5`, { headers: { "client-request-id": randomUUID() } });
    expect(response.status).toBe(200);
    expect(String(response.headers["content-type"])).toMatch(/^application\/json/);
    expect(response.headers["request-id"] ?? response.headers["Request-ID"]).toBeDefined();
    const page = body(response);
    expect(Array.isArray(page.value)).toBe(true);
    const items = page.value as Item[];
    expect(items.length).toBeLessThanOrEqual(5);
    for (const item of items) {
      expect(typeof item.id).toBe("string");
      expect(typeof item.engagementId).toBe("string");
      expect(["New", "Active", "Closed"]).toContain(item.status);
      expect(["Incoming", "Outgoing"]).toContain(item.direction);
      expect(String(item.eTag)).toMatch(/^".+"$/);
      for (const key of Object.keys(item)) expect(key[0]).toBe(key[0]!.toLowerCase());
    }
  });

  test("GET /referrals/{id} returns the same referral as the list, with its @odata.context", async () => {
    const list = body(await client().get(`${REFERRALS}?$top=1`));
    const first = (list.value as Item[])[0];
    if (!first) return; // an empty tenant has nothing to read
    const response = await client().get(`${REFERRALS}/${String(first.id)}`);
    expect(response.status).toBe(200);
    const referral = body(response);
    expect(referral.id).toBe(first.id);
    expect(referral.eTag).toBe(first.eTag);
    expect(String(referral["@odata.context"])).toMatch(/\$metadata#Referrals\/\$entity$/);
  });

  test("GET /referrals/{unknown id} is 404 with an error code", async () => {
    const response = await client().get(`${REFERRALS}/${randomUUID()}`);
    expect(response.status).toBe(404);
    const error = body(response);
    const code = (error.error as Item | undefined)?.code ?? error.code;
    expect(code).toBeDefined();
  });

  test("$filter on direction and status returns only matching referrals", async () => {
    const response = await client().get(`${REFERRALS}?$filter=${encodeURIComponent("direction eq 'Incoming' and status eq 'New'")}&$top=20`);
    expect(response.status).toBe(200);
    for (const item of body(response).value as Item[]) {
      expect(item.direction).toBe("Incoming");
      expect(item.status).toBe("New");
    }
  });

  test("$orderby createdDateTime desc sorts newest first", async () => {
    const response = await client().get(`${REFERRALS}?$orderby=${encodeURIComponent("createdDateTime desc")}&$top=20`);
    expect(response.status).toBe(200);
    const times = (body(response).value as Item[]).map((item) => Date.parse(String(item.createdDateTime)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test("$select returns only the selected members", async () => {
    const response = await client().get(`${REFERRALS}?$select=id,status&$top=5`);
    expect(response.status).toBe(200);
    for (const item of body(response).value as Item[]) {
      expect(Object.keys(item).filter((key) => !key.startsWith("@")).sort()).toEqual(["id", "status"]);
    }
  });

  test("@odata.nextLink, when present, is an absolute URL that returns the next page", async () => {
    const first = body(await client().get(`${REFERRALS}?$top=150`));
    const next = first["@odata.nextLink"];
    if (typeof next !== "string") return; // fewer referrals than one page
    expect(next).toMatch(/^https:\/\/.+\$skiptoken=/);
    const response = await client().get(next);
    expect(response.status).toBe(200);
    expect(Array.isArray(body(response).value)).toBe(true);
  });
}

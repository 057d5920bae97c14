// Contract tests of the Referrals API, written from partner-center-referrals.md (§ numbers in names).
import { randomUUID } from "node:crypto";
import { DEMO_PARTNER } from "../../shared/demo-tenant.ts";
import { SEED_IDS } from "../seed.ts";
import type { PartnerCenterSandbox } from "../server.ts";
import { REFERRALS, bearer, coSellDeal, json, privateDeal, sandbox, testEnvironment, token, type TestEnvironment } from "./helpers.ts";
import { readOnlyReferralContract, type ContractClient } from "./read-only-contract.ts";

type Referral = Record<string, unknown> & { id: string; eTag: string; engagementId: string };
type Page = { "@odata.context": string; "@odata.count": number; value: Referral[]; "@odata.nextLink"?: string };

let env: TestEnvironment;
let app: PartnerCenterSandbox;
let auth: Record<string, string>;

beforeAll(async () => {
  env = await testEnvironment();
  auth = bearer(await token(env));
});
afterAll(() => env.cleanup());

beforeEach(async () => {
  app = await sandbox(env, { seed: true });
});
afterEach(async () => {
  await app.close();
});

const create = async (body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json", ...headers }, payload: JSON.stringify(body) });
const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: "GET", url, headers: { ...auth, ...headers } });
const patch = (id: string, operations: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "PATCH", url: `${REFERRALS}/${id}`, headers: { ...auth, "content-type": "application/json", ...headers }, payload: JSON.stringify(operations) });
const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "PUT", url: `${REFERRALS}/${id}`, headers: { ...auth, "content-type": "application/json", ...headers }, payload: JSON.stringify(body) });
const created = async (body: unknown = privateDeal()) => {
  const response = await create(body);
  expect(response.statusCode).toBe(200);
  return json<Referral>(response);
};
const fetchReferral = async (id: string) => json<Referral>(await get(`${REFERRALS}/${id}`));
const errorOf = (response: { body: string }) => json<{ error: { code: string; message: string; target: string | null } }>(response).error;

describe("read-only contract against the sandbox", () => {
  const client = (): ContractClient => ({
    get: async (path, options = {}) => {
      const url = path.startsWith("https://") ? path.replace(/^https:\/\/[^/]+/, "") : path;
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== null) Object.assign(headers, auth);
      const response = await app.inject({ method: "GET", url, headers });
      return { status: response.statusCode, headers: response.headers as Record<string, string>, text: response.body };
    },
  });
  readOnlyReferralContract(client);
});

describe("create: POST /referrals (§4.1, §10.1.2)", () => {
  test("returns 200 with the server-set members, Active/Accepted and Outgoing whatever status was sent", async () => {
    const requestId = randomUUID();
    const response = await create(privateDeal({ status: "New", substatus: "Pending", direction: "Incoming", id: "ignored", eTag: "ignored" }), { "client-request-id": requestId });
    expect(response.statusCode).toBe(200);
    expect(response.headers["client-request-id"]).toBe(requestId);
    expect(response.headers["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const referral = json<Referral>(response);
    expect(referral.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(referral.engagementId).toMatch(/^[0-9a-f]{8}-/);
    expect(referral.id).not.toBe("ignored");
    expect(referral).toMatchObject({
      direction: "Outgoing",
      status: "Active",
      substatus: "Accepted",
      organizationId: DEMO_PARTNER.organizationId,
      organizationName: DEMO_PARTNER.organizationName,
      registrations: [],
      registrationStatus: "None",
      isSpam: false,
      favorite: false,
      quality: "Unknown",
      trackingInfo: { microsoftMsxId: null },
    });
    expect(referral.eTag).toMatch(/^"[0-9a-f]{8}-0000-0000-0000-[0-9a-f]{12}"$/);
    expect(response.headers.etag).toBe(referral.eTag);
    expect(referral.createdDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(referral.updatedDateTime).toBe(referral.createdDateTime);
    expect(referral.acceptedDateTime).toBe(referral.createdDateTime);
    expect(referral.links).toEqual({
      relatedReferrals: { uri: `https://127.0.0.1:4702${REFERRALS}?$filter=engagementId eq '${referral.engagementId}'`, method: "GET" },
      self: { uri: `https://127.0.0.1:4702${REFERRALS}/${referral.id}`, method: "GET" },
    });
    expect(await fetchReferral(referral.id)).toMatchObject({ id: referral.id, eTag: referral.eTag });
  });

  test("matches input member names case-insensitively and answers in camelCase", async () => {
    const referral = await created({
      Name: "Pascal",
      Type: "independent",
      CustomerProfile: { Name: "Cust", Address: { Country: "nl" } },
      Consent: { ConsentToContact: true, CONSENTTOSHAREREFERRALWITHMICROSOFTSELLERS: false },
      Details: { DealValue: "1234.5", Currency: "EUR" },
      SomethingUnknown: 1,
    });
    expect(referral).toMatchObject({
      name: "Pascal",
      type: "Independent",
      customerProfile: { name: "Cust", address: { country: "nl" } },
      consent: { consentToContact: true, consentToShareReferralWithMicrosoftSellers: false },
      details: { dealValue: 1234.5, currency: "EUR" },
    });
    expect(referral).not.toHaveProperty("SomethingUnknown");
    expect(referral).not.toHaveProperty("somethingUnknown");
  });

  test.each(["type", "customerProfile", "consent", "details"])("400 invalidRequest without required '%s'", async (member) => {
    const body = privateDeal();
    delete body[member];
    const response = await create(body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: "invalidRequest", target: member });
  });

  test.each([
    ["an unknown type", { type: "Joint" }, "/type"],
    ["a three-letter country", { customerProfile: { name: "C", address: { country: "USA" } } }, "customerProfile/address/country"],
    ["a non-numeric deal value", { details: { dealValue: "lots" } }, "/details/dealValue"],
    ["an unknown assistance code", { inviteContext: { assistanceRequestCode: "PleaseHelp" } }, "/inviteContext/assistanceRequestCode"],
  ])("400 invalidRequest for %s", async (_label, overrides, target) => {
    const response = await create(privateDeal(overrides));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: "invalidRequest", target });
  });

  test("a co-sell needs a customer contact and a solution (connector docs, §8.1)", async () => {
    const noSolution = coSellDeal({ details: { dealValue: 1, currency: "USD" } });
    expect((await create(noSolution)).statusCode).toBe(400);
    const noContact = coSellDeal({ customerProfile: { name: "C", address: { country: "US" }, team: [] } });
    expect((await create(noContact)).statusCode).toBe(400);
    expect((await create(coSellDeal())).statusCode).toBe(200);
  });

  test("malformed JSON is 400, a non-JSON body 415, both in error shape A", async () => {
    const bad = await app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "application/json" }, payload: "{not json" });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe("invalidRequest");
    const text = await app.inject({ method: "POST", url: REFERRALS, headers: { ...auth, "content-type": "text/plain" }, payload: "hello" });
    expect(text.statusCode).toBe(415);
    expect(errorOf(text).code).toBe("unsupportedMediaType");
  });

  test("createStatus 201 is configurable", async () => {
    await app.close();
    app = await sandbox(env, { createStatus: 201 });
    expect((await create(privateDeal())).statusCode).toBe(201);
  });
});

describe("get: GET /referrals/{id} (§4.2)", () => {
  test("unknown id is 404 itemNotFound in shape A", async () => {
    const response = await get(`${REFERRALS}/${randomUUID()}`);
    expect(response.statusCode).toBe(404);
    expect(errorOf(response)).toMatchObject({ code: "itemNotFound", target: "referral" });
  });

  test("paths are case-insensitive and tolerate a trailing slash (§10.1.1)", async () => {
    const response = await get(`/V1.0/Engagements/Referrals/${SEED_IDS.privateDeal}/`);
    expect(response.statusCode).toBe(200);
    expect(json<Referral>(response).id).toBe(SEED_IDS.privateDeal);
  });

  test("DELETE is not supported: 405", async () => {
    const response = await app.inject({ method: "DELETE", url: `${REFERRALS}/${SEED_IDS.privateDeal}`, headers: auth });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe("GET, PATCH, PUT");
  });
});

describe("list: GET /referrals with OData (§4.3, §10.1.7)", () => {
  const list = async (query: string) => {
    const response = await get(`${REFERRALS}?${query}`);
    expect(response.statusCode).toBe(200);
    return json<Page>(response);
  };

  test("pages 100 at a time with an absolute nextLink carrying an opaque $skiptoken, counting every match", async () => {
    await app.inject({ method: "POST", url: "/sandbox/reset" });
    const ids = new Set<string>();
    for (let i = 0; i < 250; i++) ids.add((await created(privateDeal({ name: `Deal ${i}` }))).id);
    const seen: string[] = [];
    let page = await list("");
    expect(page["@odata.context"]).toBe("https://127.0.0.1:4702/v1.0/$metadata#Referrals");
    const sizes: number[] = [];
    for (;;) {
      expect(page["@odata.count"]).toBe(sizes.length === 0 ? 250 : 251); // one more is created after the first page
      sizes.push(page.value.length);
      seen.push(...page.value.map((r) => r.id));
      const next = page["@odata.nextLink"];
      if (!next) break;
      expect(next).toMatch(/^https:\/\/127\.0\.0\.1:4702\/v1\.0\/engagements\/referrals\?\$skiptoken=[A-Za-z0-9_-]+$/);
      if (sizes.length === 1) await created(privateDeal({ name: "created while paging" }));
      page = json<Page>(await get(next.replace("https://127.0.0.1:4702", "")));
    }
    expect(sizes.slice(0, 2)).toEqual([100, 100]);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    expect(seen).toHaveLength(251); // keyset paging: the insert during paging is neither lost nor doubled
  });

  test("$top above the page size pages through nextLink and stops at $top; $skip skips", async () => {
    await app.inject({ method: "POST", url: "/sandbox/reset" });
    const ids: string[] = [];
    for (let i = 0; i < 160; i++) ids.push((await created(privateDeal({ name: `Deal ${i}` }))).id);
    const first = await list("$top=150");
    expect(first.value).toHaveLength(100);
    const second = json<Page>(await get(first["@odata.nextLink"]!.replace("https://127.0.0.1:4702", "")));
    expect(second.value).toHaveLength(50);
    expect(second["@odata.nextLink"]).toBeUndefined();
    const skipped = await list("$skip=10&$top=5");
    expect(skipped.value.map((r) => r.id)).toEqual(ids.slice(10, 15));
    expect(skipped["@odata.nextLink"]).toBeUndefined();
  });

  test("$filter: eq, ne, and, or, parentheses, navigation paths and team/any (documented examples)", async () => {
    const nl = await created(privateDeal({ customerProfile: { name: "Dutch", address: { country: "NL" } }, team: [{ email: "r2d2@contoso.com" }] }));
    const shared = await created(coSellDeal({ team: [{ email: "R2D2@contoso.com", firstName: "R2" }] }));
    const ids = async (filter: string) => (await list(`$filter=${encodeURIComponent(filter)}`)).value.map((r) => r.id);

    expect(await ids("customerProfile/address/country eq 'NL'")).toEqual([nl.id]);
    expect(await ids(`status eq 'Active' and direction eq 'Outgoing' and type eq 'Shared' and team/any(t:t/email eq 'r2d2@contoso.com')`)).toEqual([shared.id]);
    expect(await ids(`engagementId eq '${nl.engagementId}'`)).toEqual([nl.id]);
    expect(await ids(`engagementId eq ${nl.engagementId}`)).toEqual([nl.id]); // unquoted GUID, as captured live (§4.3)
    expect(await ids(`(direction eq 'Incoming' and substatus eq 'Pending')`)).toEqual([SEED_IDS.incomingLead, SEED_IDS.incomingCoSell]);
    expect(await ids(`id eq '${nl.id}' or id eq '${shared.id}'`)).toEqual([nl.id, shared.id]);
    expect(await ids(`direction ne 'Outgoing'`)).toEqual([SEED_IDS.incomingLead, SEED_IDS.incomingCoSell]);
    expect(await ids(`status eq 'Closed' and substatus eq 'Won'`)).toEqual([SEED_IDS.wonDeal]);
    expect(await ids(`details/dealValue gt 100000 and direction eq 'Outgoing' and organizationId ne 'msft'`)).toEqual([SEED_IDS.coSell, SEED_IDS.coSellMicrosoft, shared.id]);
  });

  test.each([
    ["a syntax error", "$filter=status eq"],
    ["an unknown property", "$filter=colour eq 'red'"],
    ["an unsupported function", "$filter=contains(name,'x')"],
    ["an unsupported $orderby member", "$orderby=name"],
    ["an unknown $select member", "$select=id,colour"],
    ["a negative $top", "$top=-1"],
    ["a bad $skiptoken", "$skiptoken=!!!"],
  ])("400 invalidRequest for %s", async (_label, query) => {
    const response = await get(`${REFERRALS}?${query.replace(/ /g, "%20")}`);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe("invalidRequest");
  });

  test("$orderby updatedDateTime desc puts the last change first", async () => {
    await app.partnerCenter.clock.advance(1000);
    expect((await patch(SEED_IDS.privateDeal, [{ op: "replace", path: "/details/notes", value: "touched" }])).statusCode).toBe(204);
    const page = await list("$orderby=updatedDateTime%20desc");
    expect(page.value[0]!.id).toBe(SEED_IDS.privateDeal);
    const asc = await list("$orderby=createdDateTime%20asc,updatedDateTime%20desc");
    const times = asc.value.map((r) => String(r.createdDateTime));
    expect(times).toEqual([...times].sort());
  });

  test("$select keeps top-level members and names them in @odata.context", async () => {
    const page = await list("$select=id,Status,customerProfile");
    expect(page["@odata.context"]).toBe("https://127.0.0.1:4702/v1.0/$metadata#Referrals(id,Status,customerProfile)");
    expect(Object.keys(page.value[0]!).sort()).toEqual(["customerProfile", "id", "status"]);
  });
});

describe("update: PATCH /referrals/{id} with JSON Patch (§4.4, §10.1.5)", () => {
  test("the documented example: 204 with no body; a string deal value becomes a number; the eTag and updatedDateTime change", async () => {
    const before = await created();
    await app.partnerCenter.clock.advance(5000);
    const response = await patch(before.id, [
      { op: "replace", path: "/details/dealValue", value: "10000" },
      { op: "replace", path: "/details/notes", value: "Lorem ipsum dolor sit amet." },
    ]);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe("");
    expect(response.headers["request-id"]).toBeDefined();
    const after = await fetchReferral(before.id);
    expect(after.details).toMatchObject({ dealValue: 10000, notes: "Lorem ipsum dolor sit amet." });
    expect(after.eTag).not.toBe(before.eTag);
    expect(after.updatedDateTime).not.toBe(before.updatedDateTime);
    expect(after.createdDateTime).toBe(before.createdDateTime);
  });

  test("Prefer: return=representation answers 200 with the updated referral", async () => {
    const before = await created();
    const response = await patch(before.id, [{ op: "add", path: "/team/-", value: { email: "jane.doe@contoso.com", firstName: "Jane", lastName: "Doe", phoneNumber: "0000000001" } }], { prefer: "return=representation" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["preference-applied"]).toBe("return=representation");
    const referral = json<Referral>(response);
    expect(referral.team).toHaveLength(2);
    expect(response.headers.etag).toBe(referral.eTag);
  });

  test("If-Match is optional, and enforced when sent: 412 preconditionFailed on a stale eTag", async () => {
    const referral = await created();
    expect((await patch(referral.id, [{ op: "replace", path: "/name", value: "one" }], { "if-match": referral.eTag })).statusCode).toBe(204);
    const stale = await patch(referral.id, [{ op: "replace", path: "/name", value: "two" }], { "if-match": referral.eTag });
    expect(stale.statusCode).toBe(412);
    expect(errorOf(stale).code).toBe("preconditionFailed");
    expect((await fetchReferral(referral.id)).name).toBe("one");
    expect((await patch(referral.id, [{ op: "replace", path: "/name", value: "three" }])).statusCode).toBe(204);
  });

  test("member names in paths match case-insensitively; missing parents are created", async () => {
    const referral = await created();
    expect((await patch(referral.id, [{ op: "replace", path: "/Details/Notes", value: "pascal" }, { op: "add", path: "/details/requirements/solutions/-", value: { id: "SOL-1", type: "name" } }])).statusCode).toBe(204);
    expect((await fetchReferral(referral.id)).details).toMatchObject({ notes: "pascal", requirements: { solutions: [{ id: "SOL-1", type: "Name" }] } });
  });

  test.each([
    ["remove", [{ op: "remove", path: "/name" }]],
    ["move", [{ op: "move", from: "/name", path: "/externalReferenceId" }]],
    ["copy", [{ op: "copy", from: "/name", path: "/externalReferenceId" }]],
    ["test", [{ op: "test", path: "/name", value: "x" }]],
    ["an unknown path", [{ op: "replace", path: "/colour", value: "red" }]],
    ["a read-only member", [{ op: "replace", path: "/direction", value: "Incoming" }]],
    ["the eTag", [{ op: "replace", path: "/eTag", value: "\"x\"" }]],
    ["a merge object instead of a patch array", { name: "merge" }],
    ["a wrong value type", [{ op: "replace", path: "/consent/consentToContact", value: "maybe" }]],
  ])("400 invalidRequest for %s", async (_label, body) => {
    const referral = await created();
    const response = await patch(referral.id, body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe("invalidRequest");
  });

  test("unknown id is 404", async () => {
    expect((await patch(randomUUID(), [{ op: "replace", path: "/name", value: "x" }])).statusCode).toBe(404);
  });

  test("once visible to Microsoft sellers a deal cannot be made private again", async () => {
    const referral = await created();
    expect((await patch(referral.id, [{ op: "replace", path: "/consent/consentToShareReferralWithMicrosoftSellers", value: true }])).statusCode).toBe(204);
    expect((await patch(referral.id, [{ op: "replace", path: "/consent/consentToShareReferralWithMicrosoftSellers", value: false }])).statusCode).toBe(400);
  });
});

describe("status rules (§7.1)", () => {
  const move = (id: string, status: string, substatus: string) =>
    patch(id, [
      { op: "replace", path: "/status", value: status },
      { op: "replace", path: "/substatus", value: substatus },
    ]);

  test("Active → Closed/Won sets closedDateTime; Closed is terminal except for deal registration", async () => {
    const referral = await created();
    expect((await move(referral.id, "Closed", "Won")).statusCode).toBe(204);
    const won = await fetchReferral(referral.id);
    expect(won).toMatchObject({ status: "Closed", substatus: "Won" });
    expect(won.closedDateTime).toMatch(/Z$/);
    for (const [status, substatus] of [["Active", "Accepted"], ["Closed", "Lost"], ["New", "Pending"]] as const) {
      expect((await move(referral.id, status, substatus)).statusCode).toBe(400);
    }
    expect((await patch(referral.id, [{ op: "replace", path: "/details/notes", value: "late" }])).statusCode).toBe(400);
    const registration = { type: "AzureIPCoSell", contract: { currency: "USD", value: 10000, term: "Finite" } };
    expect((await patch(referral.id, [{ op: "add", path: "/registrations/-", value: registration }])).statusCode).toBe(204);
    expect((await fetchReferral(referral.id)).registrations).toEqual([registration]);
  });

  test.each([
    ["a status with a substatus of another status", "Closed", "Accepted"],
    ["moving back from Active to New", "New", "Pending"],
    ["Expired, which only Partner Center sets", "Closed", "Expired"],
    ["None", "None", "None"],
  ])("400 for %s", async (_label, status, substatus) => {
    const referral = await created();
    const response = await move(referral.id, status, substatus);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe("invalidRequest");
  });

  test("setting status alone leaves an invalid pair: 400", async () => {
    const referral = await created();
    expect((await patch(referral.id, [{ op: "replace", path: "/status", value: "Closed" }])).statusCode).toBe(400);
  });

  test("an incoming referral is accepted (New → Active/Accepted) or declined (New → Closed/Declined)", async () => {
    expect((await move(SEED_IDS.incomingLead, "Active", "Accepted")).statusCode).toBe(204);
    const accepted = await fetchReferral(SEED_IDS.incomingLead);
    expect(accepted).toMatchObject({ status: "Active", substatus: "Accepted", direction: "Incoming" });
    expect(accepted.acceptedDateTime).toBe(accepted.updatedDateTime);
    const declined = await patch(SEED_IDS.incomingCoSell, [
      { op: "replace", path: "/status", value: "Closed" },
      { op: "replace", path: "/substatus", value: "Declined" },
      { op: "replace", path: "/statusReason", value: "Not our region" },
    ]);
    expect(declined.statusCode).toBe(204);
    expect(await fetchReferral(SEED_IDS.incomingCoSell)).toMatchObject({ status: "Closed", substatus: "Declined", statusReason: "Not our region" });
  });
});

describe("legacy update: PUT /referrals/{id} (§4.5)", () => {
  test("If-Match is required (400) and must match (412)", async () => {
    const referral = await created();
    const without = await put(referral.id, privateDeal());
    expect(without.statusCode).toBe(400);
    expect(errorOf(without).target).toBe("If-Match");
    expect((await put(referral.id, privateDeal(), { "if-match": "\"stale\"" })).statusCode).toBe(412);
  });

  test("replaces the writable members, keeps the server's, returns 200 with a new eTag", async () => {
    const referral = await created();
    const { links: _links, ...body } = { ...referral, name: "Replaced", externalReferenceId: "CRM-1", id: "hijack", direction: "Incoming" } as Record<string, unknown>;
    const response = await put(referral.id, body, { "if-match": referral.eTag });
    expect(response.statusCode).toBe(200);
    const replaced = json<Referral>(response);
    expect(replaced).toMatchObject({ id: referral.id, name: "Replaced", externalReferenceId: "CRM-1", direction: "Outgoing", createdDateTime: referral.createdDateTime });
    expect(replaced.eTag).not.toBe(referral.eTag);
    const partial = await put(referral.id, { name: "No required members" }, { "if-match": replaced.eTag });
    expect(partial.statusCode).toBe(400);
  });
});

describe("shared engagements (§7.3)", () => {
  test("the two-step flow: your referral, then one for Microsoft with the same engagementId", async () => {
    const mine = await created(coSellDeal());
    const forMicrosoft = await created({ ...coSellDeal(), engagementId: mine.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] });
    expect(forMicrosoft.engagementId).toBe(mine.engagementId);
    expect(forMicrosoft).toMatchObject({ status: "New", substatus: "Pending", direction: "Outgoing" });
    expect(forMicrosoft.expirationDateTime).toMatch(/Z$/);
    const related = json<Page>(await get(`${REFERRALS}?$filter=${encodeURIComponent(`engagementId eq '${mine.engagementId}'`)}`));
    expect(related.value.map((r) => r.id)).toEqual([mine.id, forMicrosoft.id]);

    const second = await create({ ...coSellDeal(), engagementId: mine.engagementId, target: [{ type: "BusinessProfileLocation", id: "msft" }] });
    expect(second.statusCode).toBe(400);
    // Only a Microsoft seller moves Microsoft's side.
    expect((await patch(forMicrosoft.id, [{ op: "replace", path: "/status", value: "Active" }, { op: "replace", path: "/substatus", value: "Accepted" }])).statusCode).toBe(400);

    const accepted = await app.inject({ method: "POST", url: `/sandbox/microsoft/referrals/${mine.id}/accept`, payload: {} });
    expect(accepted.statusCode).toBe(200);
    const microsoft = await fetchReferral(forMicrosoft.id);
    expect(microsoft).toMatchObject({ status: "Active", substatus: "Accepted" });
    expect((microsoft.trackingInfo as Record<string, unknown>).microsoftMsxId).toMatch(/^7-[0-9A-F]{10}$/);
    expect(await fetchReferral(mine.id)).toMatchObject({ status: "Active", substatus: "Accepted", eTag: mine.eTag });
  });

  test("a referral for Microsoft needs an existing engagement", async () => {
    const target = [{ type: "BusinessProfileLocation", id: "msft" }];
    expect((await create({ ...coSellDeal(), target })).statusCode).toBe(400);
    expect((await create({ ...coSellDeal(), engagementId: randomUUID(), target })).statusCode).toBe(400);
  });

  test("Microsoft's own referral can be read but not changed by the partner: 403", async () => {
    const microsoft = await fetchReferral(SEED_IDS.incomingCoSellMicrosoft);
    expect(microsoft).toMatchObject({ organizationId: "msft", status: "Active", substatus: "Accepted" });
    const response = await patch(microsoft.id, [{ op: "replace", path: "/name", value: "mine now" }]);
    expect(response.statusCode).toBe(403);
    expect(errorOf(response).code).toBe("accessDenied");
  });
});

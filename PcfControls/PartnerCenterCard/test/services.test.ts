// The card's pure parts and services, without a DOM: Dataverse reads, the relay client, the sync error
// explanation and the context-to-props mapping.
import { EnvironmentVariables, MicrosoftSolution, Opportunity, PartnerCenterSyncStatus, SyncEvent } from "../../../Core/generated/schema.ts";
import { mappedDealFacts } from "../../../Core/checklist-mapping.ts";
import { READINESS_PROBLEMS } from "../../../Core/messages.ts";
import { Text } from "../constants.ts";
import { metadataReader, openFix } from "../platform.ts";
import { isBound, readFields, readHistorySize, readLayout, readOpportunity, readTexts } from "../props.ts";
import { normalizeId, readDeal, readHistory, readSettings } from "../services/dataverse.ts";
import { createRelayClient, RelayError, runAndFollow, validRelayUrl, type RelayClient, type RunStatus } from "../services/relay.ts";
import { explainSyncError, shortDetail } from "../services/syncError.ts";
import { ACCOUNT_ID, CONTACT_ID, OPPORTUNITY_ID, parameters, RELAY_URL, SCENARIOS, seedWebApi } from "./fixtures.ts";
import { createRelayFake, MockContext, MockNavigation, MockResources, MockUtils, MockWebApi, text, withMetadata } from "./mocks.ts";
import { loadStrings } from "./strings.ts";

const customerUtils = new MockUtils({
  metadata: withMetadata({
    opportunity: { new_dealamount: { type: "Money" } },
    account: { new_countryid: { type: "Lookup", targets: ["new_country"] } },
    new_country: { new_isocode: { type: "String" } },
  }),
});
const describeCustomer = metadataReader(() => customerUtils);
const standard = { dealValue: "estimatedvalue", country: { kind: "column", column: "address1_country" } } as const;
const settings = { relayUrl: RELAY_URL, mapping: standard, fieldMappingProblems: [], problem: null };
const factsOf = (deal: Awaited<ReturnType<typeof readDeal>>) => {
  const { helpRequested: _, ...facts } = mappedDealFacts(deal.mapping, { ...deal.records, helpRequested: false });
  return facts;
};

describe("readSettings", () => {
  test("reads the four variables in one request, by their generated schema names", async () => {
    const webAPI = seedWebApi();
    expect(await readSettings(webAPI, describeCustomer)).toEqual(settings);
    expect(webAPI.calls).toHaveLength(1);
    const options = webAPI.calls[0]!.options!;
    for (const v of [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField, EnvironmentVariables.fieldMapping]) {
      expect(options).toContain(`schemaname eq '${v.schemaName}'`);
    }
    expect(options).toContain("$expand=environmentvariabledefinition_environmentvariablevalue($select=value)");
  });

  test("a current value wins over the default, and missing definitions fall back to the generated defaults", async () => {
    const webAPI = seedWebApi({ countryFieldSetting: "new_countrycode" });
    expect((await readSettings(webAPI, describeCustomer)).mapping.country).toEqual({ kind: "column", column: "new_countrycode" });
    const empty = new MockWebApi({ environmentvariabledefinition: [] });
    expect(await readSettings(empty, describeCustomer)).toEqual({ relayUrl: "", mapping: standard, fieldMappingProblems: [], problem: null });
  });

  test("a variable that is not a column name is reported, not put into a query", async () => {
    const result = await readSettings(seedWebApi({ countryFieldSetting: "address1_country,name&$top=1" }), describeCustomer);
    expect(result.problem?.schemaName).toBe(EnvironmentVariables.customerAccountCountryCodeField.schemaName);
    expect(result.mapping.country).toEqual({ kind: "column", column: "address1_country" });
  });

  test("the field mapping variable names the columns; an invalid one is not used, and says why", async () => {
    const lookup = { opportunity: { dealValue: "new_dealamount" }, account: { country: { lookup: "new_countryid", isoCodeColumn: "new_isocode" } } };
    expect(await readSettings(seedWebApi({ fieldMapping: JSON.stringify(lookup) }), describeCustomer)).toMatchObject({
      mapping: { dealValue: "new_dealamount", country: { kind: "lookup", lookup: "new_countryid", isoCodeColumn: "new_isocode" } },
      fieldMappingProblems: [],
      problem: null,
    });
    const invalid = await readSettings(seedWebApi({ fieldMapping: '{"opportunity":{"dealValue":"Deal amount"}}', countryFieldSetting: "new_countrycode" }), describeCustomer);
    expect(invalid.mapping).toEqual({ dealValue: "estimatedvalue", country: { kind: "column", column: "new_countrycode" } });
    expect(invalid.fieldMappingProblems).toEqual(["opportunity.dealValue: must be a column's logical name (lower case letters, digits and _), not its display name"]);
  });
});

describe("metadataReader", () => {
  test("asks context.utils.getEntityMetadata once per table and columns; a question that failed is asked again", async () => {
    const utils = new MockUtils();
    const read = metadataReader(() => utils);
    expect(await read("opportunity", ["estimatedvalue", "new_missing"])).toEqual({ estimatedvalue: { type: "Money", targets: [] } });
    expect(await read("opportunity", ["new_missing", "estimatedvalue"])).toEqual({ estimatedvalue: { type: "Money", targets: [] } });
    expect(await read("account", ["parentaccountid", "primarycontactid"])).toEqual({ primarycontactid: { type: "Lookup", targets: ["contact"] } });
    await expect(read("new_country", ["new_isocode"])).rejects.toThrow("Could not find an entity with name new_country");
    await expect(read("new_country", ["new_isocode"])).rejects.toThrow();
    expect(utils.metadataCalls.map((c) => c.entityName)).toEqual(["opportunity", "account", "new_country", "new_country"]);
  });
});

describe("readDeal", () => {
  test("turns the opportunity, its account, contact, currency and solutions into readiness facts", async () => {
    const webAPI = seedWebApi({ solutions: 2, saved: { [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced, [Opportunity.columns.lastSyncedOn]: "2026-11-20T14:02:00Z" } });
    const deal = await readDeal(webAPI, OPPORTUNITY_ID, settings);
    expect(factsOf(deal)).toEqual({
      solutionCount: 2,
      hasAccount: true,
      customerCountry: "NL",
      contact: { email: "femke@contoso.nl", firstName: "Femke", lastName: "de Vries" },
      dealValue: 120000,
      currencyCode: "EUR",
      closeDate: "2027-03-31",
    });
    expect(deal.accountId).toBe(ACCOUNT_ID);
    expect(deal.contactId).toBe(CONTACT_ID);
    expect(deal.status.syncStatus).toBe(PartnerCenterSyncStatus.Synced);
    expect(deal.status.lastSyncedOn?.toISOString()).toBe("2026-11-20T14:02:00.000Z");
    const [opportunityCall, solutionsCall] = webAPI.calls;
    expect(opportunityCall).toMatchObject({ method: "retrieveRecord", entityType: Opportunity.logicalName, id: OPPORTUNITY_ID });
    expect(opportunityCall!.options).toContain("$select=estimatedvalue,estimatedclosedate,");
    expect(opportunityCall!.options).toContain("parentaccountid($select=accountid,address1_country)");
    expect(solutionsCall).toMatchObject({ entityType: MicrosoftSolution.logicalName });
    expect(solutionsCall!.options).toContain(`$filter=_${MicrosoftSolution.lookups.opportunity.column}_value eq ${OPPORTUNITY_ID}`);
  });

  test("no account, no contact, no currency are facts too", async () => {
    const deal = await readDeal(seedWebApi({ hasAccount: false, hasContact: false, currency: null, dealValue: null, closeDate: null, solutions: 0 }), OPPORTUNITY_ID, settings);
    expect(factsOf(deal)).toEqual({ solutionCount: 0, hasAccount: false, customerCountry: null, contact: null, dealValue: null, currencyCode: null, closeDate: null });
    expect(deal.accountId).toBeNull();
  });

  test("a Web API failure rejects with Dataverse's message", async () => {
    await expect(readDeal(seedWebApi().fail(Opportunity.logicalName, { errorCode: 1, message: "Dataverse is down" }), OPPORTUNITY_ID, settings)).rejects.toMatchObject({ message: "Dataverse is down" });
  });
});

describe("readHistory", () => {
  test("asks for the opportunity's sync events, newest first, at most N", async () => {
    const webAPI = seedWebApi({ events: SCENARIOS.synced.seed.events });
    const rows = await readHistory(webAPI, OPPORTUNITY_ID, 3);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.message)).toEqual(SCENARIOS.synced.seed.events.slice(0, 3).map((e) => e[SyncEvent.columns.message]));
    const options = webAPI.calls[0]!.options!;
    expect(webAPI.calls[0]!.entityType).toBe(SyncEvent.logicalName);
    expect(options).toContain(`$filter=_${SyncEvent.lookups.opportunity.column}_value eq ${OPPORTUNITY_ID}`);
    expect(options).toContain(`$orderby=${SyncEvent.columns.occurredOn} desc,${SyncEvent.columns.createdOn} desc`);
    expect(options).toContain("$top=3");
  });
});

test("normalizeId accepts braces and case, and refuses what is not a GUID", () => {
  expect(normalizeId("{6F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0}")).toBe(OPPORTUNITY_ID);
  expect(normalizeId("")).toBeNull();
  expect(normalizeId("1 or 1 eq 1")).toBeNull();
});

describe("relay client", () => {
  test("starts a sync with the bearer token and follows the run to its end", async () => {
    const relay = createRelayFake({ states: ["queued", "running", "succeeded"] });
    const client = createRelayClient(RELAY_URL, () => Promise.resolve("t0ken"), relay.fetch);
    const seen: RunStatus["state"][] = [];
    const waits: number[] = [];
    const result = await runAndFollow(client, "sync", OPPORTUNITY_ID, {
      firstIntervalMs: 1000,
      maxIntervalMs: 2000,
      timeoutMs: 60_000,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      onProgress: (s) => seen.push(s.state),
    });
    expect(result).toEqual({ runId: "run-sync-1", state: "succeeded" });
    expect(seen).toEqual(["queued", "queued", "running", "succeeded"]);
    expect(waits).toEqual([1000, 1500, 2000]);
    expect(relay.requests[0]).toEqual({ method: "POST", url: `${RELAY_URL}/api/opportunities/${OPPORTUNITY_ID}/sync`, authorization: "Bearer t0ken" });
    expect(relay.requests[1]).toMatchObject({ method: "GET", url: `${RELAY_URL}/api/runs/run-sync-1` });
  });

  test("a retry posts to /retry and a failed run carries the relay's error", async () => {
    const relay = createRelayFake({ states: ["failed"], error: "Partner Center answered 429" });
    const client = createRelayClient(RELAY_URL, () => Promise.resolve("t"), relay.fetch);
    const result = await runAndFollow(client, "retry", OPPORTUNITY_ID, { firstIntervalMs: 0, maxIntervalMs: 0, timeoutMs: 1000, sleep: () => Promise.resolve() });
    expect(result).toEqual({ runId: "run-retry-1", state: "failed", error: "Partner Center answered 429" });
    expect(relay.requests[0]!.url.endsWith("/retry")).toBe(true);
  });

  test("failures are told apart: sign-in, unreachable, HTTP, bad answers, time-outs", async () => {
    const failureOf = async (client: RelayClient): Promise<unknown> => {
      try {
        await runAndFollow(client, "sync", OPPORTUNITY_ID, { firstIntervalMs: 0, maxIntervalMs: 0, timeoutMs: 0, sleep: () => Promise.resolve() });
      } catch (error) {
        return error instanceof RelayError ? error.failure : error;
      }
      return null;
    };
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.reject(new Error("no account")), createRelayFake().fetch))).toEqual({ kind: "signIn", message: "no account" });
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), createRelayFake({ unreachable: true }).fetch))).toMatchObject({ kind: "unreachable" });
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), createRelayFake({ startStatus: 503 }).fetch))).toEqual({ kind: "http", status: 503, message: "The relay could not queue the run" });
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), createRelayFake({ startStatus: 401 }).fetch))).toMatchObject({ kind: "signIn" });
    // The relay's own error body is { error: { code, message } }: the card shows its message.
    const relayError = async (): Promise<Response> => ({ ok: false, status: 500, json: () => Promise.resolve({ error: { code: "internal", message: "The relay could not reach Dataverse; try again in a minute." } }) }) as unknown as Response;
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), relayError))).toEqual({ kind: "http", status: 500, message: "The relay could not reach Dataverse; try again in a minute." });
    const notJson = async (): Promise<Response> => ({ ok: true, status: 202, json: () => Promise.reject(new SyntaxError("x")) }) as unknown as Response;
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), notJson))).toMatchObject({ kind: "badAnswer" });
    expect(await failureOf(createRelayClient(RELAY_URL, () => Promise.resolve("t"), createRelayFake({ states: ["running"] }).fetch))).toMatchObject({ kind: "timeout" });
  });

  test("polling stops when the control goes away", async () => {
    const abort = new AbortController();
    const client = createRelayClient(RELAY_URL, () => Promise.resolve("t"), createRelayFake({ states: ["running"] }).fetch);
    const following = runAndFollow(client, "sync", OPPORTUNITY_ID, {
      firstIntervalMs: 0, maxIntervalMs: 0, timeoutMs: 60_000, signal: abort.signal,
      sleep: () => {
        abort.abort();
        return Promise.resolve();
      },
    });
    await expect(following).rejects.toMatchObject({ failure: { kind: "aborted" } });
  });

  test("only https relay URLs are called (http only on this machine)", () => {
    expect(validRelayUrl("https://relay.contoso.com/")).toBe("https://relay.contoso.com");
    expect(validRelayUrl(" https://relay.contoso.com/base ")).toBe("https://relay.contoso.com/base");
    expect(validRelayUrl("http://127.0.0.1:7071")).toBe("http://127.0.0.1:7071");
    expect(validRelayUrl("http://relay.contoso.com")).toBeNull();
    expect(validRelayUrl("javascript:alert(1)")).toBeNull();
    expect(validRelayUrl("https://relay.contoso.com/?x=1")).toBeNull();
    expect(validRelayUrl("")).toBeNull();
    expect(validRelayUrl("relay")).toBeNull();
  });
});

describe("explainSyncError", () => {
  test("recognises readiness problems in either language and lists them in checklist order", () => {
    const error = `${READINESS_PROBLEMS.noCloseDate[1043]}\n${READINESS_PROBLEMS.noSolution[1033]}`;
    expect(explainSyncError(error)).toMatchObject({ kind: "readiness", problems: ["noSolution", "noCloseDate"] });
    expect(explainSyncError("validation failed: countryNotIso")).toMatchObject({ kind: "readiness", problems: ["countryNotIso"] });
  });

  test.each([
    ["AADSTS700082: The refresh token has expired", "auth"],
    ["Partner Center answered 429 Too Many Requests", "busy"],
    ["412 Precondition Failed on PATCH", "conflict"],
    ["Referral 5a7c not found (404)", "notFound"],
    ["connect ETIMEDOUT 20.1.2.3:443", "unavailable"],
    ["Partner Center answered 400 Bad Request: details.dealValue must be greater than 0", "rejected"],
    ["Something odd happened", "other"],
  ])("%s is %s", (error, kind) => {
    expect(explainSyncError(error)?.kind).toBe(kind);
  });

  test("no error, no explanation; long errors are cut", () => {
    expect(explainSyncError("  ")).toBeNull();
    expect(explainSyncError(null)).toBeNull();
    expect(shortDetail("x".repeat(400))).toHaveLength(300);
    expect(shortDetail("one\n\ntwo\nthree\nfour")).toBe("one two three");
  });
});

describe("props", () => {
  test("field security and unbound columns are read from each property", () => {
    const { fields, missingBindings } = readFields(parameters({ ...SCENARIOS.synced.values, security: { microsoftCrmIdentifier: { readable: false }, syncWithPartnerCenter: { editable: false } }, unbound: ["microsoftSubstatus"] }));
    expect(fields.microsoftCrmIdentifier).toEqual({ value: null, formatted: null, bound: true, readable: false, editable: true });
    expect(fields.syncWithPartnerCenter).toMatchObject({ value: true, editable: false, readable: true });
    expect(fields.lastSyncedOn.value?.toISOString()).toBe("2026-11-20T14:02:00.000Z");
    expect(missingBindings).toEqual(["microsoftSubstatus"]);
    expect(isBound(undefined)).toBe(false);
    expect(isBound(text("x"))).toBe(true);
  });

  test("layout, record and inputs", () => {
    const context = (o: Partial<ConstructorParameters<typeof MockContext>[0]>): MockContext => new MockContext({ parameters: parameters(), strings: {}, ...o });
    expect(readLayout(context({ formFactor: 3 }))).toBe("phone");
    expect(readLayout(context({ allocatedWidth: 360 }))).toBe("phone");
    expect(readLayout(context({ allocatedWidth: 900 }))).toBe("wide");
    expect(readLayout(context({ allocatedWidth: -1 }))).toBe("wide");
    expect(readOpportunity(context({}))).toEqual({ id: OPPORTUNITY_ID, name: "Contoso: 500 Copilot seats" });
    expect(readOpportunity(context({ entityId: null })).id).toBeNull();
    expect(readHistorySize(undefined)).toBe(5);
    expect(readHistorySize({ raw: 500 } as ComponentFramework.PropertyTypes.WholeNumberProperty)).toBe(50);
    expect(readHistorySize({ raw: 0 } as ComponentFramework.PropertyTypes.WholeNumberProperty)).toBe(1);
  });

  test("every text the card shows comes from the resx, in both languages", () => {
    for (const lcid of [1033, 1043] as const) {
      const strings = loadStrings(lcid);
      const texts = readTexts(new MockResources(strings));
      for (const key of Object.keys(Text) as Array<keyof typeof Text>) {
        expect(strings).toHaveProperty([Text[key]]);
        expect(texts[key]).toBe(strings[Text[key]]);
      }
    }
    expect(readTexts(new MockResources(loadStrings(1043))).syncNow).toBe("Nu synchroniseren");
  });
});

test("openFix opens what PCF navigation can open", async () => {
  const navigation = new MockNavigation();
  await openFix(navigation, { check: "solution", opportunityId: OPPORTUNITY_ID, opportunityName: "Contoso" });
  await openFix(navigation, { check: "country", accountId: ACCOUNT_ID });
  await openFix(navigation, { check: "contact", contactId: CONTACT_ID });
  expect(navigation.opened).toEqual([
    { entityName: MicrosoftSolution.logicalName, useQuickCreateForm: true, createFromEntity: { entityType: Opportunity.logicalName, id: OPPORTUNITY_ID, name: "Contoso" } },
    { entityName: "account", entityId: ACCOUNT_ID },
    { entityName: "contact", entityId: CONTACT_ID },
  ]);
});

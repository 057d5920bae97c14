// The rules step through the Dataverse sandbox: the steps registered as `relay init` registers them, then
// Web API saves by the seller (what an import, a flow or an integration does). Turning Referral Visibility
// off, or Sync = Yes on a deal Partner Center would not accept, is refused inside the save with the form's
// words (the sandbox's syncFailureMessage "body" passes the relay's message on; with Dataverse's own
// behaviour, "generic", the caller gets the generic webhook failure); valid saves and the relay's own
// writes pass. The relay runs without its worker: only the steps are under test.
import { Opportunity } from "../../../Core/generated/schema.ts";
import { VISIBILITY_LOCKED, readinessSummary } from "../../../Core/messages.ts";
import { DEMO_APPS, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { STEPS } from "../../../Plugins/index.ts";
import { registerSteps } from "../../src/commands/dataverse-steps.ts";
import { literal, type DataverseClient } from "../../src/clients/dataverse.ts";
import { attachSolution, dataverseAs, sellerDeal, userToken } from "../client-api/helpers.ts";
import { startSandboxesForRelay, startTestRelay, type Sandboxes, type TestRelay } from "./helpers.ts";

const c = Opportunity.columns;

interface Env {
  sandboxes: Sandboxes;
  t: TestRelay;
  seller: DataverseClient;
  /** A Web API call as the seller, answered as Dataverse answers it. */
  save(method: "PATCH" | "POST", path: string, body: Record<string, unknown>): Promise<{ status: number; error?: { code: string; message: string } }>;
  close(): Promise<void>;
}

async function start(syncFailureMessage: "body" | "generic"): Promise<Env> {
  const sandboxes = await startSandboxesForRelay({ dataverseWebhooks: { syncFailureMessage, retryDelayMs: 10 } });
  const t = await startTestRelay(sandboxes);
  const settings = await t.relay.clients.settings.get();
  await registerSteps(t.relay.clients.dataverse, STEPS, { publicUrl: t.config.publicUrl, stepKey: t.config.stepKey, dealValueField: settings.dealValueField });
  const seller = dataverseAs(sandboxes, DEMO_USERS.seller);
  const token = await userToken(sandboxes, DEMO_USERS.seller, sandboxes.running.endpoints.dataverseScope, DEMO_APPS.script);
  return {
    sandboxes, t, seller,
    async save(method, path, body) {
      const response = await sandboxes.running.apps.dataverse.inject({
        method, url: `/api/data/v9.2/${path}`, payload: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json", "odata-version": "4.0", ...(method === "PATCH" ? { "if-match": "*" } : {}) },
      });
      return { status: response.statusCode, ...(response.body ? { error: (JSON.parse(response.body) as { error?: { code: string; message: string } }).error } : {}) };
    },
    async close() {
      await seller.close();
      await t.close();
      await sandboxes.close();
    },
  };
}

async function read(env: Env, id: string): Promise<Record<string, unknown>> {
  const row = await env.t.relay.clients.dataverse.retrieve(Opportunity.entitySetName, id, { select: [c.syncWithPartnerCenter, c.referralVisibility, "estimatedvalue"], formattedValues: false });
  return row!;
}

describe("with the relay's message passed on (syncFailureMessage: body)", () => {
  let env: Env;
  beforeAll(async () => {
    env = await start("body");
  }, 60_000);
  afterAll(async () => {
    // When a save fails with the relay's "could not handle the request", its own words say why: show them.
    const errors = env?.t.lines.filter((l) => (l.level ?? 0) >= 50) ?? [];
    if (errors.length) console.error(`the relay logged ${errors.length} error(s):\n${errors.slice(0, 3).map((l) => JSON.stringify(l).slice(0, 2000)).join("\n")}`);
    await env?.close();
  });

  test("relay init's registration: synchronous, PreOperation, on Create and Update, with the pre image", async () => {
    const steps: Record<string, unknown>[] = [];
    for await (const row of env.t.relay.clients.dataverse.retrieveMultiple("sdkmessageprocessingsteps", {
      select: ["sdkmessageprocessingstepid", "name", "stage", "mode", "filteringattributes"], filter: `startswith(name,${literal("CoSellRelay.opportunity-rules")})`, formattedValues: false,
    })) steps.push(row);
    expect(steps.map((s) => [s.name, s.stage, s.mode]).sort()).toEqual([
      ["CoSellRelay.opportunity-rules-create: Create of opportunity", 20, 0],
      ["CoSellRelay.opportunity-rules-update: Update of opportunity", 20, 0],
    ]);
    const update = steps.find((s) => String(s.name).includes("update"))!;
    expect(String(update.filteringattributes).split(",")).toEqual(expect.arrayContaining([c.syncWithPartnerCenter, c.referralVisibility, "estimatedvalue"]));
    const images: Record<string, unknown>[] = [];
    for await (const row of env.t.relay.clients.dataverse.retrieveMultiple("sdkmessageprocessingstepimages", {
      select: ["entityalias", "imagetype", "attributes"], filter: `_sdkmessageprocessingstepid_value eq ${String(update.sdkmessageprocessingstepid)}`, formattedValues: false,
    })) images.push(row);
    expect(images).toEqual([expect.objectContaining({ entityalias: "PreImage", imagetype: 0 })]);
    expect(String(images[0]!.attributes).split(",").sort()).toEqual([c.referralVisibility, c.syncWithPartnerCenter].sort());
  });

  test("Sync = Yes on a deal without a solution is refused with the readiness message; with the solution it saves", async () => {
    const { opportunityId } = await sellerDeal(env.seller, { sync: false, solution: false });
    const refused = await env.save("PATCH", `opportunities(${opportunityId})`, { [c.syncWithPartnerCenter]: true });
    expect(refused).toEqual({ status: 400, error: { code: "0x80040265", message: readinessSummary(["noSolution"], 1033) } });
    expect(await read(env, opportunityId)).toMatchObject({ [c.syncWithPartnerCenter]: false });

    await attachSolution(env.seller, opportunityId);
    expect((await env.save("PATCH", `opportunities(${opportunityId})`, { [c.syncWithPartnerCenter]: true })).status).toBe(204);
    expect(await read(env, opportunityId)).toMatchObject({ [c.syncWithPartnerCenter]: true });
  });

  test("turning Referral Visibility back off is refused with the form's message", async () => {
    const { opportunityId } = await sellerDeal(env.seller);
    expect((await env.save("PATCH", `opportunities(${opportunityId})`, { [c.referralVisibility]: true })).status).toBe(204);
    const refused = await env.save("PATCH", `opportunities(${opportunityId})`, { [c.referralVisibility]: false, name: "Imported again" });
    expect(refused).toEqual({ status: 400, error: { code: "0x80040265", message: VISIBILITY_LOCKED[1033] } });
    expect(await read(env, opportunityId)).toMatchObject({ [c.referralVisibility]: true });
  });

  test("a save that breaks the rules on a synced deal is refused; turning sync off always saves", async () => {
    const { opportunityId } = await sellerDeal(env.seller);
    expect(await env.save("PATCH", `opportunities(${opportunityId})`, { estimatedvalue: 0 })).toEqual({ status: 400, error: { code: "0x80040265", message: readinessSummary(["dealValueNotPositive"], 1033) } });
    expect(await read(env, opportunityId)).toMatchObject({ estimatedvalue: 120000 });
    expect((await env.save("PATCH", `opportunities(${opportunityId})`, { estimatedvalue: 0, [c.syncWithPartnerCenter]: false })).status).toBe(204);
    expect(await read(env, opportunityId)).toMatchObject({ estimatedvalue: 0, [c.syncWithPartnerCenter]: false });
  });

  test("an import that creates a deal with Sync = Yes for an account without a country is refused; without a solution only, it saves", async () => {
    const { accountId } = await sellerDeal(env.seller, { sync: false, country: null, solution: false });
    const body = {
      name: "Imported deal", estimatedvalue: 5000, estimatedclosedate: "2027-06-30", [c.syncWithPartnerCenter]: true,
      "parentaccountid@odata.bind": `/accounts(${accountId})`, "customerid_account@odata.bind": `/accounts(${accountId})`,
    };
    expect(await env.save("POST", "opportunities", body)).toEqual({ status: 400, error: { code: "0x80040265", message: readinessSummary(["noCountry"], 1033) } });
    await env.seller.update("accounts", accountId, { address1_country: "NL" });
    expect((await env.save("POST", "opportunities", body)).status).toBe(204);
  });

  test("the relay's own write-backs are not held to the readiness rules", async () => {
    const { opportunityId } = await sellerDeal(env.seller);
    const result = await env.t.relay.clients.dataverse.update(Opportunity.entitySetName, opportunityId, { estimatedvalue: null });
    expect(result.updated).toBe(true);
  });
});

describe("with Dataverse's own failure text (syncFailureMessage: generic)", () => {
  let env: Env;
  beforeAll(async () => {
    env = await start("generic");
  }, 60_000);
  afterAll(async () => {
    // When a save fails with the relay's "could not handle the request", its own words say why: show them.
    const errors = env?.t.lines.filter((l) => (l.level ?? 0) >= 50) ?? [];
    if (errors.length) console.error(`the relay logged ${errors.length} error(s):\n${errors.slice(0, 3).map((l) => JSON.stringify(l).slice(0, 2000)).join("\n")}`);
    await env?.close();
  });

  test("the save is refused with the generic webhook failure; the relay's log says why", async () => {
    const { opportunityId } = await sellerDeal(env.seller, { sync: false, solution: false });
    const before = env.t.lines.length;
    expect(await env.save("PATCH", `opportunities(${opportunityId})`, { [c.syncWithPartnerCenter]: true })).toEqual({
      status: 400,
      error: { code: "0x80040265", message: "The webhook 'CoSellRelay.opportunity-rules-update' registered for step 'CoSellRelay.opportunity-rules-update: Update of opportunity' failed: HTTP status 422." },
    });
    expect(env.t.lines.slice(before)).toContainEqual(expect.objectContaining({ step: "opportunity-rules-update", refused: true, msg: "Dataverse step refused the operation" }));
    expect((await env.save("PATCH", `opportunities(${opportunityId})`, { name: "Renamed, sync still off" })).status).toBe(204);
  });
});

// `relay doctor` against the sandboxes: for each check, break its condition through the sandboxes' control
// APIs (or the Web API, as an admin would), see the check fail with its fix, mend it, see it pass. The
// data checks run first, before relay init registers the synchronous rules step (which would refuse to
// save a deal that is not ready). Then the whole doctor through the CLI, answered by the running relay.
import { EnvironmentVariables, HowCanMicrosoftHelp, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity, PartnerCenterSyncStatus, Roles, Solution } from "../../../Core/generated/schema.ts";
import { DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { freePorts } from "../../../Sandbox/start.ts";
import { readFileSync } from "node:fs";
import { openApiClients } from "../../src/relay.ts";
import { literal, type Row } from "../../src/clients/dataverse.ts";
import { expectSuccess, type DataverseRequest } from "../../src/clients/dataverse-request.ts";
import { runCli, type CliIo } from "../../src/cli.ts";
import * as checks from "../../src/doctor/checks.ts";
import { createDoctorReaders } from "../../src/doctor/readers.ts";
import { runDoctor, type CheckResult } from "../../src/doctor/run.ts";
import { ENVIRONMENT_VARIABLE_TABLES as T } from "../../src/settings/environment-variables.ts";
import { createRun, markRunFinished } from "../../src/store/runs.ts";
import { emptyLink, saveLink } from "../../src/sync/links.ts";
import { control, startSandboxesForRelay, startTestRelay, withDeviceCodeApproved, type Sandboxes, type TestRelay } from "../edge/helpers.ts";

let sandboxes: Sandboxes;
let t: TestRelay;
let readers: ReturnType<typeof createDoctorReaders>;
let idlePort: number;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  t = await startTestRelay(sandboxes);
  readers = createDoctorReaders({ config: t.config, clients: t.relay.clients, db: t.relay.clients.db, testEventTimeoutMs: 10_000 });
  [idlePort] = (await freePorts(1)) as [number];
}, 60_000);
afterAll(async () => {
  await readers?.close();
  await t?.close();
  await sandboxes?.close();
});

async function check(definition: checks.DoctorCheck): Promise<CheckResult> {
  const report = await runDoctor(readers, { checks: [definition] });
  return report.results[0]!;
}

async function expectFails(definition: checks.DoctorCheck, detail: RegExp, fix: string | RegExp = definition.fix): Promise<void> {
  const result = await check(definition);
  expect(result).toMatchObject({ id: definition.id, ok: false });
  expect(result.detail).toMatch(detail);
  if (typeof fix === "string") expect(result.fix).toContain(fix);
  else expect(result.fix).toMatch(fix);
}

async function expectPasses(definition: checks.DoctorCheck): Promise<void> {
  const result = await check(definition);
  expect([result.id, result.ok, result.ok ? "" : `${result.detail} / ${result.fix}`]).toEqual([definition.id, true, ""]);
}

const endpoints = () => JSON.parse(readFileSync(sandboxes.endpointsFile, "utf8")) as { clients: { script: { clientId: string; clientSecret: string } } };
const dataverse = () => t.relay.clients.dataverse;

async function rows(entitySet: string, filter: string, select: string[]): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of dataverse().retrieveMultiple(entitySet, { filter, select, formattedValues: false })) found.push(row);
  return found;
}

/** Sets an environment variable's current value, as an admin does in the maker portal. */
async function setVariable(schemaName: string, value: string): Promise<void> {
  const [definition] = await rows(T.definitions, `${T.schemaName} eq ${literal(schemaName)}`, [T.definitionId]);
  const [current] = await rows(T.values, `${T.schemaName} eq ${literal(schemaName)}`, ["environmentvariablevalueid"]);
  if (current) await dataverse().update(T.values, String(current.environmentvariablevalueid), { [T.value]: value });
  else await dataverse().create(T.values, { [T.schemaName]: schemaName, [T.value]: value, [`${T.valueDefinitionNavigation}@odata.bind`]: `/${T.definitions}(${String(definition![T.definitionId])})` });
  await t.relay.clients.settings.refresh();
}

/** Associate (POST) or disassociate (DELETE) through an N:N navigation property's $ref, as the Web API does. */
function roleRef(method: "POST" | "DELETE", path: string, body?: Record<string, unknown>): DataverseRequest<void> {
  const request: DataverseRequest<void> = {
    method, path, headers: {}, ...(body ? { body } : {}), idempotent: true,
    read: (response) => expectSuccess(request, response),
  };
  return request;
}

async function signInAs(username: string): Promise<void> {
  await withDeviceCodeApproved(sandboxes, username, (show) => t.relay.clients.signIn.signIn({ onDeviceCode: (prompt) => show(prompt.message) }));
}

/** Partner Center sends at most 2 test events a minute: the sandbox clock moves on a minute first. */
async function allowTestEvent(): Promise<void> {
  await control(sandboxes, "partnerCenter", "/sandbox/clock", { advance: "61s" });
}

async function init(args: string[] = []): Promise<number> {
  await allowTestEvent();
  return runCli(["init", "--sandbox", sandboxes.endpointsFile, "--yes", ...args], {
    stdout: () => undefined, stderr: () => undefined, env: { PCR_LISTEN_PORT: String(t.config.listen.port) }, cwd: sandboxes.stateDir, testEventTimeoutMs: 15_000,
  });
}

describe("the data, before the rules step is registered", () => {
  let opportunityId: string;
  let accountId: string;
  let contactId: string;

  beforeAll(async () => {
    const [account] = await rows("accounts", `address1_country eq 'NL'`, ["accountid"]);
    accountId = String(account!.accountid);
    const [contact] = await rows("contacts", `_parentcustomerid_value eq ${accountId}`, ["contactid"]);
    contactId = String(contact!.contactid);
    const [currency] = await rows("transactioncurrencies", "isocurrencycode eq 'EUR'", ["transactioncurrencyid"]);
    const created = await dataverse().create(Opportunity.entitySetName, {
      name: "Doctor test deal", estimatedvalue: 50_000, estimatedclosedate: "2027-06-30",
      "parentaccountid@odata.bind": `/accounts(${accountId})`, "parentcontactid@odata.bind": `/contacts(${contactId})`,
      "transactioncurrencyid@odata.bind": `/transactioncurrencies(${String(currency!.transactioncurrencyid)})`,
      [Opportunity.columns.syncWithPartnerCenter]: true, [Opportunity.columns.helpRequested]: HowCanMicrosoftHelp.GeneralOrOther,
    });
    opportunityId = created.id;
  });

  test("deals without a Microsoft solution", async () => {
    await expectFails(checks.DEALS_WITHOUT_SOLUTION, /Doctor test deal/);
    const [detail] = await rows(MicrosoftSolutionDetail.entitySetName, "statecode eq 0", [MicrosoftSolutionDetail.primaryId]);
    await dataverse().create(MicrosoftSolution.entitySetName, {
      [MicrosoftSolution.columns.primaryName]: "Doctor test solution",
      [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/${Opportunity.entitySetName}(${opportunityId})`,
      [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${String(detail![MicrosoftSolutionDetail.primaryId])})`,
    });
    await expectPasses(checks.DEALS_WITHOUT_SOLUTION);
  });

  test("accounts without an ISO-2 country", async () => {
    await dataverse().update("accounts", accountId, { address1_country: "Netherlands" });
    await expectFails(checks.ACCOUNTS_WITHOUT_COUNTRY, /Doctor test deal/);
    await dataverse().update("accounts", accountId, { address1_country: "NL" });
    await expectPasses(checks.ACCOUNTS_WITHOUT_COUNTRY);
  });

  test("help requested without a customer contact", async () => {
    const [contact] = await rows("contacts", `contactid eq ${contactId}`, ["emailaddress1"]);
    await dataverse().update("contacts", contactId, { emailaddress1: null });
    await expectFails(checks.DEALS_WITHOUT_CONTACT, /Doctor test deal/);
    await dataverse().update("contacts", contactId, { emailaddress1: contact!.emailaddress1 });
    await expectPasses(checks.DEALS_WITHOUT_CONTACT);
  });

  test("records Failed, or Pending too long", async () => {
    await expectPasses(checks.STUCK_RECORDS);
    await dataverse().update(Opportunity.entitySetName, opportunityId, { [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Failed, [Opportunity.columns.lastSyncError]: "Partner Center refused it" });
    await expectFails(checks.STUCK_RECORDS, /opportunity Doctor test deal failed \(Partner Center refused it\)/);
    await dataverse().update(Opportunity.entitySetName, opportunityId, { [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced });
    await expectPasses(checks.STUCK_RECORDS);
  });

  test("currencies", async () => {
    const active = await rows("transactioncurrencies", "statecode eq 0", ["transactioncurrencyid"]);
    for (const c of active) await dataverse().update("transactioncurrencies", String(c.transactioncurrencyid), { statecode: 1, statuscode: 2 });
    await expectFails(checks.CURRENCIES, /no active currency/);
    for (const c of active) await dataverse().update("transactioncurrencies", String(c.transactioncurrencyid), { statecode: 0, statuscode: 1 });
    await expectPasses(checks.CURRENCIES);
  });
});

describe("the relay's store", () => {
  test("dead letters waiting", async () => {
    const subject = "opportunity:00000000-0000-4000-8000-00000000d0c7";
    const dead = await createRun(t.relay.clients.db, { tenantId: t.config.tenantKey, kind: "sync", subject });
    await markRunFinished(t.relay.clients.db, dead.id, { state: "dead", error: "gave up" });
    await expectFails(checks.DEAD_LETTERS, new RegExp(subject));
    const retried = await createRun(t.relay.clients.db, { tenantId: t.config.tenantKey, kind: "sync", subject });
    await markRunFinished(t.relay.clients.db, retried.id, { state: "succeeded" });
    await expectPasses(checks.DEAD_LETTERS);
  });

  test("referrals that expire within 3 days", async () => {
    const link = { ...emptyLink(t.config.tenantKey, "lead", "00000000-0000-4000-8000-0000000e1a5e"), referralId: "doctor-expiring", referralStatus: "New", respondBy: new Date(Date.now() + 24 * 3600_000) };
    await saveLink(t.relay.clients.db, link);
    await expectFails(checks.EXPIRING_REFERRALS, /referral doctor-expiring \(lead/);
    await saveLink(t.relay.clients.db, { ...link, referralStatus: "Active", respondBy: null });
    await expectPasses(checks.EXPIRING_REFERRALS);
  });
});

describe("Partner Center", () => {
  test("reachable", async () => {
    await expectPasses(checks.PARTNER_CENTER_REACHABLE);
    await control(sandboxes, "partnerCenter", "/sandbox/faults", { kind: "error", status: 500, route: "*", count: 6 });
    await expectFails(checks.PARTNER_CENTER_REACHABLE, /500|Partner Center/);
    await control(sandboxes, "partnerCenter", "/sandbox/faults", undefined, "DELETE");
    await expectPasses(checks.PARTNER_CENTER_REACHABLE);
  }, 60_000);

  test("the service account signed in, holding a Referrals role, refreshing with MFA", async () => {
    await expectFails(checks.SERVICE_ACCOUNT_SIGNED_IN, /nobody has signed in/);
    await expectFails(checks.SIGN_IN_REFRESHES, /sign-in required/i);
    await signInAs(DEMO_USERS.noReferralRole.username);
    await expectPasses(checks.SERVICE_ACCOUNT_SIGNED_IN);
    await expectFails(checks.REFERRALS_ROLE, /./, "Referrals admin role");
    await signInAs(DEMO_USERS.referralsAdmin.username);
    await expectPasses(checks.REFERRALS_ROLE);
    await expectPasses(checks.SIGN_IN_REFRESHES);

    await control(sandboxes, "identity", "/sandbox/refresh-tokens/revoke", { username: DEMO_USERS.referralsAdmin.username });
    await expectFails(checks.SIGN_IN_REFRESHES, /lapsed or was revoked/, "relay login");
    await signInAs(DEMO_USERS.referralsAdmin.username);
    await expectPasses(checks.SIGN_IN_REFRESHES);
  }, 90_000);

  test("a sign-in without MFA fails the refresh check; MFA back on and relay login mend it", async () => {
    const admin = DEMO_USERS.referralsAdmin.username;
    await expectPasses(checks.SIGN_IN_REFRESHES);
    // The tenant's admin turns per-user MFA off for the service account; someone signs the relay in again.
    expect((await control(sandboxes, "identity", "/sandbox/users/mfa", { username: admin, mfa: false })).body).toEqual({ username: admin, mfa: false });
    try {
      await signInAs(admin);
      await expectFails(checks.SIGN_IN_REFRESHES, /^the token was issued without MFA \(amr: pwd\); Partner Center refuses it since 2026-04-01$/, "run relay login again and complete MFA");
      // MFA on again: the stored sign-in still lacks it (refreshed tokens carry the sign-in's methods on) ...
      await control(sandboxes, "identity", "/sandbox/users/mfa", { username: admin, mfa: true });
      await expectFails(checks.SIGN_IN_REFRESHES, /without MFA/, "relay login");
    } finally {
      await control(sandboxes, "identity", "/sandbox/users/mfa", { username: admin, mfa: true });
    }
    // ... until the fix is followed: relay login, with MFA.
    await signInAs(admin);
    await expectPasses(checks.SIGN_IN_REFRESHES);
    await expectPasses(checks.REFERRALS_ROLE);
  }, 90_000);

  test("webhook registration and the test event", async () => {
    await expectFails(checks.WEBHOOK_REGISTRATION, /no webhook registration/);
    expect(await init()).toBe(0);
    await expectPasses(checks.WEBHOOK_REGISTRATION);
    await allowTestEvent();
    await expectPasses(checks.TEST_EVENT);

    const partnerCenter = t.relay.clients.partnerCenter;
    await partnerCenter.replaceRegistration({ webhookUrl: `${t.config.publicUrl}/webhooks/partner-center`, webhookEvents: ["referral-created", "referral-updated"] });
    await expectFails(checks.WEBHOOK_REGISTRATION, /lacks related-referral-created, related-referral-updated/, "relay init");
    const elsewhere = `http://127.0.0.1:${idlePort}/webhooks/partner-center`;
    await partnerCenter.replaceRegistration({ webhookUrl: elsewhere, webhookEvents: ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated", "test-created"] });
    await expectFails(checks.WEBHOOK_REGISTRATION, new RegExp(`points at ${elsewhere}`), "--replace-webhook");
    await allowTestEvent();
    await expectFails(checks.TEST_EVENT, /did not arrive/, "relay start");
    expect(await init(["--replace-webhook", "--no-test-event"])).toBe(0);
    await expectPasses(checks.WEBHOOK_REGISTRATION);
    await allowTestEvent();
    await expectPasses(checks.TEST_EVENT);
  }, 90_000);
});

describe("Dataverse", () => {
  test("the application user", async () => {
    await expectPasses(checks.DATAVERSE_APPLICATION_USER);
    const { UserId } = await dataverse().whoAmI();
    // Another admin (the script app's application user) disables and enables the relay's.
    const admin = openApiClients({ ...t.config, dataverse: { ...t.config.dataverse, clientId: endpoints().clients.script.clientId, clientSecret: endpoints().clients.script.clientSecret } });
    try {
      await admin.dataverse.update("systemusers", UserId, { isdisabled: true });
      await expectFails(checks.DATAVERSE_APPLICATION_USER, /is disabled/, "Application users");
      await admin.dataverse.update("systemusers", UserId, { isdisabled: false });
      await expectPasses(checks.DATAVERSE_APPLICATION_USER);

      // The admin removes the Partner Center Relay role (disassociate), then gives it back (associate).
      const role = `roles(${Roles.partnerCenterRelay.id})`;
      await admin.dataverse.send(roleRef("DELETE", `systemusers(${UserId})/systemuserroles_association/$ref?$id=${admin.dataverse.apiRoot}/${role}`));
      await expectFails(checks.DATAVERSE_APPLICATION_USER, /holds no security role, not Partner Center Relay/, /Edit security roles, and add Partner Center Relay/);
      await admin.dataverse.send(roleRef("POST", `systemusers(${UserId})/systemuserroles_association/$ref`, { "@odata.id": `${admin.dataverse.apiRoot}/${role}` }));
    } finally {
      await admin.close();
    }
    await expectPasses(checks.DATAVERSE_APPLICATION_USER);
  });

  test("the solution and its version", async () => {
    await expectPasses(checks.SOLUTION_INSTALLED);
    const [solution] = await rows("solutions", `uniquename eq ${literal(Solution.uniqueName)}`, ["solutionid", "version"]);
    await dataverse().update("solutions", String(solution!.solutionid), { version: "0.0.1.0" });
    await expectFails(checks.SOLUTION_INSTALLED, /version 0\.0\.1\.0 is installed/, "npm run deploy");
    await dataverse().update("solutions", String(solution!.solutionid), { version: Solution.version });
    await expectPasses(checks.SOLUTION_INSTALLED);
  });

  test("the steps, registered and enabled", async () => {
    await expectPasses(checks.STEPS_REGISTERED);
    const [step] = await rows("sdkmessageprocessingsteps", "startswith(name,'CoSellRelay.opportunity-update')", ["sdkmessageprocessingstepid"]);
    const id = String(step!.sdkmessageprocessingstepid);
    await dataverse().update("sdkmessageprocessingsteps", id, { statecode: 1, statuscode: 2 });
    await expectFails(checks.STEPS_REGISTERED, /disabled: opportunity-update/, "Enable the steps");
    await dataverse().update("sdkmessageprocessingsteps", id, { statecode: 0, statuscode: 1 });
    await expectPasses(checks.STEPS_REGISTERED);
    await dataverse().delete("sdkmessageprocessingsteps", id);
    await expectFails(checks.STEPS_REGISTERED, /not registered: opportunity-update/, "relay init");
    expect(await init(["--no-test-event"])).toBe(0);
    await expectPasses(checks.STEPS_REGISTERED);
  }, 60_000);

  test("the column variables name existing columns of a fitting type", async () => {
    await expectPasses(checks.COLUMN_VARIABLES);
    await setVariable(EnvironmentVariables.dealValueField.schemaName, "nosuchcolumn");
    await expectFails(checks.COLUMN_VARIABLES, /names nosuchcolumn, which the opportunity table does not have/);
    await setVariable(EnvironmentVariables.dealValueField.schemaName, "name");
    await expectFails(checks.COLUMN_VARIABLES, /opportunity\.name, a String column \(needs Money/);
    await setVariable(EnvironmentVariables.customerAccountCountryCodeField.schemaName, "revenue");
    await setVariable(EnvironmentVariables.dealValueField.schemaName, "estimatedvalue");
    await expectFails(checks.COLUMN_VARIABLES, /account\.revenue, a Money column \(needs String\)/);
    await setVariable(EnvironmentVariables.customerAccountCountryCodeField.schemaName, "address1_country");
    await expectPasses(checks.COLUMN_VARIABLES);
  });

  test("the Partner Center field mapping is valid", async () => {
    await expectPasses(checks.FIELD_MAPPING);
    const schemaName = EnvironmentVariables.fieldMapping.schemaName;
    await setVariable(schemaName, JSON.stringify({ opportunity: { dealValue: "nosuchcolumn" } }));
    await expectFails(checks.FIELD_MAPPING, /Partner Center field mapping.* is not used: .*opportunity has no column nosuchcolumn/);
    const result = await check(checks.FIELD_MAPPING);
    expect(result.detail).toMatch(/The last good mapping stays in force \(the standard one: deal value opportunity\.estimatedvalue, country account\.address1_country\)/);
    expect(result.fix).toContain("or clear it to use the standard mapping");
    // The admin removes the current value (maker portal: Remove from this environment).
    const [current] = await rows(T.values, `${T.schemaName} eq ${literal(schemaName)}`, ["environmentvariablevalueid"]);
    await dataverse().delete(T.values, String(current!.environmentvariablevalueid));
    await t.relay.clients.settings.refresh();
    await expectPasses(checks.FIELD_MAPPING);
  });

  test("the Relay URL answers", async () => {
    await expectPasses(checks.RELAY_URL);
    await setVariable(EnvironmentVariables.relayUrl.schemaName, `http://127.0.0.1:${idlePort}`);
    await expectFails(checks.RELAY_URL, /\/healthz did not answer/);
    expect(await init(["--no-test-event"])).toBe(0);
    await t.relay.clients.settings.refresh();
    await expectPasses(checks.RELAY_URL);
  });
});

describe("relay doctor", () => {
  async function doctor(args: string[], port: number): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (text) => out.push(text), stderr: (text) => err.push(text), env: { PCR_LISTEN_PORT: String(port), PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir, testEventTimeoutMs: 5000 };
    return { code: await runCli(["doctor", "--sandbox", sandboxes.endpointsFile, ...args], io), out, err };
  }

  test("with the relay running, every check passes: one line each, exit 0", async () => {
    await allowTestEvent();
    const { code, out, err } = await doctor([], t.config.listen.port);
    expect([out.filter((l) => l.startsWith("✖")), err]).toEqual([[], []]);
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith("✔"))).toHaveLength(checks.DOCTOR_CHECKS.length);
    expect(out.at(-1)).toBe(`All ${checks.DOCTOR_CHECKS.length} checks passed.`);
  }, 90_000);

  test("--json, and a failure exits 1 with its fix", async () => {
    const link = { ...emptyLink(t.config.tenantKey, "lead", "00000000-0000-4000-8000-0000000e1a5f"), referralId: "doctor-json", referralStatus: "New", respondBy: new Date(Date.now() + 3600_000) };
    await saveLink(t.relay.clients.db, link);
    await allowTestEvent();
    const { code, out, err } = await doctor(["--json"], t.config.listen.port);
    expect(code).toBe(1);
    const report = JSON.parse(out.join("\n")) as { ok: boolean; results: CheckResult[] };
    expect(report.ok).toBe(false);
    expect(report.results.filter((r) => !r.ok)).toEqual([expect.objectContaining({ id: "expiring-referrals", fix: checks.EXPIRING_REFERRALS.fix })]);
    expect(err[0]).toMatch(/^Asking the relay running at/);
    await saveLink(t.relay.clients.db, { ...link, referralStatus: "Declined", respondBy: null });
  }, 90_000);

  test("without a running relay it opens the store itself, shows progress, and says what to fix", async () => {
    await allowTestEvent();
    const out: string[] = [];
    const progress: string[] = [];
    const code = await runCli(["doctor", "--sandbox", sandboxes.endpointsFile], {
      stdout: (text) => out.push(text), stderr: () => undefined, progress: (text) => progress.push(text),
      env: { PCR_LISTEN_PORT: String(idlePort), PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir, testEventTimeoutMs: 3000,
    });
    expect(code).toBe(1);
    expect(progress[0]).toBe(`[1/${checks.DOCTOR_CHECKS.length}] ${checks.PARTNER_CENTER_REACHABLE.name}…`);
    expect(out).toContain(`    fix: ${checks.SERVICE_ACCOUNT_SIGNED_IN.fix}`);
    expect(out.at(-1)).toMatch(/checks failed: fix them as said above, then run relay doctor again\.$/);
  }, 90_000);
});

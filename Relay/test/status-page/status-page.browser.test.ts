// The status page in Debian's Chromium (playwright-core), served by a relay running against the
// sandboxes with its worker on: the admin signs in with Entra ID (msal-browser's popup on the identity
// sandbox's sign-in page; the relay admits the token only with the Relay.Admin app role, so a seller is
// refused), sees a failed sync (a deal shared without a Microsoft solution) with what to do, the seller's
// fix is made, the admin clicks Retry and sees the new run succeed. The page also runs the doctor.
// Screenshot: out/status-page/status-page.png, and docs/status-page.png with UPDATE_SCREENSHOTS=1.
//
// Chromium trusts exactly this run's sandbox certificates (--ignore-certificate-errors-spki-list with the
// SPKI hashes of the sandbox CA and its server certificate), as in client-api/sign-in.browser.test.ts.
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { HowCanMicrosoftHelp, MicrosoftSolution, MicrosoftSolutionDetail, Opportunity } from "../../../Core/generated/schema.ts";
import { DEMO_APPS, DEMO_USERS } from "../../../Sandbox/shared/demo-tenant.ts";
import { runCli } from "../../src/cli.ts";
import { DOCTOR_CHECKS } from "../../src/doctor/checks.ts";
import { getRun } from "../../src/store/runs.ts";
import type { Row } from "../../src/clients/dataverse.ts";
import { control, repoRoot, startSandboxesForRelay, startTestRelay, waitFor, type Sandboxes, type TestRelay } from "../edge/helpers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
const describeInBrowser = available ? describe : describe.skip;

/** base64(SHA-256(SubjectPublicKeyInfo)), the form --ignore-certificate-errors-spki-list takes. */
function spkiHash(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest("base64");
}

describeInBrowser("the status page in Chromium", () => {
  let sandboxes: Sandboxes;
  let t: TestRelay;
  let browser: Browser;
  let page: Page;
  let failedRunId: string;
  let opportunityId: string;

  async function rows(entitySet: string, filter: string, select: string[]): Promise<Row[]> {
    const found: Row[] = [];
    for await (const row of t.relay.clients.dataverse.retrieveMultiple(entitySet, { filter, select, formattedValues: false })) found.push(row);
    return found;
  }

  beforeAll(async () => {
    sandboxes = await startSandboxesForRelay();
    t = await startTestRelay(sandboxes, { start: { background: true } });
    const approve = (async () => {
      const pending = await waitFor("the device code", async () => (await control<{ value: Array<{ user_code: string }> }>(sandboxes, "identity", "/sandbox/device/pending")).body.value[0], 20_000);
      await control(sandboxes, "identity", "/sandbox/device/approve", { user_code: pending.user_code, username: DEMO_USERS.referralsAdmin.username });
    })();
    await t.relay.clients.signIn.signIn({ onDeviceCode: () => undefined });
    await approve;

    // A seller shares a deal that has no Microsoft solution yet: the sync fails and says what to do.
    const dataverse = t.relay.clients.dataverse;
    const [account] = await rows("accounts", "address1_country eq 'NL'", ["accountid"]);
    const [contact] = await rows("contacts", `_parentcustomerid_value eq ${String(account!.accountid)}`, ["contactid"]);
    const [currency] = await rows("transactioncurrencies", "isocurrencycode eq 'EUR'", ["transactioncurrencyid"]);
    opportunityId = (await dataverse.create(Opportunity.entitySetName, {
      name: "Fabrikam status page deal", estimatedvalue: 80_000, estimatedclosedate: "2027-09-30",
      "parentaccountid@odata.bind": `/accounts(${String(account!.accountid)})`, "parentcontactid@odata.bind": `/contacts(${String(contact!.contactid)})`,
      "transactioncurrencyid@odata.bind": `/transactioncurrencies(${String(currency!.transactioncurrencyid)})`,
      [Opportunity.columns.syncWithPartnerCenter]: true, [Opportunity.columns.helpRequested]: HowCanMicrosoftHelp.GeneralOrOther,
    })).id;
    failedRunId = (await t.relay.engine.requestSync(`opportunity:${opportunityId}`, "test", "cli")).runId;
    await waitFor("the failed run", async () => {
      const run = await getRun(t.relay.clients.db, t.config.tenantKey, failedRunId);
      return run && (run.state === "failed" || run.state === "dead") ? run : undefined;
    }, 30_000);
    // Some syncs that succeed, for the chart and the list.
    for (const id of ["5eed0002-0000-4000-8000-000000000002", "5eed0003-0000-4000-8000-000000000003"]) await t.relay.engine.requestSync(`referral:${id}`, "test", "cli");

    // The admin registers the status page's redirect URI on the client API's sign-in app registration.
    const redirect = await control(sandboxes, "identity", `/sandbox/apps/${DEMO_APPS.cardSignIn.clientId}/redirect-uris`, { redirectUri: `${t.relay.url}/ui/signin` });
    expect(redirect.status).toBe(200);

    const tlsDir = dirname(sandboxes.running.endpoints.caFile);
    const trusted = [spkiHash(sandboxes.caPem), spkiHash(readFileSync(join(tlsDir, "server.pem"), "utf8"))];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", `--ignore-certificate-errors-spki-list=${trusted.join(",")}`],
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sandboxes?.close();
  });

  /** Sign in with Microsoft: the popup shows the identity sandbox's sign-in page; the user signs in there. */
  async function signInWithMicrosoft(user: { username: string; password: string }): Promise<void> {
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.getByRole("button", { name: "Sign in with Microsoft" }).click()]);
    await popup.waitForSelector("#username", { timeout: 20_000 });
    await popup.fill("#username", user.username);
    await popup.fill("#password", user.password);
    await Promise.all([popup.waitForEvent("close", { timeout: 20_000 }), popup.click("#signin")]);
  }

  test("not signed in: the sign-in page; a wrong step key (break-glass) is refused, and so is the API", async () => {
    await page.goto(`${t.relay.url}/ui`);
    await expect(page.getByRole("heading", { name: "Admin sign-in" }).isVisible()).resolves.toBe(true);
    await page.getByText("Break-glass: sign in with the step key").click();
    await page.getByLabel("Step key").fill("not the key");
    await page.getByRole("button", { name: "Sign in with the step key" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe("That is not this relay's step key.");
    const api = await page.request.post(`${t.relay.url}/ui/api/runs/${failedRunId}/retry`, { headers: { "x-requested-with": "pcr-ui" } });
    expect(api.status()).toBe(401);
  });

  test("a seller signs in with Entra ID but holds no Relay.Admin role: refused, with what to do", async () => {
    await page.goto(`${t.relay.url}/ui`);
    await signInWithMicrosoft(DEMO_USERS.seller);
    await page.waitForFunction(() => /Relay\.Admin/.test(document.querySelector("[data-sign-in-state]")?.textContent ?? ""), undefined, { timeout: 20_000 });
    await expect(page.locator("[data-sign-in-state]").textContent()).resolves.toMatch(/do not hold the Relay\.Admin app role .* Enterprise applications/);
    await expect(page.getByRole("heading", { name: "Admin sign-in" }).isVisible()).resolves.toBe(true);
    const api = await page.request.get(`${t.relay.url}/ui/api/runs/${failedRunId}`);
    expect(api.status()).toBe(401);
  }, 60_000);

  test("the admin signs in with Entra ID, clicks Retry on a failed sync and sees it succeed", async () => {
    await signInWithMicrosoft(DEMO_USERS.referralsAdmin);
    await page.waitForSelector("h2#failures", { timeout: 20_000 });
    await expect(page.locator("header .who").textContent()).resolves.toBe(DEMO_USERS.referralsAdmin.displayName);
    const row = page.locator(`tr[data-run="${failedRunId}"]`);
    await expect(row.textContent()).resolves.toContain(`opportunity:${opportunityId}`);
    await expect(row.textContent()).resolves.toMatch(/solution/i);

    // The seller adds the Microsoft solution the failure asked for.
    const [detail] = await rows(MicrosoftSolutionDetail.entitySetName, "statecode eq 0", [MicrosoftSolutionDetail.primaryId]);
    await t.relay.clients.dataverse.create(MicrosoftSolution.entitySetName, {
      [MicrosoftSolution.columns.primaryName]: "Fabrikam solution",
      [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/${Opportunity.entitySetName}(${opportunityId})`,
      [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${String(detail![MicrosoftSolutionDetail.primaryId])})`,
    });

    await row.getByRole("button", { name: "Retry" }).click();
    await page.waitForFunction((id) => document.querySelector(`tr[data-run="${id}"] .retry-state`)?.textContent === "succeeded", failedRunId, { timeout: 30_000 });
    await expect(row.getByRole("button", { name: "Retry" }).isDisabled()).resolves.toBe(true);
    const [synced] = await rows(Opportunity.entitySetName, `opportunityid eq ${opportunityId}`, [Opportunity.columns.referralIdentifier]);
    expect(synced![Opportunity.columns.referralIdentifier]).toEqual(expect.any(String));
  }, 60_000);

  test("queue depth, the latency chart and the doctor's results all green; the screenshot", async () => {
    // relay init (steps, Relay URL, webhook), so the doctor has something to be green about.
    expect(await runCli(["init", "--sandbox", sandboxes.endpointsFile, "--yes", "--replace-webhook"], {
      stdout: () => undefined, stderr: () => undefined, env: { PCR_LISTEN_PORT: String(t.config.listen.port) }, cwd: sandboxes.stateDir, testEventTimeoutMs: 15_000,
    })).toBe(0);
    await control(sandboxes, "partnerCenter", "/sandbox/clock", { advance: "61s" });
    await page.reload();
    await expect(page.getByRole("heading", { name: "Failures (0)" }).isVisible()).resolves.toBe(true);
    await expect(page.locator("svg[aria-label^='Sync latency'] polyline.p95").count()).resolves.toBe(1);
    await expect(page.locator("section[aria-labelledby=queue] tbody tr").count()).resolves.toBeGreaterThan(0);
    await page.getByRole("button", { name: "Run checks" }).click();
    await page.waitForSelector("#doctor tr[data-check=expiring-referrals]", { timeout: 60_000 });
    expect(await page.locator("#doctor td.fail").count()).toBe(0);
    await expect(page.locator("#doctor td.ok").count()).resolves.toBe(DOCTOR_CHECKS.length);
    const dir = join(repoRoot, "out", "status-page");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, "status-page.png"), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: join(repoRoot, "docs", "status-page.png"), fullPage: true });
  }, 90_000);
});

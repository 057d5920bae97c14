// The real production bundle.js in Debian's Chromium, hosted the way Dataverse hosts a virtual control:
// React and Fluent UI come from the page as platform-library globals, the control registers itself
// with ComponentFramework.registerControl, and its context is the same mocks the Jest tests use. The
// relay is played by request routing, with the CORS answers a real relay must give.
//
// Screenshots go to out/card-browser/screenshots/; with UPDATE_SCREENSHOTS=1 the Synced, Failed and
// checklist ones are also written to docs/ (card-synced.png, card-failed.png, card-checklist.png), and
// lead mode's to docs/card-lead.png.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page, type Route } from "playwright-core";
import { buildCard, MAX_BUNDLE_BYTES, type CardBuild } from "../../../build.ts";
import { LEAD_ACCOUNT_ID, LEAD_ID, NEW_OPPORTUNITY_ID, OPPORTUNITY_ID, RELAY_URL } from "../fixtures.ts";
import type { Harness, MountOptions } from "./harness.ts";
import { CHROMIUM, launchOptions, ORIGIN, PAGE_DIR, platformAliases, preparePage, REPO_ROOT, servePage } from "./page.ts";

const SHOTS = join(PAGE_DIR, "screenshots");
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
const describeInBrowser = available ? describe : describe.skip;

interface RelayState {
  states: string[];
  error?: string;
  requests: Array<{ method: string; url: string; authorization: string | null; origin: string | null }>;
}

describeInBrowser("the built card in Chromium", () => {
  let built: CardBuild;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const relay: RelayState = { states: ["queued", "running", "succeeded"], requests: [] };
  let poll = 0;

  const cors = { "Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Headers": "Authorization, Accept", "Access-Control-Allow-Methods": "GET, POST" };
  const relayRoute = async (route: Route): Promise<void> => {
    const request = route.request();
    const headers = await request.allHeaders();
    if (request.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    relay.requests.push({ method: request.method(), url: request.url(), authorization: headers.authorization ?? null, origin: headers.origin ?? null });
    const path = new URL(request.url()).pathname;
    const json = (status: number, body: unknown): Promise<void> => route.fulfill({ status, headers: { ...cors, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const start = /^\/api\/opportunities\/([^/]+)\/(sync|retry)$/.exec(path);
    if (start && request.method() === "POST") {
      poll = 0;
      return json(202, { runId: `run-${start[2]}-7` });
    }
    const run = /^\/api\/runs\/([^/]+)$/.exec(path);
    if (run) {
      const state = relay.states[Math.min(poll++, relay.states.length - 1)];
      return json(200, { runId: run[1], state, ...(relay.error && (state === "failed" || state === "dead") ? { error: relay.error } : {}) });
    }
    return json(404, { message: "no such route" });
  };

  // The org's own Web API, for QualifyLead when the page has no Xrm (lead mode's fallback).
  const dataverse: Array<{ method: string; url: string; body: unknown; odataVersion: string | null }> = [];
  const dataverseRoute = async (route: Route): Promise<void> => {
    const request = route.request();
    dataverse.push({ method: request.method(), url: request.url(), body: request.postDataJSON(), odataVersion: (await request.allHeaders())["odata-version"] ?? null });
    if (request.url().endsWith("/Microsoft.Dynamics.CRM.QualifyLead")) {
      return route.fulfill({ status: 200, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ value: [{ "@odata.type": "#Microsoft.Dynamics.CRM.opportunity", opportunityid: NEW_OPPORTUNITY_ID }] }) });
    }
    return route.fulfill({ status: 404, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ error: { code: "0x80060888", message: "Resource not found" } }) });
  };

  const mount = async (options: MountOptions): Promise<void> => {
    await page.evaluate((o) => (window as unknown as { PartnerCenterHarness: Harness }).PartnerCenterHarness.mount(o), options);
  };
  const card = () => page.locator("#card");
  const shoot = async (name: string, alsoInDocs: boolean): Promise<void> => {
    // Let fonts and Griffel's inserted styles settle before the picture.
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    await card().screenshot({ path: join(SHOTS, `${name}.png`) });
    if (alsoInDocs && process.env.UPDATE_SCREENSHOTS === "1") await card().screenshot({ path: join(REPO_ROOT, "docs", `${name}.png`) });
  };

  beforeAll(async () => {
    built = await buildCard({ typecheck: false, quiet: true });
    const prepared = await preparePage(built.bundle);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch(launchOptions());
    context = await browser.newContext({ viewport: { width: 960, height: 1400 }, deviceScaleFactor: 1, locale: "en-US" });
    // The page's files at ORIGIN, the relay played here; nothing else may be fetched.
    await servePage(context, prepared, [RELAY_URL]);
    await context.route(`${RELAY_URL}/**`, relayRoute);
    await context.route(`${ORIGIN}/api/data/**`, dataverseRoute);
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(`${ORIGIN}/index.html`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    relay.states = ["queued", "running", "succeeded"];
    delete relay.error;
    relay.requests.length = 0;
    await page?.evaluate(() => (window as unknown as { PartnerCenterHarness: Harness }).PartnerCenterHarness.unmount());
  });

  test("bundle.js is small and leaves React and Fluent to the platform", () => {
    expect(built.bundleBytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    const bundle = readFileSync(built.bundle, "utf8");
    const aliases = platformAliases();
    expect(aliases).toEqual({ react: "Reactv16", fluent: "FluentUIReactv940" });
    expect(bundle).toContain(`=${aliases.react}`);
    expect(bundle).toContain(`=${aliases.fluent}`);
    // Neither library's own code is inside.
    expect(bundle).not.toContain("__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED");
    expect(bundle).not.toContain("fui-FluentProvider");
    expect(bundle).toContain("ComponentFramework.registerControl('CoSellRelay.PartnerCenterCard'");
  });

  test("the bundle registers the control with the platform", async () => {
    expect(await page.evaluate(() => (window as unknown as { PartnerCenterHarness: Harness }).PartnerCenterHarness.registered())).toEqual(["CoSellRelay.PartnerCenterCard"]);
  });

  test("Synced: status with time, Microsoft's side, a ready checklist and the history", async () => {
    await mount({ scenario: "synced" });
    await page.getByTestId("readiness-summary").waitFor();
    await expect(page.getByTestId("sync-status").textContent()).resolves.toBe("Synced");
    await expect(page.getByText("Last synced 2026-11-20 14:02").count()).resolves.toBe(1);
    await expect(page.getByTestId("microsoft-status").textContent()).resolves.toBe("Active · Accepted");
    await expect(page.getByRole("link", { name: "Open in Partner Center" }).getAttribute("target")).resolves.toBe("_blank");
    await expect(page.getByRole("list", { name: "History" }).getByRole("listitem").count()).resolves.toBe(4);
    await expect(page.getByRole("list", { name: "Ready for Partner Center" }).getByRole("listitem").count()).resolves.toBe(6);
    await shoot("card-synced", true);
  });

  test("Failed: the reason and what to do; Retry goes through the relay with progress, then Synced", async () => {
    await mount({ scenario: "failed" });
    await page.getByTestId("readiness-summary").waitFor();
    await expect(page.getByTestId("sync-status").textContent()).resolves.toBe("Failed");
    await expect(page.getByText("Correct the value Partner Center names, save, then choose Retry.").count()).resolves.toBe(1);
    await shoot("card-failed", true);

    relay.states = ["queued", "running", "running", "succeeded"];
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("status").getByText("Syncing with Partner Center…").waitFor();
    await page.getByRole("status").getByText("Synced with Partner Center.").waitFor({ timeout: 10_000 });
    expect(relay.requests[0]).toEqual({ method: "POST", url: `${RELAY_URL}/api/opportunities/${OPPORTUNITY_ID}/retry`, authorization: "Bearer browser-token", origin: ORIGIN });
    expect(relay.requests.slice(1).every((r) => r.method === "GET" && r.url === `${RELAY_URL}/api/runs/run-retry-7`)).toBe(true);
  });

  test("a run that fails is reported in the live region", async () => {
    relay.states = ["running", "dead"];
    relay.error = "8 attempts: Partner Center answered 503";
    await mount({ scenario: "synced" });
    await page.getByTestId("readiness-summary").waitFor();
    await page.getByRole("button", { name: "Sync now" }).click();
    await page.getByRole("status").getByText("The relay gave up after several attempts: 8 attempts: Partner Center answered 503").waitFor({ timeout: 10_000 });
  });

  test("the checklist: what is missing, and where to fix it", async () => {
    await mount({ scenario: "checklist" });
    const summary = page.getByTestId("readiness-summary");
    await summary.waitFor();
    await expect(summary.textContent()).resolves.toBe("4 of 6 to fix before Partner Center accepts this deal.");
    await expect(page.locator("li[data-state=failed]").count()).resolves.toBe(4);
    await expect(page.getByRole("button", { name: "Add a solution" }).isEnabled()).resolves.toBe(true);
    await shoot("card-checklist", true);
  });

  test("a field mapping that cannot be used: the admin note above the checklist, which follows the seed's variables", async () => {
    await mount({ scenario: "checklist", seed: { fieldMapping: JSON.stringify({ opportunity: { dealValue: "Deal amount" } }) } });
    await page.getByTestId("readiness-summary").waitFor();
    const note = page.getByText(/^Admin note: /);
    await note.waitFor();
    await expect(note.textContent()).resolves.toContain("opportunity.dealValue: must be a column's logical name");
    await shoot("card-admin-note", false);
  });

  test("a field mapping naming a column that does not exist: the checklist from the seed's columns, the admin note names the column", async () => {
    await mount({ scenario: "checklist", seed: { fieldMapping: JSON.stringify({ opportunity: { dealValue: "new_dealamount" } }) } });
    await page.getByTestId("readiness-summary").waitFor();
    const note = page.getByText(/^Admin note: /);
    await note.waitFor();
    await expect(note.textContent()).resolves.toContain("opportunity.dealValue names new_dealamount, which is not a column of opportunity");
    await expect(page.getByText(/Could not read from Dataverse/).count()).resolves.toBe(0);
  });

  test("keyboard: Tab reaches the visibility switch, Space asks for confirmation, Escape keeps it private", async () => {
    await mount({ scenario: "pending" });
    await page.getByTestId("readiness-summary").waitFor();
    const visibility = page.getByRole("switch", { name: "Visible to Microsoft sellers" });
    await page.getByRole("switch", { name: "Sync with Partner Center" }).focus();
    for (let i = 0; i < 5 && !(await visibility.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    await expect(visibility.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.keyboard.press("Space");
    const dialog = page.getByRole("dialog", { name: "Show this referral to Microsoft sellers?" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await expect(visibility.isChecked()).resolves.toBe(false);
    await expect(page.evaluate(() => (window as unknown as { cardOutputs: unknown[] }).cardOutputs.length)).resolves.toBe(0);
  });

  test("a phone and Dutch: one column, nl-NL texts", async () => {
    await mount({ scenario: "synced", width: 380, formFactor: 3, language: 1043 });
    await page.getByTestId("readiness-summary").waitFor();
    await expect(page.locator("article").getAttribute("data-layout")).resolves.toBe("phone");
    await expect(page.getByTestId("sync-status").textContent()).resolves.toBe("Gesynchroniseerd");
    await expect(page.getByRole("button", { name: "Nu synchroniseren" }).count()).resolves.toBe(1);
    const box = await card().boundingBox();
    expect(box?.width).toBeLessThanOrEqual(380);
    // Nothing sticks out of the narrow card.
    const overflow = await page.evaluate(() => {
      const root = document.querySelector("#card")!;
      return Array.from(root.querySelectorAll("*")).filter((el) => el.getBoundingClientRect().right > root.getBoundingClientRect().right + 1).length;
    });
    expect(overflow).toBe(0);
    await shoot("card-phone-nl", false);
  });

  test("lead mode: the referral Microsoft sent, the time left, and Accept through the org's Web API", async () => {
    await mount({ scenario: "synced", lead: "awaiting", width: 880 });
    await page.getByTestId("time-left").waitFor();
    await expect(page.locator("article").getAttribute("data-mode")).resolves.toBe("lead");
    await expect(page.getByTestId("time-left").textContent()).resolves.toBe("2 days left");
    await expect(page.getByTestId("referral-status").textContent()).resolves.toBe("New · Pending");
    await expect(page.getByTestId("lead-help").textContent()).resolves.toBe("Customer technical architecture");
    await shoot("card-lead", true);

    await page.getByRole("button", { name: "Accept" }).click();
    const dialog = page.getByRole("dialog", { name: "Accept this referral?" });
    await dialog.waitFor();
    await shoot("card-lead-accept", false);
    await dialog.getByRole("button", { name: "Accept and qualify" }).click();
    await page.getByText("Accepted: the lead is qualified.", { exact: false }).waitFor();
    await dialog.waitFor({ state: "detached" });
    // The card is back for assistive technology once the dialog is gone.
    // Fluent's focus manager (tabster) lifts the modal's aria-hidden from the page on a timer.
    await page.waitForFunction(() => !document.querySelector("[aria-hidden=true] #card"), undefined, { timeout: 5000 });
    await expect(page.getByRole("region", { name: "Your answer" }).count()).resolves.toBe(1);
    expect(dataverse).toEqual([
      {
        method: "POST",
        url: `${ORIGIN}/api/data/v9.2/leads(${LEAD_ID})/Microsoft.Dynamics.CRM.QualifyLead`,
        odataVersion: "4.0",
        body: expect.objectContaining({ CreateOpportunity: true, CreateAccount: false, CreateContact: false, Status: 3, OpportunityCustomerId: { "@odata.type": "Microsoft.Dynamics.CRM.account", accountid: LEAD_ACCOUNT_ID } }),
      },
    ]);
  });

  test("lead mode, Decline and Dutch: the reason and the note", async () => {
    await mount({ scenario: "synced", lead: "awaiting", language: 1043 });
    await page.getByRole("button", { name: "Afwijzen" }).click({ timeout: 5000 });
    const dialog = page.getByRole("dialog", { name: "Deze verwijzing afwijzen?" });
    await dialog.waitFor({ timeout: 5000 });
    await dialog.getByRole("combobox").selectOption("6", { timeout: 5000 });
    await dialog.getByRole("textbox").fill("De klant blijft dit jaar on-premises.", { timeout: 5000 });
    await shoot("card-lead-decline-nl", false);
    await dialog.getByRole("button", { name: "Verwijzing afwijzen" }).click();
    await page.getByText("Afgewezen: de lead is gediskwalificeerd", { exact: false }).waitFor();
  });

  test("no script errors in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});

// The seller's sign-in, the whole chain, in Debian's Chromium: nothing played by request routing.
//
//   the org (https://localhost:<port>, a loopback server here)   the card's page with the built bundle.js,
//        the pcr_/signin/* web resources under /WebResources/, and /api/data/v9.2, which is the Dataverse
//        sandbox's Web API as the seller (the org's session cookie played by her bearer token)
//   the identity sandbox (https://127.0.0.1:<port>)               authorize with PKCE, prompt=none, sign-in page
//   the relay (http://127.0.0.1:<port>, in-process, worker on)   GET /api/sign-in, the client API, the sync
//
// The card is mounted with nothing injected: it reads the Relay URL environment variable and the seller's
// UPN (systemuser.domainname) from Dataverse, loads msal-browser from the org, asks the relay how to sign
// in, and signs in silently (A) or through the popup (B) before the relay takes the sync.
//
// How Chromium trusts the sandbox CA, for this test only: --ignore-certificate-errors-spki-list with the
// SPKI hashes of the sandbox CA and its server certificate. It accepts exactly the certificates of
// this run's sandboxes (a fresh CA under a temporary directory) and nothing else, unlike
// ignoreHTTPSErrors, and it needs no NSS database edits (certutil is not on this machine) or proxy, so
// the browser still does real TLS to every origin. Chromium honours it with a --user-data-dir, which
// playwright always passes.
//
// Faithful to the seller's browser in two more ways: the org and the identity host are different sites
// (localhost and 127.0.0.1), so the silent sign-in's iframe sends Entra ID's session cookie as a
// third-party cookie (SameSite=None; Secure), as login.microsoftonline.com's inside *.dynamics.com: it
// works in a profile that allows third-party cookies (A), and where they are blocked the click's popup
// finds the session and closes by itself (the last test); and the popup blocker is on (playwright turns
// it off by default), so the popup opens only because the seller clicked.
//
// The picture of the card after a signed-in sync goes to out/card-browser-signin/card-signed-in.png,
// and with UPDATE_SCREENSHOTS=1 to docs/card-signed-in.png.
import { createHash, X509Certificate } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from "playwright-core";
import { request } from "undici";
import { DEMO_APPS, DEMO_USERS, SIGN_IN_REDIRECT_PATH } from "../../../Sandbox/shared/demo-tenant.ts";
import { systemUserIdForOid } from "../../../Sandbox/dataverse/seed.ts";
import { freePorts } from "../../../Sandbox/start.ts";
import { ensureSandboxCa, type SandboxCa } from "../../../Sandbox/shared/tls.ts";
import { PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import { buildCard } from "../../../PcfControls/build.ts";
import { CHROMIUM, launchOptions, preparePage, REPO_ROOT } from "../../../PcfControls/PartnerCenterCard/test/browser/page.ts";
import { buildWebResources } from "../../../WebResources/build.ts";
import { sandboxConfig } from "../../src/config.ts";
import { setRelayUrl } from "../../src/commands/dataverse-steps.ts";
import { startRelay, type RunningRelay } from "../../src/relay.ts";
import { capturingLogger, control, startSandboxesForRelay, waitFor, withDeviceCodeApproved, type Sandboxes } from "../edge/helpers.ts";
import { dataverseAs, sellerDeal, userToken } from "./helpers.ts";
import type { DataverseClient } from "../../src/clients/dataverse.ts";

const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser sign-in tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
const describeInBrowser = available ? describe : describe.skip;

const PAGE_DIR = join(REPO_ROOT, "out", "card-browser-signin");
const SELLER = DEMO_USERS.seller;

/** The harness page calls this in the page (signin-harness.ts). */
interface SignInMountOptions {
  opportunityId: string;
  opportunityName: string;
  userId: string;
  userName: string;
  values?: { status?: number; sync?: boolean };
}

/** base64(SHA-256(SubjectPublicKeyInfo)), the form --ignore-certificate-errors-spki-list takes. */
function spkiHash(pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Chromium as the seller has it, trusting this run's sandbox certificates (see the top of the file). */
function browserOptions(ca: SandboxCa): LaunchOptions {
  const base = launchOptions();
  return {
    ...base,
    args: [...(base.args ?? []), `--ignore-certificate-errors-spki-list=${[spkiHash(ca.certPem), spkiHash(ca.server.certPem)].join(",")}`],
    // The seller's browser blocks pop-ups that no click opened.
    ignoreDefaultArgs: ["--disable-popup-blocking"],
  };
}

const VIEW = { viewport: { width: 960, height: 1200 }, deviceScaleFactor: 1, locale: "en-US" };

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };
const typeOf = (file: string): string => TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";

describeInBrowser("the seller signs in to the relay from the card, in Chromium", () => {
  let sandboxes: Sandboxes;
  let relay: RunningRelay;
  let org: Server;
  let orgUrl: string;
  let browser: Browser;
  let seller: DataverseClient;
  let webResourcesDir: string;
  let ca: SandboxCa;
  const profiles: string[] = [];
  const relayLog = capturingLogger();

  beforeAll(async () => {
    sandboxes = await startSandboxesForRelay();
    const endpoints = sandboxes.running.endpoints;
    ca = await ensureSandboxCa(dirname(endpoints.caFile));
    const [orgPort, relayPort] = await freePorts(2);
    orgUrl = `https://localhost:${orgPort!}`;

    // The relay, with the client API for this org (the sandbox config's audience and SPA app).
    const config = sandboxConfig(sandboxes.endpointsFile, { port: relayPort!, database: { memory: true }, reconcileIntervalMs: 0 });
    config.clientApi = { ...config.clientApi, allowedOrigins: [orgUrl] };
    expect(config.clientApi).toMatchObject({ audience: `api://${DEMO_APPS.card.clientId}`, spaClientId: DEMO_APPS.cardSignIn.clientId });
    relay = await startRelay(config, { log: relayLog.log, background: true });
    // Its Partner Center service account (device code, approved as the admin would), so the sync runs to the end.
    await withDeviceCodeApproved(sandboxes, DEMO_USERS.referralsAdmin.username, (show) => relay.clients.signIn.signIn({ onDeviceCode: (prompt) => show(prompt.message), timeoutSeconds: 120 }));
    // What relay init and the admin do: the Relay URL variable, and this org's redirect URI on the SPA app.
    await setRelayUrl(relay.clients.dataverse, relay.url);
    const registered = await control(sandboxes, "identity", `/sandbox/apps/${DEMO_APPS.cardSignIn.clientId}/redirect-uris`, { redirectUri: `${orgUrl}${SIGN_IN_REDIRECT_PATH}` });
    expect(registered.status).toBe(200);

    // The page: the production bundle.js (npm run build makes it; built here when missing) and the web resources.
    const bundle = join(REPO_ROOT, "out", "controls", "PartnerCenterCard", "bundle.js");
    if (!existsSync(bundle)) await buildCard({ typecheck: false, quiet: true });
    mkdirSync(PAGE_DIR, { recursive: true });
    copyFileSync(bundle, join(PAGE_DIR, "bundle.js"));
    const prepared = await preparePage(join(PAGE_DIR, "bundle.js"), { harness: join(REPO_ROOT, "PcfControls", "PartnerCenterCard", "test", "browser", "signin-harness.ts"), dir: PAGE_DIR });
    webResourcesDir = mkdtempSync(join(tmpdir(), "pcr-signin-webresources-"));
    const built = await buildWebResources({ outDir: webResourcesDir });
    const files: Record<string, string> = {};
    for (const [name, file] of Object.entries(prepared.files)) files[`/${name}`] = file;
    for (const script of built.signIn) files[`/WebResources/${script.name}`] = script.file;
    files[SIGN_IN_REDIRECT_PATH] = join(REPO_ROOT, "Solution", "WebResources", ...SIGN_IN_REDIRECT_PATH.replace("/WebResources/", "").split("/"));

    // The org's Web API is Dataverse's, as the seller: her session is played by her delegated token.
    const sellerToken = await userToken(sandboxes, SELLER, endpoints.dataverseScope, DEMO_APPS.script);
    seller = dataverseAs(sandboxes, SELLER);
    org = createServer({ cert: ca.server.certPem, key: ca.server.keyPem }, (req, res) => {
      const url = new URL(req.url ?? "/", orgUrl);
      if (url.pathname.startsWith("/api/data/")) {
        const forwarded: Record<string, string> = { authorization: `Bearer ${sellerToken}` };
        for (const name of ["accept", "prefer", "odata-version", "odata-maxversion", "content-type", "if-match"]) {
          const value = req.headers[name];
          if (typeof value === "string") forwarded[name] = value;
        }
        request(`${endpoints.dataverse}${url.pathname}${url.search}`, { method: (req.method ?? "GET") as "GET", headers: forwarded, body: req.method === "GET" ? null : req, dispatcher: sandboxes.agent })
          .then(async (answer) => {
            const body = Buffer.from(await answer.body.arrayBuffer());
            res.writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"] ?? "application/json") }).end(body);
          })
          .catch((error: unknown) => res.writeHead(502).end(String(error)));
        return;
      }
      const file = files[url.pathname];
      if (!file) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      res.writeHead(200, { "content-type": typeOf(file), "cache-control": "no-store" }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => org.listen(orgPort, "127.0.0.1", resolve));

    browser = await chromium.launch(browserOptions(ca));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
    await new Promise((resolve) => (org ? org.close(resolve) : resolve(undefined)));
    await seller?.close();
    await relay?.close();
    await sandboxes?.close();
    if (webResourcesDir) rmSync(webResourcesDir, { recursive: true, force: true });
  });

  interface Watch {
    popups: Page[];
    relayCalls: Array<{ method: string; path: string; authorization: string | undefined }>;
    identityCalls: string[];
    errors: string[];
  }

  /** A fresh browser profile (no msal cache, no cookies) with the card on a new deal of the seller's. */
  async function openCard(context: BrowserContext): Promise<{ page: Page; opportunityId: string; watch: Watch }> {
    const deal = await sellerDeal(seller);
    const page = await context.newPage();
    const watch: Watch = { popups: [], relayCalls: [], identityCalls: [], errors: [] };
    context.on("request", (sent) => {
      const url = new URL(sent.url());
      if (url.origin === relay.url) watch.relayCalls.push({ method: sent.method(), path: url.pathname, authorization: sent.headers().authorization });
      if (url.origin === sandboxes.running.endpoints.identity) watch.identityCalls.push(`${sent.method()} ${url.pathname}${url.searchParams.get("prompt") ? ` prompt=${url.searchParams.get("prompt")}` : ""}`);
    });
    page.on("popup", (opened) => void watch.popups.push(opened));
    page.on("pageerror", (error) => watch.errors.push(error.message));
    await page.goto(`${orgUrl}/index.html`);
    const options: SignInMountOptions = {
      opportunityId: deal.opportunityId, opportunityName: deal.name, userId: systemUserIdForOid(SELLER.oid), userName: SELLER.displayName,
      values: { status: PartnerCenterSyncStatus.NotShared, sync: true },
    };
    await page.evaluate((o) => (window as unknown as { SignInHarness: { mount(o: SignInMountOptions): void } }).SignInHarness.mount(o), options);
    await page.getByTestId("readiness-summary").waitFor({ timeout: 20_000 });
    return { page, opportunityId: deal.opportunityId, watch };
  }

  /** The relay recorded the sync as asked by this user: it validated her bearer token to get there. */
  async function expectRunFor(opportunityId: string, watch: Watch): Promise<void> {
    const start = watch.relayCalls.find((c) => c.method === "POST" && c.path === `/api/opportunities/${opportunityId}/sync`);
    expect(start?.authorization).toMatch(/^Bearer /);
    const claims = decodeJwt(start!.authorization!.slice("Bearer ".length));
    expect(claims).toMatchObject({ aud: `api://${DEMO_APPS.card.clientId}`, azp: DEMO_APPS.cardSignIn.clientId, oid: SELLER.oid, upn: SELLER.username, scp: "user_impersonation" });
    const events = (await relay.clients.db.query<{ run_id: string; payload: { user: { oid: string } } }>(
      "SELECT run_id, payload FROM received_events WHERE source = 'client-api' AND subject = $1", [`opportunity:${opportunityId}`])).rows;
    expect(events).toEqual([expect.objectContaining({ run_id: expect.any(String), payload: { user: expect.objectContaining({ oid: SELLER.oid }) } })]);
  }

  /**
   * A fresh everyday browser profile (no msal cache, no cookies) that allows third-party cookies, which
   * ssoSilent's iframe needs to see the Entra ID session from inside the org. Not playwright's newContext:
   * that is an incognito profile, where Chromium blocks them, as Safari and Firefox do everywhere (the
   * last test shows what the seller gets there).
   */
  async function sellerProfile(): Promise<BrowserContext> {
    const dir = mkdtempSync(join(tmpdir(), "pcr-signin-profile-"));
    profiles.push(dir);
    // Settings → Privacy → Third-party cookies: "Allow third-party cookies", what Chrome and Edge keep for
    // everyday profiles (this Chromium build starts a new profile with them blocked, like incognito).
    mkdirSync(join(dir, "Default"), { recursive: true });
    writeFileSync(join(dir, "Default", "Preferences"), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
    return chromium.launchPersistentContext(dir, { ...browserOptions(ca), ...VIEW });
  }

  /** The seller already signed in to Entra ID in this browser (the control call plays the sign-in page). */
  async function signedInToEntra(context: BrowserContext): Promise<void> {
    const session = await control<{ cookie: { name: string; value: string } }>(sandboxes, "identity", "/sandbox/sessions", { username: SELLER.username });
    expect(session.status).toBe(200);
    await context.addCookies([{ ...session.body.cookie, url: sandboxes.running.endpoints.identity, secure: true, httpOnly: true, sameSite: "None" }]);
  }

  const silentAttempt = (): string => `GET /${sandboxes.running.endpoints.tenantId}/oauth2/v2.0/authorize prompt=none`;

  test("A: with an Entra ID session, Sync now gets a token silently (no popup) and the relay runs the sync", async () => {
    const context = await sellerProfile();
    try {
      await signedInToEntra(context);
      const { page, opportunityId, watch } = await openCard(context);

      await page.getByRole("button", { name: "Sync now" }).click();
      await page.getByRole("status").getByText("Synced with Partner Center.").waitFor({ timeout: 60_000 });

      expect(watch.popups.map((p) => p.url())).toEqual([]);
      // ssoSilent's hidden iframe, riding on the session cookie.
      expect(watch.identityCalls).toContain(silentAttempt());
      await expectRunFor(opportunityId, watch);
      expect(watch.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test("B: without a session, Sync now opens the sign-in popup; the seller signs in, the popup closes and the sync goes through", async () => {
    const context = await sellerProfile();
    try {
      const { page, opportunityId, watch } = await openCard(context);

      const popupOpened = page.waitForEvent("popup", { timeout: 20_000 });
      await page.getByRole("button", { name: "Sync now" }).click();
      const popup = await popupOpened;
      await popup.waitForURL((url) => url.origin === sandboxes.running.endpoints.identity, { timeout: 20_000 });
      await popup.locator("#password").waitFor();
      // The UPN from Dynamics came as login_hint: the name is filled in already.
      await expect(popup.locator("#username").inputValue()).resolves.toBe(SELLER.username);
      await popup.locator("#password").fill(SELLER.password);
      const closed = popup.waitForEvent("close", { timeout: 20_000 });
      await popup.locator("#signin").click();
      await closed;

      await page.getByRole("status").getByText("Synced with Partner Center.").waitFor({ timeout: 60_000 });
      // The silent attempt came first and found no session; the popup came from the click.
      expect(watch.identityCalls).toContain(silentAttempt());
      expect(watch.popups).toHaveLength(1);
      await expectRunFor(opportunityId, watch);
      expect(watch.errors).toEqual([]);

      // Settled: Synced, from the row the relay wrote back.
      await page.getByTestId("sync-status").filter({ hasText: "Synced" }).waitFor({ timeout: 20_000 });
      await expect(page.getByRole("link", { name: "Open in Partner Center" }).getAttribute("href")).resolves.toMatch(/^https:\/\/partner\.microsoft\.com\/dashboard\/referrals\/v2\//);
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      const card = page.locator("#card");
      await card.screenshot({ path: join(PAGE_DIR, "card-signed-in.png") });
      if (process.env.UPDATE_SCREENSHOTS === "1") await card.screenshot({ path: join(REPO_ROOT, "docs", "card-signed-in.png") });

      // The next click needs no popup: msal's cache answers (acquireTokenSilent), no iframe either.
      const before = { popups: watch.popups.length, silent: watch.identityCalls.filter((c) => c === silentAttempt()).length };
      await page.getByRole("button", { name: "Sync now" }).click();
      await page.getByRole("status").getByText("Synced with Partner Center.").waitFor({ timeout: 60_000 });
      await waitFor("the second sync", async () => watch.relayCalls.filter((c) => c.method === "POST").length === 2 || undefined);
      expect({ popups: watch.popups.length, silent: watch.identityCalls.filter((c) => c === silentAttempt()).length }).toEqual(before);
    } finally {
      await context.close();
    }
  }, 120_000);

  test("a browser that blocks third-party cookies (incognito): the silent iframe finds no session, the click's popup does and closes by itself", async () => {
    const context = await browser.newContext(VIEW);
    try {
      await signedInToEntra(context);
      const { page, opportunityId, watch } = await openCard(context);

      const popupOpened = page.waitForEvent("popup", { timeout: 20_000 });
      await page.getByRole("button", { name: "Sync now" }).click();
      const popup = await popupOpened;
      await popup.waitForEvent("close", { timeout: 20_000 });
      await page.getByRole("status").getByText("Synced with Partner Center.").waitFor({ timeout: 60_000 });
      expect(watch.identityCalls).toContain(silentAttempt());
      await expectRunFor(opportunityId, watch);
      expect(watch.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

// npm run bench:card: the Partner Center card's first render in Debian's Chromium, and its bundle.js size.
// Builds the card (pcf-scripts production build), hosts the real bundle.js in the browser test's page
// (PcfControls/PartnerCenterCard/test/browser/page.ts: React and Fluent as platform globals, the harness
// playing the model-driven runtime), then mounts the "synced" card in a fresh page RUNS times (20) after
// one warm-up. Inside the page, with performance.now(), from calling PartnerCenterHarness.mount:
//   status:  the status badge (data-testid=sync-status, under the Status heading) is in the DOM;
//   painted: the page's first contentful paint (the page has no text before the card), or the next
//            frame when Chromium reports none;
//   loaded:  the checklist's summary is in the DOM (the Web API reads answered; the mocks answer at once).
// Also the page's JS heap (after a forced GC) before and after the mount, the CSS rules the mount added,
// and, for comparison, a second mount in the same page after unmounting (warm code, styles in place:
// status in the DOM and the next frame). Writes its rows into BENCHMARKS.md. The machine's load average
// goes into the row: on a busy machine the figures are higher. `npm run bench` runs this file first.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { buildCard, MAX_BUNDLE_BYTES } from "../PcfControls/build.ts";
import { CHROMIUM, launchOptions, ORIGIN, preparePage, servePage } from "../PcfControls/PartnerCenterCard/test/browser/page.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.RUNS ?? 20);
const GOAL_MS = 100;

/** What the page reports for one mount, in ms from the call to mount. */
interface Timing {
  returned: number;
  status: number;
  painted: number;
  paintSource: "first-contentful-paint" | "frame";
  frame: number;
  loaded: number;
  cssRules: number;
}

/** Runs in the page: mounts the card and times it with the page's own clock. */
function mountAndTime(options: { scenario: string }): Promise<Timing> {
  const harness = (window as unknown as { PartnerCenterHarness: { mount(options: { scenario: string }): void } }).PartnerCenterHarness;
  const cssRules = (): number => Array.from(document.styleSheets).reduce((sum, sheet) => sum + sheet.cssRules.length, 0);
  const appeared = (selector: string): Promise<number> =>
    new Promise((resolve) => {
      if (document.querySelector(selector)) return resolve(performance.now());
      const observer = new MutationObserver(() => {
        if (!document.querySelector(selector)) return;
        observer.disconnect();
        resolve(performance.now());
      });
      observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    });
  const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));
  const firstContentfulPaint = (after: number): Promise<number | null> =>
    new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(null), 2_000);
      new PerformanceObserver((list, observer) => {
        const entry = list.getEntriesByName("first-contentful-paint")[0];
        if (!entry || entry.startTime < after) return;
        clearTimeout(timeout);
        observer.disconnect();
        resolve(entry.startTime);
      }).observe({ type: "paint", buffered: true });
    });

  const rulesBefore = cssRules();
  const start = performance.now();
  const fcp = firstContentfulPaint(start);
  harness.mount(options);
  const returned = performance.now();
  return (async () => {
    const status = await appeared('[data-testid="sync-status"]');
    const frame = await nextFrame();
    const paint = await fcp;
    const loaded = await appeared('[data-testid="readiness-summary"]');
    return {
      returned: returned - start,
      status: status - start,
      painted: (paint ?? frame) - start,
      paintSource: paint === null ? "frame" : "first-contentful-paint",
      frame: frame - start,
      loaded: loaded - start,
      cssRules: cssRules() - rulesBefore,
    } satisfies Timing;
  })();
}

/** Runs in the page after the first mount: unmounts, mounts again, and times status in the DOM and the next frame. */
async function remountAndTime(options: { scenario: string }): Promise<{ status: number; frame: number }> {
  const harness = (window as unknown as { PartnerCenterHarness: { mount(options: { scenario: string }): void; unmount(): void } }).PartnerCenterHarness;
  harness.unmount();
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const start = performance.now();
  harness.mount(options);
  const status = document.querySelector('[data-testid="sync-status"]') ? performance.now() : Number.NaN;
  const frame = await new Promise<number>((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));
  return { status: status - start, frame: frame - start };
}

async function heapBytes(context: BrowserContext, page: Page): Promise<number> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  return usedSize;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const median = (sorted: number[]): number => {
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ascending = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is not installed (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

process.env.PP_TOOLS_TELEMETRY_OPTOUT = "1";
const built = await buildCard({ typecheck: false, quiet: true });
const prepared = await preparePage(built.bundle);
const browser = await chromium.launch(launchOptions());
const context = await browser.newContext({ viewport: { width: 960, height: 1400 }, deviceScaleFactor: 1, locale: "en-US" });
await servePage(context, prepared);

const load = loadavg()[0]!;
const timings: Timing[] = [];
const warm: Array<{ status: number; frame: number }> = [];
const heapBefore: number[] = [];
const heapAfter: number[] = [];
const pageErrors: string[] = [];
for (let i = 0; i <= runs; i++) {
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(`${ORIGIN}/index.html`, { waitUntil: "load" });
  const before = await heapBytes(context, page);
  const timing = await page.evaluate(mountAndTime, { scenario: "synced" });
  const after = await heapBytes(context, page);
  const again = await page.evaluate(remountAndTime, { scenario: "synced" });
  await page.close();
  if (i === 0) continue; // the warm-up
  timings.push(timing);
  warm.push(again);
  heapBefore.push(before);
  heapAfter.push(after);
}
const chromiumVersion = browser.version();
await browser.close();
if (pageErrors.length) throw new Error(`errors in the page:\n${pageErrors.join("\n")}`);

const painted = ascending(timings.map((t) => t.painted));
const status = ascending(timings.map((t) => t.status));
const loaded = ascending(timings.map((t) => t.loaded));
const heapCard = ascending(heapAfter.map((after, i) => after - heapBefore[i]!));
const paintSources = new Set(timings.map((t) => t.paintSource));
const warmStatus = ascending(warm.map((t) => t.status));
const warmFrame = ascending(warm.map((t) => t.frame));
const rules = ascending(timings.map((t) => t.cssRules));
const p50 = median(painted);
const p95 = quantile(painted, 0.95);
const kb = built.bundleBytes / 1024;

const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Chromium ${chromiumVersion}, load average ${load.toFixed(1)} at start`;
const command = "`npm run bench:card`";
const BUNDLE = "Partner Center card bundle.js size (production build; React and Fluent are platform libraries)";
const RENDER = "Partner Center card first render in Chromium (mount → status painted; synced card, fresh page, real bundle.js)";
const missedBy = p50 - GOAL_MS;
// Why, when missed: what a fresh page pays once, against the same mount with warm code and styles in place.
const why =
  `the mount is synchronous and the status is in the DOM after ${ms(median(status))}, most of it once per page: React and Fluent run for the first time (cold code) ` +
  `and ${median(rules)} CSS rules are added (Griffel, the theme); mounted again in the same page it takes ${ms(median(warmStatus))}. ` +
  // From a CPU profile of the mount (Chromium's sampling profiler, 2026-12-03): the card's own code is a small share.
  `In a CPU profile of the mount, about two thirds of the script time is Fluent UI's code (its style insertion among it), a quarter React's, 7 % the card's. ` +
  `The rest (to the paint) is the page's first style, layout and paint of the card (the checklist and history mount a frame after it)` +
  (load > cpus().length ? `; other work shared the CPU (load average ${load.toFixed(1)} on ${cpus().length} cores)` : "");
const rows = [
  `| ${BUNDLE} | ${kb.toFixed(1)} KB (${built.bundleBytes.toLocaleString("en-US")} bytes) | goal ≤ ${MAX_BUNDLE_BYTES / 1024} KB: ${built.bundleBytes <= MAX_BUNDLE_BYTES ? "met" : "missed"} | ${date} | ${machine} | ${command} |`,
  `| ${RENDER} | median ${ms(p50)}, p95 ${ms(p95)} over ${runs} mounts after 1 warm-up (painted: ${[...paintSources].join("/")}; status in the DOM: median ${ms(median(status))}; checklist loaded: median ${ms(median(loaded))}, p95 ${ms(quantile(loaded, 0.95))}; mounted again in the same page: status in the DOM median ${ms(median(warmStatus))}, next frame median ${ms(median(warmFrame))}; JS heap after mount ${mb(median(heapAfter))}, the card's share ${mb(median(heapCard))}) | goal < ${GOAL_MS} ms: ${missedBy < 0 ? "met" : `missed by ${ms(missedBy)} (median): ${why}`} | ${date} | ${machine} | ${command} |`,
];
for (const row of rows) console.log(row);

// Replace this benchmark's rows where they are, add missing ones at the end of the table, keep the rest
// (--no-write: print only; `npm run bench -- --no-write` passes it on).
if (process.argv.includes("--no-write")) process.exit(0);
const file = join(root, "BENCHMARKS.md");
const header = "# Benchmarks\n\nEvery figure with its machine, date and the command that reproduces it.\n\n| what | result | goal | date | machine | command |\n|---|---|---|---|---|---|\n";
const lines = (existsSync(file) ? readFileSync(file, "utf8") : header).split("\n");
for (const [what, row] of [[BUNDLE, rows[0]!], [RENDER, rows[1]!]] as const) {
  const at = lines.findIndex((l) => l.startsWith(`| ${what} |`));
  if (at >= 0) {
    lines[at] = row;
    continue;
  }
  let end = lines.findIndex((l) => l.startsWith("|---"));
  while (lines[end + 1]?.startsWith("|")) end++;
  lines.splice(end + 1, 0, row);
}
writeFileSync(file, lines.join("\n"));

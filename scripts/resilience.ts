// npm run test:resilience: the relay's full-stack resilience suites in one run, then the totals of what
// they counted: records lost, duplicated and wrongly overwritten (all must be zero).
//   - Relay/test/e2e/kill.test.ts            SIGKILLs of the relay mid-sync under load
//   - Relay/test/e2e/faults.test.ts          dropped, duplicated, reordered webhooks; 429 and 5xx storms on both sides
//   - Relay/test/e2e/concurrent-edits.test.ts the same deal changed on both sides at once
//
//   npm run test:resilience               the bounded form (as in npm test: 3 kills, 4 concurrent deals)
//   npm run test:resilience -- --full     100 random SIGKILLs under load, 20 concurrent deals
//
// PCR_E2E_KILLS and PCR_E2E_CONCURRENT_DEALS, when set, win over both.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const full = process.argv.includes("--full");
const dir = mkdtempSync(join(tmpdir(), "pcr-resilience-"));
const report = join(dir, "counts.jsonl");
const env = {
  ...process.env,
  PCR_RESILIENCE_REPORT: report,
  PCR_E2E_KILLS: process.env.PCR_E2E_KILLS ?? (full ? "100" : "3"),
  PCR_E2E_CONCURRENT_DEALS: process.env.PCR_E2E_CONCURRENT_DEALS ?? (full ? "20" : "4"),
};
const suites = ["Relay/test/e2e/kill.test.ts", "Relay/test/e2e/faults.test.ts", "Relay/test/e2e/concurrent-edits.test.ts"];
console.log(`resilience (${full ? "full" : "bounded"}): ${env.PCR_E2E_KILLS} SIGKILLs, ${env.PCR_E2E_CONCURRENT_DEALS} concurrent deals`);
const started = Date.now();
const jest = spawnSync(process.execPath, ["--experimental-vm-modules", "--no-warnings=ExperimentalWarning", join(root, "node_modules", "jest", "bin", "jest.js"), "--runInBand", ...suites], { cwd: root, env, stdio: "inherit" });

interface Counts {
  title: string;
  expected: number;
  lost: number;
  duplicated: number;
  overwritten: number;
}
const counts: Counts[] = existsSync(report) ? readFileSync(report, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Counts) : [];
rmSync(dir, { recursive: true, force: true });
const total = counts.reduce((t, c) => ({ expected: t.expected + c.expected, lost: t.lost + c.lost, duplicated: t.duplicated + c.duplicated, overwritten: t.overwritten + c.overwritten }), { expected: 0, lost: 0, duplicated: 0, overwritten: 0 });
console.log(`\n── resilience totals (${Math.round((Date.now() - started) / 1000)} s) ──`);
for (const c of counts) console.log(`  ${c.title}\n    expected ${c.expected}  lost ${c.lost}  duplicated ${c.duplicated}  wrongly overwritten ${c.overwritten}`);
console.log(`  all suites: expected ${total.expected}  lost ${total.lost}  duplicated ${total.duplicated}  wrongly overwritten ${total.overwritten}`);
const ok = jest.status === 0 && counts.length === suites.length && total.lost === 0 && total.duplicated === 0 && total.overwritten === 0;
if (counts.length !== suites.length) console.log(`  ✖ ${suites.length - counts.length} suite(s) reported no counts (did they run?)`);
console.log(ok ? "  ✔ nothing lost, duplicated or wrongly overwritten" : "  ✖ resilience failed");
process.exit(ok ? 0 : 1);

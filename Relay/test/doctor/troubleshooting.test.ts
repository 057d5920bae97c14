// docs/troubleshooting.md answers every question of Microsoft's connector FAQ (6 prerequisites, 5
// configuration, 8 run and maintenance) and names every doctor check, so a new check cannot go
// undocumented.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DOCTOR_CHECKS } from "../../src/doctor/checks.ts";
import { repoRoot } from "../edge/helpers.ts";

const doc = readFileSync(join(repoRoot, "docs", "troubleshooting.md"), "utf8");

function questions(section: string): number {
  const body = doc.split(/^## /m).find((part) => part.startsWith(section));
  return (body?.match(/^\d+\. \*\*/gm) ?? []).length;
}

test("every question of the FAQ, section by section", () => {
  expect([questions("Prerequisites"), questions("Configuration"), questions("Run and maintenance")]).toEqual([6, 5, 8]);
});

test("every doctor check is in the table and answers at least one question", () => {
  const [table, ...answers] = doc.split(/^## /m);
  for (const check of DOCTOR_CHECKS) {
    expect(table).toContain(`| \`${check.id}\` |`);
    expect(answers.join("")).toContain(`\`${check.id}\``);
  }
});

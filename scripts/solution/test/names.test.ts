// Names used in TypeScript come only from the generated module, and that module matches Solution/.
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { repoRoot } from "./helpers.ts";
import { listFiles } from "../source.ts";
import { GENERATED_PATH, generatedSource } from "../../generate-names.ts";
import * as Schema from "../../../Core/generated/schema.ts";

test("Core/generated/schema.ts is what scripts/generate-names.ts makes of Solution/ today", () => {
  expect(readFileSync(GENERATED_PATH, "utf8") === generatedSource()).toBe(true);
});

test("the generated module names the solution's tables, choices and variables", () => {
  expect(Schema.Opportunity.columns.syncWithPartnerCenter).toBe("pcr_syncwithpartnercenter");
  expect(Schema.Opportunity.keys.referralIdentifier.columns).toEqual([Schema.Opportunity.columns.referralIdentifier]);
  expect(Schema.MicrosoftSolution.lookups.opportunity.navigationProperty).toBe("pcr_OpportunityId");
  expect(Schema.HowCanMicrosoftHelpOptions.find((o) => o.externalValue === "ProofOfConceptOrDemo")?.value).toBe(Schema.HowCanMicrosoftHelp.ProofOfConceptOrDemo);
  expect(Schema.EnvironmentVariables.dealValueField.defaultValue).toBe("estimatedvalue");
});

// Only the solution itself, the generator and the generated module may spell the publisher's logical names.
const ALLOWED = [/^Solution\//, /^Core\/generated\//, /^scripts\/generate-names\.ts$/, /^scripts\/solution\/test\//];

test("no TypeScript outside the generated module spells a logical name of the solution", () => {
  const prefix = Schema.Solution.prefix;
  const literal = new RegExp(`["'\`]${prefix}_[A-Za-z]`);
  const offenders: string[] = [];
  for (const dir of ["Core", "Relay", "Plugins", "WebResources", "PcfControls", "Sandbox", "scripts", "bench"]) {
    for (const file of listFiles(join(repoRoot, dir))) {
      const path = relative(repoRoot, file).split(sep).join("/");
      if (!/\.(ts|tsx)$/.test(path) || ALLOWED.some((a) => a.test(path)) || path.includes("/node_modules/")) continue;
      readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        if (literal.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  expect(offenders).toEqual([]);
});

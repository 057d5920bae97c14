import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FIELDS } from "../mapping.ts";

test("docs/field-mapping.md lists every field of the mapping with its referral path", () => {
  const doc = readFileSync(fileURLToPath(new URL("../../docs/field-mapping.md", import.meta.url)), "utf8");
  for (const f of FIELDS) expect(doc).toContain(`| \`${f.field}\` | \`${f.referralPath}\` |`);
});

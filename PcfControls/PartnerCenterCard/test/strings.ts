// Reads the card's resx files the way the platform serves them to context.resources.getString.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CONTROL_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

const unescape = (s: string): string => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

/** name → value of every <data> entry in strings/PartnerCenterCard.<lcid>.resx. */
export function loadStrings(lcid: 1033 | 1043): Record<string, string> {
  const xml = readFileSync(join(CONTROL_DIR, "strings", `PartnerCenterCard.${lcid}.resx`), "utf8");
  const strings: Record<string, string> = {};
  for (const m of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) strings[m[1]!] = unescape(m[2]!);
  return strings;
}

// The build: one minified IIFE at out/webresources/<prefix>_/scripts/partnercenter.form.js that assigns
// the global every form and ribbon handler is called through.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { runInNewContext } from "node:vm";
import { Solution } from "../../Core/generated/schema.ts";
import { buildWebResources, MAX_LIBRARY_BYTES } from "../build.ts";
import { OPPORTUNITY_FORM_HANDLERS, RIBBON_COMMANDS, leadFunction } from "../fragments.ts";

let outDir = "";
let code = "";
let built: Awaited<ReturnType<typeof buildWebResources>>;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "webresources-"));
  built = await buildWebResources({ outDir });
  code = readFileSync(built.file, "utf8");
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Runs the library as a browser would: a script in a fresh global scope, with no Xrm touched at load. */
function loadLibrary(): Record<string, unknown> {
  const sandbox: Record<string, unknown> = {};
  runInNewContext(code, sandbox);
  return sandbox;
}

function resolve(global: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], global);
}

test("writes one file under the publisher prefix's folder, with its size reported", () => {
  expect(relative(outDir, built.file).split(sep)).toEqual([`${Solution.prefix}_`, "scripts", "partnercenter.form.js"]);
  expect(built.name).toBe(`${Solution.prefix}_/scripts/partnercenter.form.js`);
  expect(built.bytes).toBe(Buffer.byteLength(code));
  expect(built.bytes).toBeLessThan(MAX_LIBRARY_BYTES);
});

test("is minified ES2020 with no module syntax left", () => {
  // Minified: no indented lines (the few line breaks left are inside template strings).
  expect(code).not.toMatch(/\n[ \t]+\S/);
  // ES2021 logical assignment (the card's code uses ??=) is lowered for ES2020 browsers.
  expect(code).not.toMatch(/\?\?=|\|\|=|&&=/);
  expect(code).not.toMatch(/\bimport\s*[{("']|\bexport\s+(const|function|\{)/);
  expect(code).toMatch(/^"use strict";var PartnerCenter=/);
});

test("every function the form XML and the ribbon name exists in the built library", () => {
  const global = loadLibrary();
  const names = [
    ...OPPORTUNITY_FORM_HANDLERS.map((h) => h.functionName),
    ...RIBBON_COMMANDS.flatMap((command) => [command.action, command.enableRule]),
    leadFunction("onLoad"),
    "PartnerCenter.configureRelaySignIn",
  ];
  for (const name of names) expect([name, typeof resolve(global, name)]).toEqual([name, "function"]);
});

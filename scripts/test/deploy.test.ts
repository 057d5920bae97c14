// npm run deploy with a fake pac on PATH (a shell script that records its arguments): it imports the
// managed zip with --publish-changes, then runs relay init against the sandboxes. Without pac it says how
// to install it and stops; a failing import stops before init.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy, INSTALL_PAC, MANAGED_ZIP } from "../deploy.ts";
import { startSandboxesForRelay, type Sandboxes } from "../../Relay/test/edge/helpers.ts";

let sandboxes: Sandboxes;
let dir: string;
let root: string;

beforeAll(async () => {
  sandboxes = await startSandboxesForRelay();
  dir = mkdtempSync(join(tmpdir(), "pcr-deploy-"));
  // A project root of its own, with a managed zip to import (pac is fake, so its content does not matter).
  root = join(dir, "root");
  mkdirSync(join(root, "dist"), { recursive: true });
  writeFileSync(join(root, MANAGED_ZIP), "zip");
}, 60_000);
afterAll(async () => {
  await sandboxes?.close();
  rmSync(dir, { recursive: true, force: true });
});

function fakePac(exitCode: number): string {
  const bin = join(dir, `bin-${exitCode}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "pac"), `#!/bin/sh\necho "$@" >> "${join(bin, "calls.txt")}"\necho "Solution Importing..."\nexit ${exitCode}\n`);
  chmodSync(join(bin, "pac"), 0o755);
  return bin;
}

async function run(args: string[], path: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await deploy(args, {
    root, stdout: (text) => out.push(text), stderr: (text) => err.push(text),
    env: { PATH: path, PCR_LOG_LEVEL: "warn" }, cwd: sandboxes.stateDir,
  });
  return { code, out, err };
}

test("imports the managed zip with pac, then runs relay init", async () => {
  const bin = fakePac(0);
  const { code, out, err } = await run(["--sandbox", sandboxes.endpointsFile, "--yes", "--no-test-event"], bin);
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(readFileSync(join(bin, "calls.txt"), "utf8").trim()).toBe(`solution import --path ${join(root, MANAGED_ZIP)} --publish-changes`);
  expect(out[0]).toBe(`pac solution import --path ${MANAGED_ZIP} --publish-changes`);
  expect(out).toContain("  Solution Importing...");
  expect(out).toContain(`relay init --sandbox ${sandboxes.endpointsFile} --yes --no-test-event`);
  expect(out.at(-1)).toBe("relay init done.");
}, 60_000);

test("without pac it says how to install it and stops", async () => {
  const empty = join(dir, "empty");
  mkdirSync(empty, { recursive: true });
  const { code, out, err } = await run(["--sandbox", sandboxes.endpointsFile, "--yes"], empty);
  expect(code).toBe(1);
  expect(err).toEqual([INSTALL_PAC]);
  expect(err[0]).toContain("dotnet tool install --global Microsoft.PowerApps.CLI.Tool");
  expect(out).toEqual([]);
});

test("a failed import stops before relay init", async () => {
  const { code, out, err } = await run(["--sandbox", sandboxes.endpointsFile, "--yes"], fakePac(3));
  expect(code).toBe(1);
  expect(err[0]).toMatch(/^pac solution import failed \(exit 3/);
  expect(out.some((line) => line.startsWith("relay init"))).toBe(false);
});

test("--skip-import runs relay init only", async () => {
  const { code, out } = await run(["--skip-import", "--sandbox", sandboxes.endpointsFile, "--yes", "--no-test-event"], join(dir, "empty"));
  expect(code).toBe(0);
  expect(out[0]).toBe(`relay init --sandbox ${sandboxes.endpointsFile} --yes --no-test-event`);
});

// npm run deploy [-- <relay init options>]: imports the managed solution into the environment pac is
// signed in to, then runs `relay init` with the given options (e.g. --guided, or --sandbox for the local
// sandboxes). pac (the Power Platform CLI, a .NET tool) is not an npm package: when it is not on PATH this
// says how to install it and stops, unless --skip-import says the solution is already imported.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, terminalIo, type CliIo } from "../Relay/src/cli.ts";

export const MANAGED_ZIP = join("dist", "PartnerCenterReferrals_managed.zip");

export const INSTALL_PAC = [
  "pac (the Power Platform CLI) is not on PATH, so the solution cannot be imported from here.",
  "Install it with one of:",
  "  dotnet tool install --global Microsoft.PowerApps.CLI.Tool     (any OS with the .NET SDK; then open a new shell)",
  "  the Power Platform Tools extension for Visual Studio Code     (adds pac to its terminal)",
  "  https://learn.microsoft.com/power-platform/developer/cli/introduction  (the Windows installer and details)",
  "then sign in to your environment: pac auth create --environment https://<org>.crm.dynamics.com",
  "and run npm run deploy again. (Imported the solution another way? npm run deploy -- --skip-import runs relay init only.)",
].join("\n");

/** The first executable named `name` on PATH (with Windows' extensions there). */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const extensions = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const extension of extensions) {
      const candidate = join(dir, `${name}${extension}`);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdout: (text: string) => void }): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["inherit", "pipe", "pipe"] });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split(/\r?\n/).filter(Boolean)) options.stdout(`  ${line}`);
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.once("error", fail);
    child.once("close", (code) => done(code ?? 1));
  });
}

/** Answers the exit code: 0 imported and initialised, 1 a step failed (the message says what to do), 2 usage. */
export async function deploy(argv: readonly string[], io: CliIo & { root: string }): Promise<number> {
  const skipImport = argv.includes("--skip-import");
  const initArgs = argv.filter((a) => a !== "--skip-import");
  if (!skipImport) {
    const zip = join(io.root, MANAGED_ZIP);
    if (!existsSync(zip)) {
      io.stderr(`${relative(io.cwd, zip) || zip} is missing: run npm run build first.`);
      return 1;
    }
    const pac = onPath("pac", io.env);
    if (!pac) {
      io.stderr(INSTALL_PAC);
      return 1;
    }
    io.stdout(`pac solution import --path ${MANAGED_ZIP} --publish-changes`);
    const code = await run(pac, ["solution", "import", "--path", zip, "--publish-changes"], { cwd: io.root, env: io.env, stdout: io.stdout });
    if (code !== 0) {
      io.stderr(`pac solution import failed (exit ${code}; its output is above). Check pac auth list: is pac signed in to the right environment?`);
      return 1;
    }
  }
  io.stdout(`relay init ${initArgs.join(" ")}`.trimEnd());
  return runCli(["init", ...initArgs], io);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  process.exitCode = await deploy(process.argv.slice(2), { ...terminalIo(), root });
}

#!/usr/bin/env node
// `relay …` (also `npm run relay -- …`): see Relay/src/cli.ts for the commands.
import { runCli, terminalIo } from "../src/cli.ts";

process.exitCode = await runCli(process.argv.slice(2), terminalIo());

#!/usr/bin/env node
// The relay as its own process for the end-to-end tests, when a test needs settings `relay start
// --sandbox` does not take from the environment (the reconciler's interval, the worker's concurrency).
// Exactly what `relay start` does otherwise: sandboxConfig, startRelay, JSON log lines on stdout, and a
// clean stop on SIGTERM/SIGINT. Options come as JSON in PCR_E2E_RELAY (see LauncherOptions).
//
//   PCR_E2E_RELAY='{"endpointsFile":"…/endpoints.json","port":4711,"databaseUrl":"postgres://…","reconcileIntervalMs":3000}' \
//     node Relay/test/e2e/launcher.ts
import { sandboxConfig, type LogLevel } from "../../src/config.ts";
import { startRelay } from "../../src/relay.ts";

export interface LauncherOptions {
  endpointsFile: string;
  port: number;
  databaseUrl: string;
  reconcileIntervalMs?: number;
  workerConcurrency?: number;
  logLevel?: LogLevel;
}

const raw = process.env.PCR_E2E_RELAY;
if (!raw) {
  process.stderr.write("PCR_E2E_RELAY is not set: it holds the launcher's options as JSON.\n");
  process.exit(2);
}
const options = JSON.parse(raw) as LauncherOptions;
const config = sandboxConfig(options.endpointsFile, {
  port: options.port,
  database: { url: options.databaseUrl },
  reconcileIntervalMs: options.reconcileIntervalMs ?? 0,
  ...(options.workerConcurrency ? { workerConcurrency: options.workerConcurrency } : {}),
  logLevel: options.logLevel ?? "info",
});
const relay = await startRelay(config);
process.stdout.write(`relay listening on ${relay.url}\n`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) process.exit(1);
  stopping = true;
  process.stdout.write(`${signal}: stopping\n`);
  void relay.close().then(() => process.exit(0), () => process.exit(1));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

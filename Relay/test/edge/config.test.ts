// Configuration: every missing or wrong value is named in its own message; defaults; the JSON file
// under the environment; sandbox mode from .sandbox/endpoints.json. And the logger's masking.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, SETTINGS, describeConfig, loadConfig, parseDuration, sandboxConfig } from "../../src/config.ts";
import { DEFAULT_REFERRALS_BASE_URL, DEFAULT_WEBHOOKS_BASE_URL } from "../../src/clients/partner-center.ts";
import { PRODUCTION_SIGNATURE_POLICY } from "../../src/intake/webhook-signature.ts";
import { scrub } from "../../src/logger.ts";
import { capturingLogger } from "./helpers.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pcr-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = randomBytes(32).toString("base64");
const VALID = {
  PCR_DATAVERSE_URL: "https://contoso.crm4.dynamics.com/",
  PCR_TENANT_ID: "7d3f2c1b-5a4e-4f6d-8c9b-0a1e2f3d4c5b",
  PCR_DATAVERSE_CLIENT_ID: "b1c2d3e4-0001-4a5b-8c7d-9e0f1a2b3c4d",
  PCR_DATAVERSE_CLIENT_SECRET: "dv-secret",
  PCR_PARTNER_CENTER_CLIENT_ID: "b1c2d3e4-0002-4a5b-8c7d-9e0f1a2b3c4d",
  PCR_PARTNER_CENTER_CLIENT_SECRET: "pc-secret",
  PCR_TOKEN_CACHE_KEY: KEY,
  PCR_STEP_KEY: "s".repeat(40),
  PCR_PUBLIC_URL: "https://relay.contoso.example/",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { cwd: dir });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test("a complete environment: values, production defaults", () => {
  const config = loadConfig(VALID, { cwd: dir });
  expect(config).toMatchObject({
    tenantKey: "default",
    dataverse: { url: "https://contoso.crm4.dynamics.com", clientId: VALID.PCR_DATAVERSE_CLIENT_ID, clientSecret: "dv-secret" },
    entra: { authorityHost: "https://login.microsoftonline.com", tenantId: VALID.PCR_TENANT_ID },
    partnerCenter: { referralsBaseUrl: DEFAULT_REFERRALS_BASE_URL, webhooksBaseUrl: DEFAULT_WEBHOOKS_BASE_URL },
    stepKey: VALID.PCR_STEP_KEY,
    publicUrl: "https://relay.contoso.example",
    listen: { host: "127.0.0.1", port: 4700 },
    database: { dataDir: join(dir, ".data") },
    reconcileIntervalMs: 15 * 60_000,
    workerConcurrency: 16,
    logLevel: "info",
    signature: { allowedCertificateHosts: PRODUCTION_SIGNATURE_POLICY.allowedCertificateHosts, trustAnchors: "system", subjectOrganization: "Microsoft Corporation", issuerOrganization: "Microsoft Corporation" },
  });
  expect(config.tokenCacheKey).toEqual(Buffer.from(KEY, "base64"));
  expect(config.extraCaPem).toBeUndefined();
  expect(JSON.stringify(describeConfig(config))).not.toMatch(/dv-secret|pc-secret|ssss/);
});

test("nothing set: one message for each required value, naming its variable", () => {
  expect(problems({})).toEqual([
    "PCR_DATAVERSE_URL is not set: the Dynamics 365 environment URL, e.g. https://contoso.crm4.dynamics.com",
    "PCR_TENANT_ID is not set: the Entra ID tenant id (GUID or verified domain) of the partner",
    "PCR_DATAVERSE_CLIENT_ID is not set: application (client) id of the relay's Dataverse app registration",
    "PCR_DATAVERSE_CLIENT_SECRET is not set: a client secret of that app",
    "PCR_PARTNER_CENTER_CLIENT_ID is not set: application (client) id of the relay's Partner Center app registration (public client flows allowed)",
    "PCR_PARTNER_CENTER_CLIENT_SECRET is not set: a client secret of that app (webhook registration uses an app-only token)",
    "PCR_TOKEN_CACHE_KEY is not set: 32 random bytes in base64: encrypts the Partner Center sign-in in the store",
    "PCR_STEP_KEY is not set: a random secret of 32 characters or more that Dataverse sends with every step delivery",
    "PCR_PUBLIC_URL is not set: the relay's public https URL, as Dataverse and Partner Center reach it",
  ]);
});

test("wrong values: each named, all at once", () => {
  expect(problems({
    ...VALID,
    PCR_DATAVERSE_URL: "http://contoso.crm4.dynamics.com",
    PCR_AUTHORITY_HOST: "https://login.microsoftonline.com/tenant",
    PCR_DATAVERSE_CLIENT_ID: "not-a-guid",
    PCR_TOKEN_CACHE_KEY: "c2hvcnQ=",
    PCR_STEP_KEY: "short",
    PCR_PUBLIC_URL: "http://relay.contoso.example",
    PCR_LISTEN_PORT: "70000",
    DATABASE_URL: "mysql://x",
    PCR_EXTRA_CA_FILE: "missing-ca.pem",
    PCR_RECONCILE_INTERVAL: "soon",
    PCR_WORKER_CONCURRENCY: "0",
    PCR_LOG_LEVEL: "loud",
    PCR_TLS_CERT_FILE: "",
    PCR_SIGNATURE_CERTIFICATE_HOSTS: "good.example, bad host",
  })).toEqual([
    "PCR_DATAVERSE_URL must use https",
    "PCR_AUTHORITY_HOST must be the environment's address without a path, e.g. https://login.microsoftonline.com",
    "PCR_DATAVERSE_CLIENT_ID is not a GUID: expected application (client) id of the relay's Dataverse app registration",
    "PCR_TOKEN_CACHE_KEY must decode to 32 bytes (AES-256); it decodes to 5",
    "PCR_STEP_KEY must be 32 to 512 printable characters without spaces (for example: node -e \"console.log(crypto.randomBytes(32).toString('base64url'))\")",
    "PCR_PUBLIC_URL must use https (http only on a loopback address, for the sandboxes)",
    "PCR_LISTEN_PORT is not a port number (0 to 65535)",
    "DATABASE_URL is not a postgres:// connection string",
    `PCR_EXTRA_CA_FILE names a file that cannot be read (${join(dir, "missing-ca.pem")}): ENOENT`,
    "PCR_SIGNATURE_CERTIFICATE_HOSTS holds something that is not host or host:port",
    "PCR_RECONCILE_INTERVAL is not a duration of 10s or more (like 15m, 1h, 90s), or 0 to turn the reconciler off",
    "PCR_WORKER_CONCURRENCY must be 1 to 32",
    "PCR_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent",
  ]);
});

test("a TLS certificate without its key, and files that hold no PEM", () => {
  writeFileSync(join(dir, "not-pem.txt"), "hello");
  expect(problems({ ...VALID, PCR_TLS_CERT_FILE: "not-pem.txt", PCR_SIGNATURE_TRUST_ANCHORS_FILE: "not-pem.txt" })).toEqual([
    `PCR_TLS_CERT_FILE (${join(dir, "not-pem.txt")}) holds no PEM certificate`,
    `PCR_SIGNATURE_TRUST_ANCHORS_FILE (${join(dir, "not-pem.txt")}) holds no PEM certificate`,
  ]);
  writeFileSync(join(dir, "cert.pem"), sandboxCaLikePem());
  expect(problems({ ...VALID, PCR_TLS_CERT_FILE: "cert.pem" })).toEqual(["PCR_TLS_CERT_FILE and PCR_TLS_KEY_FILE go together: set both or neither"]);
});

test("the JSON file (PCR_CONFIG_FILE) under the environment; variable names or keys; unknown settings named", () => {
  const file = join(dir, "relay.json");
  writeFileSync(file, JSON.stringify({ ...VALID, PCR_STEP_KEY: undefined, stepKey: "f".repeat(40), listenPort: 8443, tenantKey: "contoso", PCR_LOG_LEVEL: "warn" }));
  const config = loadConfig({ PCR_CONFIG_FILE: "relay.json", PCR_LOG_LEVEL: "debug" }, { cwd: dir });
  expect(config).toMatchObject({ stepKey: "f".repeat(40), listen: { port: 8443 }, tenantKey: "contoso", logLevel: "debug" });
  writeFileSync(file, JSON.stringify({ ...VALID, stepkey: "x", PCR_LISTEN_PORT: { n: 1 } }));
  expect(problems({ PCR_CONFIG_FILE: file })).toEqual([
    `PCR_CONFIG_FILE (${file}) has an unknown setting 'stepkey'`,
    `PCR_CONFIG_FILE (${file}): 'PCR_LISTEN_PORT' must be text or a number`,
  ]);
  writeFileSync(file, "{ nope");
  expect(problems({ ...VALID, PCR_CONFIG_FILE: file })[0]).toMatch(/^PCR_CONFIG_FILE \(.*relay\.json\) is not JSON/);
});

test("signature overrides: hosts, anchors, organisations (none: not checked), common name; http public URL on loopback", () => {
  const anchor = join(dir, "anchor.pem");
  writeFileSync(anchor, sandboxCaLikePem());
  const config = loadConfig({
    ...VALID, PCR_PUBLIC_URL: "http://127.0.0.1:4700", PCR_SIGNATURE_CERTIFICATE_HOSTS: "127.0.0.1:4702, other.example",
    PCR_SIGNATURE_TRUST_ANCHORS_FILE: anchor, PCR_SIGNATURE_ISSUER_ORGANIZATION: "none", PCR_SIGNATURE_COMMON_NAME: "pcnotifications-dispatch.microsoft.com",
    PCR_RECONCILE_INTERVAL: "0", DATABASE_URL: "postgres://u@127.0.0.1/relay",
  }, { cwd: dir });
  expect(config.publicUrl).toBe("http://127.0.0.1:4700");
  expect(config.signature).toEqual({
    allowedCertificateHosts: ["127.0.0.1:4702", "other.example"], trustAnchors: [sandboxCaLikePem()],
    subjectOrganization: "Microsoft Corporation", issuerOrganization: null, subjectCommonName: "pcnotifications-dispatch.microsoft.com",
  });
  expect(config.reconcileIntervalMs).toBe(0);
  expect(config.database).toEqual({ url: "postgres://u@127.0.0.1/relay" });
});

test("every setting has a variable, a key and a description (the README table)", () => {
  expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
  expect(new Set(SETTINGS.map((s) => s.key)).size).toBe(SETTINGS.length);
  for (const s of SETTINGS) expect(s.what.length).toBeGreaterThan(10);
});

test("durations", () => {
  expect([parseDuration("15m"), parseDuration("1h"), parseDuration("90s"), parseDuration("90"), parseDuration("500ms"), parseDuration("x")]).toEqual([900_000, 3_600_000, 90_000, 90_000, 500, undefined]);
});

test("sandbox mode: endpoints.json, the demo apps, the sandbox CA for trust and signatures, secrets kept across runs", () => {
  const endpoints = join(dir, "endpoints.json");
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, sandboxCaLikePem());
  writeFileSync(endpoints, JSON.stringify({ relay: null, dataverse: "https://127.0.0.1:4701", partnerCenter: "https://127.0.0.1:4702", identity: "https://127.0.0.1:4703", caFile, tenantId: "7d3f2c1b-5a4e-4f6d-8c9b-0a1e2f3d4c5b" }));
  const first = sandboxConfig(endpoints, { port: 4710 });
  expect(first).toMatchObject({
    tenantKey: "sandbox", publicUrl: "http://127.0.0.1:4710", listen: { host: "127.0.0.1", port: 4710 },
    dataverse: { url: "https://127.0.0.1:4701" }, entra: { authorityHost: "https://127.0.0.1:4703" },
    partnerCenter: { referralsBaseUrl: "https://127.0.0.1:4702/v1.0/engagements/referrals", webhooksBaseUrl: "https://127.0.0.1:4702/webhooks/v1/registration" },
    extraCaPem: sandboxCaLikePem(),
    signature: { allowedCertificateHosts: ["127.0.0.1:4702"], trustAnchors: [sandboxCaLikePem()], subjectOrganization: "Microsoft Corporation", issuerOrganization: "Co-sell Relay sandbox" },
    database: { dataDir: join(dir, "relay", "data") },
  });
  const second = sandboxConfig(endpoints);
  expect([second.stepKey, second.tokenCacheKey]).toEqual([first.stepKey, first.tokenCacheKey]);
  expect(second.listen.port).toBe(4700);
});

test("the logger masks e-mail addresses, tokens and keys at info and above, and redacts credentials by path", () => {
  expect(scrub("contact dana.seller@contoso.example, Bearer abcdefghijkl, /plugins/x?code=secret&y=1, eyJhbGciOi.eyJzdWIiOiJ4In0.sig"))
    .toBe("contact [email], Bearer [redacted], /plugins/x?code=[redacted]&y=1, [jwt]");
  const { log, lines } = capturingLogger("debug");
  log.info({ who: { email: "a@b.example", note: "from c.d@e.example" }, clientSecret: "cs", headers: { authorization: "Bearer xyz" } }, "user x@y.example");
  log.debug({ note: "d@e.example" }, "debug keeps detail");
  expect(lines[0]).toMatchObject({ who: { email: "[redacted]", note: "from [email]" }, clientSecret: "[redacted]", headers: { authorization: "[redacted]" }, msg: "user [email]" });
  expect(lines[1]).toMatchObject({ note: "d@e.example" });
});

/** A real CA certificate (the sandbox's kind: O=Co-sell Relay sandbox), generated once for these tests. */
function sandboxCaLikePem(): string {
  return SANDBOX_LIKE_CA;
}

// Self-signed, CN=Partner Center co-sell sandbox CA, O=Co-sell Relay sandbox (made with Sandbox/shared/tls.ts's recipe).
const SANDBOX_LIKE_CA = await (async () => {
  const { ensureSandboxCa } = await import("../../../Sandbox/shared/tls.ts");
  const tls = mkdtempSync(join(tmpdir(), "pcr-config-ca-"));
  const ca = await ensureSandboxCa(tls);
  rmSync(tls, { recursive: true, force: true });
  return ca.certPem;
})();

// The relay's configuration: environment variables, optionally a JSON file (PCR_CONFIG_FILE) under them,
// validated once at start with zod. Every missing or wrong value gets its own message naming the
// variable, so an admin fixes them all in one go. `sandboxConfig` builds the same configuration for the
// local sandboxes from .sandbox/endpoints.json and the demo tenant's apps.
//
// The result holds secrets (client secrets, the token cache key, the step key): never log it; log
// `describeConfig(config)` instead.
import { X509Certificate, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { DEMO_APPS, DEFAULT_PORTS } from "../../Sandbox/shared/demo-tenant.ts";
import type { SandboxEndpoints } from "../../Sandbox/start.ts";
import { PUBLIC_CLOUD_AUTHORITY_HOST } from "./auth/authority.ts";
import { TOKEN_CACHE_KEY_VARIABLE, parseTokenCacheKey } from "./auth/partner-center-token-cache.ts";
import { DEFAULT_REFERRALS_BASE_URL, DEFAULT_WEBHOOKS_BASE_URL } from "./clients/partner-center.ts";
import { MICROSOFT_ORGANIZATION, PRODUCTION_SIGNATURE_POLICY, nameAttribute, parseCertificates, type SignaturePolicy } from "./intake/webhook-signature.ts";
import type { DatabaseLocation } from "./store/database.ts";

/**
 * Sync jobs at once by default. Each sync makes its Dataverse requests one after another (a referral: about
 * 9), so a few jobs leave the per-user budget (6,000 per 5 minutes = 20 a second) unused; 16 keep it full
 * while the Dataverse client's pacer holds the requests on the wire to 8 and within the budget.
 */
export const DEFAULT_WORKER_CONCURRENCY = 16;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RelayConfig {
  /** Written in every row of the store: one relay may later serve several environments. */
  tenantKey: string;
  dataverse: { url: string; clientId: string; clientSecret: string };
  entra: { authorityHost: string; tenantId: string };
  partnerCenter: { clientId: string; clientSecret: string; referralsBaseUrl: string; webhooksBaseUrl: string };
  /** AES-256 key of the encrypted MSAL cache (32 bytes). */
  tokenCacheKey: Buffer;
  previousTokenCacheKeys: Buffer[];
  /** The secret Dataverse sends with every step delivery (x-pcr-step-key, or ?code=). */
  stepKey: string;
  /** Where Dataverse and Partner Center reach the relay, without a trailing slash. */
  publicUrl: string;
  listen: { host: string; port: number };
  /** Serve HTTPS directly (otherwise plain HTTP, for a TLS-terminating proxy or loopback). */
  tls?: { certPem: string; keyPem: string };
  database: DatabaseLocation;
  /** PEM of a CA trusted in addition to the system's: the sandboxes' local CA. Never in production. */
  extraCaPem?: string;
  signature: SignaturePolicy;
  /** How often the reconciler looks for missed changes; 0 turns it off. */
  reconcileIntervalMs: number;
  workerConcurrency: number;
  logLevel: LogLevel;
  /** The client API the card and the form scripts call with the seller's Entra ID token. */
  clientApi: ClientApiConfig;
}

export interface ClientApiConfig {
  /** The API's Application ID URI (api://…) or client id: the `aud` its tokens carry. Unset: the client API answers 503. */
  audience: string | undefined;
  /** Browser origins allowed to call it (CORS): the Dynamics 365 org URL's by default. */
  allowedOrigins: string[];
  /**
   * The single-page app registration the card and form scripts sign in with (msal-browser), published at
   * GET /api/sign-in. By default the API's own app id: one registration may expose the API and sign in to it.
   */
  spaClientId?: string;
}

/** One message per problem, each naming its variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`The relay's configuration is not usable (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/** Every setting: its environment variable, its key in the JSON file, and what it is (README's table). */
export const SETTINGS = [
  { env: "PCR_TENANT_KEY", key: "tenantKey", what: "the key written in every row of the relay's store", default: "default" },
  { env: "PCR_DATAVERSE_URL", key: "dataverseUrl", what: "the Dynamics 365 environment URL, e.g. https://contoso.crm4.dynamics.com", required: true },
  { env: "PCR_AUTHORITY_HOST", key: "authorityHost", what: "the Entra ID authority host", default: PUBLIC_CLOUD_AUTHORITY_HOST },
  { env: "PCR_TENANT_ID", key: "tenantId", what: "the Entra ID tenant id (GUID or verified domain) of the partner", required: true },
  { env: "PCR_DATAVERSE_CLIENT_ID", key: "dataverseClientId", what: "application (client) id of the relay's Dataverse app registration", required: true },
  { env: "PCR_DATAVERSE_CLIENT_SECRET", key: "dataverseClientSecret", what: "a client secret of that app", required: true, secret: true },
  { env: "PCR_PARTNER_CENTER_CLIENT_ID", key: "partnerCenterClientId", what: "application (client) id of the relay's Partner Center app registration (public client flows allowed)", required: true },
  { env: "PCR_PARTNER_CENTER_CLIENT_SECRET", key: "partnerCenterClientSecret", what: "a client secret of that app (webhook registration uses an app-only token)", required: true, secret: true },
  { env: "PCR_PARTNER_CENTER_REFERRALS_URL", key: "partnerCenterReferralsUrl", what: "the Partner Center Referrals API base", default: DEFAULT_REFERRALS_BASE_URL },
  { env: "PCR_PARTNER_CENTER_WEBHOOKS_URL", key: "partnerCenterWebhooksUrl", what: "the Partner Center webhook registration API base", default: DEFAULT_WEBHOOKS_BASE_URL },
  { env: TOKEN_CACHE_KEY_VARIABLE, key: "tokenCacheKey", what: "32 random bytes in base64: encrypts the Partner Center sign-in in the store", required: true, secret: true },
  { env: "PCR_PREVIOUS_TOKEN_CACHE_KEYS", key: "previousTokenCacheKeys", what: "former token cache keys, comma-separated, still accepted for reading (key rotation)", secret: true },
  { env: "PCR_STEP_KEY", key: "stepKey", what: "a random secret of 32 characters or more that Dataverse sends with every step delivery", required: true, secret: true },
  { env: "PCR_PUBLIC_URL", key: "publicUrl", what: "the relay's public https URL, as Dataverse and Partner Center reach it", required: true },
  { env: "PCR_LISTEN_HOST", key: "listenHost", what: "the address the relay listens on (0.0.0.0 in a container)", default: "127.0.0.1" },
  { env: "PCR_LISTEN_PORT", key: "listenPort", what: "the port the relay listens on", default: String(DEFAULT_PORTS.relay) },
  { env: "PCR_TLS_CERT_FILE", key: "tlsCertFile", what: "PEM certificate (chain) to serve HTTPS directly; with PCR_TLS_KEY_FILE" },
  { env: "PCR_TLS_KEY_FILE", key: "tlsKeyFile", what: "PEM private key for PCR_TLS_CERT_FILE" },
  { env: "DATABASE_URL", key: "databaseUrl", what: "Postgres connection string; unset: embedded PGlite in PCR_DATA_DIR" },
  { env: "PCR_DATA_DIR", key: "dataDir", what: "folder of the embedded database when DATABASE_URL is unset", default: ".data" },
  { env: "PCR_EXTRA_CA_FILE", key: "extraCaFile", what: "PEM of an extra CA to trust for outgoing calls (the sandboxes' CA only)" },
  { env: "PCR_SIGNATURE_CERTIFICATE_HOSTS", key: "signatureCertificateHosts", what: "hosts Partner Center's signing certificate may come from, comma-separated", default: PRODUCTION_SIGNATURE_POLICY.allowedCertificateHosts.join(",") },
  { env: "PCR_SIGNATURE_TRUST_ANCHORS_FILE", key: "signatureTrustAnchorsFile", what: "PEM roots the signing certificate must chain to; unset: the system's roots" },
  { env: "PCR_SIGNATURE_SUBJECT_ORGANIZATION", key: "signatureSubjectOrganization", what: "the signing certificate's subject O= (none: not checked)", default: MICROSOFT_ORGANIZATION },
  { env: "PCR_SIGNATURE_ISSUER_ORGANIZATION", key: "signatureIssuerOrganization", what: "the signing certificate's issuer O= (none: not checked)", default: MICROSOFT_ORGANIZATION },
  { env: "PCR_SIGNATURE_COMMON_NAME", key: "signatureCommonName", what: "the signing certificate's subject CN, when it should be checked" },
  { env: "PCR_RECONCILE_INTERVAL", key: "reconcileInterval", what: "how often missed changes are looked for: 15m, 1h, 90s; 0 turns it off", default: "15m" },
  { env: "PCR_WORKER_CONCURRENCY", key: "workerConcurrency", what: "sync jobs run at once (1 to 32); the Dataverse client keeps its own requests to 8 at once and to the service protection budget, so more jobs fill the budget instead of exceeding it", default: String(DEFAULT_WORKER_CONCURRENCY) },
  { env: "PCR_LOG_LEVEL", key: "logLevel", what: `log level: ${LOG_LEVELS.join(", ")}`, default: "info" },
  { env: "PCR_API_AUDIENCE", key: "apiAudience", what: "the client API's app registration (the card and form scripts sign in to it): its Application ID URI (api://…) or client id; unset: the client API is off" },
  { env: "PCR_API_SPA_CLIENT_ID", key: "apiSpaClientId", what: "application (client) id of the single-page app registration the card and form scripts sign in with (redirect URI https://<org>/WebResources/pcr_/signin/redirect.html); default: the API's own app id from PCR_API_AUDIENCE" },
  { env: "PCR_API_ALLOWED_ORIGINS", key: "apiAllowedOrigins", what: "browser origins allowed to call the client API (CORS), comma-separated; default: the origin of PCR_DATAVERSE_URL" },
] as const satisfies ReadonlyArray<{ env: string; key: string; what: string; default?: string; required?: boolean; secret?: boolean }>;

type Setting = (typeof SETTINGS)[number];
type Env = Setting["env"];
type Raw = Partial<Record<Env, string>>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function whatIs(env: Env): string {
  return SETTINGS.find((s) => s.env === env)!.what;
}

/** A required text value: "X is not set: <what it is>". */
function required(env: Env) {
  return z.string({ error: `${env} is not set: ${whatIs(env)}` }).trim().min(1, { error: `${env} is empty: ${whatIs(env)}` });
}

function url(env: Env, rules: { https?: "always" | "except-loopback"; originOnly?: boolean }) {
  return required(env).transform((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `${env} is not a URL: expected ${whatIs(env)}` });
      return z.NEVER;
    }
    const loopback = LOOPBACK.has(parsed.hostname);
    if (parsed.protocol !== "https:" && !(rules.https === "except-loopback" && loopback && parsed.protocol === "http:")) {
      ctx.addIssue({ code: "custom", message: `${env} must use https${rules.https === "except-loopback" ? " (http only on a loopback address, for the sandboxes)" : ""}` });
      return z.NEVER;
    }
    if (parsed.username || parsed.password || parsed.search || parsed.hash) {
      ctx.addIssue({ code: "custom", message: `${env} must not carry credentials, a query or a fragment` });
      return z.NEVER;
    }
    if (rules.originOnly && parsed.pathname !== "/") {
      ctx.addIssue({ code: "custom", message: `${env} must be the environment's address without a path, e.g. ${parsed.origin}` });
      return z.NEVER;
    }
    return rules.originOnly ? parsed.origin : parsed.toString().replace(/\/+$/, "");
  });
}

function guid(env: Env) {
  return required(env).refine((v) => GUID.test(v), { error: `${env} is not a GUID: expected ${whatIs(env)}` });
}

function pemFile(env: Env, kind: "certificate" | "key") {
  return z.string().trim().optional().transform((path, ctx) => {
    if (!path) return undefined;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `${env} names a file that cannot be read (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      return z.NEVER;
    }
    if (kind === "key" ? !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) : !text.includes("-----BEGIN CERTIFICATE-----")) {
      ctx.addIssue({ code: "custom", message: `${env} (${path}) holds no PEM ${kind}` });
      return z.NEVER;
    }
    if (kind === "certificate") {
      try {
        parseCertificates(Buffer.from(text));
      } catch {
        ctx.addIssue({ code: "custom", message: `${env} (${path}) holds a certificate that cannot be read` });
        return z.NEVER;
      }
    }
    return text;
  });
}

/** `15m`, `1h`, `90s`, `500ms` or a number of seconds → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? "s").toLowerCase() as "ms" | "s" | "m" | "h" | "d"];
  return Math.round(Number(match[1]) * unit);
}

function organization() {
  return z.string().trim().transform((v) => (v === "" || v.toLowerCase() === "none" ? null : v));
}

const schema = z.object({
  PCR_TENANT_KEY: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "PCR_TENANT_KEY may hold letters, digits, '.', '_' and '-' only, 64 at most" }),
  PCR_DATAVERSE_URL: url("PCR_DATAVERSE_URL", { https: "always", originOnly: true }),
  PCR_AUTHORITY_HOST: url("PCR_AUTHORITY_HOST", { https: "always", originOnly: true }),
  PCR_TENANT_ID: required("PCR_TENANT_ID").refine((v) => /^[A-Za-z0-9.-]+$/.test(v), { error: "PCR_TENANT_ID is not a tenant id or domain" }),
  PCR_DATAVERSE_CLIENT_ID: guid("PCR_DATAVERSE_CLIENT_ID"),
  PCR_DATAVERSE_CLIENT_SECRET: required("PCR_DATAVERSE_CLIENT_SECRET"),
  PCR_PARTNER_CENTER_CLIENT_ID: guid("PCR_PARTNER_CENTER_CLIENT_ID"),
  PCR_PARTNER_CENTER_CLIENT_SECRET: required("PCR_PARTNER_CENTER_CLIENT_SECRET"),
  PCR_PARTNER_CENTER_REFERRALS_URL: url("PCR_PARTNER_CENTER_REFERRALS_URL", { https: "always" }),
  PCR_PARTNER_CENTER_WEBHOOKS_URL: url("PCR_PARTNER_CENTER_WEBHOOKS_URL", { https: "always" }),
  [TOKEN_CACHE_KEY_VARIABLE]: required(TOKEN_CACHE_KEY_VARIABLE).transform((value, ctx) => {
    try {
      return parseTokenCacheKey(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  }),
  PCR_PREVIOUS_TOKEN_CACHE_KEYS: z.string().optional().transform((value, ctx) => {
    const keys: Buffer[] = [];
    for (const [i, part] of (value ?? "").split(",").map((p) => p.trim()).filter(Boolean).entries()) {
      try {
        keys.push(parseTokenCacheKey(part, `PCR_PREVIOUS_TOKEN_CACHE_KEYS (key ${i + 1})`));
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }
    return keys;
  }),
  PCR_STEP_KEY: required("PCR_STEP_KEY").refine((v) => /^[\x21-\x7e]{32,512}$/.test(v), {
    error: "PCR_STEP_KEY must be 32 to 512 printable characters without spaces (for example: node -e \"console.log(crypto.randomBytes(32).toString('base64url'))\")",
  }),
  PCR_PUBLIC_URL: url("PCR_PUBLIC_URL", { https: "except-loopback" }),
  PCR_LISTEN_HOST: z.string().trim().min(1, { error: "PCR_LISTEN_HOST is empty" }),
  PCR_LISTEN_PORT: z.string().trim().regex(/^\d{1,5}$/, { error: "PCR_LISTEN_PORT is not a port number" }).transform(Number)
    .refine((n) => n >= 0 && n <= 65535, { error: "PCR_LISTEN_PORT is not a port number (0 to 65535)" }),
  PCR_TLS_CERT_FILE: pemFile("PCR_TLS_CERT_FILE", "certificate"),
  PCR_TLS_KEY_FILE: pemFile("PCR_TLS_KEY_FILE", "key"),
  DATABASE_URL: z.string().trim().optional().refine((v) => !v || /^postgres(ql)?:\/\//.test(v), { error: "DATABASE_URL is not a postgres:// connection string" }),
  PCR_DATA_DIR: z.string().trim().min(1, { error: "PCR_DATA_DIR is empty" }),
  PCR_EXTRA_CA_FILE: pemFile("PCR_EXTRA_CA_FILE", "certificate"),
  PCR_SIGNATURE_CERTIFICATE_HOSTS: z.string().transform((v) => v.split(",").map((h) => h.trim()).filter(Boolean))
    .refine((hosts) => hosts.length > 0, { error: "PCR_SIGNATURE_CERTIFICATE_HOSTS names no host" })
    .refine((hosts) => hosts.every((h) => /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(h)), { error: "PCR_SIGNATURE_CERTIFICATE_HOSTS holds something that is not host or host:port" }),
  PCR_SIGNATURE_TRUST_ANCHORS_FILE: pemFile("PCR_SIGNATURE_TRUST_ANCHORS_FILE", "certificate"),
  PCR_SIGNATURE_SUBJECT_ORGANIZATION: organization(),
  PCR_SIGNATURE_ISSUER_ORGANIZATION: organization(),
  PCR_SIGNATURE_COMMON_NAME: z.string().trim().optional().transform((v) => v || undefined),
  PCR_RECONCILE_INTERVAL: z.string().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || (ms !== 0 && ms < 10_000)) {
      ctx.addIssue({ code: "custom", message: "PCR_RECONCILE_INTERVAL is not a duration of 10s or more (like 15m, 1h, 90s), or 0 to turn the reconciler off" });
      return z.NEVER;
    }
    return ms;
  }),
  PCR_WORKER_CONCURRENCY: z.string().trim().regex(/^\d+$/, { error: "PCR_WORKER_CONCURRENCY is not a whole number" }).transform(Number)
    .refine((n) => n >= 1 && n <= 32, { error: "PCR_WORKER_CONCURRENCY must be 1 to 32" }),
  PCR_LOG_LEVEL: z.string().trim().toLowerCase().pipe(z.enum(LOG_LEVELS, { error: `PCR_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` })),
  PCR_API_AUDIENCE: z.string().trim().optional().transform((v) => v || undefined)
    .refine((v) => v === undefined || GUID.test(v) || /^(api|https):\/\/[^\s/]+(\/[^\s]*)?$/i.test(v), { error: "PCR_API_AUDIENCE is not an Application ID URI (api://… or https://…) or a client id (GUID)" }),
  PCR_API_SPA_CLIENT_ID: z.string().trim().optional().transform((v) => v || undefined)
    .refine((v) => v === undefined || GUID.test(v), { error: `PCR_API_SPA_CLIENT_ID is not a GUID: expected ${whatIs("PCR_API_SPA_CLIENT_ID")}` }),
  PCR_API_ALLOWED_ORIGINS: z.string().optional().transform((value, ctx) => {
    const origins: string[] = [];
    for (const part of (value ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
      const origin = URL.canParse(part) ? new URL(part) : undefined;
      const loopback = origin ? LOOPBACK.has(origin.hostname) : false;
      if (!origin || (origin.protocol !== "https:" && !(origin.protocol === "http:" && loopback)) || origin.origin !== part.replace(/\/$/, "").toLowerCase()) {
        ctx.addIssue({ code: "custom", message: `PCR_API_ALLOWED_ORIGINS holds '${part}', which is not an https origin such as https://contoso.crm4.dynamics.com` });
        continue;
      }
      origins.push(origin.origin);
    }
    return origins;
  }),
}).superRefine((value, ctx) => {
  if (Boolean(value.PCR_TLS_CERT_FILE) !== Boolean(value.PCR_TLS_KEY_FILE)) {
    ctx.addIssue({ code: "custom", path: ["PCR_TLS_KEY_FILE"], message: "PCR_TLS_CERT_FILE and PCR_TLS_KEY_FILE go together: set both or neither" });
  }
  if (value.PCR_API_AUDIENCE && !value.PCR_API_SPA_CLIENT_ID && !apiAppId(value.PCR_API_AUDIENCE)) {
    ctx.addIssue({ code: "custom", path: ["PCR_API_SPA_CLIENT_ID"], message: `PCR_API_SPA_CLIENT_ID is not set, and PCR_API_AUDIENCE (${value.PCR_API_AUDIENCE}) names no app id to default to: set it to ${whatIs("PCR_API_SPA_CLIENT_ID")}` });
  }
});

/** The app id in an audience written as api://<app id> or as the bare app id; undefined for other URIs. */
export function apiAppId(audience: string): string | undefined {
  const value = audience.trim().replace(/\/+$/, "");
  const id = /^api:\/\/([0-9a-f-]{36})$/i.exec(value)?.[1] ?? value;
  return GUID.test(id) ? id.toLowerCase() : undefined;
}

/** Reads the JSON file: keys are either the variable names or the camelCase keys of SETTINGS. */
function readConfigFile(path: string, problems: string[]): Raw {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`PCR_CONFIG_FILE (${path}) ${code ? `cannot be read: ${code}` : `is not JSON: ${(error as Error).message}`}`);
    return {};
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    problems.push(`PCR_CONFIG_FILE (${path}) must hold one JSON object of settings`);
    return {};
  }
  const raw: Raw = {};
  for (const [name, value] of Object.entries(json)) {
    const setting = SETTINGS.find((s) => s.env === name || s.key === name);
    if (!setting) {
      problems.push(`PCR_CONFIG_FILE (${path}) has an unknown setting '${name}'`);
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      problems.push(`PCR_CONFIG_FILE (${path}): '${name}' must be text or a number`);
      continue;
    }
    raw[setting.env] = String(value);
  }
  return raw;
}

export interface LoadOptions {
  /** Relative paths (PCR_CONFIG_FILE, PCR_DATA_DIR) resolve against it; default process.cwd(). */
  cwd?: string;
}

/** The configuration from the environment (and PCR_CONFIG_FILE); throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): RelayConfig {
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const filePath = env.PCR_CONFIG_FILE?.trim();
  const fromFile = filePath ? readConfigFile(resolve(cwd, filePath), problems) : {};
  const raw: Record<string, string | undefined> = {};
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    // An empty variable counts as unset, so `FOO= relay start` falls back like an absent one.
    const value = fromEnv !== undefined && fromEnv !== "" ? fromEnv : fromFile[setting.env];
    raw[setting.env] = value ?? ("default" in setting ? setting.default : undefined);
  }
  for (const name of ["PCR_TLS_CERT_FILE", "PCR_TLS_KEY_FILE", "PCR_EXTRA_CA_FILE", "PCR_SIGNATURE_TRUST_ANCHORS_FILE", "PCR_DATA_DIR"] as const) {
    const value = raw[name];
    if (value && !isAbsolute(value)) raw[name] = resolve(cwd, value);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => issue.message));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const v = parsed.data;
  return {
    tenantKey: v.PCR_TENANT_KEY,
    dataverse: { url: v.PCR_DATAVERSE_URL, clientId: v.PCR_DATAVERSE_CLIENT_ID, clientSecret: v.PCR_DATAVERSE_CLIENT_SECRET },
    entra: { authorityHost: v.PCR_AUTHORITY_HOST, tenantId: v.PCR_TENANT_ID },
    partnerCenter: {
      clientId: v.PCR_PARTNER_CENTER_CLIENT_ID, clientSecret: v.PCR_PARTNER_CENTER_CLIENT_SECRET,
      referralsBaseUrl: v.PCR_PARTNER_CENTER_REFERRALS_URL, webhooksBaseUrl: v.PCR_PARTNER_CENTER_WEBHOOKS_URL,
    },
    tokenCacheKey: v[TOKEN_CACHE_KEY_VARIABLE],
    previousTokenCacheKeys: v.PCR_PREVIOUS_TOKEN_CACHE_KEYS,
    stepKey: v.PCR_STEP_KEY,
    publicUrl: v.PCR_PUBLIC_URL,
    listen: { host: v.PCR_LISTEN_HOST, port: v.PCR_LISTEN_PORT },
    ...(v.PCR_TLS_CERT_FILE && v.PCR_TLS_KEY_FILE ? { tls: { certPem: v.PCR_TLS_CERT_FILE, keyPem: v.PCR_TLS_KEY_FILE } } : {}),
    database: v.DATABASE_URL ? { url: v.DATABASE_URL } : { dataDir: v.PCR_DATA_DIR },
    ...(v.PCR_EXTRA_CA_FILE ? { extraCaPem: v.PCR_EXTRA_CA_FILE } : {}),
    signature: {
      allowedCertificateHosts: v.PCR_SIGNATURE_CERTIFICATE_HOSTS,
      trustAnchors: v.PCR_SIGNATURE_TRUST_ANCHORS_FILE ? [v.PCR_SIGNATURE_TRUST_ANCHORS_FILE] : "system",
      ...(v.PCR_SIGNATURE_TRUST_ANCHORS_FILE ? {} : { intermediateHosts: PRODUCTION_SIGNATURE_POLICY.intermediateHosts ?? [] }),
      subjectOrganization: v.PCR_SIGNATURE_SUBJECT_ORGANIZATION,
      issuerOrganization: v.PCR_SIGNATURE_ISSUER_ORGANIZATION,
      ...(v.PCR_SIGNATURE_COMMON_NAME ? { subjectCommonName: v.PCR_SIGNATURE_COMMON_NAME } : {}),
    },
    reconcileIntervalMs: v.PCR_RECONCILE_INTERVAL,
    workerConcurrency: v.PCR_WORKER_CONCURRENCY,
    logLevel: v.PCR_LOG_LEVEL,
    clientApi: {
      audience: v.PCR_API_AUDIENCE,
      allowedOrigins: v.PCR_API_ALLOWED_ORIGINS.length ? v.PCR_API_ALLOWED_ORIGINS : [new URL(v.PCR_DATAVERSE_URL).origin],
      ...(v.PCR_API_AUDIENCE ? { spaClientId: v.PCR_API_SPA_CLIENT_ID?.toLowerCase() ?? apiAppId(v.PCR_API_AUDIENCE) } : {}),
    },
  };
}

/** The configuration without its secrets, for the start-up log line and `relay config`. */
export function describeConfig(config: RelayConfig): Record<string, unknown> {
  return {
    tenantKey: config.tenantKey,
    dataverseUrl: config.dataverse.url,
    authorityHost: config.entra.authorityHost,
    tenantId: config.entra.tenantId,
    dataverseClientId: config.dataverse.clientId,
    partnerCenterClientId: config.partnerCenter.clientId,
    partnerCenterReferralsUrl: config.partnerCenter.referralsBaseUrl,
    partnerCenterWebhooksUrl: config.partnerCenter.webhooksBaseUrl,
    publicUrl: config.publicUrl,
    listen: `${config.listen.host}:${config.listen.port}${config.tls ? " (https)" : ""}`,
    database: "url" in config.database ? "postgres" : "dataDir" in config.database ? `pglite (${config.database.dataDir})` : "pglite (memory)",
    extraCa: config.extraCaPem ? "configured" : "none",
    signatureCertificateHosts: config.signature.allowedCertificateHosts,
    signatureTrustAnchors: config.signature.trustAnchors === "system" ? "system" : "configured",
    reconcileIntervalMs: config.reconcileIntervalMs,
    workerConcurrency: config.workerConcurrency,
    logLevel: config.logLevel,
    apiAudience: config.clientApi.audience ?? "none (client API off)",
    apiAllowedOrigins: config.clientApi.allowedOrigins,
    apiSpaClientId: config.clientApi.spaClientId ?? "none",
  };
}

export interface SandboxConfigOptions {
  /** The relay's port; default 4700 (DEFAULT_PORTS.relay). */
  port?: number;
  host?: string;
  /** Default `http://127.0.0.1:<port>`. */
  publicUrl?: string;
  /** Default: PGlite in `<.sandbox>/relay/data`. */
  database?: DatabaseLocation;
  reconcileIntervalMs?: number;
  logLevel?: LogLevel;
  workerConcurrency?: number;
}

interface SandboxSecrets {
  tokenCacheKey: string;
  stepKey: string;
}

/** The sandbox relay's own secrets, made once and kept beside endpoints.json so restarts keep the sign-in. */
function sandboxSecrets(dir: string): SandboxSecrets {
  const file = join(dir, "relay-secrets.json");
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, "utf8")) as Partial<SandboxSecrets>;
    if (stored.tokenCacheKey && stored.stepKey) return { tokenCacheKey: stored.tokenCacheKey, stepKey: stored.stepKey };
  }
  const secrets = { tokenCacheKey: randomBytes(32).toString("base64"), stepKey: randomBytes(32).toString("base64url") };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}

/**
 * The configuration for sandbox mode: the three sandboxes of `.sandbox/endpoints.json`, the demo tenant's
 * relay apps, the sandbox CA as the only extra trust, and the Partner Center sandbox as the signing
 * certificate's host (its leaf mirrors Microsoft's subject; its issuer is the sandbox CA).
 */
export function sandboxConfig(endpointsFile: string, options: SandboxConfigOptions = {}): RelayConfig {
  const endpoints = JSON.parse(readFileSync(endpointsFile, "utf8")) as SandboxEndpoints;
  const dir = dirname(resolve(endpointsFile));
  const caPem = readFileSync(endpoints.caFile, "utf8");
  const ca = new X509Certificate(caPem);
  const secrets = sandboxSecrets(dir);
  const port = options.port ?? DEFAULT_PORTS.relay;
  return {
    tenantKey: "sandbox",
    dataverse: { url: new URL(endpoints.dataverse).origin, clientId: DEMO_APPS.relayDataverse.clientId, clientSecret: DEMO_APPS.relayDataverse.clientSecret },
    entra: { authorityHost: new URL(endpoints.identity).origin, tenantId: endpoints.tenantId },
    partnerCenter: {
      clientId: DEMO_APPS.relayPartnerCenter.clientId, clientSecret: DEMO_APPS.relayPartnerCenter.clientSecret,
      referralsBaseUrl: `${endpoints.partnerCenter}/v1.0/engagements/referrals`, webhooksBaseUrl: `${endpoints.partnerCenter}/webhooks/v1/registration`,
    },
    tokenCacheKey: parseTokenCacheKey(secrets.tokenCacheKey),
    previousTokenCacheKeys: [],
    stepKey: secrets.stepKey,
    publicUrl: (options.publicUrl ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ""),
    listen: { host: options.host ?? "127.0.0.1", port },
    database: options.database ?? { dataDir: join(dir, "relay", "data") },
    extraCaPem: caPem,
    signature: {
      allowedCertificateHosts: [new URL(endpoints.partnerCenter).host],
      trustAnchors: [caPem],
      subjectOrganization: MICROSOFT_ORGANIZATION,
      issuerOrganization: nameAttribute(ca.subject, "O")[0] ?? null,
      subjectCommonName: "pcnotifications-dispatch.microsoft.com",
    },
    reconcileIntervalMs: options.reconcileIntervalMs ?? 15 * 60_000,
    workerConcurrency: options.workerConcurrency ?? DEFAULT_WORKER_CONCURRENCY,
    logLevel: options.logLevel ?? "info",
    // The card app exposes the client API in the demo tenant (api://<card client id>); Dynamics is the Dataverse sandbox's origin.
    // The card's sign-in is the demo tenant's single-page app (its redirect URI is the org's pcr_/signin/redirect.html).
    clientApi: { audience: `api://${DEMO_APPS.card.clientId}`, allowedOrigins: [new URL(endpoints.dataverse).origin], spaClientId: DEMO_APPS.cardSignIn.clientId },
  };
}

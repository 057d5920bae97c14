// What `relay doctor` checks: one definition per concern, each with what it reads, when it passes and
// the fix in plain words. The checks are pure decisions over facts the readers (./readers.ts) gather, so
// the same list runs in the CLI, on the status page and in tests with stand-in readers. Each one answers a
// failure of Microsoft's connector (shared/seeds/connectors-troubleshoot.md; docs/troubleshooting.md maps
// every question to its check).
import { checkReadiness, type ReadinessProblem } from "../../../Core/readiness.ts";
import { EnvironmentVariables, Roles } from "../../../Core/generated/schema.ts";
import { REFERRAL_WEBHOOK_EVENTS, type WebhookRegistration } from "../clients/partner-center.ts";
import type { SignInStatus } from "../auth/partner-center-signin.ts";
import type { TestEventOutcome } from "../commands/partner-center-webhook.ts";

export type CheckOutcome = { ok: true; detail: string } | { ok: false; detail: string; fix: string };

export interface DoctorCheck {
  /** Stable id, for --json and tests. */
  id: string;
  /** What is checked, in the admin's words. */
  name: string;
  /** Where the facts come from. */
  reads: string;
  /** The fix when the check fails (a failing outcome may say something more precise). */
  fix: string;
  run(readers: DoctorReaders): Promise<CheckOutcome>;
}

/** A step the relay registers, and what Dataverse has under its name. */
export interface RegisteredStepFact {
  step: string;
  /** Absent: not registered. */
  registered?: { enabled: boolean; url: string | null };
  expectedUrl: string;
}

export interface ColumnFact {
  variable: string;
  table: string;
  column: string;
  /** Dataverse's AttributeType, or undefined when the table has no such column. */
  attributeType: string | undefined;
  allowedTypes: readonly string[];
}

/** What the field mapping reader made of the Partner Center field mapping variable. */
export interface FieldMappingFact {
  /** The variable has a value (empty keeps the standard mapping). */
  configured: boolean;
  /** Why the value is not used (the exact problem); absent when it is in force. */
  problem?: string;
  /** The mapping in force: the checked one, or the last good one when the value is rejected. */
  inForce: { dealValue: string; country: string; custom: boolean };
}

export interface DealFact {
  id: string;
  name: string;
  problems: ReadinessProblem[];
}

export interface StuckRecordFact {
  type: "opportunity" | "lead";
  id: string;
  name: string;
  state: "failed" | "pending";
  since: Date | null;
  error: string | null;
}

/** The facts the checks decide on; each reader may throw, which fails the checks that use it. */
export interface DoctorReaders {
  /** Partner Center answers at all (the webhook registration API, app-only). */
  partnerCenterReachable(): Promise<void>;
  signInStatus(): Promise<SignInStatus>;
  /** A fresh access token of the service account (refreshed, not cached): its claims. */
  serviceAccountClaims(): Promise<Record<string, unknown>>;
  /** Reads one referral as the service account; throws Partner Center's refusal. */
  referralsProbe(): Promise<void>;
  webhookRegistration(): Promise<WebhookRegistration | null>;
  /** The URL the webhook registration must name. */
  expectedWebhookUrl(): string;
  testEvent(): Promise<TestEventOutcome>;
  dataverseIdentity(): Promise<{ userId: string; applicationId: string | null; disabled: boolean; roles: string[] }>;
  expectedApplicationId(): string;
  solution(): Promise<{ version: string; managed: boolean } | undefined>;
  expectedSolutionVersion(): string;
  steps(): Promise<RegisteredStepFact[]>;
  mappedColumns(): Promise<ColumnFact[]>;
  /** The Partner Center field mapping variable as the relay's FieldMappingReader judges it. */
  fieldMapping(): Promise<FieldMappingFact>;
  relayUrl(): Promise<{ value: string | undefined; health: { status: number } | { error: string } | undefined }>;
  currencies(): Promise<string[]>;
  syncedDeals(): Promise<DealFact[]>;
  stuckRecords(olderThan: Date): Promise<StuckRecordFact[]>;
  deadLetters(): Promise<Array<{ runId: string; subject: string; error: string | null }>>;
  expiringReferrals(before: Date): Promise<Array<{ referralId: string; recordType: string; recordId: string; respondBy: Date }>>;
  now(): Date;
  /** Forgets what the previous run read (runDoctor calls it first). */
  reset?(): void;
}

const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
const fail = (detail: string, fix: string): CheckOutcome => ({ ok: false, detail, fix });
const list = (items: readonly string[], max = 5) => `${items.slice(0, max).join(", ")}${items.length > max ? ` and ${items.length - max} more` : ""}`;
const day = 24 * 3600_000;

/** How long a record may stay Pending before the doctor calls it stuck. */
export const PENDING_TOO_LONG_MS = 15 * 60_000;
/** Referrals that expire this soon are worth an admin's look. */
export const EXPIRING_WITHIN_MS = 3 * day;

function decodeAmr(claims: Record<string, unknown>): string[] {
  const amr = claims.amr;
  return Array.isArray(amr) ? amr.map(String) : [];
}

export const PARTNER_CENTER_REACHABLE: DoctorCheck = {
  id: "partner-center-reachable", name: "Partner Center answers", reads: "the webhook registration API, with the Partner Center app's app-only token",
  fix: "Check PCR_PARTNER_CENTER_WEBHOOKS_URL, the relay's outbound network (proxy, firewall) and the Partner Center app's client id and secret.",
  async run(r) {
    await r.partnerCenterReachable();
    return pass("the webhook registration API answered");
  },
};

export const SERVICE_ACCOUNT_SIGNED_IN: DoctorCheck = {
  id: "service-account-signed-in", name: "Partner Center service account signed in", reads: "the encrypted token cache in the relay's store",
  fix: "Run relay login and sign in as the Partner Center service account (with MFA).",
  async run(r) {
    const status = await r.signInStatus();
    if (!status.signedIn || !status.refreshTokenPresent) return fail(status.problem ?? "no refresh token is stored", this.fix);
    return pass(`${status.username ?? "an account"} is signed in${status.cacheUpdatedAt ? ` (stored ${status.cacheUpdatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC)` : ""}`);
  },
};

export const SIGN_IN_REFRESHES: DoctorCheck = {
  id: "sign-in-refreshes", name: "the sign-in still refreshes, with MFA", reads: "a new access token for the Referrals API from Entra ID, and its amr and exp claims",
  fix: "The service account's sign-in lapsed, was revoked or lacks MFA: run relay login again and complete MFA (a password alone never satisfies Partner Center).",
  async run(r) {
    const claims = await r.serviceAccountClaims();
    const amr = decodeAmr(claims);
    if (!amr.includes("mfa")) return fail(`the token was issued without MFA (amr: ${amr.join(", ") || "none"}); Partner Center refuses it since 2026-04-01`, this.fix);
    const exp = typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined;
    if (!exp || exp.getTime() <= r.now().getTime()) return fail("the new access token is already expired", this.fix);
    return pass(`refreshed for ${String(claims.upn ?? claims.preferred_username ?? "the service account")}, MFA, valid until ${exp.toISOString().slice(11, 16)} UTC`);
  },
};

export const REFERRALS_ROLE: DoctorCheck = {
  id: "referrals-role", name: "the service account holds a Referrals role", reads: "one referral read as the service account",
  fix: "In Partner Center → Account settings → User management, give the service account the Referrals admin role, then run relay doctor again.",
  async run(r) {
    await r.referralsProbe();
    return pass("Partner Center lets it read referrals");
  },
};

export const WEBHOOK_REGISTRATION: DoctorCheck = {
  id: "webhook-registration", name: "the webhook registration covers the four referral events and points at this relay", reads: "Partner Center's webhook registration of the tenant",
  fix: "Run relay init --replace-webhook (Partner Center keeps one registration per tenant).",
  async run(r) {
    const registration = await r.webhookRegistration();
    const expected = r.expectedWebhookUrl();
    if (!registration?.webhookUrl) return fail("the tenant has no webhook registration: Partner Center's changes arrive only through the reconciler", this.fix);
    if (registration.webhookUrl.replace(/\/+$/, "").toLowerCase() !== expected.replace(/\/+$/, "").toLowerCase()) {
      return fail(`it points at ${registration.webhookUrl}, not at ${expected}`, this.fix);
    }
    const have = new Set(registration.webhookEvents.map((e) => e.toLowerCase()));
    const missing = REFERRAL_WEBHOOK_EVENTS.filter((e) => e !== "test-created" && !have.has(e));
    if (missing.length) return fail(`it lacks ${missing.join(", ")}`, "Run relay init: it adds the missing events to the relay's registration.");
    return pass(`${expected} for ${registration.webhookEvents.join(", ")}`);
  },
};

export const TEST_EVENT: DoctorCheck = {
  id: "test-event", name: "a test event from Partner Center reaches the relay", reads: "Partner Center's test event and its delivery record",
  fix: "Start the relay (relay start) and make PCR_PUBLIC_URL reachable from the internet over HTTPS; then run relay doctor again.",
  async run(r) {
    const test = await r.testEvent();
    return test.arrived ? pass(`the relay ${test.detail}`) : fail(`it did not arrive: the relay ${test.detail}`, this.fix);
  },
};

export const DATAVERSE_APPLICATION_USER: DoctorCheck = {
  id: "dataverse-application-user", name: "Dataverse answers, as the relay's application user", reads: "WhoAmI and the systemuser row it names, with its security roles (systemuserroles_association)",
  fix: "In the Power Platform admin center → Application users, create (or enable) the app user for PCR_DATAVERSE_CLIENT_ID and give it the Partner Center Relay role.",
  async run(r) {
    const me = await r.dataverseIdentity();
    if (me.disabled) return fail(`the application user ${me.userId} is disabled`, this.fix);
    if (!me.applicationId || me.applicationId.toLowerCase() !== r.expectedApplicationId().toLowerCase()) {
      return fail(`the relay acts as ${me.userId}, which is not the application user of ${r.expectedApplicationId()}`, this.fix);
    }
    const relayRole = Roles.partnerCenterRelay.name;
    if (!me.roles.includes(relayRole)) {
      return fail(`the application user holds ${me.roles.join(", ") || "no security role"}, not ${relayRole}`,
        `In the Power Platform admin center → Application users, select the app user of ${r.expectedApplicationId()}, Edit security roles, and add ${relayRole}.`);
    }
    return pass(`application user ${me.userId} (${me.roles.join(", ")})`);
  },
};

export const SOLUTION_INSTALLED: DoctorCheck = {
  id: "solution-installed", name: "the Partner Center Referrals solution is installed", reads: "the solutions table",
  fix: "Import it: pac solution import --path dist/PartnerCenterReferrals_managed.zip --publish-changes (or npm run deploy).",
  async run(r) {
    const solution = await r.solution();
    if (!solution) return fail("it is not in this environment", this.fix);
    const expected = r.expectedSolutionVersion();
    if (solution.version !== expected) return fail(`version ${solution.version} is installed; this relay is ${expected}`, "Import the solution of this relay's version: npm run deploy.");
    return pass(`version ${solution.version}${solution.managed ? ", managed" : ", unmanaged"}`);
  },
};

export const STEPS_REGISTERED: DoctorCheck = {
  id: "steps-registered", name: "the Dataverse steps are registered, enabled and point at this relay", reads: "sdkmessageprocessingsteps and serviceendpoints named CoSellRelay.*",
  fix: "Run relay init: it registers the steps again (safe to repeat).",
  async run(r) {
    const steps = await r.steps();
    const missing = steps.filter((s) => !s.registered).map((s) => s.step);
    const disabled = steps.filter((s) => s.registered && !s.registered.enabled).map((s) => s.step);
    const elsewhere = steps.filter((s) => s.registered && s.registered.url !== s.expectedUrl).map((s) => s.step);
    const problems = [
      missing.length ? `not registered: ${list(missing)}` : "",
      disabled.length ? `disabled: ${list(disabled)}` : "",
      elsewhere.length ? `posting elsewhere: ${list(elsewhere)}` : "",
    ].filter(Boolean);
    if (problems.length) return fail(problems.join("; "), disabled.length && !missing.length && !elsewhere.length ? "Enable the steps in the Plug-in Registration Tool, or run relay init." : this.fix);
    return pass(`${steps.length} steps`);
  },
};

export const COLUMN_VARIABLES: DoctorCheck = {
  id: "column-variables", name: "the column environment variables name columns that exist", reads: "Deal value field and Customer Account Country Code field, and the table metadata",
  fix: "Set the variable's current value (Solutions → Default Solution → Environment variables) to the logical name of an existing column of that table and type.",
  async run(r) {
    const facts = await r.mappedColumns();
    const bad = facts.filter((f) => !f.attributeType || !f.allowedTypes.includes(f.attributeType));
    if (bad.length) {
      return fail(bad.map((f) => f.attributeType
        ? `${f.variable} names ${f.table}.${f.column}, a ${f.attributeType} column (needs ${f.allowedTypes.join(" or ")})`
        : `${f.variable} names ${f.column}, which the ${f.table} table does not have`).join("; "), this.fix);
    }
    return pass(facts.map((f) => `${f.table}.${f.column} (${f.attributeType})`).join(", "));
  },
};

const FIELD_MAPPING_VARIABLE = `${EnvironmentVariables.fieldMapping.displayName["1033"]} (${EnvironmentVariables.fieldMapping.schemaName})`;

export const FIELD_MAPPING: DoctorCheck = {
  id: "field-mapping", name: "the Partner Center field mapping is valid", reads: `${FIELD_MAPPING_VARIABLE}, its schema and the metadata of the columns it names`,
  fix: `Correct the current value of ${FIELD_MAPPING_VARIABLE} (Solutions → Default Solution → Environment variables) as the problem says, or clear it to use the standard mapping; see docs/customizing.md. Until then the last good mapping stays in force.`,
  async run(r) {
    const mapping = await r.fieldMapping();
    const inForce = `deal value ${mapping.inForce.dealValue}, country ${mapping.inForce.country}`;
    if (mapping.problem) {
      return fail(`${mapping.problem} The last good mapping stays in force (${mapping.inForce.custom ? "" : "the standard one: "}${inForce}).`, this.fix);
    }
    return pass(mapping.configured ? `in force: ${inForce}` : `empty: the standard mapping (${inForce})`);
  },
};

export const RELAY_URL: DoctorCheck = {
  id: "relay-url", name: "the Relay URL variable names a relay that answers", reads: `${EnvironmentVariables.relayUrl.displayName["1033"]} and its /healthz`,
  fix: "Run relay init (it sets Relay URL to PCR_PUBLIC_URL) and make sure the relay runs at that address.",
  async run(r) {
    const { value, health } = await r.relayUrl();
    if (!value) return fail("Relay URL has no value: the card and the form scripts cannot reach the relay", this.fix);
    if (!health) return fail(`${value} is not an http(s) address`, this.fix);
    if ("error" in health) return fail(`${value}/healthz did not answer (${health.error})`, this.fix);
    if (health.status !== 200) return fail(`${value}/healthz answered ${health.status}`, this.fix);
    return pass(`${value} answers`);
  },
};

export const CURRENCIES: DoctorCheck = {
  id: "currencies", name: "currencies exist", reads: "active transactioncurrencies",
  fix: "Add the currencies your deals use (Settings → Business Management → Currencies), with their ISO codes.",
  async run(r) {
    const codes = await r.currencies();
    return codes.length ? pass(codes.join(", ")) : fail("the environment has no active currency", this.fix);
  },
};

function dealCheck(id: string, name: string, problems: readonly ReadinessProblem[], fix: string, reads: string): DoctorCheck {
  return {
    id, name, reads, fix,
    async run(r) {
      const deals = (await r.syncedDeals()).filter((d) => d.problems.some((p) => problems.includes(p)));
      return deals.length ? fail(`${deals.length}: ${list(deals.map((d) => `${d.name} (${d.id})`))}`, fix) : pass("none");
    },
  };
}

export const ACCOUNTS_WITHOUT_COUNTRY = dealCheck("accounts-without-country", "accounts of Sync = Yes opportunities without an ISO-2 country",
  ["noAccount", "noCountry", "countryNotIso"],
  "Give each listed opportunity an account and fill the account's country column (the one Customer Account Country Code field names) with the two-letter ISO code, e.g. NL.",
  "open opportunities with Sync with Partner Center = Yes, their accounts");

export const DEALS_WITHOUT_SOLUTION = dealCheck("deals-without-solution", "Sync = Yes opportunities without a Microsoft solution", ["noSolution"],
  "Add a Microsoft solution (a co-sell ready solution from Microsoft Solution Details) to each listed opportunity.",
  "open opportunities with Sync with Partner Center = Yes, their Microsoft Solutions");

export const DEALS_WITHOUT_CONTACT = dealCheck("deals-without-contact", "Sync = Yes opportunities asking for help without a customer contact", ["noContact", "contactWithoutEmail"],
  "Set a customer contact with an e-mail address on each listed opportunity, or choose No help needed.",
  "open opportunities with Sync with Partner Center = Yes and help requested, their contacts");

export const STUCK_RECORDS: DoctorCheck = {
  id: "stuck-records", name: "no record Failed, or Pending for more than 15 minutes", reads: "Partner Center sync status of opportunities and leads",
  fix: "Read Last sync error on each listed record (or relay runs --failed), fix what it says, then relay retry --all-failed or Retry on the card.",
  async run(r) {
    const stuck = await r.stuckRecords(new Date(r.now().getTime() - PENDING_TOO_LONG_MS));
    if (!stuck.length) return pass("none");
    return fail(`${stuck.length}: ${list(stuck.map((s) => `${s.type} ${s.name} ${s.state}${s.error ? ` (${s.error.replace(/\s+/g, " ").slice(0, 80)})` : ""}`))}`, this.fix);
  },
};

export const DEAD_LETTERS: DoctorCheck = {
  id: "dead-letters", name: "no dead letters waiting", reads: "the relay's runs whose last attempt was dead-lettered",
  fix: "relay runs --failed says what each needs; fix it, then relay retry --all-failed (or Retry on the status page).",
  async run(r) {
    const dead = await r.deadLetters();
    return dead.length ? fail(`${dead.length}: ${list(dead.map((d) => d.subject))}`, this.fix) : pass("none");
  },
};

export const EXPIRING_REFERRALS: DoctorCheck = {
  id: "expiring-referrals", name: "no referral expires within 3 days unanswered", reads: "the relay's links with a Respond by date",
  fix: "Answer each listed referral on its lead: qualify it to accept, disqualify it to decline. Partner Center closes unanswered referrals as Expired.",
  async run(r) {
    const expiring = await r.expiringReferrals(new Date(r.now().getTime() + EXPIRING_WITHIN_MS));
    if (!expiring.length) return pass("none");
    return fail(`${expiring.length}: ${list(expiring.map((e) => `referral ${e.referralId} (${e.recordType} ${e.recordId}) by ${e.respondBy.toISOString().slice(0, 16).replace("T", " ")} UTC`))}`, this.fix);
  },
};

/** Every check, in the order an admin fixes things: Partner Center, Dataverse, settings, then the data. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  PARTNER_CENTER_REACHABLE, SERVICE_ACCOUNT_SIGNED_IN, SIGN_IN_REFRESHES, REFERRALS_ROLE, WEBHOOK_REGISTRATION, TEST_EVENT,
  DATAVERSE_APPLICATION_USER, SOLUTION_INSTALLED, STEPS_REGISTERED, COLUMN_VARIABLES, FIELD_MAPPING, RELAY_URL, CURRENCIES,
  ACCOUNTS_WITHOUT_COUNTRY, DEALS_WITHOUT_SOLUTION, DEALS_WITHOUT_CONTACT, STUCK_RECORDS, DEAD_LETTERS, EXPIRING_REFERRALS,
];

/** The readiness problems of a deal, for syncedDeals. */
export { checkReadiness };

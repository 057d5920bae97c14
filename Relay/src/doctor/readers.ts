// The doctor's readers over the relay's own clients: the Partner Center client and sign-in, the Dataverse
// client and DataverseSide, and the store. No HTTP of its own beyond the relay's /healthz through the
// shared agent. Readers that several checks use are read once per run.
import { request } from "undici";
import { STEPS } from "../../../Plugins/index.ts";
import type { StepModule } from "../../../Plugins/step.ts";
import { EnvironmentVariables, Lead, Opportunity, PartnerCenterSyncStatus, Solution } from "../../../Core/generated/schema.ts";
import { checkReadiness } from "../../../Core/readiness.ts";
import { literal, type Row } from "../clients/dataverse.ts";
import { retrieveRequest } from "../clients/dataverse-retrieve.ts";
import { endpointName, stepSpec } from "../commands/dataverse-steps.ts";
import { sendTestEvent, webhookUrl } from "../commands/partner-center-webhook.ts";
import type { RelayConfig } from "../config.ts";
import { createAgent } from "../http/agent.ts";
import { PLUGINS_PATH } from "../routes/plugins.ts";
import type { ApiClients } from "../relay.ts";
import type { Queryable } from "../store/database.ts";
import { listRuns } from "../store/runs.ts";
import { DataverseSide } from "../sync/dataverse-side.ts";
import { CurrencyTable, LeadTable, OpportunityTable, isColumnName } from "../sync/dataverse-columns.ts";
import { listExpiringLinks } from "../sync/links.ts";
import type { ColumnFact, DealFact, DoctorReaders, FieldMappingFact, RegisteredStepFact, StuckRecordFact } from "./checks.ts";

export interface ReaderOptions {
  config: RelayConfig;
  clients: ApiClients;
  /** The relay's store: the sign-in, runs and links. */
  db: Queryable;
  steps?: readonly StepModule[];
  /** How long to wait for the test event (default 30 s). */
  testEventTimeoutMs?: number;
  now?: () => Date;
}

/** The table and types each column variable must name. */
const COLUMN_RULES = [
  { variable: EnvironmentVariables.dealValueField, key: "dealValueField", table: "opportunity", types: ["Money", "Decimal", "Double", "Integer", "BigInt"] },
  { variable: EnvironmentVariables.customerAccountCountryCodeField, key: "customerAccountCountryCodeField", table: "account", types: ["String"] },
] as const;

/** The N:N navigation property from systemuser to role (the user's security roles). */
const USER_ROLES = "systemuserroles_association";

const STEP_SETS = { steps: "sdkmessageprocessingsteps", endpoints: "serviceendpoints" } as const;
const ENABLED = 0;

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("the access token is not a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A reader read once per doctor run (several checks use it); `forget` starts the next run afresh. */
function once<T>(read: () => Promise<T>): (() => Promise<T>) & { forget(): void } {
  let value: Promise<T> | undefined;
  return Object.assign(() => (value ??= read()), { forget: () => void (value = undefined) });
}

export function createDoctorReaders(options: ReaderOptions): DoctorReaders & { close(): Promise<void> } {
  const { config, clients, db } = options;
  const { dataverse, partnerCenter, signIn, settings } = clients;
  const side = new DataverseSide(dataverse, settings);
  const agent = createAgent({ ...(config.extraCaPem ? { extraCaPem: config.extraCaPem } : {}), connections: 1 });
  const freshSettings = once(() => settings.refresh());
  const rows = async (entitySet: string, query: Parameters<typeof dataverse.retrieveMultiple>[1]): Promise<Row[]> => {
    const found: Row[] = [];
    for await (const row of dataverse.retrieveMultiple(entitySet, { formattedValues: false, ...query })) found.push(row);
    return found;
  };

  const syncedDeals = once(async (): Promise<DealFact[]> => {
    const deals: DealFact[] = [];
    for await (const record of side.syncedOpportunities()) deals.push({ id: record.id, name: record.name, problems: checkReadiness(record.facts).problems });
    return deals;
  });

  return {
    now: options.now ?? (() => new Date()),
    reset: () => {
      freshSettings.forget();
      syncedDeals.forget();
    },
    partnerCenterReachable: async () => void (await partnerCenter.listEvents()),
    signInStatus: () => signIn.status(),
    serviceAccountClaims: async () => decodeClaims(await signIn.getAccessToken({ forceRefresh: true })),
    referralsProbe: async () => {
      for await (const referral of partnerCenter.listReferrals({ top: 1 })) return void referral;
    },
    webhookRegistration: () => partnerCenter.getRegistration(),
    expectedWebhookUrl: () => webhookUrl(config.publicUrl),
    testEvent: () => sendTestEvent(partnerCenter, { timeoutMs: options.testEventTimeoutMs ?? 30_000, pollMs: 500 }),
    dataverseIdentity: async () => {
      const { UserId } = await dataverse.whoAmI();
      // The roles through the systemuser–role N:N, expanded on the user's row, as on a real tenant.
      const user = await dataverse.retrieve("systemusers", UserId, {
        select: ["applicationid", "isdisabled"], expand: [{ property: USER_ROLES, select: ["name"] }], formattedValues: false,
      });
      const assigned = user?.[USER_ROLES];
      const roles = Array.isArray(assigned) ? assigned.map((r) => String((r as Row).name)) : [];
      return { userId: UserId.toLowerCase(), applicationId: typeof user?.applicationid === "string" ? user.applicationid : null, disabled: user?.isdisabled === true, roles };
    },
    expectedApplicationId: () => config.dataverse.clientId,
    solution: async () => {
      const [row] = await rows("solutions", { select: ["version", "ismanaged"], filter: `uniquename eq ${literal(Solution.uniqueName)}` });
      return row ? { version: String(row.version), managed: row.ismanaged === true } : undefined;
    },
    expectedSolutionVersion: () => Solution.version,
    steps: async (): Promise<RegisteredStepFact[]> => {
      const endpoints = new Map((await rows(STEP_SETS.endpoints, { select: ["serviceendpointid", "url"], filter: "startswith(name,'CoSellRelay.')" }))
        .map((e) => [String(e.serviceendpointid).toLowerCase(), typeof e.url === "string" ? e.url : null]));
      const registered = new Map((await rows(STEP_SETS.steps, { select: ["name", "statecode", "_eventhandler_value"], filter: "startswith(name,'CoSellRelay.')" }))
        .map((s) => [String(s.name), s]));
      return (options.steps ?? STEPS).map(({ registration }) => {
        const spec = stepSpec(registration, undefined);
        const found = registered.get(`${endpointName(registration)}: ${spec.message} of ${spec.table}`);
        const expectedUrl = `${config.publicUrl}${PLUGINS_PATH}/${registration.name}`;
        return {
          step: registration.name, expectedUrl,
          ...(found ? { registered: { enabled: found.statecode === ENABLED, url: endpoints.get(String(found._eventhandler_value).toLowerCase()) ?? null } } : {}),
        };
      });
    },
    mappedColumns: async (): Promise<ColumnFact[]> => {
      const current = await freshSettings();
      const facts: ColumnFact[] = [];
      for (const rule of COLUMN_RULES) {
        const column = String(current[rule.key]).trim().toLowerCase();
        let attributeType: string | undefined;
        if (isColumnName(column)) {
          const attribute = await dataverse.send(retrieveRequest(`EntityDefinitions(LogicalName='${rule.table}')/Attributes`, { LogicalName: column }, { select: ["AttributeType"], formattedValues: false }));
          attributeType = typeof attribute?.AttributeType === "string" ? attribute.AttributeType : undefined;
        }
        facts.push({ variable: `${rule.variable.displayName["1033"]} (${rule.variable.schemaName})`, table: rule.table, column, attributeType, allowedTypes: rule.types });
      }
      return facts;
    },
    fieldMapping: async (): Promise<FieldMappingFact> => {
      // The relay's own reader (DataverseSide.mappings): the schema, then the metadata of each named column.
      const current = await freshSettings();
      const { mapping, problem } = await side.mappings.resolve(current);
      const raw = current.fieldMapping;
      const configured = raw instanceof Error || (raw !== undefined && raw !== null && raw !== "" && !(typeof raw === "object" && Object.keys(raw).length === 0));
      const country = mapping.country.kind === "column" ? `account.${mapping.country.column}` : `account.${mapping.country.column} → ${mapping.country.table}.${mapping.country.isoColumn}`;
      return {
        configured, ...(problem ? { problem: problem.message } : {}),
        inForce: { dealValue: `opportunity.${mapping.dealValue}`, country, custom: Object.keys(mapping.config).length > 0 },
      };
    },
    relayUrl: async () => {
      const value = (await freshSettings()).relayUrl?.trim() || undefined;
      if (!value || !/^https?:\/\//i.test(value)) return { value, health: undefined };
      try {
        const answer = await request(`${value.replace(/\/+$/, "")}/healthz`, { dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
        await answer.body.dump();
        return { value, health: { status: answer.statusCode } };
      } catch (error) {
        return { value, health: { error: (error as Error).message } };
      }
    },
    currencies: async () => (await rows(CurrencyTable.entitySet, { select: [CurrencyTable.isoCode], filter: "statecode eq 0" })).map((c) => String(c[CurrencyTable.isoCode])),
    syncedDeals,
    stuckRecords: async (olderThan: Date): Promise<StuckRecordFact[]> => {
      const { Failed, Pending } = PartnerCenterSyncStatus;
      const stuck: StuckRecordFact[] = [];
      for (const [type, entitySet, id, name, columns] of [
        ["opportunity", OpportunityTable.entitySet, OpportunityTable.id, OpportunityTable.name, Opportunity.columns],
        ["lead", LeadTable.entitySet, LeadTable.id, LeadTable.subject, Lead.columns],
      ] as const) {
        for (const row of await rows(entitySet, {
          select: [id, name, columns.syncStatus, columns.lastSyncError, "modifiedon"],
          filter: `${columns.syncStatus} eq ${Failed} or (${columns.syncStatus} eq ${Pending} and modifiedon lt ${olderThan.toISOString()})`,
        })) {
          stuck.push({
            type, id: String(row[id]), name: String(row[name] ?? ""), state: row[columns.syncStatus] === Failed ? "failed" : "pending",
            since: typeof row.modifiedon === "string" ? new Date(row.modifiedon) : null, error: typeof row[columns.lastSyncError] === "string" ? row[columns.lastSyncError] as string : null,
          });
        }
      }
      return stuck;
    },
    deadLetters: async () => {
      // A subject is waiting when its newest run was dead-lettered (a retry that succeeded clears it).
      const newest = new Map<string, Awaited<ReturnType<typeof listRuns>>[number]>();
      for (const run of await listRuns(db, config.tenantKey, { limit: 5000 })) if (!newest.has(run.subject)) newest.set(run.subject, run);
      return [...newest.values()].filter((r) => r.state === "dead").map((r) => ({ runId: r.id, subject: r.subject, error: r.lastError }));
    },
    expiringReferrals: (before: Date) => listExpiringLinks(db, config.tenantKey, before),
    close: () => agent.close(),
  };
}

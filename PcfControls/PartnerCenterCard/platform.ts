// The card's side effects on the real platform: context.webAPI, context.navigation, context.formatting,
// and the relay through fetch with the seller's token (services/signIn.ts, unless a host injects one).
import { columnFactsOf, type ColumnFacts, type DescribeColumns } from "../../Core/checklist-mapping.ts";
import { MicrosoftSolution, Opportunity, Solution } from "../../Core/generated/schema.ts";
import type { IInputs } from "./generated/ManifestTypes";
import { RelayPolling } from "./constants.ts";
import { createLeadActions, type XrmExecute } from "./services/leadActions.ts";
import { createRelayClient, type FetchLike, type GetAccessToken } from "./services/relay.ts";
import { relaySignIn } from "./services/signIn.ts";
import type { CardServices, FixTarget, RelayPollingOptions } from "./types.ts";

/** What a host may inject; Dynamics constructs the control with none of it. */
export interface CardOptions {
  /**
   * Bearer token for the relay's client API. In Dynamics none is injected: services/signIn.ts signs the
   * seller in with msal-browser (silent, then ssoSilent with the user's UPN, a popup on Sync now / Retry).
   */
  getAccessToken?: GetAccessToken;
  /** fetch for the relay calls (defaults to window.fetch). */
  fetch?: FetchLike;
  polling?: Partial<RelayPollingOptions>;
  /** The clock lead mode counts the time left to answer a referral with (defaults to the system clock). */
  now?: () => Date;
}

type ContextSource = () => ComponentFramework.Context<IInputs>;

/** The standard user table and the column holding the user's UPN (the same on every environment). */
const SystemUser = { logicalName: "systemuser", upn: "domainname" } as const;

/** The standard table of environment variables' current values: who may write it can fix a setting. */
const ENVIRONMENT_VARIABLE_VALUE = "environmentvariablevalue";
/** ComponentFramework.PropertyHelper.Types.PrivilegeType and PrivilegeDepth (const enums in the typings). */
const Privilege = { create: 1, write: 3 } as const;
const PRIVILEGE_DEPTH_BASIC = 0;

/**
 * Whether the user can set an environment variable's current value, the way PCF asks: the table's
 * metadata first (hasEntityPrivilege answers false without it), then Create or Write at any depth.
 */
export async function canEditSettings(utils: ComponentFramework.Utility): Promise<boolean> {
  try {
    await utils.getEntityMetadata(ENVIRONMENT_VARIABLE_VALUE);
    return [Privilege.create, Privilege.write].some((type) => utils.hasEntityPrivilege(ENVIRONMENT_VARIABLE_VALUE, type, PRIVILEGE_DEPTH_BASIC));
  } catch {
    return false;
  }
}

/**
 * The columns' metadata the PCF way, context.utils.getEntityMetadata(table, columns) (attributes that
 * do not exist come back missing), each question asked once per page: a failed one is asked again next time.
 */
export function metadataReader(utils: () => ComponentFramework.Utility): DescribeColumns {
  const asked = new Map<string, Promise<Record<string, ColumnFacts>>>();
  return (table, columns) => {
    const key = `${table}:${[...columns].sort().join(",")}`;
    let answer = asked.get(key);
    if (!answer) {
      answer = Promise.resolve()
        .then(() => utils().getEntityMetadata(table, columns))
        .then((metadata) => columnFactsOf(metadata, columns));
      answer.catch(() => asked.delete(key));
      asked.set(key, answer);
    }
    return answer;
  };
}

/**
 * PCF cannot move the focus to another control on the form (that is Xrm's formContext, which a PCF
 * control must not use), so a failing item opens the record that fixes it: the account for the
 * country, the contact for its e-mail, and a quick create of a Microsoft solution linked to this
 * opportunity. Deal value, currency and close date are fields on this form: the item names them.
 */
export function openFix(navigation: ComponentFramework.Navigation, target: FixTarget): Promise<void> {
  const done = (): void => undefined;
  switch (target.check) {
    case "solution":
      return navigation
        .openForm({
          entityName: MicrosoftSolution.logicalName,
          useQuickCreateForm: true,
          createFromEntity: { entityType: Opportunity.logicalName, id: target.opportunityId, name: target.opportunityName },
        })
        .then(done);
    case "country":
      return navigation.openForm({ entityName: "account", entityId: target.accountId }).then(done);
    case "contact":
      return navigation.openForm({ entityName: "contact", entityId: target.contactId }).then(done);
  }
}

export function createServices(current: ContextSource, options: CardOptions, lifetime: AbortSignal): CardServices {
  const hasWebApi = Boolean(current().webAPI);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => window.fetch(input, init));
  let upn: Promise<string | undefined> | undefined;
  // The signed-in Dynamics user's UPN: Entra ID's login_hint, so the silent sign-in picks the same person.
  const loginHint = (): Promise<string | undefined> => {
    upn ??= Promise.resolve()
      .then(() => current().webAPI.retrieveRecord(SystemUser.logicalName, current().userSettings.userId.replace(/[{}]/g, ""), `?$select=${SystemUser.upn}`))
      .then((user) => (typeof user[SystemUser.upn] === "string" && user[SystemUser.upn] ? String(user[SystemUser.upn]) : undefined))
      .catch(() => {
        upn = undefined;
        return undefined;
      });
    return upn;
  };
  const tokenFor = (relayUrl: string): GetAccessToken =>
    options.getAccessToken ?? relaySignIn({ relayUrl, prefix: Solution.prefix, fetch: fetchImpl, loginHint });
  return {
    webAPI: hasWebApi
      ? {
          retrieveRecord: (entityType, id, query) => current().webAPI.retrieveRecord(entityType, id, query),
          retrieveMultipleRecords: (entityType, query, maxPageSize) => current().webAPI.retrieveMultipleRecords(entityType, query, maxPageSize),
        }
      : null,
    relay: (relayUrl) => createRelayClient(relayUrl, tokenFor(relayUrl), fetchImpl),
    formatDateTime: (date) => {
      try {
        return current().formatting.formatDateShort(date, true);
      } catch {
        return date.toLocaleString();
      }
    },
    fix: (target) => openFix(current().navigation, target),
    polling: { ...RelayPolling, ...options.polling },
    lifetime,
    // Lead mode: QualifyLead through the page's Xrm.WebApi.online.execute (PCF's webAPI has no execute),
    // else a same-origin POST to the org's Web API; Decline is an update through context.webAPI.
    lead: createLeadActions({
      webAPI: () => current().webAPI ?? null,
      xrm: () => (globalThis as { Xrm?: XrmExecute }).Xrm,
      fetch: (input, init) => window.fetch(input, init),
      origin: () => window.location.origin,
      navigation: () => current().navigation,
    }),
    now: options.now ?? (() => new Date()),
    canEditSettings: () => canEditSettings(current().utils),
    describeColumns: metadataReader(() => current().utils),
  };
}

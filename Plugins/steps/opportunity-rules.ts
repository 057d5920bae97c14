// The rules step: a synchronous check inside the save (PreOperation, stage 20, mode 0) of every Create
// and Update of an opportunity, so that imports, flows and integrations are held to what the form's
// OnSave enforces. It refuses, with the form's words (Core/messages.ts):
//   1. turning Referral Visibility back off once it is on (it cannot be undone in Partner Center);
//   2. a save with Sync with Partner Center = Yes that breaks the readiness rules (Core/readiness.ts).
// Turning sync off is always allowed. Like the form, a new record is not refused for having no solution
// yet (solutions can only be attached once it exists), and a Create without a currency gets the base
// currency from the platform. The relay's own writes mirror Partner Center and are not held to the
// readiness rules. What the delivery does not carry (the solution count, the account's country column,
// the contact, the currency's ISO code, the environment variables) comes from the reader the relay
// gives the step (StepReader): one read of the saved deal as the sync engine reads it, plus one read per
// lookup the save changes.
import { HowCanMicrosoftHelpOptions, Opportunity } from "../../Core/generated/schema.ts";
import { VISIBILITY_LOCKED, readinessSummary } from "../../Core/messages.ts";
import { checkReadiness, type DealFacts, type ReadinessCheck } from "../../Core/readiness.ts";
import { isReference, target, type Entity, type RemoteExecutionContext, type Value } from "../context.ts";
import { mismatch, type SavedDeal, type StepDecision, type StepImage, type StepModule, type StepReader, type StepRegistration } from "../step.ts";

const c = Opportunity.columns;

/** Standard opportunity columns the readiness rules read (the deal value column the admin names is added by `relay init`). */
export const STANDARD_RULES_COLUMNS = ["estimatedvalue", "budgetamount", "estimatedclosedate", "transactioncurrencyid", "customerid", "parentaccountid", "parentcontactid"] as const;

/** The Update step fires when a save names one of these: the rules' inputs, the sync toggle and the visibility. */
export const RULES_COLUMNS: readonly string[] = [...STANDARD_RULES_COLUMNS, c.syncWithPartnerCenter, c.helpRequested, c.referralVisibility];

/** Whether sync and visibility were on before the save (Dataverse offers no pre image on Create). */
export const RULES_IMAGE: StepImage = { name: "PreImage", type: "Pre", attributes: [c.syncWithPartnerCenter, c.referralVisibility] };

const DESCRIPTION = "Holds every save to the form's rules: Referral Visibility stays on, and Sync with Partner Center = Yes needs a deal Partner Center accepts.";

export const createRegistration: StepRegistration = {
  name: "opportunity-rules-create",
  message: "Create",
  table: Opportunity.logicalName,
  stage: 20,
  mode: 0,
  filteringAttributes: [],
  images: [],
  description: DESCRIPTION,
};

export const updateRegistration: StepRegistration = {
  name: "opportunity-rules-update",
  message: "Update",
  table: Opportunity.logicalName,
  stage: 20,
  mode: 0,
  filteringAttributes: RULES_COLUMNS,
  images: [RULES_IMAGE],
  description: DESCRIPTION,
};

const ALLOW: StepDecision = { kind: "allow" };

/** Nothing is known of a new deal but what its Target says. */
const NEW_DEAL: DealFacts = {
  solutionCount: 0, customerCountry: null, hasAccount: false, helpRequested: false, contact: null, dealValue: null, currencyCode: null, closeDate: null,
};

function numberOf(value: Value | undefined): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && value.kind === "money") return value.value;
  return null;
}

function dateText(value: Value | undefined): string | null {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** "How can Microsoft help?" asks for help: a choice other than No help needed (the sync engine's rule). */
function helpAsked(value: Value | undefined): boolean {
  const choice = typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && value.kind === "option" ? value.value : value;
  return Boolean(HowCanMicrosoftHelpOptions.find((o) => o.value === choice)?.externalValue);
}

/** The id a lookup is set to (for a polymorphic one, only when it points at `table`); null when cleared. */
function lookupId(value: Value | undefined, table?: string): string | null {
  if (!isReference(value) || !value.id) return null;
  return table && value.logicalName !== table ? null : value.id;
}

/** A column before the save: from the pre image when there is one (empty columns are left out of it), else as saved. */
function before(pre: Entity | undefined, column: string, saved: () => Promise<boolean | undefined>): Promise<boolean> {
  if (pre) return Promise.resolve(pre.attributes[column] === true);
  return saved().then((value) => value === true);
}

function readerFor(reader: StepReader | undefined): StepReader {
  if (!reader) throw new Error("the rules step needs the relay's Dataverse reader");
  return reader;
}

/**
 * The readiness facts after the save: the saved deal (nothing, for a Create) with what the Target
 * changes laid over it, and the checks that cannot be decided yet.
 */
export async function factsAfterSave(changes: Record<string, Value>, saved: SavedDeal | undefined, reader: StepReader): Promise<{ facts: DealFacts; undecided: Set<ReadinessCheck> }> {
  const facts: DealFacts = { ...(saved?.facts ?? NEW_DEAL) };
  const undecided = new Set<ReadinessCheck>();
  const creating = saved === undefined;
  if (creating) undecided.add("solution"); // a new record cannot have solutions yet (the form defers it too)

  const columns = await reader.columns();
  if (columns.dealValue in changes) facts.dealValue = numberOf(changes[columns.dealValue]);
  if ("estimatedclosedate" in changes) facts.closeDate = dateText(changes.estimatedclosedate);
  if (c.helpRequested in changes) facts.helpRequested = helpAsked(changes[c.helpRequested]);

  if ("parentaccountid" in changes || "customerid" in changes) {
    const parent = "parentaccountid" in changes ? lookupId(changes.parentaccountid, "account") : saved?.parentAccountId ?? null;
    const customer = "customerid" in changes ? lookupId(changes.customerid, "account") : saved?.customerAccountId ?? null;
    const accountId = parent ?? customer;
    if (creating || accountId !== (saved.parentAccountId ?? saved.customerAccountId)) {
      const account = accountId ? await reader.accountCountry(accountId) : undefined;
      facts.hasAccount = account !== undefined;
      facts.customerCountry = account?.country ?? null;
    }
  }
  if ("parentcontactid" in changes && facts.helpRequested) {
    const contactId = lookupId(changes.parentcontactid, "contact");
    facts.contact = contactId ? (await reader.contact(contactId)) ?? null : null;
  }
  if ("transactioncurrencyid" in changes) {
    const currencyId = lookupId(changes.transactioncurrencyid, "transactioncurrency");
    facts.currencyCode = currencyId ? (await reader.currencyCode(currencyId))?.isoCode ?? null : null;
  } else if (creating) {
    undecided.add("currency"); // the platform gives a new record the organization's base currency
  }
  return { facts, undecided };
}

/** The decision for one Create or Update of an opportunity. */
export async function decideRules(context: RemoteExecutionContext, reader?: StepReader): Promise<StepDecision> {
  const entity = target(context);
  if (entity?.kind !== "entity") return { kind: "ignore", reason: "the delivery has no Target entity" };
  const changes = entity.attributes;
  const creating = context.messageName.toLowerCase() === "create";
  const pre = creating ? undefined : context.preEntityImages[RULES_IMAGE.name];
  let saved: Promise<SavedDeal | undefined> | undefined;
  const savedDeal = (): Promise<SavedDeal | undefined> => (saved ??= creating ? Promise.resolve(undefined) : readerFor(reader).savedDeal(context.primaryEntityId));

  // 1. Referral Visibility never goes back off, whoever saves.
  if (!creating && c.referralVisibility in changes && changes[c.referralVisibility] !== true) {
    if (await before(pre, c.referralVisibility, async () => (await savedDeal())?.visible)) return { kind: "refuse", message: VISIBILITY_LOCKED[1033] };
  }

  // 2. Sync = Yes after the save needs a ready deal; sync off (or turned off) always saves.
  const syncAfter = c.syncWithPartnerCenter in changes
    ? changes[c.syncWithPartnerCenter] === true
    : !creating && (await before(pre, c.syncWithPartnerCenter, async () => (await savedDeal())?.sync));
  if (!syncAfter) return ALLOW;
  const relayUserId = reader?.relayUserId;
  if (relayUserId && context.initiatingUserId === relayUserId) return ALLOW; // the relay mirrors Partner Center

  const read = readerFor(reader);
  const deal = await savedDeal();
  if (!creating && !deal) return { kind: "ignore", reason: "the opportunity is not in Dataverse (any more)" };
  const { facts, undecided } = await factsAfterSave(changes, deal, read);
  const problems = checkReadiness(facts).items
    .filter((item) => !item.ok && item.problem && !undecided.has(item.check))
    .map((item) => item.problem!);
  return problems.length ? { kind: "refuse", message: readinessSummary(problems, 1033) } : ALLOW;
}

export const createStep: StepModule = {
  registration: createRegistration,
  handle: (context, reader) => mismatch(createRegistration, context) ?? decideRules(context, reader),
};

export const updateStep: StepModule = {
  registration: updateRegistration,
  handle: (context, reader) => mismatch(updateRegistration, context) ?? decideRules(context, reader),
};

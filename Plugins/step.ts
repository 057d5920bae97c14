// What every step module exports: how the step is registered in Dataverse (registration) and a pure
// decision about one RemoteExecutionContext (handle), given a reader for what the delivery does not carry
// (StepReader). The relay hosts the modules: `relay init` registers them, `POST /plugins/:step` decodes
// the body and acts on the decision.
import type { DealFacts } from "../Core/readiness.ts";
import type { ReferralState } from "../Core/lifecycle.ts";
import type { RemoteExecutionContext } from "./context.ts";

/** 10 PreValidation, 20 PreOperation (both run inside the save, synchronously), 40 PostOperation. */
export type Stage = 10 | 20 | 40;
/** 0 synchronous (the save waits and fails with the step), 1 asynchronous (after the commit). */
export type Mode = 0 | 1;
export type Message = "Create" | "Update" | "Delete" | "Win" | "Lose" | "QualifyLead" | "SetState";

export interface StepImage {
  /** Key of the image in Pre/PostEntityImages. */
  name: string;
  type: "Pre" | "Post" | "Both";
  /** Columns in the image (generated names); never all columns, to keep deliveries small. */
  attributes: readonly string[];
}

export interface StepRegistration {
  /** URL-safe and unique: the step is posted to `/plugins/<name>`. */
  name: string;
  message: Message;
  /** Logical name of the table. */
  table: string;
  stage: Stage;
  mode: Mode;
  /** Update steps fire only when one of these columns is in the request. */
  filteringAttributes: readonly string[];
  images: readonly StepImage[];
  description: string;
}

/**
 * What the relay does with one delivery:
 * - `sync`: request a sync of each subject (`opportunity:<id>`, `lead:<id>`, `referral:<id>`), answer 200;
 * - `ignore`: nothing to do (recorded, answered 200), with why;
 * - `allow` / `refuse`: for synchronous steps, let the save go on (200) or stop it with a message for the seller.
 */
export type StepDecision =
  | { kind: "sync"; subjects: string[]; reason: string }
  | { kind: "ignore"; reason: string }
  | { kind: "allow" }
  | { kind: "refuse"; message: string };

/** What the relay knows of a saved opportunity, read the way the sync engine reads it (the readiness facts). */
export interface SavedDeal {
  facts: DealFacts;
  sync: boolean;
  visible: boolean;
  /** parentaccountid and customerid (when it is an account) as saved: the rules take the first there is. */
  parentAccountId: string | null;
  customerAccountId: string | null;
}

/**
 * Reads for a step that needs more than its delivery (the solution count, the account's country column,
 * the environment variables): the relay gives one to every step, through its own Dataverse application
 * user. Undefined from a read means the record does not exist.
 */
export interface StepReader {
  /** systemuserid of the relay's application user, when known: its own writes mirror Partner Center. */
  readonly relayUserId: string | undefined;
  /** The columns the admin's environment variables name: the deal value and the account's country code. */
  columns(): Promise<{ dealValue: string; country: string }>;
  savedDeal(opportunityId: string): Promise<SavedDeal | undefined>;
  /** The value of the country column on the account. */
  accountCountry(accountId: string): Promise<{ country: string | null } | undefined>;
  contact(contactId: string): Promise<NonNullable<DealFacts["contact"]> | undefined>;
  /** The ISO code of a transaction currency. */
  currencyCode(currencyId: string): Promise<{ isoCode: string | null } | undefined>;
  /** A lead as the qualify rules read it. */
  lead(leadId: string): Promise<SavedLead | undefined>;
  /** The referral's state in Partner Center now (undefined: Partner Center has no such referral). */
  referral(referralId: string): Promise<ReferralState | undefined>;
}

/** What the qualify rules need of a saved lead. */
export interface SavedLead {
  sync: boolean;
  referralId: string | null;
  estimatedRevenue: number | null;
  estimatedCloseDate: string | null;
  respondBy: string | null;
  /** 0 open, 1 qualified, 2 disqualified. */
  statecode: number;
}

export interface StepModule {
  registration: StepRegistration;
  /** Pure where it can be; a step that needs data not in the delivery reads it through `reader`. */
  handle(context: RemoteExecutionContext, reader?: StepReader): StepDecision | Promise<StepDecision>;
}

/** The step was sent a context for another message or table than it is registered for. */
export function mismatch(registration: StepRegistration, context: RemoteExecutionContext): StepDecision | undefined {
  if (context.messageName.toLowerCase() !== registration.message.toLowerCase() || context.primaryEntityName !== registration.table) {
    return { kind: "ignore", reason: `step ${registration.name} is for ${registration.message} of ${registration.table}, not ${context.messageName} of ${context.primaryEntityName}` };
  }
  return undefined;
}

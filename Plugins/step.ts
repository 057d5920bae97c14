// What every step module exports: how the step is registered in Dataverse (registration) and a pure
// decision about one RemoteExecutionContext (handle). The relay hosts the modules: `relay init`
// registers them, `POST /plugins/:step` decodes the body and acts on the decision.
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

export interface StepModule {
  registration: StepRegistration;
  handle(context: RemoteExecutionContext): StepDecision;
}

/** The step was sent a context for another message or table than it is registered for. */
export function mismatch(registration: StepRegistration, context: RemoteExecutionContext): StepDecision | undefined {
  if (context.messageName.toLowerCase() !== registration.message.toLowerCase() || context.primaryEntityName !== registration.table) {
    return { kind: "ignore", reason: `step ${registration.name} is for ${registration.message} of ${registration.table}, not ${context.messageName} of ${context.primaryEntityName}` };
  }
  return undefined;
}

// Closing a synced opportunity as Won or Lost (the Close Opportunity dialog: WinOpportunity,
// LoseOpportunity), asynchronous after the commit: the relay closes the referral as Closed/Won or
// Closed/Lost with the close reason and the final deal value.
import { Opportunity } from "../../Core/generated/schema.ts";
import { isEntity, isReference, type RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepModule, type StepRegistration } from "../step.ts";

function registrationFor(message: "Win" | "Lose"): StepRegistration {
  return {
    name: message === "Win" ? "opportunity-win" : "opportunity-lose",
    message,
    table: Opportunity.logicalName,
    stage: 40,
    mode: 1,
    filteringAttributes: [],
    images: [],
    description: message === "Win"
      ? "An opportunity closed as won: the relay closes its referral as Won in Partner Center."
      : "An opportunity closed as lost: the relay closes its referral as Lost in Partner Center.",
  };
}

/** The opportunity the close names: OpportunityClose's opportunityid, else the primary entity. */
export function closedOpportunityId(context: RemoteExecutionContext): string | undefined {
  const close = context.inputParameters.OpportunityClose;
  if (isEntity(close)) {
    const ref = close.attributes.opportunityid;
    if (isReference(ref) && ref.id) return ref.id.toLowerCase();
  }
  return /^[0-9a-f-]{36}$/i.test(context.primaryEntityId) && !/^0{8}-/.test(context.primaryEntityId) ? context.primaryEntityId.toLowerCase() : undefined;
}

function step(message: "Win" | "Lose"): StepModule {
  const registration = registrationFor(message);
  return {
    registration,
    handle(context): StepDecision {
      const other = mismatch(registration, context);
      if (other) return other;
      const id = closedOpportunityId(context);
      if (!id) return { kind: "ignore", reason: `the ${message} request names no opportunity` };
      return { kind: "sync", subjects: [`opportunity:${id}`], reason: `${message} of opportunity` };
    },
  };
}

export const winStep = step("Win");
export const loseStep = step("Lose");

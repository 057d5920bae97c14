// A Microsoft solution attached to an opportunity (asynchronous): the opportunity is synced. The Create
// Target carries the opportunity lookup, so no image is needed.
import { MicrosoftSolution } from "../../Core/generated/schema.ts";
import { currentValue, type RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { OPPORTUNITY_LOOKUP, syncOpportunityOf } from "./solution.ts";

export const registration: StepRegistration = {
  name: "solution-create",
  message: "Create",
  table: MicrosoftSolution.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: [],
  images: [],
  description: "A Microsoft solution added to an opportunity: the relay updates the referral's solutions.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  return mismatch(registration, context)
    ?? syncOpportunityOf(currentValue(context, OPPORTUNITY_LOOKUP), "Microsoft solution added", "the solution row is not on an opportunity");
}

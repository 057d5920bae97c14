// A Microsoft solution removed from an opportunity (asynchronous). A Delete's Target is only a reference
// to the deleted row, so the opportunity comes from the pre image.
import { MicrosoftSolution } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { OPPORTUNITY_LOOKUP, syncOpportunityOf } from "./solution.ts";

export const registration: StepRegistration = {
  name: "solution-delete",
  message: "Delete",
  table: MicrosoftSolution.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: [],
  images: [{ name: "PreImage", type: "Pre", attributes: [OPPORTUNITY_LOOKUP] }],
  description: "A Microsoft solution removed from an opportunity: the relay updates the referral's solutions.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  return mismatch(registration, context)
    ?? syncOpportunityOf(context.preEntityImages.PreImage?.attributes[OPPORTUNITY_LOOKUP], "Microsoft solution removed",
      "the delivery has no pre image with the opportunity (register the step with relay init); the reconciler will catch up");
}

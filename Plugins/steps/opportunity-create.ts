// A new opportunity: share it when the seller created it with Sync = Yes (asynchronous, after the commit).
import { Opportunity } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { SHARING_IMAGE, decideOpportunity } from "./opportunity.ts";

export const registration: StepRegistration = {
  name: "opportunity-create",
  message: "Create",
  table: Opportunity.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: [],
  images: [SHARING_IMAGE],
  description: "A new opportunity: the relay shares it with Partner Center when Sync with Partner Center is Yes.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  return mismatch(registration, context) ?? decideOpportunity(context);
}

// A change to a mapped column of an opportunity (asynchronous, after the commit), filtered so that other
// edits never reach the relay. The relay's own write-backs do fire it; the engine's echo guard drops them.
import { Opportunity } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { MAPPED_COLUMNS, SHARING_IMAGE, decideOpportunity } from "./opportunity.ts";

export const registration: StepRegistration = {
  name: "opportunity-update",
  message: "Update",
  table: Opportunity.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: MAPPED_COLUMNS,
  images: [SHARING_IMAGE],
  description: "A change to a column Partner Center receives: the relay updates the referral.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  return mismatch(registration, context) ?? decideOpportunity(context);
}

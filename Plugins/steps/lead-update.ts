// A change to a synced lead (asynchronous, after the commit): disqualifying it declines the referral
// (Closed/Declined, with the disqualify reason and the seller's note), and its revenue, close date, topic
// and notes reach the referral while it waits for an answer.
import { Lead } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { LEAD_MAPPED_COLUMNS, LEAD_SHARING_IMAGE, decideLead } from "./lead.ts";

export const registration: StepRegistration = {
  name: "lead-update",
  message: "Update",
  table: Lead.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: LEAD_MAPPED_COLUMNS,
  images: [LEAD_SHARING_IMAGE],
  description: "A synced lead disqualified or edited: the relay declines or updates its referral.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  return mismatch(registration, context) ?? decideLead(context, context.primaryEntityId);
}

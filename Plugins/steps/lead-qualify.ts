// A synced lead was qualified (asynchronous, after the commit): the relay accepts its referral
// (Active/Accepted) and carries it to the opportunity the qualify created.
import { Lead } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepRegistration } from "../step.ts";
import { qualifiedLeadId } from "./lead.ts";

export const registration: StepRegistration = {
  name: "lead-qualify",
  message: "QualifyLead",
  table: Lead.logicalName,
  stage: 40,
  mode: 1,
  filteringAttributes: [],
  images: [],
  description: "A lead qualified: the relay accepts its referral in Partner Center and moves it to the new opportunity.",
};

export function handle(context: RemoteExecutionContext): StepDecision {
  const other = mismatch(registration, context);
  if (other) return other;
  const leadId = qualifiedLeadId(context);
  if (!leadId) return { kind: "ignore", reason: "the QualifyLead request names no lead" };
  // Every qualified lead is looked at: the engine skips one that never came from Partner Center.
  return { kind: "sync", subjects: [`lead:${leadId}`], reason: "QualifyLead of lead" };
}

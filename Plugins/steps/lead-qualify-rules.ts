// The qualify rules: a synchronous check before a synced lead is qualified (PreValidation, stage 10,
// mode 0), so nothing changes when the answer cannot be given. It refuses, in the seller's words:
//   1. a lead without Est. Revenue or Est. Close Date (Partner Center needs both to accept: seed FAQ);
//   2. a lead whose referral can no longer be accepted (expired, withdrawn, closed in Partner Center),
//      read live from Partner Center through the relay.
// A lead that did not come from Partner Center, and the relay's own requests, are never held.
import { qualifyMissing, qualifyRefusal } from "../../Core/lifecycle.ts";
import { Lead } from "../../Core/generated/schema.ts";
import type { RemoteExecutionContext } from "../context.ts";
import { mismatch, type StepDecision, type StepModule, type StepReader, type StepRegistration } from "../step.ts";
import { qualifiedLeadId } from "./lead.ts";

export const registration: StepRegistration = {
  name: "lead-qualify-rules",
  message: "QualifyLead",
  table: Lead.logicalName,
  stage: 10,
  mode: 0,
  filteringAttributes: [],
  images: [],
  description: "Refuses qualifying a synced lead Partner Center would not accept: revenue and close date missing, or the referral expired or closed.",
};

export async function decideQualify(context: RemoteExecutionContext, reader: StepReader | undefined, now: Date = new Date()): Promise<StepDecision> {
  const other = mismatch(registration, context);
  if (other) return other;
  if (reader?.relayUserId && context.initiatingUserId === reader.relayUserId) return { kind: "allow" };
  const leadId = qualifiedLeadId(context);
  if (!leadId || !reader) return { kind: "allow" };
  const lead = await reader.lead(leadId);
  if (!lead || !lead.referralId || !lead.sync || lead.statecode !== 0) return { kind: "allow" };
  const missing = qualifyMissing(lead);
  if (missing) return { kind: "refuse", message: missing };
  const refusal = qualifyRefusal(await reader.referral(lead.referralId), lead.respondBy, now);
  return refusal ? { kind: "refuse", message: refusal } : { kind: "allow" };
}

export const step: StepModule = { registration, handle: (context, reader) => decideQualify(context, reader) };

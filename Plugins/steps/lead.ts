// The lead steps: a synced lead (a referral someone sent the partner) is answered in Dynamics 365 by
// qualifying it (accept) or disqualifying it (decline), and its revenue, close date, topic and notes
// travel with the answer. The relay's own writes fire these steps too; the engine's echo guard drops them.
import { Lead } from "../../Core/generated/schema.ts";
import { currentValue, isEntity, isReference, type RemoteExecutionContext } from "../context.ts";
import type { StepDecision, StepImage } from "../step.ts";

const c = Lead.columns;

/** Standard lead columns the relay reads for the answer: its state and the values Partner Center takes. */
export const LEAD_STANDARD_COLUMNS = ["statecode", "statuscode", "subject", "estimatedamount", "estimatedclosedate", "description"] as const;

/** A change to one of these may change the referral. */
export const LEAD_MAPPED_COLUMNS: readonly string[] = [...LEAD_STANDARD_COLUMNS, c.syncWithPartnerCenter];

/** Whether the lead is a synced referral at all. */
export const LEAD_SHARING_IMAGE: StepImage = { name: "PostImage", type: "Post", attributes: [c.syncWithPartnerCenter, c.referralIdentifier] };

/** Sync the lead when it carries a referral (Sync = Yes or an identifier); a lead Partner Center never saw is not its business. */
export function decideLead(context: RemoteExecutionContext, leadId: string): StepDecision {
  const sync = currentValue(context, c.syncWithPartnerCenter);
  const image = context.postEntityImages[LEAD_SHARING_IMAGE.name];
  const referral = image ? image.attributes[c.referralIdentifier] ?? null : currentValue(context, c.referralIdentifier);
  const noReferral = referral === null || (typeof referral === "string" && referral.trim() === "");
  if (noReferral && (image !== undefined || sync === false)) return { kind: "ignore", reason: "the lead did not come from a Partner Center referral" };
  return { kind: "sync", subjects: [`lead:${leadId.toLowerCase()}`], reason: `${context.messageName} of lead` };
}

/** The lead a QualifyLead names: its LeadId parameter (the primary entity id is not always set for it). */
export function qualifiedLeadId(context: RemoteExecutionContext): string | undefined {
  const value = context.inputParameters.LeadId;
  if (isReference(value) && value.id) return value.id.toLowerCase();
  if (isEntity(value) && value.id) return value.id.toLowerCase();
  return /^[0-9a-f-]{36}$/i.test(context.primaryEntityId) && !/^0{8}-/.test(context.primaryEntityId) ? context.primaryEntityId.toLowerCase() : undefined;
}

// What the opportunity steps share: the columns a change to which can change the referral (the field
// mapping's Dynamics side, Core/mapping.ts FIELDS), the post image the handler reads, and the decision.
import { Opportunity } from "../../Core/generated/schema.ts";
import { currentValue, type RemoteExecutionContext } from "../context.ts";
import type { StepDecision, StepImage } from "../step.ts";

const c = Opportunity.columns;

/**
 * Standard opportunity columns of the mapping. The deal value lives in the column the admin's "Deal value
 * field" variable names (estimatedvalue by default); budgetamount is there for admins who point it at the
 * budget, and `relay init` adds whatever the variable names today.
 */
export const STANDARD_MAPPED_COLUMNS = [
  "name", "estimatedvalue", "budgetamount", "estimatedclosedate", "description", "transactioncurrencyid",
  "customerid", "parentaccountid", "parentcontactid",
] as const;

/** Every column whose change may change the referral: standard mapped columns and the solution's own. */
export const MAPPED_COLUMNS: readonly string[] = [
  ...STANDARD_MAPPED_COLUMNS, c.syncWithPartnerCenter, c.helpRequested, c.referralVisibility,
  // Reopening a closed opportunity (its referral stays closed: the relay says so on the record).
  "statecode",
];

/** What the handler needs beyond the changed columns: whether the deal is (or was) shared. */
export const SHARING_IMAGE: StepImage = { name: "PostImage", type: "Post", attributes: [c.syncWithPartnerCenter, c.referralIdentifier] };

/**
 * Sync the opportunity unless it is certainly not Partner Center's business: Sync = No and never shared
 * (no referral identifier). Without the image (a delivery over 256 KB drops it) the relay syncs and the
 * engine, which re-reads the record, decides.
 */
export function decideOpportunity(context: RemoteExecutionContext): StepDecision {
  const subject = `opportunity:${context.primaryEntityId}`;
  const reason = `${context.messageName} of opportunity`;
  const image = context.postEntityImages[SHARING_IMAGE.name];
  const sync = currentValue(context, c.syncWithPartnerCenter);
  // Dataverse leaves empty columns out of an image: with the image there, a missing identifier is none.
  const referral = image ? image.attributes[c.referralIdentifier] ?? null : currentValue(context, c.referralIdentifier);
  const neverShared = referral === null || (typeof referral === "string" && referral.trim() === "");
  if (sync === false && neverShared) return { kind: "ignore", reason: "Sync with Partner Center is No and the opportunity was never shared" };
  return { kind: "sync", subjects: [subject], reason };
}

// What the Microsoft Partner Center Solution steps share: a solution row added to or removed from an
// opportunity changes the referral's solutions, so the opportunity is synced.
import { MicrosoftSolution } from "../../Core/generated/schema.ts";
import { isReference, type EntityReference, type Value } from "../context.ts";
import type { StepDecision } from "../step.ts";

export const OPPORTUNITY_LOOKUP = MicrosoftSolution.lookups.opportunity.column;

export function syncOpportunityOf(lookup: Value | undefined, reason: string, missing: string): StepDecision {
  if (!isReference(lookup) || !lookup.id) return { kind: "ignore", reason: missing };
  const opportunity: EntityReference = lookup;
  return { kind: "sync", subjects: [`opportunity:${opportunity.id}`], reason };
}

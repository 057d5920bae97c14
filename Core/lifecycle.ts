// The referral's lifecycle as the seller's decisions in Dynamics 365 and the partner's in Partner Center
// (shared/docs/architecture.md, "The seller's decisions are Partner Center decisions"):
//
//   in Dynamics 365                      in Partner Center
//   qualify a synced lead                accept: Active/Accepted (the referral moves to the new opportunity)
//   disqualify a synced lead             decline: Closed/Declined with the reason (Closed/Lost once accepted)
//   close an opportunity as Won / Lost   Closed/Won / Closed/Lost with the reason and the final value
//   (and the other way round)            a referral closed in Partner Center (a user, the 14-day expiry)
//                                        closes the opportunity or disqualifies the lead
//
// Terminal states win: a closed referral is never reopened, and a record reopened after its referral
// closed is told so and left alone. Pure: the relay, the step handlers and the card decide alike.
import type { Status, Substatus } from "./referral.ts";

export type RecordState =
  | { type: "opportunity"; state: "open" | "won" | "lost" }
  | { type: "lead"; state: "open" | "qualified" | "disqualified" };

export interface ReferralState {
  status: Status;
  substatus: Substatus;
}

export type LifecycleDecision =
  /** Nothing to decide: both sides agree on where the deal stands (or neither closed it). */
  | { kind: "none" }
  /** The seller decided in Dynamics 365: Partner Center takes the move. */
  | { kind: "toPartnerCenter"; status: Status; substatus: Substatus; why: string }
  /** The referral closed in Partner Center: Dynamics 365 follows. */
  | { kind: "toDynamics"; action: "win" | "lose" | "disqualify"; why: string }
  /** The record was reopened (or answered) after its referral closed: nothing is written either way. */
  | { kind: "closedInPartnerCenter"; why: string };

const closed = (r: ReferralState): boolean => r.status === "Closed";
const pair = (r: ReferralState): string => `${r.status}/${r.substatus}`;

/** What Partner Center's closing means for the record, in the seller's words. */
export function partnerCenterClosure(referral: ReferralState): string {
  switch (referral.substatus) {
    case "Won": return "The referral was closed as Won in Partner Center.";
    case "Lost": return "The referral was closed as Lost in Partner Center.";
    case "Declined": return "The referral was declined in Partner Center.";
    case "Expired": return "Partner Center closed the referral as Expired: nobody accepted or declined it within 14 days.";
    default: return `The referral is ${pair(referral)} in Partner Center.`;
  }
}

/**
 * Decides one sync's lifecycle move.
 * `previous` is the referral's state the relay saw at the last sync (the link): a referral that was
 * already closed then, beside a record that is open now, means the record was reopened (never a reason
 * to close it again, nor to reopen the referral).
 */
export function decideLifecycle(record: RecordState, referral: ReferralState, previous: ReferralState | null): LifecycleDecision {
  const closedBefore = previous !== null && closed(previous);
  if (record.type === "opportunity") {
    if (record.state === "open") {
      if (!closed(referral)) return { kind: "none" };
      if (closedBefore) return { kind: "closedInPartnerCenter", why: reopenedText(referral, "opportunity") };
      if (referral.substatus === "Won") return { kind: "toDynamics", action: "win", why: partnerCenterClosure(referral) };
      if (referral.substatus === "Lost") return { kind: "toDynamics", action: "lose", why: partnerCenterClosure(referral) };
      // Declined or Expired on an opportunity: nothing in Dynamics 365 says "declined"; shown, not closed.
      return { kind: "closedInPartnerCenter", why: `${partnerCenterClosure(referral)} The opportunity stays open in Dynamics 365; close it when the deal ends.` };
    }
    const substatus: Substatus = record.state === "won" ? "Won" : "Lost";
    if (closed(referral)) return { kind: "none" }; // closed on both sides; a different outcome is reported, not fought over
    return { kind: "toPartnerCenter", status: "Closed", substatus, why: `The opportunity was closed as ${substatus} in Dynamics 365.` };
  }
  switch (record.state) {
    case "open":
      if (!closed(referral)) return { kind: "none" };
      if (closedBefore) return { kind: "closedInPartnerCenter", why: reopenedText(referral, "lead") };
      return { kind: "toDynamics", action: "disqualify", why: partnerCenterClosure(referral) };
    case "qualified":
      if (referral.status === "New") return { kind: "toPartnerCenter", status: "Active", substatus: "Accepted", why: "The lead was qualified in Dynamics 365: the referral is accepted." };
      return { kind: "none" };
    case "disqualified":
      if (referral.status === "New") return { kind: "toPartnerCenter", status: "Closed", substatus: "Declined", why: "The lead was disqualified in Dynamics 365: the referral is declined." };
      if (referral.status === "Active") return { kind: "toPartnerCenter", status: "Closed", substatus: "Lost", why: "The lead was disqualified in Dynamics 365 after the referral was accepted: the referral is closed as Lost." };
      return { kind: "none" };
  }
}

function reopenedText(referral: ReferralState, type: "opportunity" | "lead"): string {
  return `The referral is ${pair(referral)} in Partner Center, and a closed referral cannot be reopened. This ${type} is no longer synced with Partner Center; ` +
    `share a new deal to work with Microsoft again.`;
}

/** Why a synced lead cannot be qualified now (the referral can no longer be accepted), or null when it can. */
export function qualifyRefusal(referral: ReferralState | undefined, respondBy: string | null, now: Date): string | null {
  if (!referral) return "Partner Center no longer has this referral (it was withdrawn), so it cannot be accepted. Disqualify the lead instead.";
  if (referral.status === "Closed") {
    return referral.substatus === "Expired"
      ? `The referral expired${respondBy ? ` on ${respondBy.slice(0, 10)}` : ""} in Partner Center and can no longer be accepted. Disqualify the lead instead.`
      : `The referral is already ${pair(referral)} in Partner Center and can no longer be accepted. Disqualify the lead instead.`;
  }
  if (referral.status === "New" && respondBy && Date.parse(respondBy) <= now.getTime()) {
    return `The time to answer this referral ran out on ${respondBy.slice(0, 10)}; Partner Center is closing it as Expired. Disqualify the lead instead.`;
  }
  return null;
}

/** What a seller must fill in before a synced lead can be qualified (Partner Center needs both to accept). */
export function qualifyMissing(lead: { estimatedRevenue: number | null; estimatedCloseDate: string | null }): string | null {
  const missing = [lead.estimatedRevenue === null ? "Est. Revenue" : null, lead.estimatedCloseDate ? null : "Est. Close Date"].filter((m): m is string => m !== null);
  return missing.length ? `Partner Center needs ${missing.join(" and ")} to accept the referral: fill ${missing.length > 1 ? "them" : "it"} in before you qualify the lead.` : null;
}

/** The Partner Center statusReason for the seller's decision: the reason's label and their note. */
export function statusReasonText(reason: string | null, note: string | null): string | null {
  const parts = [reason?.trim(), note?.trim()].filter((p): p is string => !!p);
  return parts.length ? parts.join(": ").slice(0, 1000) : null;
}

/** lead.statecode and opportunity.statecode values the lifecycle moves between (every Dynamics 365 Sales environment). */
export const LeadStateCode = { Open: 0, Qualified: 1, Disqualified: 2 } as const;
export const OpportunityStateCode = { Open: 0, Won: 1, Lost: 2 } as const;

/**
 * lead.statuscode of a disqualified lead (statecode Disqualified) in a standard environment, and the words
 * Partner Center's statusReason gets for each. The card's Decline dialog and the relay read them here.
 */
export const LeadDisqualifiedStatus = { Lost: 4, CannotContact: 5, NoLongerInterested: 6, Canceled: 7 } as const;
export const LEAD_DISQUALIFY_REASONS: Readonly<Record<number, string>> = {
  [LeadDisqualifiedStatus.Lost]: "Lost", [LeadDisqualifiedStatus.CannotContact]: "Cannot contact",
  [LeadDisqualifiedStatus.NoLongerInterested]: "No longer interested", [LeadDisqualifiedStatus.Canceled]: "Canceled",
};
/** opportunity.statuscode when closing: Won 3 (statecode Won); Canceled 4 / Out-Sold 5 (statecode Lost). */
export const OpportunityStatus = { Won: 3, Canceled: 4, OutSold: 5 } as const;
/** opportunity.statuscode of a lost opportunity, in Partner Center's words. */
export const OPPORTUNITY_LOSS_REASONS: Readonly<Record<number, string>> = { [OpportunityStatus.Canceled]: "Canceled", [OpportunityStatus.OutSold]: "Out-sold" };

/** How Partner Center closed the referral, as the status reason the relay picks for the record it closes. */
export type ClosingOutcome = "won" | "lost" | "declined" | "expired";

/** The status reasons the relay uses when it closes a record on Partner Center's behalf (the admin may name others). */
export interface ClosingStatuses {
  opportunity: { won: number; lost: number };
  lead: { declined: number; lost: number; expired: number };
}

/** Today's choices: won 3, lost → Canceled 4; a lead: Declined → No longer interested, Lost → Lost, Expired (and the rest) → Canceled. */
export const STANDARD_CLOSING_STATUSES: ClosingStatuses = {
  opportunity: { won: OpportunityStatus.Won, lost: OpportunityStatus.Canceled },
  lead: { declined: LeadDisqualifiedStatus.NoLongerInterested, lost: LeadDisqualifiedStatus.Lost, expired: LeadDisqualifiedStatus.Canceled },
};

/** The statuscode a lead gets when its referral closed in Partner Center with this substatus. */
export function leadDisqualifyStatus(substatus: Substatus, statuses: ClosingStatuses["lead"] = STANDARD_CLOSING_STATUSES.lead): number {
  if (substatus === "Declined") return statuses.declined;
  if (substatus === "Lost") return statuses.lost;
  return statuses.expired; // Expired, and anything else Partner Center closed
}

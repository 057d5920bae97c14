// A referral Microsoft sends waits for the partner's answer until its Respond by date; then Partner
// Center closes it as Expired (14 days after it was sent). The card and the lead form both say how
// much time is left, with these rules, so they never disagree. Pure: no I/O, no clock of its own.
import { ReferralStatus } from "./generated/schema.ts";

const DAY_MS = 86_400_000;

/** Fewer than this many days before Respond by, the lead form warns the seller. */
export const RESPOND_BY_WARNING_DAYS = 3;

/** How much time is left to answer, in whole calendar days of the user's time zone. */
export type TimeLeft = { kind: "expired" } | { kind: "today" } | { kind: "days"; days: number };

/** What the lead form shows about Respond by: nothing, a reminder (under 3 days), or that it passed. */
export type RespondByNotice = "none" | "soon" | "passed";

/** The lead's columns these rules read (values as the form or the card hold them). */
export interface ReferralLead {
  syncWithPartnerCenter: boolean | null;
  referralStatus: number | null;
}

/** A synced lead whose referral still waits for the partner's answer: Sync = Yes and Referral status New. */
export function isAwaitingResponse(lead: ReferralLead): boolean {
  return lead.syncWithPartnerCenter === true && lead.referralStatus === ReferralStatus.New;
}

/** Day number of a moment in a time zone `offsetMinutes` ahead of UTC (Dataverse's getTimeZoneOffsetMinutes). */
const dayNumber = (date: Date, offsetMinutes: number): number => Math.floor((date.getTime() + offsetMinutes * 60_000) / DAY_MS);

/**
 * Time left until Respond by. Passed (or now) is expired; later on the same calendar day is today;
 * otherwise the number of calendar days until that day ("tomorrow" is 1 day left).
 */
export function timeLeft(respondBy: Date, now: Date, offsetMinutes = 0): TimeLeft {
  if (respondBy.getTime() <= now.getTime()) return { kind: "expired" };
  const days = dayNumber(respondBy, offsetMinutes) - dayNumber(now, offsetMinutes);
  return days <= 0 ? { kind: "today" } : { kind: "days", days };
}

/** The reminder starts when fewer than RESPOND_BY_WARNING_DAYS (in hours, not calendar days) remain. */
export function respondByNotice(respondBy: Date | null, now: Date): RespondByNotice {
  if (!respondBy || Number.isNaN(respondBy.getTime())) return "none";
  const left = respondBy.getTime() - now.getTime();
  if (left <= 0) return "passed";
  return left < RESPOND_BY_WARNING_DAYS * DAY_MS ? "soon" : "none";
}

// Status and substatus rules (docs §7.1): valid pairs, allowed moves, Closed is terminal.
import { invalid } from "./errors.ts";
import type { ReferralStatus, ReferralSubstatus } from "./schema.ts";

export const SUBSTATUSES: Record<"New" | "Active" | "Closed", readonly ReferralSubstatus[]> = {
  New: ["Pending", "Received"],
  Active: ["Accepted"],
  Closed: ["Won", "Lost", "Declined", "Expired"],
};

export const MOVES: Record<"New" | "Active" | "Closed", readonly ReferralStatus[]> = {
  New: ["New", "Active", "Closed"],
  Active: ["Active", "Closed"],
  Closed: ["Closed"],
};

export type Actor = "partner" | "microsoft" | "system";

export interface StatusPair {
  status: string;
  substatus: string;
}

/** Throws 400 `invalidRequest` unless `to` is a valid pair reachable from `from` for this actor. */
export function checkTransition(from: StatusPair, to: StatusPair, actor: Actor): void {
  const same = from.status === to.status && from.substatus === to.substatus;
  if (same) return;
  if (from.status === "Closed") throw invalid(`the referral is ${from.status}/${from.substatus}; closed referrals accept no further status changes`, "status");
  const allowed = SUBSTATUSES[to.status as keyof typeof SUBSTATUSES] as readonly string[] | undefined;
  if (!allowed) throw invalid(`status '${to.status}' cannot be set`, "status");
  if (!allowed.includes(to.substatus)) throw invalid(`substatus '${to.substatus}' is not valid with status '${to.status}' (expected ${allowed.join(", ")})`, "substatus");
  const moves = MOVES[from.status as keyof typeof MOVES] as readonly string[] | undefined;
  if (!moves?.includes(to.status)) throw invalid(`status cannot move from '${from.status}' to '${to.status}'`, "status");
  if (actor === "partner" && to.substatus === "Expired") throw invalid("Expired is set by Partner Center when a referral is not answered in time", "substatus");
}

// Turns the Last sync error the relay wrote into what the seller needs: what went wrong in plain words
// and what to do about it. Readiness problems are recognised in either language (the relay writes
// Core/messages.ts texts), so the card can show them in the seller's own language.
import type { ReadinessProblem } from "../../../Core/readiness.ts";
import { READINESS_PROBLEMS } from "../../../Core/messages.ts";

export type SyncErrorKind = "readiness" | "auth" | "busy" | "conflict" | "notFound" | "unavailable" | "rejected" | "other";

export interface SyncErrorExplanation {
  kind: SyncErrorKind;
  /** Readiness problems named in the error, in checklist order (kind "readiness" only). */
  problems: ReadinessProblem[];
  /** The relay's own words, first lines only, for the seller to pass on. */
  detail: string;
}

const RULES: Array<[SyncErrorKind, RegExp]> = [
  ["auth", /\b(401|403)\b|unauthori[sz]ed|forbidden|invalid_grant|AADSTS\d+|token (has )?expired|interaction_required|consent/i],
  ["busy", /\b429\b|too many requests|throttl|rate.?limit/i],
  ["conflict", /\b(409|412)\b|precondition failed|conflict|etag/i],
  ["notFound", /\b404\b|not found|does not exist/i],
  ["unavailable", /\b(500|502|503|504)\b|time(d)? ?out|ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|ENOTFOUND|unavailable|service error/i],
  ["rejected", /\b(400|422)\b|bad request|validation|invalid/i],
];

const PROBLEMS = Object.keys(READINESS_PROBLEMS) as ReadinessProblem[];

function namedProblems(text: string): ReadinessProblem[] {
  const lower = text.toLowerCase();
  return PROBLEMS.filter((problem) => {
    const texts = READINESS_PROBLEMS[problem];
    return new RegExp(`\\b${problem}\\b`).test(text) || lower.includes(texts[1033].toLowerCase()) || lower.includes(texts[1043].toLowerCase());
  });
}

/** The first few lines of the error, trimmed to a length a card can show. */
export function shortDetail(text: string, maxLength = 300): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" ");
  return lines.length > maxLength ? `${lines.slice(0, maxLength - 1)}…` : lines;
}

export function explainSyncError(text: string | null | undefined): SyncErrorExplanation | null {
  const error = (text ?? "").trim();
  if (!error) return null;
  const problems = namedProblems(error);
  if (problems.length > 0) return { kind: "readiness", problems, detail: shortDetail(error) };
  const kind = RULES.find(([, pattern]) => pattern.test(error))?.[0] ?? "other";
  return { kind, problems: [], detail: shortDetail(error) };
}

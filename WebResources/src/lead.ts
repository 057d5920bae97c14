// The lead form: a lead comes from a Partner Center referral (inbound), so only what applies to it:
// the relay's columns are read-only, a failed sync is explained, and while the referral waits for the
// seller's answer (Sync = Yes, Referral status New) Est. Revenue and Est. Close Date are required
// (Partner Center needs both to accept, so a qualify without them is refused) and Respond by is
// watched: a reminder under 3 days, a warning once it passed. No readiness check: the seller answers
// the referral by qualifying or disqualifying the lead.
import { Lead } from "../../Core/generated/schema.ts";
import type { Language } from "../../Core/messages.ts";
import { isAwaitingResponse, respondByNotice } from "../../Core/respondBy.ts";
import { LEAD_READ_ONLY, NotificationId, Standard } from "./names.ts";
import { lockColumns } from "./opportunity.ts";
import { showLastSyncFailure } from "./syncFailure.ts";
import { say } from "./texts.ts";
import { attributeOf, notify, userLanguage, type FormContext } from "./xrm.ts";

/** The columns that become required while the referral waits for an answer. */
const REQUIRED_TO_ACCEPT: readonly string[] = [Standard.lead.estimatedRevenue, Standard.lead.estimatedCloseDate];

/** Respond by as the seller reads it: date and time, in their language (and the browser's time zone). */
export function formatRespondBy(respondBy: Date, language: Language, timeZone?: string): string {
  return new Intl.DateTimeFormat(language === 1043 ? "nl-NL" : "en-US", { dateStyle: "medium", timeStyle: "short", ...(timeZone ? { timeZone } : {}) }).format(respondBy);
}

/** The form notification about Respond by, or null when there is nothing to say. */
export function respondByNotification(
  lead: { syncWithPartnerCenter: boolean | null; referralStatus: number | null; respondBy: Date | null },
  now: Date,
  language: Language,
  timeZone?: string,
): { level: "INFO" | "WARNING"; message: string } | null {
  if (!isAwaitingResponse(lead) || !lead.respondBy) return null;
  const notice = respondByNotice(lead.respondBy, now);
  if (notice === "none") return null;
  const date = formatRespondBy(lead.respondBy, language, timeZone);
  return notice === "soon" ? { level: "INFO", message: say("respondBySoon", language, date) } : { level: "WARNING", message: say("respondByPassed", language, date) };
}

/** Each column's requirement level as the form had it before the library changed it. */
const original = new Map<string, Xrm.Attributes.RequirementLevel>();

function readLead(form: FormContext): { syncWithPartnerCenter: boolean | null; referralStatus: number | null; respondBy: Date | null } {
  const respondBy = attributeOf<Xrm.Attributes.DateAttribute>(form, Lead.columns.respondBy)?.getValue() ?? null;
  return {
    syncWithPartnerCenter: attributeOf<Xrm.Attributes.BooleanAttribute>(form, Lead.columns.syncWithPartnerCenter)?.getValue() ?? null,
    referralStatus: attributeOf<Xrm.Attributes.OptionSetAttribute>(form, Lead.columns.referralStatus)?.getValue() ?? null,
    respondBy: respondBy instanceof Date && !Number.isNaN(respondBy.getTime()) ? respondBy : null,
  };
}

/** Requirement levels and the Respond by notification for the lead as the form holds it now. */
export function applyReferralRules(form: FormContext, now: Date = new Date()): void {
  const lead = readLead(form);
  const awaiting = isAwaitingResponse(lead);
  for (const column of REQUIRED_TO_ACCEPT) {
    const attribute = attributeOf(form, column);
    if (!attribute) continue;
    if (!original.has(column)) original.set(column, attribute.getRequiredLevel());
    const level = awaiting ? "required" : original.get(column) ?? "none";
    if (attribute.getRequiredLevel() !== level) attribute.setRequiredLevel(level);
  }
  const notification = respondByNotification(lead, now, userLanguage());
  // One id for both messages: the warning replaces the reminder, and either goes once answered.
  notify(form, NotificationId.respondBy, notification?.level ?? "INFO", notification?.message ?? null);
}

function onLeadDataLoad(executionContext: Xrm.Events.EventContext): void {
  const form = executionContext.getFormContext();
  showLastSyncFailure(form);
  applyReferralRules(form);
}

/** Lead form OnLoad. */
export function onLoad(executionContext: Xrm.Events.EventContext): void {
  const form = executionContext.getFormContext();
  original.clear();
  lockColumns(form, LEAD_READ_ONLY);
  showLastSyncFailure(form);
  applyReferralRules(form);
  form.data.removeOnLoad(onLeadDataLoad);
  form.data.addOnLoad(onLeadDataLoad);
}

// What Sync = Yes asks of the seller, shown while they work rather than only when they save:
// - the deal's own columns that the readiness rules need become required (setRequiredLevel), where
//   the form has them: account, deal value, currency, close date; the contact when help is requested;
// - what is not a column on this form (the Microsoft Solutions subgrid, the account's country, the
//   contact's e-mail, the currency's ISO code, or a needed column the form leaves out) gets a form
//   notification each, in the user's language, cleared as soon as it is fixed or Sync is turned off.
import { READINESS_PROBLEMS } from "../../Core/messages.ts";
import type { ReadinessProblem } from "../../Core/readiness.ts";
import { NotificationId, Standard } from "./names.ts";
import { evaluate, helpRequested, syncIsOn } from "./facts.ts";
import { loadedSettings } from "./settings.ts";
import { say } from "./texts.ts";
import { attributeOf, notify, userLanguage, type FormContext } from "./xrm.ts";

/** Each column's requirement level as the form had it before the library changed it. */
const original = new Map<string, Xrm.Attributes.RequirementLevel>();
/** The needed-item notifications on the form now, by id: unchanged ones are left alone (no flicker). */
const shown = new Map<string, string>();

/** A new form load: nothing changed by the library yet. */
export function forgetRequirements(): void {
  original.clear();
  shown.clear();
}

function setNeeded(form: FormContext, column: string, needed: boolean): void {
  const attribute = attributeOf(form, column);
  if (!attribute) return;
  if (!original.has(column)) original.set(column, attribute.getRequiredLevel());
  const level = needed ? "required" : original.get(column) ?? "none";
  if (attribute.getRequiredLevel() !== level) attribute.setRequiredLevel(level);
}

export function applyRequirementLevels(form: FormContext): void {
  const sync = syncIsOn(form);
  const o = Standard.opportunity;
  setNeeded(form, o.account, sync);
  setNeeded(form, o.contact, sync && helpRequested(form));
  setNeeded(form, o.currency, sync);
  setNeeded(form, o.closeDate, sync);
  // Known only once the settings are loaded; applied again then.
  const dealValueField = loadedSettings()?.dealValueField;
  if (dealValueField) setNeeded(form, dealValueField, sync);
}

/** The column on this form that fixes the problem, or null when the fix is elsewhere. */
function columnFor(problem: ReadinessProblem): string | null {
  const o = Standard.opportunity;
  switch (problem) {
    case "noAccount": return o.account;
    case "noContact": return o.contact;
    case "noDealValue": case "dealValueNotPositive": return loadedSettings()?.dealValueField ?? null;
    case "noCurrency": return o.currency;
    case "noCloseDate": return o.closeDate;
    default: return null;
  }
}

const ALL_PROBLEMS = Object.keys(READINESS_PROBLEMS) as ReadinessProblem[];

/** Shows one notification per needed item that no column on this form can take; clears the others. */
export function showNeededItems(form: FormContext): void {
  const language = userLanguage();
  const needed = new Set<ReadinessProblem>();
  if (syncIsOn(form)) {
    const { problems, deferred } = evaluate(form);
    for (const problem of [...problems, ...deferred]) {
      const column = columnFor(problem);
      if (column === null || !attributeOf(form, column)) needed.add(problem);
    }
  }
  for (const problem of ALL_PROBLEMS) {
    const id = NotificationId.neededPrefix + problem;
    const message = needed.has(problem) ? say("needed", language, READINESS_PROBLEMS[problem][language]) : null;
    if ((shown.get(id) ?? null) === message) continue;
    notify(form, id, "WARNING", message);
    if (message === null) shown.delete(id);
    else shown.set(id, message);
  }
}

/** Requirement levels and needed-item notifications, after anything they depend on changed. */
export function refreshRequirements(form: FormContext): void {
  applyRequirementLevels(form);
  showNeededItems(form);
}

// The opportunity form's event handlers (registered in the form XML: see WebResources/solution-fragments.md).
//
// Why the save check is synchronous: onSave cannot wait for a request, so everything the readiness
// rules need that the form does not hold (settings, solution count, the account's country, the
// contact's e-mail, the currency's ISO code) is read ahead at onLoad and kept fresh: after a change of
// the account, contact or currency lookup, after the Microsoft Solutions subgrid reloads (a solution
// added or removed), and after every save or refresh (data onLoad). If something is not loaded yet at
// the moment of the save, its check is skipped and the save goes through: the server-side rules step
// refuses it if it is still not ready. Turning sync off always saves.
import { Opportunity, MicrosoftSolution } from "../../Core/generated/schema.ts";
import { readinessSummary } from "../../Core/messages.ts";
import { evaluate, forgetFacts, preload, syncIsOn, type FactSource } from "./facts.ts";
import { NotificationId, OPPORTUNITY_READ_ONLY, SAVE_MODE_AUTOSAVE, Standard } from "./names.ts";
import { forgetRequirements, refreshRequirements } from "./requirements.ts";
import { showLastSyncFailure } from "./syncFailure.ts";
import { say } from "./texts.ts";
import { attributeOf, controlsOf, isOpportunity, notify, settle, userLanguage, type FormContext } from "./xrm.ts";

const c = Opportunity.columns;
const ALL_SOURCES: readonly FactSource[] = ["deal", "solutions", "account", "contact", "currency"];

/** Whether Referral Visibility is on for good: saved as Yes, or confirmed by the seller on this form. */
let visibilityCommitted = false;

/** Disables every control of each column (body, header, business process flow). */
export function lockColumns(form: FormContext, columns: readonly string[]): void {
  for (const column of columns) for (const control of controlsOf(form, column)) control.setDisabled(true);
}

function hideObsoleteProducts(form: FormContext): void {
  for (const control of controlsOf(form, c.productsObsolete)) control.setVisible(false);
}

function lockVisibilityIfOn(form: FormContext): void {
  if (attributeOf<Xrm.Attributes.BooleanAttribute>(form, c.referralVisibility)?.getValue() !== true) return;
  visibilityCommitted = true;
  lockColumns(form, [c.referralVisibility]);
}

/** The Microsoft Solutions subgrid(s) on this form, found by the table they list. */
function solutionGrids(form: FormContext): Xrm.Controls.GridControl[] {
  return form.ui.controls.get((control) =>
    control.getControlType() === "subgrid" && (control as Xrm.Controls.GridControl).getEntityName() === MicrosoftSolution.logicalName,
  ) as Xrm.Controls.GridControl[];
}

/** A lookup the deal facts depend on changed: read the new record's facts. */
async function onDealLookupChange(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  const name = (executionContext.getEventSource() as Xrm.Attributes.Attribute).getName();
  const o = Standard.opportunity;
  const source: FactSource = name === o.account ? "account" : name === o.contact ? "contact" : "currency";
  refreshRequirements(form);
  await preload(form, [source], true);
  refreshRequirements(form);
}

/** The Microsoft Solutions subgrid (re)loaded: a solution may have been added or removed. */
async function onSolutionsGridLoad(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  await preload(form, ["solutions"], true);
  refreshRequirements(form);
}

/** After a save or a refresh: the saved record may differ from what was read (and a new record has an id now). */
async function onDataLoad(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  showLastSyncFailure(form);
  lockVisibilityIfOn(form);
  await preload(form, ALL_SOURCES, true);
  refreshRequirements(form);
}

/** Registers the handlers that keep the facts fresh; safe to run again (remove, then add). */
function watch(form: FormContext): void {
  const o = Standard.opportunity;
  for (const name of [o.account, o.contact, o.currency]) {
    const attribute = attributeOf(form, name);
    attribute?.removeOnChange(onDealLookupChange);
    attribute?.addOnChange(onDealLookupChange);
  }
  for (const grid of solutionGrids(form)) {
    // @types/xrm types GridControl.removeOnLoad's handler without the context it is called with.
    grid.removeOnLoad(onSolutionsGridLoad as unknown as () => void);
    grid.addOnLoad(onSolutionsGridLoad);
  }
  form.data.removeOnLoad(onDataLoad);
  form.data.addOnLoad(onDataLoad);
}

/** Form OnLoad. Resolves once the facts are read ahead; never rejects. */
export async function onLoad(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  forgetFacts();
  forgetRequirements();
  visibilityCommitted = false;
  lockColumns(form, OPPORTUNITY_READ_ONLY);
  hideObsoleteProducts(form);
  showLastSyncFailure(form);
  lockVisibilityIfOn(form);
  watch(form);
  refreshRequirements(form);
  await preload(form, ALL_SOURCES, true);
  refreshRequirements(form);
}

/**
 * Form OnSave: with Sync = Yes, a deal the readiness rules refuse is not saved, with one message
 * naming every missing item. Turning sync off always saves.
 */
export function onSave(executionContext: Xrm.Events.SaveEventContext): void {
  const form = executionContext.getFormContext();
  if (!isOpportunity(form)) return;
  const { problems } = syncIsOn(form) ? evaluate(form) : { problems: [] };
  if (problems.length === 0) {
    notify(form, NotificationId.saveBlocked, "ERROR", null);
    return;
  }
  const args = executionContext.getEventArgs();
  args.preventDefault();
  const language = userLanguage();
  const summary = readinessSummary(problems, language);
  notify(form, NotificationId.saveBlocked, "ERROR", summary.replace(/\s*\n\s*/g, " "));
  // A dialog for a save the seller asked for; auto-save only updates the notification.
  if (args.getSaveMode() !== SAVE_MODE_AUTOSAVE) {
    void Xrm.Navigation.openAlertDialog({ title: say("saveBlockedTitle", language), text: `${summary}\n\n${say("saveBlockedHint", language)}` });
  }
}

/** OnChange of How can Microsoft help?: the contact is required when help is requested. */
export async function onHelpRequestedChange(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  refreshRequirements(form);
  await preload(form, ["contact"], false);
  refreshRequirements(form);
}

/** OnChange of Sync with Partner Center: requirements follow it, and Sync now's enable rule too. */
export function onSyncChange(executionContext: Xrm.Events.EventContext): void {
  const form = executionContext.getFormContext();
  refreshRequirements(form);
  if (!syncIsOn(form)) notify(form, NotificationId.saveBlocked, "ERROR", null);
  form.ui.refreshRibbon();
}

/**
 * OnChange of Referral Visibility: turning it on asks for confirmation (it cannot be undone); turning it
 * off once it is on is reverted, with a notification saying why.
 */
export async function onReferralVisibilityChange(executionContext: Xrm.Events.EventContext): Promise<void> {
  const form = executionContext.getFormContext();
  const attribute = attributeOf<Xrm.Attributes.BooleanAttribute>(form, c.referralVisibility);
  if (!attribute) return;
  const language = userLanguage();
  if (attribute.getValue() !== true) {
    if (!visibilityCommitted) return;
    attribute.setValue(true); // setValue does not raise OnChange again
    notify(form, NotificationId.visibility, "WARNING", say("visibilityLocked", language));
    return;
  }
  if (visibilityCommitted) return;
  let confirmed = false;
  try {
    const answer = await settle(Xrm.Navigation.openConfirmDialog({
      title: say("visibilityConfirmTitle", language),
      text: say("visibilityConfirmBody", language),
      confirmButtonLabel: say("visibilityConfirmOk", language),
      cancelButtonLabel: say("cancel", language),
    }));
    confirmed = answer.confirmed;
  } catch {
    confirmed = false;
  }
  if (confirmed) {
    visibilityCommitted = true;
    notify(form, NotificationId.visibility, "WARNING", null);
  } else {
    attribute.setValue(false);
  }
}

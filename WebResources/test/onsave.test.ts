// Opportunity OnSave: with Sync = Yes a deal the readiness rules refuse is not saved, with one message
// naming every missing item in the user's language; turning sync off always saves.
import { jest } from "@jest/globals";
import { HowCanMicrosoftHelp, Opportunity } from "../../Core/generated/schema.ts";
import { READINESS_PROBLEMS, readinessSummary } from "../../Core/messages.ts";
import type { ReadinessProblem } from "../../Core/readiness.ts";
import { NotificationId, SAVE_MODE_AUTOSAVE, Standard } from "../src/names.ts";
import { onLoad, onSave, onSyncChange } from "../src/opportunity.ts";
import { COUNTRY, DEAL_VALUE, defaultData, flush, Ids, openForm, type Data, type FormSetup, type TestForm } from "./fakes.ts";

const c = Opportunity.columns;
const o = Standard.opportunity;


async function loaded(setup: FormSetup = {}, change: (data: Data) => void = () => undefined): Promise<TestForm> {
  const data = defaultData();
  change(data);
  const t = openForm(setup, data);
  await onLoad(t.context());
  return t;
}

/** Saves; `dialog` is the alert the seller saw, if any. */
function save(t: TestForm, saveMode?: number): { prevented: boolean; dialog: Xrm.Navigation.AlertStrings | undefined } {
  const context = t.saveContext(saveMode);
  const alert = jest.spyOn(Xrm.Navigation, "openAlertDialog");
  try {
    onSave(context);
    return { prevented: context.getEventArgs().isDefaultPrevented(), dialog: alert.mock.calls[0]?.[0] };
  } finally {
    alert.mockRestore();
  }
}

describe("opportunity onSave", () => {
  test("a ready deal saves, with nothing to say", async () => {
    const t = await loaded();
    expect(save(t).prevented).toBe(false);
    expect(t.notifications()).toEqual([]);
  });

  const cases: Array<[ReadinessProblem, FormSetup, (data: Data) => void]> = [
    ["noSolution", {}, (data) => { data.solutions[Ids.opportunity] = 0; }],
    ["noAccount", { accountId: null }, () => undefined],
    ["noCountry", { accountId: Ids.otherAccount }, () => undefined],
    ["countryNotIso", {}, (data) => { data.accounts[Ids.account]![COUNTRY] = "Netherlands"; }],
    ["noContact", { contactId: null }, () => undefined],
    ["contactWithoutEmail", { contactId: Ids.otherContact }, () => undefined],
    ["noDealValue", { dealValue: null }, () => undefined],
    ["dealValueNotPositive", { dealValue: 0 }, () => undefined],
    ["noCurrency", { currencyId: null }, () => undefined],
    ["currencyNotIso", { currencyId: Ids.otherCurrency }, () => undefined],
    ["noCloseDate", { closeDate: null }, () => undefined],
  ];

  test.each(cases)("%s blocks the save and says so", async (problem, setup, change) => {
    const t = await loaded(setup, change);
    const { prevented, dialog } = save(t);
    expect(prevented).toBe(true);
    const expected = readinessSummary([problem], 1033);
    expect(t.notification(NotificationId.saveBlocked)).toEqual({ level: "ERROR", uniqueId: NotificationId.saveBlocked, message: expected.replace(/\s*\n\s*/g, " ") });
    expect(dialog?.text).toContain(expected);
    expect(dialog?.text).toContain("turn off Sync with Partner Center to save without sharing");
    expect(dialog?.title).toBe("Not saved: Sync with Partner Center is on");
  });

  test("one message names every missing item, in checklist order", async () => {
    const t = await loaded({ accountId: null, dealValue: null, closeDate: null }, (data) => { data.solutions[Ids.opportunity] = 0; });
    expect(save(t).prevented).toBe(true);
    const message = t.notification(NotificationId.saveBlocked)?.message ?? "";
    const order = (["noSolution", "noAccount", "noDealValue", "noCloseDate"] as const).map((p) => message.indexOf(READINESS_PROBLEMS[p][1033]));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test("the message is in the user's language (nl)", async () => {
    const t = await loaded({ language: 1043, closeDate: null });
    const { prevented, dialog } = save(t);
    expect(prevented).toBe(true);
    expect(t.notification(NotificationId.saveBlocked)?.message).toBe(readinessSummary(["noCloseDate"], 1043).replace(/\s*\n\s*/g, " "));
    expect(dialog?.title).toBe("Niet opgeslagen: Synchroniseren met Partner Center staat aan");
    expect(dialog?.text).toContain("zet Synchroniseren met Partner Center uit om op te slaan zonder te delen");
  });

  test("the contact is needed only when help is requested", async () => {
    const t = await loaded({ contactId: null, help: HowCanMicrosoftHelp.NoHelpNeeded });
    expect(save(t).prevented).toBe(false);
  });

  test("turning sync off always saves, however incomplete the deal", async () => {
    const t = await loaded({ accountId: null, contactId: null, dealValue: null, currencyId: null, closeDate: null }, (data) => { data.solutions[Ids.opportunity] = 0; });
    expect(save(t).prevented).toBe(true);
    t.attribute<Xrm.Attributes.BooleanAttribute>(c.syncWithPartnerCenter).setValue(false);
    onSyncChange(t.context());
    expect(t.notification(NotificationId.saveBlocked)).toBeUndefined();
    expect(save(t).prevented).toBe(false);
  });

  test("an auto-save is blocked too, but without a dialog", async () => {
    const t = await loaded({ closeDate: null });
    const { prevented, dialog } = save(t, SAVE_MODE_AUTOSAVE);
    expect(prevented).toBe(true);
    expect(dialog).toBeUndefined();
    expect(t.notification(NotificationId.saveBlocked)).toBeDefined();
  });

  test("once fixed, the save goes through and the message goes", async () => {
    const t = await loaded({ closeDate: null });
    expect(save(t).prevented).toBe(true);
    t.attribute<Xrm.Attributes.DateAttribute>(o.closeDate).setValue(new Date("2027-03-31T00:00:00Z"));
    expect(save(t).prevented).toBe(false);
    expect(t.notification(NotificationId.saveBlocked)).toBeUndefined();
  });

  test("what is not loaded yet is left to the server-side rules; what the form shows still counts", async () => {
    const data = defaultData();
    data.solutions[Ids.opportunity] = 0;
    const t = openForm({}, data);
    t.webApi.hold();
    const loading = onLoad(t.context());
    // Nothing read yet: not even the settings, so the deal value column is not known either.
    expect(save(t).prevented).toBe(false);
    t.attribute<Xrm.Attributes.DateAttribute>(o.closeDate).setValue(null);
    expect(save(t).prevented).toBe(true);
    expect(t.notification(NotificationId.saveBlocked)?.message).toBe(readinessSummary(["noCloseDate"], 1033).replace(/\s*\n\s*/g, " "));
    t.webApi.release();
    await loading;
    await flush();
    expect(save(t).prevented).toBe(true);
    expect(t.notification(NotificationId.saveBlocked)?.message).toContain(READINESS_PROBLEMS.noSolution[1033]);
  });

  test("a new record is not refused for solutions it cannot have yet, and is told to add one after saving", async () => {
    const t = await loaded({ id: null });
    expect(save(t).prevented).toBe(false);
    expect(t.notification(NotificationId.neededPrefix + "noSolution")?.message).toContain(READINESS_PROBLEMS.noSolution[1033]);
    t.attribute<Xrm.Attributes.NumberAttribute>(DEAL_VALUE).setValue(null);
    expect(save(t).prevented).toBe(true);
    expect(t.notification(NotificationId.saveBlocked)?.message).not.toContain(READINESS_PROBLEMS.noSolution[1033]);
  });

  test("a new customer account is read when the lookup changes, and its country counts at the next save", async () => {
    const t = await loaded();
    const account = t.attribute<Xrm.Attributes.LookupAttribute>(o.account);
    account.setValue([{ id: `{${Ids.otherAccount}}`, entityType: Standard.account.logicalName, name: "Other" }]);
    (account as unknown as { fireOnChange(): void }).fireOnChange();
    await flush();
    expect(t.webApi.callsTo(Standard.account.logicalName).map((call) => call.id)).toEqual([Ids.otherAccount]);
    expect(save(t).prevented).toBe(true);
    expect(t.notification(NotificationId.saveBlocked)?.message).toContain(READINESS_PROBLEMS.noCountry[1033]);
    expect(t.notification(NotificationId.neededPrefix + "noCountry")).toBeDefined();

    account.setValue([{ id: `{${Ids.account}}`, entityType: Standard.account.logicalName, name: "Fabrikam" }]);
    (account as unknown as { fireOnChange(): void }).fireOnChange();
    await flush();
    expect(save(t).prevented).toBe(false);
    expect(t.notification(NotificationId.neededPrefix + "noCountry")).toBeUndefined();
  });

  test("a new contact and currency are read on change too", async () => {
    const t = await loaded();
    for (const [column, entity, id] of [[o.contact, Standard.contact.logicalName, Ids.otherContact], [o.currency, Standard.currency.logicalName, Ids.otherCurrency]] as const) {
      const lookup = t.attribute<Xrm.Attributes.LookupAttribute>(column);
      lookup.setValue([{ id, entityType: entity, name: entity }]);
      (lookup as unknown as { fireOnChange(): void }).fireOnChange();
    }
    await flush();
    expect(save(t).prevented).toBe(true);
    const message = t.notification(NotificationId.saveBlocked)?.message ?? "";
    expect(message).toContain(READINESS_PROBLEMS.contactWithoutEmail[1033]);
    expect(message).toContain(READINESS_PROBLEMS.currencyNotIso[1033]);
  });

  test("the solution count is read again when the Microsoft Solutions subgrid reloads", async () => {
    const data = defaultData();
    data.solutions[Ids.opportunity] = 0;
    const t = openForm({}, data);
    await onLoad(t.context());
    expect(save(t).prevented).toBe(true);
    data.solutions[Ids.opportunity] = 1; // the seller adds a solution in the subgrid
    const handlers = (t.grid as unknown as { onLoadHandlers: Array<(context: Xrm.Events.EventContext) => void> }).onLoadHandlers;
    expect(handlers).toHaveLength(1);
    handlers[0]!(t.context());
    await flush();
    expect(save(t).prevented).toBe(false);
    expect(t.notification(NotificationId.neededPrefix + "noSolution")).toBeUndefined();
  });

  test("loading the form twice registers its helpers once", async () => {
    const t = openForm();
    await onLoad(t.context());
    await onLoad(t.context());
    expect((t.grid as unknown as { onLoadHandlers: unknown[] }).onLoadHandlers).toHaveLength(1);
    expect((t.form.data as unknown as { loadEventHandlers: unknown[] }).loadEventHandlers).toHaveLength(1);
    expect((t.attribute(o.account) as unknown as { eventHandlers: unknown[] }).eventHandlers).toHaveLength(1);
  });

  test("the lead form has nothing to check on save", () => {
    const t = openForm({ entity: "lead" });
    const context = t.saveContext();
    const spy = jest.spyOn(context.getEventArgs(), "preventDefault");
    onSave(context);
    expect(spy).not.toHaveBeenCalled();
  });
});

// Opportunity OnChange: How can Microsoft help?, Sync with Partner Center and Referral Visibility.
import { jest } from "@jest/globals";
import { HowCanMicrosoftHelp, Opportunity } from "../../Core/generated/schema.ts";
import { READINESS_PROBLEMS } from "../../Core/messages.ts";
import { NotificationId, Standard } from "../src/names.ts";
import { onHelpRequestedChange, onLoad, onReferralVisibilityChange, onSyncChange } from "../src/opportunity.ts";
import { DEAL_VALUE, defaultData, Ids, openForm, type FormSetup, type TestForm } from "./fakes.ts";

const c = Opportunity.columns;
const o = Standard.opportunity;

async function loaded(setup: FormSetup = {}): Promise<TestForm> {
  const t = openForm(setup);
  await onLoad(t.context());
  return t;
}

describe("How can Microsoft help?", () => {
  test("asking for help makes the customer contact required; no help needed makes it optional again", async () => {
    const t = await loaded({ help: HowCanMicrosoftHelp.NoHelpNeeded, levels: { [o.contact]: "recommended" } });
    const help = t.attribute<Xrm.Attributes.OptionSetAttribute>(c.helpRequested);
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("recommended");
    help.setValue(HowCanMicrosoftHelp.CustomerTechnicalArchitecture);
    await onHelpRequestedChange(t.context(help));
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("required");
    help.setValue(HowCanMicrosoftHelp.NoHelpNeeded);
    await onHelpRequestedChange(t.context(help));
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("recommended");
    help.setValue(null);
    await onHelpRequestedChange(t.context(help));
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("recommended");
  });

  test("with Sync = No, help alone does not make the contact required", async () => {
    const t = await loaded({ sync: false, help: HowCanMicrosoftHelp.NoHelpNeeded });
    const help = t.attribute<Xrm.Attributes.OptionSetAttribute>(c.helpRequested);
    help.setValue(HowCanMicrosoftHelp.QuotesOrLicensing);
    await onHelpRequestedChange(t.context(help));
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("none");
  });

  test("a contact without e-mail becomes a needed item once help is requested", async () => {
    const t = await loaded({ help: HowCanMicrosoftHelp.NoHelpNeeded, contactId: Ids.otherContact });
    expect(t.notification(NotificationId.neededPrefix + "contactWithoutEmail")).toBeUndefined();
    const help = t.attribute<Xrm.Attributes.OptionSetAttribute>(c.helpRequested);
    help.setValue(HowCanMicrosoftHelp.GeneralOrOther);
    await onHelpRequestedChange(t.context(help));
    expect(t.notification(NotificationId.neededPrefix + "contactWithoutEmail")?.message).toContain(READINESS_PROBLEMS.contactWithoutEmail[1033]);
  });
});

describe("Sync with Partner Center", () => {
  test("turning it on sets the requirements and the needed items; turning it off takes them away", async () => {
    const data = defaultData();
    data.solutions[Ids.opportunity] = 0;
    const t = openForm({ sync: false }, data);
    await onLoad(t.context());
    const sync = t.attribute<Xrm.Attributes.BooleanAttribute>(c.syncWithPartnerCenter);
    for (const column of [o.account, o.contact, o.currency, o.closeDate, DEAL_VALUE]) expect(t.attribute(column).getRequiredLevel()).toBe("none");

    sync.setValue(true);
    onSyncChange(t.context(sync));
    for (const column of [o.account, o.contact, o.currency, o.closeDate, DEAL_VALUE]) expect(t.attribute(column).getRequiredLevel()).toBe("required");
    expect(t.notification(NotificationId.neededPrefix + "noSolution")?.level).toBe("WARNING");

    sync.setValue(false);
    onSyncChange(t.context(sync));
    for (const column of [o.account, o.contact, o.currency, o.closeDate, DEAL_VALUE]) expect(t.attribute(column).getRequiredLevel()).toBe("none");
    expect(t.notifications()).toEqual([]);
  });

  test("refreshes the command bar, so Sync now follows the column", async () => {
    const t = await loaded();
    const sync = t.attribute<Xrm.Attributes.BooleanAttribute>(c.syncWithPartnerCenter);
    onSyncChange(t.context(sync));
    expect(t.form.ui.refreshRibbon).toHaveBeenCalledTimes(1);
  });
});

describe("Referral Visibility", () => {
  type Confirm = (strings: Xrm.Navigation.ConfirmStrings) => Promise<Xrm.Navigation.ConfirmResult>;
  const answer = (confirmed: boolean) => jest.spyOn(Xrm.Navigation, "openConfirmDialog")
    .mockImplementation(((() => Promise.resolve({ confirmed })) as Confirm) as unknown as typeof Xrm.Navigation.openConfirmDialog);

  function visibilityOf(t: TestForm): Xrm.Attributes.BooleanAttribute {
    return t.attribute<Xrm.Attributes.BooleanAttribute>(c.referralVisibility);
  }

  test("turning it on asks for confirmation in the user's language, and stays on when confirmed", async () => {
    for (const [language, title, ok] of [[1033, "Show this referral to Microsoft sellers?", "Make visible"], [1043, "Deze verwijzing tonen aan verkopers van Microsoft?", "Zichtbaar maken"]] as const) {
      const t = await loaded({ language });
      const confirm = answer(true);
      const visibility = visibilityOf(t);
      visibility.setValue(true);
      await onReferralVisibilityChange(t.context(visibility));
      expect(confirm).toHaveBeenCalledTimes(1);
      const strings = confirm.mock.calls[0]![0];
      expect(strings.title).toBe(title);
      expect(strings.confirmButtonLabel).toBe(ok);
      expect(strings.text).toContain(language === 1033 ? "cannot be undone" : "niet ongedaan");
      expect(visibility.getValue()).toBe(true);
    }
  });

  test("cancelling turns it back off", async () => {
    const t = await loaded();
    answer(false);
    const visibility = visibilityOf(t);
    visibility.setValue(true);
    await onReferralVisibilityChange(t.context(visibility));
    expect(visibility.getValue()).toBe(false);
  });

  test("once confirmed it can never be turned off: the change is reverted with a notification", async () => {
    const t = await loaded();
    answer(true);
    const visibility = visibilityOf(t);
    visibility.setValue(true);
    await onReferralVisibilityChange(t.context(visibility));
    visibility.setValue(false);
    await onReferralVisibilityChange(t.context(visibility));
    expect(visibility.getValue()).toBe(true);
    expect(t.notification(NotificationId.visibility)?.level).toBe("WARNING");
    expect(t.notification(NotificationId.visibility)?.message).toContain("cannot be turned off");
  });

  test("saved as visible: locked at load, and turning it off is reverted (nl) without asking again", async () => {
    const t = await loaded({ visibility: true, language: 1043 });
    const disabled: boolean[] = [];
    visibilityOf(t).controls.forEach((control) => {
      disabled.push(control.getDisabled());
    });
    expect(disabled).toEqual([true]);
    const confirm = answer(true);
    const visibility = visibilityOf(t);
    visibility.setValue(false);
    await onReferralVisibilityChange(t.context(visibility));
    expect(visibility.getValue()).toBe(true);
    expect(t.notification(NotificationId.visibility)?.message).toContain("kan niet worden uitgezet");
    expect(confirm).not.toHaveBeenCalled();
  });

  test("a dialog that fails counts as not confirmed", async () => {
    const t = await loaded();
    jest.spyOn(Xrm.Navigation, "openConfirmDialog").mockImplementation((() => Promise.reject(new Error("closed"))) as unknown as typeof Xrm.Navigation.openConfirmDialog);
    const visibility = visibilityOf(t);
    visibility.setValue(true);
    await onReferralVisibilityChange(t.context(visibility));
    expect(visibility.getValue()).toBe(false);
  });
});

// Opportunity OnLoad: read-only columns, Products: Obsolete, the "last sync failed" notification,
// requirement levels, the needed-item notifications and reading ahead.
import { EnvironmentVariables, HowCanMicrosoftHelp, MicrosoftSolution, Opportunity, PartnerCenterSyncStatus } from "../../Core/generated/schema.ts";
import { READINESS_PROBLEMS } from "../../Core/messages.ts";
import { NotificationId, OPPORTUNITY_READ_ONLY, Standard } from "../src/names.ts";
import { onLoad } from "../src/opportunity.ts";
import { COUNTRY, DEAL_VALUE, defaultData, flush, Ids, openForm } from "./fakes.ts";

const c = Opportunity.columns;
const o = Standard.opportunity;

function controlsDisabled(form: Xrm.FormContext, name: string): boolean[] {
  const states: boolean[] = [];
  form.getAttribute(name)?.controls.forEach((control) => {
    states.push((control as Xrm.Controls.StandardControl).getDisabled());
  });
  return states;
}

describe("opportunity onLoad: the relay's columns", () => {
  test("locks every read-only column and leaves the seller's own columns editable", async () => {
    const t = openForm();
    await onLoad(t.context());
    for (const column of OPPORTUNITY_READ_ONLY) expect([column, controlsDisabled(t.form, column)]).toEqual([column, [true]]);
    for (const column of [c.syncWithPartnerCenter, c.helpRequested, c.referralVisibility, DEAL_VALUE]) {
      expect([column, controlsDisabled(t.form, column)]).toEqual([column, [false]]);
    }
  });

  test("hides Products: Obsolete when the form has it, and does not mind when it has not", async () => {
    const withColumn = openForm({ productsObsolete: true });
    await onLoad(withColumn.context());
    const visible: boolean[] = [];
    withColumn.attribute(c.productsObsolete).controls.forEach((control) => {
      visible.push(control.getVisible());
    });
    expect(visible).toEqual([false]);

    const without = openForm();
    await expect(onLoad(without.context())).resolves.toBeUndefined();
  });
});

describe("opportunity onLoad: the last sync failed", () => {
  test("names the reason from Last sync error and what to do (en)", async () => {
    const t = openForm({ syncStatus: PartnerCenterSyncStatus.Failed, lastSyncError: "HTTP 503 Service Unavailable from Partner Center" });
    await onLoad(t.context());
    const notification = t.notification(NotificationId.lastSyncFailed);
    expect(notification?.level).toBe("ERROR");
    expect(notification?.message).toContain("The last sync with Partner Center failed: Partner Center or Dataverse did not answer in time.");
    expect(notification?.message).toContain("HTTP 503 Service Unavailable from Partner Center");
    expect(notification?.message).toContain("What to do: Choose Sync now in a few minutes.");
  });

  test("says it in Dutch, with readiness problems in the user's language", async () => {
    const error = `${READINESS_PROBLEMS.noSolution[1033]}\n${READINESS_PROBLEMS.noCloseDate[1033]}`;
    const t = openForm({ language: 1043, syncStatus: PartnerCenterSyncStatus.Failed, lastSyncError: error });
    await onLoad(t.context());
    const message = t.notification(NotificationId.lastSyncFailed)?.message ?? "";
    expect(message).toContain("De laatste synchronisatie met Partner Center is mislukt:");
    expect(message).toContain(READINESS_PROBLEMS.noSolution[1043]);
    expect(message).toContain(READINESS_PROBLEMS.noCloseDate[1043]);
    expect(message).toContain("Wat u kunt doen: Los deze punten op, sla op en kies Nu synchroniseren.");
  });

  test("a failed status without an error still says what to do", async () => {
    const t = openForm({ syncStatus: PartnerCenterSyncStatus.Failed });
    await onLoad(t.context());
    expect(t.notification(NotificationId.lastSyncFailed)?.message).toContain("The relay recorded no details.");
  });

  test("no notification when the last sync succeeded, even with an old error in the column", async () => {
    const t = openForm({ syncStatus: PartnerCenterSyncStatus.Synced, lastSyncError: "HTTP 503" });
    await onLoad(t.context());
    expect(t.notification(NotificationId.lastSyncFailed)).toBeUndefined();
  });

  test("the notification goes once a save or refresh loads a successful status", async () => {
    const t = openForm({ syncStatus: PartnerCenterSyncStatus.Failed, lastSyncError: "HTTP 503" });
    await onLoad(t.context());
    t.attribute<Xrm.Attributes.OptionSetAttribute>(c.syncStatus).setValue(PartnerCenterSyncStatus.Synced);
    const dataLoad = (t.form.data as unknown as { loadEventHandlers: Array<(context: Xrm.Events.EventContext) => Promise<void>> }).loadEventHandlers;
    expect(dataLoad).toHaveLength(1);
    await dataLoad[0]!(t.context());
    expect(t.notification(NotificationId.lastSyncFailed)).toBeUndefined();
  });
});

describe("opportunity onLoad: requirement levels", () => {
  test("Sync = Yes makes the deal's columns required, the contact too when help is requested", async () => {
    const t = openForm();
    await onLoad(t.context());
    for (const column of [o.account, o.contact, o.currency, o.closeDate, DEAL_VALUE]) {
      expect([column, t.attribute(column).getRequiredLevel()]).toEqual([column, "required"]);
    }
  });

  test("the contact is not required when no help is needed", async () => {
    const t = openForm({ help: HowCanMicrosoftHelp.NoHelpNeeded });
    await onLoad(t.context());
    expect(t.attribute(o.contact).getRequiredLevel()).toBe("none");
    expect(t.attribute(o.account).getRequiredLevel()).toBe("required");
  });

  test("Sync = No keeps the form's own levels", async () => {
    const t = openForm({ sync: false, levels: { [o.closeDate]: "recommended" } });
    await onLoad(t.context());
    expect(t.attribute(o.closeDate).getRequiredLevel()).toBe("recommended");
    for (const column of [o.account, o.contact, o.currency, DEAL_VALUE]) expect(t.attribute(column).getRequiredLevel()).toBe("none");
  });

  test("the deal value column is the one the Deal value field variable names", async () => {
    const data = defaultData();
    data.variables[EnvironmentVariables.dealValueField.schemaName] = "budgetamount";
    const t = openForm({}, data);
    const { XrmMockGenerator } = await import("xrm-mock");
    XrmMockGenerator.Attribute.createNumber("budgetamount", 5000);
    await onLoad(t.context());
    expect(t.attribute("budgetamount").getRequiredLevel()).toBe("required");
    expect(t.attribute(DEAL_VALUE).getRequiredLevel()).toBe("none");
  });
});

describe("opportunity onLoad: what Partner Center needs that is not a column on this form", () => {
  test("no solution: a notification about the Microsoft Solutions subgrid (en and nl)", async () => {
    for (const language of [1033, 1043] as const) {
      const data = defaultData();
      data.solutions[Ids.opportunity] = 0;
      const t = openForm({ language }, data);
      await onLoad(t.context());
      const notification = t.notification(NotificationId.neededPrefix + "noSolution");
      expect(notification?.level).toBe("WARNING");
      expect(notification?.message).toContain(READINESS_PROBLEMS.noSolution[language]);
    }
  });

  test("the account's country: missing, or a name instead of a code", async () => {
    const data = defaultData();
    data.accounts[Ids.account]![COUNTRY] = "Netherlands";
    const t = openForm({}, data);
    await onLoad(t.context());
    expect(t.notification(NotificationId.neededPrefix + "countryNotIso")?.message).toContain(READINESS_PROBLEMS.countryNotIso[1033]);

    const other = openForm({ accountId: Ids.otherAccount });
    await onLoad(other.context());
    expect(other.notification(NotificationId.neededPrefix + "noCountry")?.message).toContain(READINESS_PROBLEMS.noCountry[1033]);
  });

  test("the contact's e-mail and the currency's ISO code live on other records", async () => {
    const t = openForm({ contactId: Ids.otherContact, currencyId: Ids.otherCurrency });
    await onLoad(t.context());
    expect(t.notification(NotificationId.neededPrefix + "contactWithoutEmail")).toBeDefined();
    expect(t.notification(NotificationId.neededPrefix + "currencyNotIso")).toBeDefined();
  });

  test("an empty column on the form gets its required level, not a notification", async () => {
    const t = openForm({ closeDate: null });
    await onLoad(t.context());
    expect(t.attribute(o.closeDate).getRequiredLevel()).toBe("required");
    expect(t.notification(NotificationId.neededPrefix + "noCloseDate")).toBeUndefined();
  });

  test("a needed column the form leaves out gets a notification (the saved deal value is empty)", async () => {
    const data = defaultData();
    data.opportunities[Ids.opportunity]![DEAL_VALUE] = null;
    const t = openForm({ omit: [DEAL_VALUE] }, data);
    await onLoad(t.context());
    expect(t.notification(NotificationId.neededPrefix + "noDealValue")?.message).toContain(READINESS_PROBLEMS.noDealValue[1033]);

    const noDate = defaultData();
    noDate.opportunities[Ids.opportunity]![o.closeDate] = null;
    const withoutDate = openForm({ omit: [o.closeDate] }, noDate);
    await onLoad(withoutDate.context());
    expect(withoutDate.notification(NotificationId.neededPrefix + "noCloseDate")?.message).toContain(READINESS_PROBLEMS.noCloseDate[1033]);
  });

  test("without the account or currency column the form cannot tell: nothing said, the server decides", async () => {
    const t = openForm({ omit: [o.account, o.currency] });
    await onLoad(t.context());
    expect(t.notifications()).toEqual([]);
  });

  test("a ready deal, or Sync = No, shows none", async () => {
    const ready = openForm();
    await onLoad(ready.context());
    expect(ready.notifications()).toEqual([]);

    const data = defaultData();
    data.solutions[Ids.opportunity] = 0;
    const off = openForm({ sync: false }, data);
    await onLoad(off.context());
    expect(off.notifications()).toEqual([]);
  });
});

describe("opportunity onLoad: reading ahead", () => {
  test("reads the settings in one request, with the card's query, once per page", async () => {
    const t = openForm();
    await onLoad(t.context());
    await onLoad(t.context());
    const settings = t.webApi.callsTo(Standard.environmentVariable.definition);
    expect(settings).toHaveLength(1);
    const options = settings[0]!.options ?? "";
    for (const variable of [EnvironmentVariables.relayUrl, EnvironmentVariables.customerAccountCountryCodeField, EnvironmentVariables.dealValueField]) {
      expect(options).toContain(`schemaname eq '${variable.schemaName}'`);
    }
    expect(options).toContain("$expand=environmentvariabledefinition_environmentvariablevalue($select=value)");
  });

  test("reads the saved deal with its account, contact and currency in one request, and the solutions in another", async () => {
    const t = openForm();
    await onLoad(t.context());
    const deal = t.webApi.callsTo(Opportunity.logicalName);
    expect(deal).toHaveLength(1);
    expect(deal[0]!.options).toContain(`$expand=${o.account}(`);
    expect(deal[0]!.options).toContain(`${o.contact}(`);
    expect(deal[0]!.options).toContain(`${o.currency}(`);
    expect(t.webApi.callsTo(MicrosoftSolution.logicalName)).toHaveLength(1);
    // Everything the form needed came with those two: no extra reads per lookup.
    expect(t.webApi.calls.map((call) => call.entity).sort()).toEqual([Standard.environmentVariable.definition, MicrosoftSolution.logicalName, Opportunity.logicalName].sort());
  });

  test("a new record reads the lookups it already has one by one, and no deal or solutions", async () => {
    const t = openForm({ id: null });
    await onLoad(t.context());
    expect(t.webApi.callsTo(Opportunity.logicalName)).toEqual([]);
    expect(t.webApi.callsTo(MicrosoftSolution.logicalName)).toEqual([]);
    expect(t.webApi.callsTo(Standard.account.logicalName)).toHaveLength(1);
    expect(t.webApi.callsTo(Standard.contact.logicalName)).toHaveLength(1);
    expect(t.webApi.callsTo(Standard.currency.logicalName)).toHaveLength(1);
  });

  test("a read that fails leaves the form working", async () => {
    const t = openForm({ accountId: "00000000-0000-4000-8000-000000000000" });
    await expect(onLoad(t.context())).resolves.toBeUndefined();
    await flush();
    expect(t.notification(NotificationId.neededPrefix + "noCountry")).toBeUndefined();
  });
});

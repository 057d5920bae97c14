// The lead form: the relay's columns are read-only and a failed sync is explained.
import { jest } from "@jest/globals";
import { Lead, PartnerCenterSyncStatus, ReferralStatus } from "../../Core/generated/schema.ts";
import { applyReferralRules, formatRespondBy, onLoad } from "../src/lead.ts";
import { LEAD_READ_ONLY, NotificationId, Standard } from "../src/names.ts";
import { say } from "../src/texts.ts";
import { openForm } from "./fakes.ts";

describe("lead onLoad", () => {
  test("locks the relay's columns, and only those", () => {
    const t = openForm({ entity: "lead" });
    onLoad(t.context());
    for (const column of LEAD_READ_ONLY) {
      t.attribute(column).controls.forEach((control) => {
        expect([column, (control as Xrm.Controls.StandardControl).getDisabled()]).toEqual([column, true]);
      });
    }
    t.attribute(Lead.columns.helpRequested).controls.forEach((control) => {
      expect((control as Xrm.Controls.StandardControl).getDisabled()).toBe(false);
    });
  });

  test("explains a failed sync, in Dutch for a Dutch user", () => {
    const t = openForm({ entity: "lead", language: 1043, syncStatus: PartnerCenterSyncStatus.Failed, lastSyncError: "AADSTS700082: The refresh token has expired" });
    onLoad(t.context());
    const message = t.notification(NotificationId.lastSyncFailed)?.message ?? "";
    expect(message).toContain("De relay kon zich niet aanmelden bij Partner Center of Dataverse.");
    expect(message).toContain("AADSTS700082");
    expect(message).toContain("relay login");
  });

  test("reads nothing through the Web API", () => {
    const t = openForm({ entity: "lead" });
    onLoad(t.context());
    expect(t.webApi.calls).toEqual([]);
  });
});

describe("lead onLoad: a referral waiting for an answer", () => {
  const NOW = new Date("2026-11-20T14:00:00Z");
  const inDays = (days: number): Date => new Date(NOW.getTime() + days * 86_400_000);
  const levels = (t: ReturnType<typeof openForm>): string[] => [Standard.lead.estimatedRevenue, Standard.lead.estimatedCloseDate].map((c) => t.attribute(c).getRequiredLevel());
  const waiting = (respondBy: Date | null) => ({ entity: "lead" as const, referralStatus: ReferralStatus.New, respondBy });

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test("Est. Revenue and Est. Close Date are required while the synced referral is New, and back to the form's level otherwise", () => {
    const t = openForm(waiting(inDays(5)));
    onLoad(t.context());
    expect(levels(t)).toEqual(["required", "required"]);

    const answered = openForm({ entity: "lead", referralStatus: ReferralStatus.Active, respondBy: inDays(5), levels: { [Standard.lead.estimatedRevenue]: "recommended" } });
    onLoad(answered.context());
    expect(levels(answered)).toEqual(["recommended", "none"]);
  });

  test("with 2 days left: a reminder (information) that says when Partner Center closes it and how to answer", () => {
    const t = openForm(waiting(inDays(2)));
    onLoad(t.context());
    const notification = t.notification(NotificationId.respondBy);
    expect(notification?.level).toBe("INFO");
    expect(notification?.message).toBe(say("respondBySoon", 1033, formatRespondBy(inDays(2), 1033)));
    expect(notification?.message).toMatch(/^Partner Center closes this referral as Expired on .+ if nobody accepts or declines it: qualify the lead to accept, disqualify it to decline\.$/);
  });

  test("with 5 days left: no notification", () => {
    const t = openForm(waiting(inDays(5)));
    onLoad(t.context());
    expect(t.notification(NotificationId.respondBy)).toBeUndefined();
  });

  test("once Respond by passed: a different message, as a warning, in Dutch for a Dutch user", () => {
    const t = openForm({ ...waiting(inDays(-1)), language: 1043 });
    onLoad(t.context());
    const notification = t.notification(NotificationId.respondBy);
    expect(notification?.level).toBe("WARNING");
    expect(notification?.message).toBe(say("respondByPassed", 1043, formatRespondBy(inDays(-1), 1043)));
    expect(notification?.message).toContain("Verlopen");
  });

  test("a lead that is not synced is left as it is: no required levels, no notification", () => {
    const t = openForm({ ...waiting(inDays(1)), sync: false });
    onLoad(t.context());
    expect(levels(t)).toEqual(["none", "none"]);
    expect(t.notifications()).toEqual([]);
  });

  test("the notification follows the saved lead: answered, it goes", () => {
    const t = openForm(waiting(inDays(1)));
    onLoad(t.context());
    expect(t.notification(NotificationId.respondBy)).toBeDefined();
    t.attribute<Xrm.Attributes.OptionSetAttribute>(Lead.columns.referralStatus).setValue(ReferralStatus.Closed);
    applyReferralRules(t.form);
    expect(t.notification(NotificationId.respondBy)).toBeUndefined();
    expect(levels(t)).toEqual(["none", "none"]);
  });

  test("the date is written in the user's language", () => {
    const date = new Date("2026-11-22T17:00:00Z");
    expect(formatRespondBy(date, 1033, "UTC")).toBe("Nov 22, 2026, 5:00 PM");
    expect(formatRespondBy(date, 1043, "UTC")).toBe("22 nov 2026, 17:00");
  });
});

// The lead form: the relay's columns are read-only and a failed sync is explained.
import { Lead, PartnerCenterSyncStatus } from "../../Core/generated/schema.ts";
import { onLoad } from "../src/lead.ts";
import { LEAD_READ_ONLY, NotificationId } from "../src/names.ts";
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

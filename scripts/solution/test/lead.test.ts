// The lead side of the solution in both zips: the Microsoft Partner Center tab on the standard Lead main
// form (the card, every lead column of the solution, the form library on OnLoad) and the view of
// referrals that wait for an answer.
import { Forms, Lead, ReferralStatus } from "../../../Core/generated/schema.ts";
import { GLOBAL_NAME, WEB_RESOURCE_NAME } from "../../../WebResources/src/names.ts";
import { buildZips } from "./helpers.ts";
import { child, childElements, descendants, parseXml, type Element } from "../xml.ts";

let zips: Awaited<ReturnType<typeof buildZips>>;
beforeAll(async () => {
  zips = await buildZips();
});

const AWAITING_VIEW = "Partner Center referrals awaiting response";
const bare = (id: string | null | undefined): string => (id ?? "").replace(/[{}]/g, "").toLowerCase();

async function leadEntity(zip: (typeof zips)["managedZip"]): Promise<{ customizations: ReturnType<typeof parseXml>; lead: Element; solution: ReturnType<typeof parseXml> }> {
  const customizations = parseXml(await zip.file("customizations.xml")!.async("string"), "customizations.xml");
  const solution = parseXml(await zip.file("solution.xml")!.async("string"), "solution.xml");
  const lead = childElements(child(customizations.documentElement as unknown as Element, "Entities")!, "Entity").find((e) => child(e, "Name")?.textContent === "Lead");
  expect(lead).toBeDefined();
  return { customizations, lead: lead!, solution };
}

test("both zips add the Microsoft Partner Center tab to the standard Lead main form, with the card and every lead column", async () => {
  for (const zip of [zips.managedZip, zips.unmanagedZip]) {
    const { lead, solution } = await leadEntity(zip);
    const form = descendants(lead, "systemform").find((f) => bare(child(f, "formid")?.textContent) === Forms.leadMain.formId);
    expect(form).toBeDefined();
    const tab = descendants(form!, "tab").find((t) => t.getAttribute("name") === Forms.leadMain.tabs.microsoftPartnerCenter)!;
    expect(tab.getAttribute("solutionaction")).toBe("Added");
    expect(descendants(tab, "label").map((l) => [l.getAttribute("languagecode"), l.getAttribute("description")]).slice(0, 2)).toEqual([
      ["1033", "Microsoft Partner Center"],
      ["1043", "Microsoft Partner Center"],
    ]);
    const fields = new Set(descendants(tab, "control").map((c) => c.getAttribute("datafieldname")));
    for (const column of Object.values(Lead.columns)) expect({ column, onTab: fields.has(column) }).toEqual({ column, onTab: true });
    // The card sits on the tab, bound through a controlDescription.
    const card = descendants(form!, "customControl").filter((c) => (c.getAttribute("name") ?? "").endsWith("PartnerCenterCard"));
    expect(card).toHaveLength(3);
    // The form library runs on OnLoad.
    const onload = descendants(form!, "event").find((e) => e.getAttribute("name") === "onload")!;
    const handler = descendants(onload, "Handler")[0]!;
    expect([handler.getAttribute("functionName"), handler.getAttribute("libraryName"), handler.getAttribute("passExecutionContext")]).toEqual([`${GLOBAL_NAME}.Lead.onLoad`, WEB_RESOURCE_NAME, "true"]);
    expect(descendants(form!, "Library").map((l) => l.getAttribute("name"))).toEqual([WEB_RESOURCE_NAME]);
    // The form diff is a root component of its own, like the opportunity form's.
    const roots = descendants(solution, "RootComponent").map((r) => [r.getAttribute("type"), bare(r.getAttribute("id"))]);
    expect(roots).toContainEqual(["60", Forms.leadMain.formId]);
  }
});

test("both zips carry the view of open synced leads whose referral waits for an answer, soonest Respond by first", async () => {
  for (const zip of [zips.managedZip, zips.unmanagedZip]) {
    const { lead, solution } = await leadEntity(zip);
    const view = descendants(lead, "savedquery").find((q) => descendants(q, "LocalizedName").some((n) => n.getAttribute("description") === AWAITING_VIEW));
    expect(view).toBeDefined();
    expect(descendants(view!, "LocalizedName").map((n) => [n.getAttribute("languagecode"), n.getAttribute("description")])).toEqual([
      ["1033", AWAITING_VIEW],
      ["1043", "Partner Center-verwijzingen die op antwoord wachten"],
    ]);
    expect(child(view!, "querytype")?.textContent).toBe("0");
    const entity = descendants(view!, "entity")[0]!;
    expect(entity.getAttribute("name")).toBe(Lead.logicalName);
    const conditions = descendants(entity, "condition").map((c) => [c.getAttribute("attribute"), c.getAttribute("operator"), c.getAttribute("value")]);
    expect(conditions).toEqual([
      ["statecode", "eq", "0"],
      [Lead.columns.syncWithPartnerCenter, "eq", "1"],
      [Lead.columns.referralStatus, "eq", String(ReferralStatus.New)],
    ]);
    expect(descendants(entity, "order").map((o) => [o.getAttribute("attribute"), o.getAttribute("descending")])).toEqual([[Lead.columns.respondBy, "false"]]);
    const cells = descendants(view!, "cell").map((c) => c.getAttribute("name"));
    expect(cells).toEqual(["subject", "companyname", Lead.columns.respondBy, Lead.columns.sentBy, Lead.columns.helpRequested, "ownerid"]);
    const selected = new Set(descendants(entity, "attribute").map((a) => a.getAttribute("name")));
    for (const cell of cells) expect(selected.has(cell)).toBe(true);
    // Lead is carried as a shell, so the view is a root component of its own.
    const roots = descendants(solution, "RootComponent").map((r) => [r.getAttribute("type"), bare(r.getAttribute("id"))]);
    expect(roots).toContainEqual(["26", bare(child(view!, "savedqueryid")?.textContent)]);
  }
});

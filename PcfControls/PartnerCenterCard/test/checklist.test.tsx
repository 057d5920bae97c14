/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// The readiness checklist: Core's checkReadiness over the saved deal and the form's help choice, each
// item passing or failing, and failing items leading to the record that fixes them.
import "./dom.ts";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { EnvironmentVariables, HowCanMicrosoftHelp, MicrosoftSolution, Opportunity } from "../../../Core/generated/schema.ts";
import { READINESS_CHECK_LABELS, READINESS_PROBLEMS } from "../../../Core/messages.ts";
import { ACCOUNT_ID, CONTACT_ID, OPPORTUNITY_ID, SCENARIOS, seedWebApi } from "./fixtures.ts";
import { mount } from "./host.tsx";

const items = (): Record<string, string> =>
  Object.fromEntries(
    within(screen.getByRole("list", { name: "Ready for Partner Center" }))
      .getAllByRole("listitem")
      .map((li) => [li.getAttribute("data-check"), li.getAttribute("data-state")]),
  );

test("the first render shows the deal's status; the checklist and history follow a frame later", async () => {
  const card = mount(SCENARIOS.synced);
  // What the form paints first: the status (a seller's first question), without the checklist's cold code.
  expect(screen.getByTestId("sync-status")).toBeInTheDocument();
  expect(screen.queryByRole("heading", { name: "Ready for Partner Center" })).not.toBeInTheDocument();
  expect(await screen.findByRole("heading", { name: "Ready for Partner Center" })).toBeInTheDocument();
  expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("Everything Partner Center needs is there.");
  card.close();
});

test("a ready deal: six items, all done", async () => {
  const card = mount(SCENARIOS.synced);
  expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("Everything Partner Center needs is there.");
  expect(items()).toEqual({ solution: "passed", country: "passed", contact: "passed", dealValue: "passed", currency: "passed", closeDate: "passed" });
  for (const label of Object.values(READINESS_CHECK_LABELS)) expect(screen.getByText(label[1033])).toBeInTheDocument();
  card.close();
});

test("a deal that is not ready: what fails, why, and where to fix it", async () => {
  const card = mount(SCENARIOS.checklist);
  expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("4 of 6 to fix before Partner Center accepts this deal.");
  expect(items()).toEqual({ solution: "failed", country: "failed", contact: "failed", dealValue: "passed", currency: "failed", closeDate: "passed" });
  expect(screen.getByText(READINESS_PROBLEMS.noSolution[1033])).toBeInTheDocument();
  expect(screen.getByText(READINESS_PROBLEMS.countryNotIso[1033])).toBeInTheDocument();
  expect(screen.getByText(READINESS_PROBLEMS.contactWithoutEmail[1033])).toBeInTheDocument();
  expect(screen.getByText(READINESS_PROBLEMS.noCurrency[1033])).toBeInTheDocument();
  // A screen reader hears the state with the label.
  expect(within(screen.getByRole("list", { name: "Ready for Partner Center" })).getAllByRole("listitem")[0]).toHaveTextContent(`${READINESS_CHECK_LABELS.solution[1033]}: To fix`);

  fireEvent.click(screen.getByRole("button", { name: "Add a solution" }));
  fireEvent.click(screen.getByRole("button", { name: "Open the account" }));
  expect(card.navigation.opened).toEqual([
    { entityName: MicrosoftSolution.logicalName, useQuickCreateForm: true, createFromEntity: { entityType: Opportunity.logicalName, id: OPPORTUNITY_ID, name: "Contoso: 500 Copilot seats" } },
    { entityName: "account", entityId: ACCOUNT_ID },
  ]);
  // Fields on this form (currency here) have no button: PCF cannot move the focus to another control.
  expect(screen.getAllByRole("button", { name: /Open the|Add a/ })).toHaveLength(3);
  // Back from the quick create, the card checks again.
  const webAPI = card.context.webAPI as unknown as ReturnType<typeof seedWebApi>;
  await waitFor(() => expect(webAPI.calls.filter((c) => c.entityType === Opportunity.logicalName).length).toBeGreaterThanOrEqual(2));
  card.close();
});

test("help requested makes the contact count; choosing 'No help needed' takes it off at once", async () => {
  const card = mount({ values: { help: HowCanMicrosoftHelp.QuotesOrLicensing }, seed: { contactEmail: "not an address" } });
  await screen.findByTestId("readiness-summary");
  expect(items().contact).toBe("failed");
  expect(screen.getByText(READINESS_PROBLEMS.contactWithoutEmail[1033])).toBeInTheDocument();
  fireEvent.click(screen.getByRole("button", { name: "Open the contact" }));
  expect(card.navigation.opened).toContainEqual({ entityName: "contact", entityId: CONTACT_ID });

  const opportunityReads = (): number => (card.context.webAPI as unknown as ReturnType<typeof seedWebApi>).calls.filter((c) => c.entityType === Opportunity.logicalName).length;
  await waitFor(() => expect(opportunityReads()).toBe(2));
  fireEvent.change(screen.getByRole("combobox", { name: "How can Microsoft help?" }), { target: { value: String(HowCanMicrosoftHelp.NoHelpNeeded) } });
  expect(card.outputs.at(-1)).toEqual({ helpRequested: HowCanMicrosoftHelp.NoHelpNeeded });
  expect(items().contact).toBe("notNeeded");
  expect(opportunityReads()).toBe(2);
  card.close();
});

test("no account and no contact: nothing to open, the item says what to set on the form", async () => {
  const card = mount({ seed: { hasAccount: false, hasContact: false } });
  await screen.findByTestId("readiness-summary");
  expect(screen.getByText(READINESS_PROBLEMS.noAccount[1033])).toBeInTheDocument();
  expect(screen.getByText(READINESS_PROBLEMS.noContact[1033])).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Open the account" })).not.toBeInTheDocument();
  card.close();
});

test("the country comes from the account column the admin's variable names; Check again reads again", async () => {
  const card = mount({ seed: { countryFieldSetting: "new_countrycode", country: "BE" } });
  await screen.findByTestId("readiness-summary");
  const webAPI = card.context.webAPI as unknown as ReturnType<typeof seedWebApi>;
  expect(webAPI.calls.find((c) => c.entityType === Opportunity.logicalName)?.options).toContain("parentaccountid($select=accountid,new_countrycode)");
  expect(items().country).toBe("passed");
  fireEvent.click(screen.getByRole("button", { name: "Check again" }));
  await waitFor(() => expect(webAPI.calls.filter((c) => c.entityType === Opportunity.logicalName)).toHaveLength(2));
  expect(webAPI.calls.filter((c) => c.entityType === "environmentvariabledefinition")[0]?.options).toContain(EnvironmentVariables.customerAccountCountryCodeField.schemaName);
  card.close();
});

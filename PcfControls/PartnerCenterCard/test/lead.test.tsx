/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Lead mode: the card on the lead form shows the referral Microsoft sent (sender, help asked, Respond
// by with the time left) and answers it: Accept qualifies the lead, Decline disqualifies it.
import "./dom.ts";
import { jest } from "@jest/globals";
import userEvent from "@testing-library/user-event";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Lead, Opportunity } from "../../../Core/generated/schema.ts";
import { StandardLead } from "../constants.ts";
import { LEAD_ACCOUNT_ID, LEAD_CURRENCY_ID, LEAD_ID, LEAD_SCENARIOS, NEW_OPPORTUNITY_ID, REFERRAL_LINK, SENT_BY, seedLeadWebApi } from "./fixtures.ts";
import { mount } from "./host.tsx";
import type { MockWebApi } from "./mocks.ts";

type Execute = jest.Mock<(request: Record<string, unknown> & { getMetadata: () => unknown }) => Promise<{ ok: boolean; json: () => Promise<unknown> }>>;
const page = globalThis as { Xrm?: unknown };

/** The model-driven page's Xrm, as the card finds it next to itself. */
function pageXrm(answer: () => Promise<unknown>): Execute {
  const execute: Execute = jest.fn(() => answer().then((body) => ({ ok: true, json: () => Promise.resolve(body) })));
  page.Xrm = { WebApi: { online: { execute } } };
  return execute;
}

afterEach(() => {
  delete page.Xrm;
});

const answerStatus = (): HTMLElement => screen.getByTestId("answer-status");

test("shows who sent the referral, the help asked, Respond by with the time left, and the two answers", () => {
  const card = mount({ lead: LEAD_SCENARIOS.awaiting });
  expect(screen.getByRole("article", { name: "Partner Center" })).toHaveAttribute("data-mode", "lead");
  expect(screen.getByTestId("referral-status")).toHaveTextContent("New · Pending");
  expect(screen.getByRole("region", { name: "Referral from Microsoft" })).toBeInTheDocument();
  expect(screen.getByTestId("lead-sent-by")).toHaveTextContent(SENT_BY);
  expect(screen.getByTestId("lead-help")).toHaveTextContent("Customer technical architecture");
  expect(screen.getByTestId("lead-respond-by")).toHaveTextContent("2026-11-22 17:00");
  expect(screen.getByTestId("time-left")).toHaveTextContent("2 days left");
  expect(screen.getByTestId("lead-explanation")).toHaveTextContent("Microsoft is waiting for your answer.");
  expect(screen.getByTestId("lead-explanation")).toHaveTextContent("as Expired on 2026-11-22 17:00 otherwise");
  expect(screen.getByRole("button", { name: "Accept", hidden: true })).toBeEnabled();
  expect(screen.getByRole("button", { name: "Decline", hidden: true })).toBeEnabled();
  expect(screen.getByRole("link", { name: "Open in Partner Center" })).toHaveAttribute("href", REFERRAL_LINK);
  // Nothing of the opportunity's card: no sync switch, checklist, history, nor a missing-binding warning.
  expect(screen.queryByRole("switch")).not.toBeInTheDocument();
  expect(screen.queryByTestId("readiness-summary")).not.toBeInTheDocument();
  expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  expect(screen.queryByText(/not bound/i)).not.toBeInTheDocument();
  // Lead mode reads nothing until the seller answers.
  expect((card.context.webAPI as unknown as MockWebApi).calls).toEqual([]);
  card.close();
});

test("time left: days, today, expired (then no answer is offered), in Dutch too", () => {
  const cases: Array<[keyof typeof LEAD_SCENARIOS, string]> = [
    ["plenty", "5 days left"],
    ["today", "Expires today"],
    ["passed", "Expired"],
  ];
  for (const [scenario, expected] of cases) {
    const card = mount({ lead: LEAD_SCENARIOS[scenario] });
    expect(screen.getByTestId("time-left")).toHaveTextContent(expected);
    card.close();
  }
  const passed = mount({ lead: LEAD_SCENARIOS.passed });
  expect(screen.getByTestId("lead-explanation")).toHaveTextContent("Respond by has passed: Partner Center closes this referral as Expired");
  expect(screen.queryByRole("button", { name: "Accept", hidden: true })).not.toBeInTheDocument();
  passed.close();

  const dutch = mount({ lead: LEAD_SCENARIOS.awaiting, languageId: 1043 });
  expect(screen.getByTestId("time-left")).toHaveTextContent("Nog 2 dagen");
  expect(screen.getByTestId("referral-status")).toHaveTextContent("Nieuw · In afwachting");
  expect(screen.getByRole("button", { name: "Accepteren", hidden: true })).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Afwijzen", hidden: true })).toBeInTheDocument();
  dutch.close();
});

// Fluent's focus manager (tabster) sets and clears aria-hidden around dialogs on timers, which in jsdom
// can leave the card or a fresh dialog aria-hidden for a while: buttons and dialogs are looked up with
// hidden included, as actions.test.tsx does on a reopened dialog.
test("Accept says what happens, then qualifies the lead with QualifyLead and opens the new opportunity", async () => {
  const user = userEvent.setup();
  const execute = pageXrm(() => Promise.resolve({ value: [{ "@odata.type": "#Microsoft.Dynamics.CRM.opportunity", opportunityid: NEW_OPPORTUNITY_ID }] }));
  const card = mount({ lead: LEAD_SCENARIOS.awaiting });
  fireEvent.click(screen.getByRole("button", { name: "Accept", hidden: true }));
  // Fluent's focus manager (tabster) can leave a fresh dialog aria-hidden for a moment in jsdom.
  const dialog = await screen.findByRole("dialog", { name: "Accept this referral?", hidden: true }, { timeout: 5000 });
  expect(dialog).toHaveTextContent("The lead is qualified into a new opportunity");
  expect(dialog).toHaveTextContent("estimated revenue and the estimated close date");
  await user.click(within(dialog).getByRole("button", { name: "Accept and qualify", hidden: true }));

  await waitFor(() => expect(answerStatus()).toBeEmptyDOMElement());
  expect(screen.getByTestId("lead-explanation")).toHaveTextContent("Accepted: the lead is qualified. Opening the new opportunity");
  expect(execute).toHaveBeenCalledTimes(1);
  const request = execute.mock.calls[0]![0];
  expect({ ...request }).toEqual({
    entity: { entityType: Lead.logicalName, id: LEAD_ID },
    CreateAccount: false,
    CreateContact: false,
    CreateOpportunity: true,
    Status: 3,
    OpportunityCustomerId: { entityType: "account", id: LEAD_ACCOUNT_ID },
    OpportunityCurrencyId: { entityType: "transactioncurrency", id: LEAD_CURRENCY_ID },
  });
  expect(request.getMetadata()).toMatchObject({ boundParameter: "entity", operationName: "QualifyLead", operationType: 0 });
  expect(card.navigation.opened).toEqual([{ entityName: Opportunity.logicalName, entityId: NEW_OPPORTUNITY_ID }]);
  // Answered: the actions are gone, and the seller is not asked again.
  expect(screen.queryByRole("button", { name: "Accept", hidden: true })).not.toBeInTheDocument();
  card.close();
});

test("Accept without the lead's account qualifies without a customer; Cancel does nothing", async () => {
  const user = userEvent.setup();
  const execute = pageXrm(() => Promise.resolve({ value: [] }));
  const card = mount({ lead: LEAD_SCENARIOS.awaiting, webAPI: seedLeadWebApi({ hasAccount: false, hasCurrency: false }) });
  fireEvent.click(screen.getByRole("button", { name: "Accept", hidden: true }));
  await user.click(within(await screen.findByRole("dialog", { hidden: true }, { timeout: 5000 })).getByRole("button", { name: "Cancel", hidden: true }));
  await waitFor(() => expect(document.querySelector(".fui-DialogSurface")).toBeNull());
  expect(execute).not.toHaveBeenCalled();

  fireEvent.click(screen.getByRole("button", { name: "Accept", hidden: true }));
  await user.click(within(await screen.findByRole("dialog", { hidden: true }, { timeout: 5000 })).getByRole("button", { name: "Accept and qualify", hidden: true }));
  await waitFor(() => expect(execute).toHaveBeenCalledTimes(1));
  expect({ ...execute.mock.calls[0]![0] }).toEqual({ entity: { entityType: Lead.logicalName, id: LEAD_ID }, CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 3 });
  await waitFor(() => expect(screen.getByTestId("lead-explanation")).toHaveTextContent("Accepted"));
  // No opportunity came back: nothing to open.
  expect(card.navigation.opened).toEqual([]);
  card.close();
});

test("a refusal from Dataverse (the relay's step) is shown with its message, and the seller can try again", async () => {
  const user = userEvent.setup();
  const refusal = "Partner Center needs the estimated revenue and the estimated close date before this referral can be accepted.";
  pageXrm(() => Promise.reject({ errorCode: 2147220891, message: refusal }));
  const card = mount({ lead: LEAD_SCENARIOS.awaiting });
  fireEvent.click(screen.getByRole("button", { name: "Accept", hidden: true }));
  await user.click(within(await screen.findByRole("dialog", { hidden: true }, { timeout: 5000 })).getByRole("button", { name: "Accept and qualify", hidden: true }));
  await waitFor(() => expect(answerStatus()).toHaveTextContent(`The lead was not qualified: ${refusal}`));
  expect(answerStatus()).toHaveAttribute("role", "status");
  expect(card.navigation.opened).toEqual([]);
  expect(screen.getByRole("button", { name: "Accept", hidden: true })).toBeEnabled();
  card.close();
});

test("Decline asks the disqualify reason and a note, then disqualifies the lead with them", async () => {
  const user = userEvent.setup();
  const card = mount({ lead: LEAD_SCENARIOS.awaiting });
  fireEvent.click(screen.getByRole("button", { name: "Decline", hidden: true }));
  const dialog = await screen.findByRole("dialog", { name: "Decline this referral?", hidden: true }, { timeout: 5000 });
  expect(dialog).toHaveTextContent("Partner Center closes the referral as Declined");
  const ok = within(dialog).getByRole("button", { name: "Decline referral", hidden: true });
  expect(ok).toBeDisabled();
  const reason = within(dialog).getByRole("combobox", { name: /Reason/, hidden: true });
  expect(within(reason).getAllByRole("option", { hidden: true }).slice(1).map((o) => [o.getAttribute("value"), o.textContent])).toEqual([
    ["4", "Lost"],
    ["5", "Cannot Contact"],
    ["6", "No Longer Interested"],
    ["7", "Canceled"],
  ]);
  await user.selectOptions(reason, "6");
  await user.type(within(dialog).getByRole("textbox", { name: "Note for Microsoft (optional)", hidden: true }), "The customer chose to stay on premises this year.");
  await user.click(ok);

  await waitFor(() => expect(screen.getByTestId("lead-explanation")).toHaveTextContent("Declined: the lead is disqualified"));
  const webAPI = card.context.webAPI as unknown as MockWebApi;
  expect(webAPI.calls.filter((c) => c.method === "updateRecord")).toEqual([{ method: "updateRecord", entityType: Lead.logicalName, id: LEAD_ID }]);
  expect(webAPI.rows(Lead.logicalName)[0]).toMatchObject({
    [StandardLead.stateCode]: 2,
    [StandardLead.statusCode]: 6,
    [StandardLead.qualificationComments]: "The customer chose to stay on premises this year.",
  });
  expect(screen.queryByRole("button", { name: "Decline", hidden: true })).not.toBeInTheDocument();
  card.close();
});

test("a refused Decline is shown with Dataverse's message", async () => {
  const user = userEvent.setup();
  const webAPI = seedLeadWebApi().fail(Lead.logicalName, { errorCode: 0x80040220, message: "Principal user is missing the Write privilege on Lead" });
  const card = mount({ lead: LEAD_SCENARIOS.awaiting, webAPI });
  fireEvent.click(screen.getByRole("button", { name: "Decline", hidden: true }));
  const dialog = await screen.findByRole("dialog", { hidden: true }, { timeout: 5000 });
  await user.selectOptions(within(dialog).getByRole("combobox", { name: /Reason/, hidden: true }), "4");
  await user.click(within(dialog).getByRole("button", { name: "Decline referral", hidden: true }));
  await waitFor(() => expect(answerStatus()).toHaveTextContent("The lead was not disqualified: Principal user is missing the Write privilege on Lead"));
  card.close();
});

test("no actions once the referral is no longer New, and the card says which way it went", () => {
  const cases: Array<[keyof typeof LEAD_SCENARIOS, string]> = [
    ["accepted", "This referral was accepted: the deal continues as an opportunity."],
    ["declined", "This referral was declined."],
    ["expired", "Partner Center closed this referral as Expired: nobody accepted or declined it in time."],
    ["notSynced", "This lead is not a Partner Center referral"],
  ];
  for (const [scenario, text] of cases) {
    const card = mount({ lead: LEAD_SCENARIOS[scenario] });
    expect(screen.getByTestId("lead-explanation")).toHaveTextContent(text);
    expect(screen.queryByRole("button", { name: "Accept", hidden: true })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Decline", hidden: true })).not.toBeInTheDocument();
    expect(screen.queryByTestId("time-left")).not.toBeInTheDocument();
    card.close();
  }
});

test("a read-only form or an unsaved lead offers no answer; a missing lead binding is named", () => {
  const readOnly = mount({ lead: LEAD_SCENARIOS.awaiting, isControlDisabled: true });
  expect(screen.queryByRole("button", { name: "Accept", hidden: true })).not.toBeInTheDocument();
  expect(screen.getByText("This form is read-only.")).toBeInTheDocument();
  readOnly.close();

  const unsaved = mount({ lead: { ...LEAD_SCENARIOS.awaiting, unbound: ["sentBy", "respondBy"] }, entityId: null });
  expect(screen.queryByRole("button", { name: "Accept", hidden: true })).not.toBeInTheDocument();
  expect(screen.getByText("Save the lead first: only a saved lead can answer the referral.")).toBeInTheDocument();
  expect(screen.getByText(/sentBy/)).toHaveTextContent("respondBy, sentBy");
  unsaved.close();
});

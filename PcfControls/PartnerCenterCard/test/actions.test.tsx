/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// The seller's actions: the sync toggle, How can Microsoft help?, visibility to Microsoft sellers with
// its confirmation, and Sync now / Retry through the relay with progress and the result.
import "./dom.ts";
import userEvent from "@testing-library/user-event";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { HowCanMicrosoftHelp, HowCanMicrosoftHelpOptions, Opportunity, PartnerCenterSyncStatus, SyncEvent } from "../../../Core/generated/schema.ts";
import { PartnerCenterCard } from "../index.ts";
import { OPPORTUNITY_ID, parameters, REFERRAL_LINK, RELAY_URL, SCENARIOS, seedWebApi } from "./fixtures.ts";
import { mount } from "./host.tsx";
import { createRelayFake, MockContext } from "./mocks.ts";
import { loadStrings } from "./strings.ts";

const runStatus = (): HTMLElement => screen.getByTestId("run-status");

test("How can Microsoft help? lists Partner Center's choices and writes the chosen value", async () => {
  const card = mount(SCENARIOS.synced);
  await screen.findByTestId("readiness-summary");
  const select = screen.getByRole("combobox", { name: "How can Microsoft help?" });
  expect(select).toHaveValue(String(HowCanMicrosoftHelp.ProofOfConceptOrDemo));
  expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual(["Not chosen", ...HowCanMicrosoftHelpOptions.map((o) => o.label[1033])]);
  fireEvent.change(select, { target: { value: String(HowCanMicrosoftHelp.QuotesOrLicensing) } });
  expect(card.outputs).toEqual([{ helpRequested: HowCanMicrosoftHelp.QuotesOrLicensing }]);
  expect(select).toHaveValue(String(HowCanMicrosoftHelp.QuotesOrLicensing));
  card.close();
});

test("showing the referral to Microsoft sellers needs a confirmation, by keyboard too, and cannot be undone", async () => {
  const user = userEvent.setup();
  const card = mount(SCENARIOS.pending);
  await screen.findByTestId("readiness-summary");
  const visibility = screen.getByRole("switch", { name: "Visible to Microsoft sellers" });
  expect(visibility).not.toBeChecked();

  // Cancel leaves it private.
  visibility.focus();
  await user.keyboard(" ");
  const dialog = await screen.findByRole("dialog", { name: "Show this referral to Microsoft sellers?" });
  expect(dialog).toHaveTextContent("This cannot be undone");
  await user.click(await within(dialog).findByRole("button", { name: "Cancel" }));
  // Gone, not only hidden: the surface leaves the DOM once its exit motion ends.
  await waitFor(() => expect(document.querySelector(".fui-DialogSurface")).toBeNull());
  expect(card.outputs).toEqual([]);
  expect(visibility).not.toBeChecked();

  // Confirming writes Yes; the switch then stays on and cannot be turned off.
  fireEvent.click(visibility);
  const again = await screen.findByRole("dialog", { name: "Show this referral to Microsoft sellers?" });
  // The dialog's accessibility is asserted on the first opening above. On a reopening, Fluent's focus
  // manager (tabster) may leave aria-hidden on the new surface for a while in jsdom (its updates are
  // timer-driven), so this lookup includes hidden elements rather than race it.
  await user.click(await within(again).findByRole("button", { name: "Make visible", hidden: true }));
  expect(card.outputs).toEqual([{ referralVisibility: true }]);
  await waitFor(() => expect(document.querySelector(".fui-DialogSurface")).toBeNull());
  expect(screen.queryByRole("switch", { name: "Visible to Microsoft sellers" })).not.toBeInTheDocument();
  expect(screen.getByTestId("visibility-on")).toHaveTextContent("Visible to Microsoft sellers");
  expect(screen.getByTestId("visibility-on")).toHaveTextContent("Once visible to Microsoft sellers, a referral stays visible.");
  card.close();
});

test("Sync now: the relay is called with the seller's token, progress is announced, and the card reads again", async () => {
  const card = mount({ ...SCENARIOS.synced, relay: { states: ["queued", "running", "succeeded"] } });
  await screen.findByTestId("readiness-summary");
  expect(runStatus()).toHaveAttribute("role", "status");
  expect(runStatus()).toHaveAttribute("aria-live", "polite");
  const webAPI = card.context.webAPI as unknown as ReturnType<typeof seedWebApi>;
  const historyReads = (): number => webAPI.calls.filter((c) => c.entityType === SyncEvent.logicalName).length;
  expect(historyReads()).toBe(1);

  fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
  expect(runStatus()).toHaveTextContent("Asking the relay to sync…");
  expect(within(runStatus()).getByRole("progressbar")).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Sync now" })).toBeDisabled();
  await waitFor(() => expect(runStatus()).toHaveTextContent("Synced with Partner Center."));
  expect(within(runStatus()).queryByRole("progressbar")).not.toBeInTheDocument();
  expect(card.relay.requests[0]).toEqual({ method: "POST", url: `${RELAY_URL}/api/opportunities/${OPPORTUNITY_ID}/sync`, authorization: "Bearer token-for-sam" });
  expect(card.relay.requests.slice(1).every((r) => r.method === "GET" && r.url === `${RELAY_URL}/api/runs/run-sync-1`)).toBe(true);
  await waitFor(() => expect(historyReads()).toBe(2));
  expect(screen.getByRole("button", { name: "Sync now" })).toBeEnabled();
  card.close();
});

test("Retry on a failed sync, and the run fails again: the relay's reason is shown", async () => {
  const card = mount({ ...SCENARIOS.failed, relay: { states: ["running", "failed"], error: "Partner Center answered 400: details.dealValue must be greater than 0" } });
  await screen.findByTestId("readiness-summary");
  fireEvent.click(screen.getByRole("button", { name: "Retry" }));
  await waitFor(() => expect(runStatus()).toHaveTextContent("The sync failed: Partner Center answered 400: details.dealValue must be greater than 0"));
  expect(card.relay.requests[0]!.url).toBe(`${RELAY_URL}/api/opportunities/${OPPORTUNITY_ID}/retry`);
  card.close();
});

test("a dead run, a relay that cannot be reached, a refused start, a sign-in that fails, a run that takes too long", async () => {
  const cases: Array<[Parameters<typeof mount>[0], string]> = [
    [{ relay: { states: ["dead"], error: "8 attempts: Partner Center answered 500" } }, "The relay gave up after several attempts: 8 attempts: Partner Center answered 500"],
    [{ relay: { unreachable: true } }, `The relay at ${RELAY_URL} could not be reached.`],
    [{ relay: { startStatus: 500 } }, "The relay answered with HTTP 500. The relay could not queue the run"],
    [{ getAccessToken: () => Promise.reject(new Error("interaction_required")) }, "Could not sign in to the relay: interaction_required"],
    [{ relay: { states: ["running"] } }, "The sync is still running. The history below shows the result when it is done."],
  ];
  for (const [options, message] of cases) {
    const card = mount({ ...SCENARIOS.synced, ...options });
    await screen.findByTestId("readiness-summary");
    fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
    await waitFor(() => expect(runStatus()).toHaveTextContent(message), { timeout: 4000 });
    card.close();
  }
});

test("in Dynamics, with no token provider injected, the card asks the relay how to sign in, and a relay without sign-in set up is explained for the admin", async () => {
  const relay = createRelayFake();
  const context = new MockContext({ parameters: parameters(SCENARIOS.synced.values), strings: loadStrings(1033), webAPI: seedWebApi() });
  const control = new PartnerCenterCard({ fetch: relay.fetch });
  control.init(context, () => undefined, {});
  const view = render(control.updateView(context));
  await screen.findByTestId("readiness-summary");
  fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
  await waitFor(() => expect(runStatus()).toHaveTextContent("Could not sign in to the relay: The relay's sign-in is not set up (HTTP 404): ask your administrator to set PCR_API_AUDIENCE on the relay."));
  expect(relay.requests.map((r) => new URL(r.url).pathname)).toEqual(["/api/sign-in"]);
  view.unmount();
  control.destroy();
});

test("the relayUrl input, when the form sets one, wins over the environment variable", async () => {
  const card = mount({ values: { ...SCENARIOS.synced.values, relayUrl: "https://relay-eu.contoso.test/" } });
  await screen.findByTestId("readiness-summary");
  fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
  await waitFor(() => expect(card.relay.requests[0]?.url).toBe(`https://relay-eu.contoso.test/api/opportunities/${OPPORTUNITY_ID}/sync`));
  await waitFor(() => expect(runStatus()).toHaveTextContent("Synced with Partner Center."));
  card.close();
});

test("after a run the card shows the saved status, newer than the form's copy, until the form hands over new values", async () => {
  const saved = { [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced, [Opportunity.columns.lastSyncedOn]: "2026-11-20T14:09:00Z", [Opportunity.columns.lastSyncError]: null };
  const card = mount({ ...SCENARIOS.failed, seed: { ...SCENARIOS.failed.seed, saved } });
  await screen.findByTestId("readiness-summary");
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Failed");
  fireEvent.click(screen.getByRole("button", { name: "Retry" }));
  await waitFor(() => expect(screen.getByTestId("sync-status")).toHaveTextContent("Synced"));
  expect(screen.getByText("Last synced 2026-11-20 14:09")).toBeInTheDocument();
  card.update((context) => {
    context.parameters.syncStatus.raw = PartnerCenterSyncStatus.Pending;
  });
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Pending");
  card.close();
});

test("the first sync writes the referral link: Open in Partner Center appears without reloading the form", async () => {
  const saved = { [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced, [Opportunity.columns.lastSyncedOn]: "2026-11-20T14:09:00Z", [Opportunity.columns.referralLink]: REFERRAL_LINK };
  const card = mount({ values: { status: PartnerCenterSyncStatus.NotShared, sync: true }, seed: { events: [], saved } });
  await screen.findByTestId("readiness-summary");
  expect(screen.queryByRole("link", { name: "Open in Partner Center" })).not.toBeInTheDocument();
  expect(screen.getByText("The referral link appears once the deal is in Partner Center.")).toBeInTheDocument();
  fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
  await waitFor(() => expect(screen.getByRole("link", { name: "Open in Partner Center" })).toHaveAttribute("href", REFERRAL_LINK));
  expect(screen.queryByText("The referral link appears once the deal is in Partner Center.")).not.toBeInTheDocument();
  card.close();
});

/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// State at a glance: Not shared, Pending, Synced (with time), Failed (reason and what to do), and
// Microsoft's side of the co-sell.
import "./dom.ts";
import { screen, within } from "@testing-library/react";
import { PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import { READINESS_PROBLEMS } from "../../../Core/messages.ts";
import { FAILED_ERROR, REFERRAL_LINK, SCENARIOS } from "./fixtures.ts";
import { mount } from "./host.tsx";

const statusRegion = (): HTMLElement => screen.getByRole("region", { name: "Sync status" });

test("Not shared, with Sync off: says how to share", async () => {
  const card = mount(SCENARIOS.notShared);
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Not shared");
  expect(within(statusRegion()).getByText("This deal is not shared with Partner Center.")).toBeInTheDocument();
  expect(within(statusRegion()).getByText("Turn on Sync with Partner Center and save to share it with Microsoft.")).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Sync now" })).toBeDisabled();
  expect(screen.getByTestId("relay-blocked")).toHaveTextContent("Turn on Sync with Partner Center and save before syncing.");
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Not shared, with Sync on: asks for a save", async () => {
  const card = mount({ values: { status: PartnerCenterSyncStatus.NotShared, sync: true } });
  expect(within(statusRegion()).getByText("Save the opportunity to share it with Partner Center.")).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Pending", async () => {
  const card = mount(SCENARIOS.pending);
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Pending");
  expect(screen.getByText("The relay is sharing this deal with Partner Center.")).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Closed in Partner Center: a reopened deal is told why nothing syncs any more", async () => {
  const card = mount({ values: { status: PartnerCenterSyncStatus.ClosedInPartnerCenter, sync: true } });
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Closed in Partner Center");
  expect(within(statusRegion()).getByText(/cannot be reopened, so nothing more is synced for this record/)).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Synced, with the time in the user's format, Microsoft's side, and the link to Partner Center", async () => {
  const card = mount(SCENARIOS.synced);
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Synced");
  expect(screen.getByText("Last synced 2026-11-20 14:02")).toBeInTheDocument();
  expect(screen.getByTestId("microsoft-status")).toHaveTextContent("Active · Accepted");
  expect(screen.getByTestId("microsoft-crm-id")).toHaveTextContent("7-3FQ9K2LZ1");
  const link = screen.getByRole("link", { name: "Open in Partner Center" });
  expect(link).toHaveAttribute("href", REFERRAL_LINK);
  expect(link).toHaveAttribute("target", "_blank");
  expect(link).toHaveAttribute("rel", "noopener noreferrer");
  expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Synced without a time, and Microsoft not there yet", async () => {
  const card = mount({ values: { status: PartnerCenterSyncStatus.Synced } });
  expect(screen.getByText("In step with Partner Center.")).toBeInTheDocument();
  expect(screen.getByTestId("microsoft-status")).toHaveTextContent("Not yet");
  expect(screen.getByTestId("microsoft-crm-id")).toHaveTextContent("Not yet");
  expect(screen.getByText("The referral link appears once the deal is in Partner Center.")).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("Failed: the reason in plain words, the relay's words, and what to do; Retry is offered", async () => {
  const card = mount(SCENARIOS.failed);
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Failed");
  const failure = screen.getByTestId("sync-failure");
  expect(within(failure).getByRole("heading", { name: "What went wrong" })).toBeInTheDocument();
  expect(within(failure).getByText(FAILED_ERROR)).toBeInTheDocument();
  expect(within(failure).getByRole("heading", { name: "What to do" })).toBeInTheDocument();
  expect(within(failure).getByText("Correct the value Partner Center names, save, then choose Retry.")).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Retry" })).toBeDisabled(); // until the relay URL is read
  await screen.findByTestId("readiness-summary");
  expect(screen.getByRole("button", { name: "Retry" })).toBeEnabled();
  card.close();
});

test("Failed on readiness: the problems the relay named, in the seller's language, and to fix the checklist", async () => {
  const lastError = `${READINESS_PROBLEMS.noSolution[1043]}\n${READINESS_PROBLEMS.noCloseDate[1043]}`;
  const card = mount({ values: { status: PartnerCenterSyncStatus.Failed, lastError } });
  const failure = screen.getByTestId("sync-failure");
  expect(within(failure).getByText(READINESS_PROBLEMS.noSolution[1033])).toBeInTheDocument();
  expect(within(failure).getByText(READINESS_PROBLEMS.noCloseDate[1033])).toBeInTheDocument();
  expect(within(failure).getByText("Fix the items in the checklist below, save, then choose Retry.")).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test.each([
  ["AADSTS700082: The refresh token has expired due to inactivity.", "The relay could not sign in to Partner Center or Dataverse.", "Ask your administrator to sign the relay in again (relay login), then choose Retry."],
  ["Partner Center answered 429 Too Many Requests", "Partner Center was busy and asked the relay to slow down.", "Nothing: the relay tries again by itself. Choose Retry if you are in a hurry."],
  ["", null, "Choose Retry. If it fails again, send your administrator this message."],
])("Failed with %j explains it", async (lastError, reason, action) => {
  const card = mount({ values: { status: PartnerCenterSyncStatus.Failed, lastError } });
  const failure = screen.getByTestId("sync-failure");
  if (reason) expect(within(failure).getByText(reason)).toBeInTheDocument();
  else expect(within(failure).getByText("The relay recorded no details.")).toBeInTheDocument();
  expect(within(failure).getByText(action)).toBeInTheDocument();
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("a new, unsaved opportunity: nothing is read, the card asks for a save", () => {
  const card = mount({ values: SCENARIOS.notShared.values, entityId: null });
  expect(screen.getAllByText("Save the opportunity first: Partner Center can only get a saved deal.").length).toBeGreaterThan(0);
  expect(screen.queryByRole("region", { name: "Ready for Partner Center" })).not.toBeInTheDocument();
  expect(card.context.webAPI).toBeDefined();
  const calls = (card.context.webAPI as unknown as { calls: Array<{ entityType: string }> }).calls;
  expect(calls.map((c) => c.entityType)).toEqual(["environmentvariabledefinition"]);
  card.close();
});

/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// The control's lifecycle as the platform drives it: init, updateView (any number of times),
// getOutputs after notifyOutputChanged, destroy.
import "./dom.ts";
import { jest } from "@jest/globals";
import * as React from "react";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import { PartnerCenterSyncStatus, SyncEvent } from "../../../Core/generated/schema.ts";
import { PartnerCenterCard } from "../index.ts";
import { PartnerCenterCard as CardView } from "../components/PartnerCenterCard.tsx";
import { parameters, SCENARIOS, seedWebApi } from "./fixtures.ts";
import { mount } from "./host.tsx";
import { MockContext } from "./mocks.ts";
import { loadStrings } from "./strings.ts";

test("init asks for the allocated width; updateView returns the memoised view as a React element", () => {
  const context = new MockContext({ parameters: parameters(SCENARIOS.synced.values), strings: loadStrings(1033), webAPI: seedWebApi() });
  const control = new PartnerCenterCard();
  control.init(context, () => undefined, {});
  expect(context.mode.trackedResize).toBe(true);
  const element = control.updateView(context);
  expect(React.isValidElement(element)).toBe(true);
  expect(element.type).toBe(CardView);
  expect(element.props).toMatchObject({ opportunityId: "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", language: 1033, layout: "wide", formDisabled: false });
  // The services and texts are created once, so the memoised view is not invalidated by them.
  const again = control.updateView(context);
  expect((again.props as { services: unknown }).services).toBe((element.props as { services: unknown }).services);
  expect((again.props as { texts: unknown }).texts).toBe((element.props as { texts: unknown }).texts);
  control.destroy();
});

test("renders, and renders again with the values the form hands over", async () => {
  const card = mount({ values: SCENARIOS.pending.values, seed: SCENARIOS.pending.seed });
  expect(screen.getByRole("heading", { level: 2, name: "Partner Center" })).toBeInTheDocument();
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Pending");
  await screen.findByTestId("readiness-summary");

  card.update((context) => {
    context.parameters.syncStatus.raw = PartnerCenterSyncStatus.Synced;
    context.parameters.lastSyncedOn.raw = new Date("2026-11-20T14:02:00Z");
    context.updatedProperties = ["syncStatus", "lastSyncedOn"];
  });
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Synced");
  expect(screen.getByText("Last synced 2026-11-20 14:02")).toBeInTheDocument();
  card.close();
});

test("a change on the card reaches the form through notifyOutputChanged and getOutputs, once", async () => {
  const card = mount({ values: SCENARIOS.synced.values, seed: SCENARIOS.synced.seed });
  await screen.findByTestId("readiness-summary");
  fireEvent.click(screen.getByRole("switch", { name: "Sync with Partner Center" }));
  expect(card.notify).toHaveBeenCalledTimes(1);
  expect(card.outputs).toEqual([{ syncWithPartnerCenter: false }]);
  expect(card.control.getOutputs()).toEqual({});
  expect(screen.getByRole("switch", { name: "Sync with Partner Center" })).not.toBeChecked();

  fireEvent.change(screen.getByRole("combobox", { name: "How can Microsoft help?" }), { target: { value: "" } });
  expect(card.outputs[1]).toEqual({ helpRequested: undefined });
  expect("helpRequested" in card.outputs[1]!).toBe(true);
  card.close();
});

test("destroy stops the card: no late reads, no errors after the form closes", async () => {
  const webAPI = seedWebApi({ events: SCENARIOS.synced.seed.events }).delay(30);
  const errors = jest.spyOn(console, "error");
  const card = mount({ values: SCENARIOS.synced.values, webAPI });
  card.close();
  await new Promise((resolve) => setTimeout(resolve, 80));
  expect(errors).not.toHaveBeenCalled();
  errors.mockRestore();
  expect(webAPI.calls.filter((c) => c.entityType === SyncEvent.logicalName)).toHaveLength(1);
});

test("a relay run in progress is abandoned when the control is destroyed", async () => {
  const card = mount({ values: SCENARIOS.synced.values, seed: SCENARIOS.synced.seed, relay: { states: ["running"] } });
  await screen.findByTestId("readiness-summary");
  fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
  await waitFor(() => expect(card.relay.requests.length).toBeGreaterThan(1));
  card.close();
  const after = card.relay.requests.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(card.relay.requests.length).toBeLessThanOrEqual(after + 1);
});

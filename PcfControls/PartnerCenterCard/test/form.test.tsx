/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// The card on real forms: field security, a read-only form, narrow widths, both languages, roles and
// labels for keyboard and screen-reader users, and bad configuration shown as a message, not a crash.
import "./dom.ts";
import { fireEvent, screen, within } from "@testing-library/react";
import { EnvironmentVariables, Opportunity, PartnerCenterSyncStatus, SyncEvent } from "../../../Core/generated/schema.ts";
import { READINESS_CHECK_LABELS } from "../../../Core/messages.ts";
import { SCENARIOS, seedWebApi } from "./fixtures.ts";
import { mount } from "./host.tsx";

describe("field security", () => {
  test("unreadable columns are masked, not shown", async () => {
    const card = mount({
      values: { ...SCENARIOS.failed.values, crmId: "7-SECRET", security: { lastSyncError: { readable: false }, microsoftCrmIdentifier: { readable: false }, referralLink: { readable: false } } },
      seed: SCENARIOS.failed.seed,
    });
    await screen.findByTestId("readiness-summary");
    expect(screen.getByTestId("sync-failure")).toHaveTextContent("Hidden");
    // (The Sync Event table has its own privileges: its message may still show in the history.)
    expect(within(screen.getByRole("region", { name: "Sync status" })).queryByText(SCENARIOS.failed.values.lastError)).not.toBeInTheDocument();
    expect(screen.getByTestId("microsoft-crm-id")).toHaveTextContent("Hidden");
    expect(screen.queryByText("7-SECRET")).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Open in Partner Center" })).not.toBeInTheDocument();
    card.close();
  });

  test("an unreadable sync status shows a neutral Hidden badge", async () => {
    const card = mount({ values: { ...SCENARIOS.synced.values, security: { syncStatus: { readable: false } } } });
    expect(screen.getByTestId("sync-status")).toHaveTextContent("Hidden");
    expect(screen.queryByText(/Last synced/)).not.toBeInTheDocument();
    await screen.findByTestId("readiness-summary");
    card.close();
  });

  test("columns the user may not change are read-only on the card, and say so", async () => {
    const card = mount({ values: { security: { syncWithPartnerCenter: { editable: false }, helpRequested: { readable: false, editable: false }, referralVisibility: { editable: false } } } });
    await screen.findByTestId("readiness-summary");
    expect(screen.getByRole("switch", { name: "Sync with Partner Center" })).toBeDisabled();
    expect(screen.getByRole("switch", { name: "Visible to Microsoft sellers" })).toBeDisabled();
    const help = screen.getByRole("combobox", { name: "How can Microsoft help?" });
    expect(help).toBeDisabled();
    expect(help).toHaveDisplayValue("Hidden");
    expect(screen.getAllByText("You cannot change this field.")).toHaveLength(2);
    card.close();
  });
});

test("a read-only form: nothing on the card changes data, opening records still works", async () => {
  const card = mount({ ...SCENARIOS.checklist, isControlDisabled: true });
  await screen.findByTestId("readiness-summary");
  for (const name of ["Sync with Partner Center", "Visible to Microsoft sellers"]) expect(screen.getByRole("switch", { name })).toBeDisabled();
  expect(screen.getByRole("combobox", { name: "How can Microsoft help?" })).toBeDisabled();
  expect(screen.getByRole("button", { name: "Sync now" })).toBeDisabled();
  expect(screen.getAllByText("This form is read-only.").length).toBeGreaterThan(0);
  expect(screen.getByRole("button", { name: "Add a solution" })).toBeDisabled();
  fireEvent.click(screen.getByRole("button", { name: "Open the account" }));
  expect(card.navigation.opened).toHaveLength(1);
  card.close();
});

test.each([
  [{ formFactor: 3 }, "phone"],
  [{ allocatedWidth: 380 }, "phone"],
  [{ allocatedWidth: 1024 }, "wide"],
])("layout for %j is %s", async (options, layout) => {
  const card = mount({ ...SCENARIOS.synced, ...options });
  expect(screen.getByRole("article")).toHaveAttribute("data-layout", layout);
  await screen.findByTestId("readiness-summary");
  card.close();
});

test("the layout follows the allocated width when the form is resized", async () => {
  const card = mount({ ...SCENARIOS.synced, allocatedWidth: 1024 });
  await screen.findByTestId("readiness-summary");
  card.update((context) => {
    context.mode.allocatedWidth = 360;
    context.updatedProperties = ["layout"];
  });
  expect(screen.getByRole("article")).toHaveAttribute("data-layout", "phone");
  card.close();
});

test("nl-NL: the card's texts from the 1043 resx, the checklist from Core, the choices from the solution", async () => {
  const card = mount({ ...SCENARIOS.synced, languageId: 1043 });
  expect(screen.getByRole("region", { name: "Synchronisatiestatus" })).toBeInTheDocument();
  expect(screen.getByTestId("sync-status")).toHaveTextContent("Gesynchroniseerd");
  expect(screen.getByText("Laatst gesynchroniseerd 2026-11-20 14:02")).toBeInTheDocument();
  expect(screen.getByTestId("microsoft-status")).toHaveTextContent("Actief · Geaccepteerd");
  expect(screen.getByRole("switch", { name: "Synchroniseren met Partner Center" })).toBeChecked();
  expect(screen.getByRole("combobox", { name: "Hoe kan Microsoft helpen?" })).toHaveDisplayValue("Proof of concept of demo");
  expect(screen.getByRole("button", { name: "Nu synchroniseren" })).toBeInTheDocument();
  expect(screen.getByRole("link", { name: "Openen in Partner Center" })).toBeInTheDocument();
  expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("Alles wat Partner Center nodig heeft, is aanwezig.");
  expect(screen.getByText(READINESS_CHECK_LABELS.country[1043])).toBeInTheDocument();
  const history = screen.getByRole("list", { name: "Geschiedenis" });
  expect(within(history).getAllByRole("listitem")[0]).toHaveTextContent("Partner Center naar Dynamics 365");
  expect(within(history).getAllByRole("listitem")[0]).toHaveTextContent("Geslaagd");
  card.close();
});

test("en-US history: a timeline of the latest sync events, newest first, as many as the input asks", async () => {
  const card = mount({ values: { ...SCENARIOS.synced.values, historySize: 3 }, seed: SCENARIOS.synced.seed });
  const history = await screen.findByRole("list", { name: "History" });
  const rows = within(history).getAllByRole("listitem");
  expect(rows).toHaveLength(3);
  expect(rows[0]).toHaveTextContent("2026-11-20 14:02");
  expect(rows[0]).toHaveTextContent("Partner Center to Dynamics 365");
  expect(rows[0]).toHaveTextContent("Microsoft accepted the co-sell");
  expect(rows[2]).toHaveTextContent("Conflict resolved");
  expect(rows[0]!.querySelector("time")).toHaveAttribute("datetime", "2026-11-20T14:02:00.000Z");
  card.close();
});

test("no sync events yet", async () => {
  const card = mount(SCENARIOS.pending);
  expect(await screen.findByText("No sync events yet.")).toBeInTheDocument();
  card.close();
});

test("roles and labels: one article, labelled regions and lists, named controls, a live region for progress", async () => {
  const card = mount(SCENARIOS.failed);
  await screen.findByTestId("readiness-summary");
  const article = screen.getByRole("article", { name: "Partner Center" });
  expect(within(article).getByRole("heading", { level: 2, name: "Partner Center" })).toBeInTheDocument();
  for (const name of ["Sync status", "Share with Microsoft", "Ready for Partner Center", "History"]) {
    expect(screen.getByRole("region", { name })).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 3, name })).toBeInTheDocument();
  }
  expect(screen.getByRole("list", { name: "Ready for Partner Center" })).toBeInTheDocument();
  expect(screen.getByRole("list", { name: "History" })).toBeInTheDocument();
  expect(screen.getByRole("switch", { name: "Sync with Partner Center" })).toBeInTheDocument();
  expect(screen.getByRole("switch", { name: "Visible to Microsoft sellers" })).toBeInTheDocument();
  expect(screen.getByRole("combobox", { name: "How can Microsoft help?" })).toBeInTheDocument();
  for (const name of ["Retry", "Sync now", "Check again"]) expect(screen.getByRole("button", { name })).toBeInTheDocument();
  expect(screen.getByRole("status")).toHaveAttribute("aria-live", "polite");
  // Every control is reachable with Tab: none is taken out of the order.
  for (const control of [...screen.getAllByRole("button"), ...screen.getAllByRole("switch"), screen.getByRole("combobox"), screen.getByRole("link")]) {
    expect(control).not.toHaveAttribute("tabindex", "-1");
  }
  // Decorative icons stay silent.
  for (const svg of Array.from(article.querySelectorAll("li svg"))) expect(svg).toHaveAttribute("aria-hidden", "true");
  card.close();
});

describe("bad configuration shows a message, never a crash", () => {
  test("columns the form editor did not bind are named; the rest of the card works", async () => {
    const card = mount({ values: { ...SCENARIOS.synced.values, unbound: ["microsoftStatus", "microsoftSubstatus", "referralLink"] } });
    expect(screen.getByText("The card is not bound to: referralLink, microsoftStatus, microsoftSubstatus. Ask your administrator to bind these columns in the form editor.")).toBeInTheDocument();
    expect(screen.queryByTestId("microsoft-status")).not.toBeInTheDocument();
    expect(screen.getByTestId("microsoft-crm-id")).toHaveTextContent("7-3FQ9K2LZ1");
    await screen.findByTestId("readiness-summary");
    card.close();
  });

  test("no relay URL: Sync now is off and says why", async () => {
    const card = mount({ ...SCENARIOS.synced, seed: { ...SCENARIOS.synced.seed, relayUrl: null } });
    await screen.findByTestId("readiness-summary");
    expect(screen.getByRole("button", { name: "Sync now" })).toBeDisabled();
    expect(screen.getByTestId("relay-blocked")).toHaveTextContent("the Relay URL environment variable is empty");
    card.close();
  });

  test("a relay URL that is not https: Sync now is off and says why", async () => {
    const card = mount({ ...SCENARIOS.failed, seed: { ...SCENARIOS.failed.seed, relayUrl: "http://relay.contoso.test" } });
    await screen.findByTestId("readiness-summary");
    expect(screen.getByRole("button", { name: "Retry" })).toBeDisabled();
    expect(screen.getByTestId("relay-blocked")).toHaveTextContent('the Relay URL "http://relay.contoso.test" is not an https address');
    card.close();
  });

  test("a Web API failure on one table: a message, and the rest still shows", async () => {
    const webAPI = seedWebApi({ events: SCENARIOS.synced.seed.events }).fail(SyncEvent.logicalName);
    const card = mount({ values: SCENARIOS.synced.values, webAPI });
    expect(await screen.findByText("Could not read from Dataverse: Principal user is missing the Read privilege on Partner Center Sync Event")).toBeInTheDocument();
    expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("Everything Partner Center needs is there.");
    expect(screen.getByTestId("sync-status")).toHaveTextContent("Synced");
    card.close();
  });

  test("the opportunity cannot be read: a message instead of the checklist", async () => {
    const webAPI = seedWebApi().fail(Opportunity.logicalName, { errorCode: 0x80040217, message: "opportunity With Id = 6f1e… Does Not Exist" });
    const card = mount({ values: SCENARIOS.pending.values, webAPI });
    expect(await screen.findByText(/Could not read from Dataverse: opportunity With Id/)).toBeInTheDocument();
    expect(screen.queryByTestId("readiness-summary")).not.toBeInTheDocument();
    card.close();
  });

  test("the environment variables cannot be read", async () => {
    const webAPI = seedWebApi().fail("environmentvariabledefinition", { errorCode: 1, message: "Network error" });
    const card = mount({ values: SCENARIOS.synced.values, webAPI });
    expect(await screen.findByText("Could not read from Dataverse: Network error")).toBeInTheDocument();
    expect(screen.getByTestId("relay-blocked")).toHaveTextContent("the Relay URL environment variable is empty");
    card.close();
  });

  test("a variable that names no column", async () => {
    const card = mount({ values: SCENARIOS.synced.values, seed: { countryFieldSetting: "address1 country" } });
    expect(await screen.findByText(`The environment variable ${EnvironmentVariables.customerAccountCountryCodeField.schemaName} holds "address1 country", which is not a column name. Ask your administrator to correct it.`)).toBeInTheDocument();
    card.close();
  });

  test("a host without the Web API: the state and actions still work", () => {
    const card = mount({ values: { ...SCENARIOS.synced.values, relayUrl: "https://relay.contoso.test" }, webAPI: null });
    expect(screen.getByText("This app gives the card no Web API, so the checklist and history are not available.")).toBeInTheDocument();
    expect(screen.getByTestId("sync-status")).toHaveTextContent("Synced");
    expect(screen.getByRole("button", { name: "Sync now" })).toBeEnabled();
    card.close();
  });

  test("an unknown sync status value and odd raw values do not break the card", async () => {
    const card = mount({ values: { ...SCENARIOS.synced.values, status: 42 as typeof PartnerCenterSyncStatus.Synced, microsoftStatus: 7 } });
    expect(screen.getByTestId("sync-status")).toHaveTextContent("42");
    card.update((context) => {
      (context.parameters.lastSyncedOn as { raw: unknown }).raw = "not a date";
      (context.parameters.helpRequested as { raw: unknown }).raw = "x";
    });
    expect(screen.getByRole("combobox", { name: "How can Microsoft help?" })).toHaveDisplayValue("Not chosen");
    await screen.findByTestId("readiness-summary");
    card.close();
  });
});

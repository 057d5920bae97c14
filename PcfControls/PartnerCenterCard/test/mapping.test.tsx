/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// The checklist follows the admin's field mapping (the "Partner Center field mapping" JSON variable over
// the seed's variables): the deal value from the configured opportunity column, the country through a
// lookup on the account to the country table's ISO code column. A mapping that cannot be used leaves
// the checklist on the seed's variables and puts an admin note on the card, for those who can fix it.
import "./dom.ts";
import { screen, waitFor, within } from "@testing-library/react";
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";
import { READINESS_PROBLEMS } from "../../../Core/messages.ts";
import { ACCOUNT_ID } from "./fixtures.ts";
import { mount } from "./host.tsx";
import { withMetadata, type MetadataCatalog, type MockWebApi } from "./mocks.ts";

const COUNTRY_ID = "0a1b2c3d-0000-4000-8000-0000000000c1";
/** The customer's columns as Dataverse's metadata knows them: a money column, a lookup to their country table. */
const CUSTOMER_METADATA: MetadataCatalog = withMetadata({
  opportunity: { new_dealamount: { type: "Money" } },
  account: { new_countryid: { type: "Lookup", targets: ["new_country"] } },
  new_country: { new_countryid: { type: "Uniqueidentifier" }, new_name: { type: "String" }, new_isocode: { type: "String" } },
});
const LOOKUP_MAPPING = JSON.stringify({
  opportunity: { dealValue: "new_dealamount" },
  account: { country: { lookup: "new_countryid", isoCodeColumn: "new_isocode" } },
});

/** A deal whose standard columns would fail: estimated value 0, no country text; the custom ones hold the truth. */
const customized = (fieldMapping: string, iso = "BE") => ({
  fieldMapping,
  dealValue: 0,
  country: null,
  opportunityColumns: { new_dealamount: 75000 },
  accountColumns: { _new_countryid_value: COUNTRY_ID, "_new_countryid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "new_country" },
  tables: { new_country: [{ new_countryid: COUNTRY_ID, new_name: "Belgium", new_isocode: iso }] },
});

const items = (): Record<string, string> =>
  Object.fromEntries(
    within(screen.getByRole("list", { name: "Ready for Partner Center" }))
      .getAllByRole("listitem")
      .map((li) => [li.getAttribute("data-check"), li.getAttribute("data-state")]),
  );
const webApiOf = (card: ReturnType<typeof mount>): MockWebApi => card.context.webAPI as unknown as MockWebApi;
const adminNote = (): HTMLElement | null => screen.queryByText(/Admin note:/);

test("deal value from the configured column, country through the lookup's ISO code column", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: customized(LOOKUP_MAPPING) });
  expect(await screen.findByTestId("readiness-summary")).toHaveTextContent("Everything Partner Center needs is there.");
  expect(items()).toMatchObject({ country: "passed", dealValue: "passed" });
  const calls = webApiOf(card).calls;
  const opportunityRead = calls.find((c) => c.entityType === "opportunity")!;
  expect(opportunityRead.options).toMatch(/\$select=new_dealamount,/);
  expect(opportunityRead.options).toContain("parentaccountid($select=accountid,_new_countryid_value)");
  // The country row the lookup points to, read by the table the Web API names.
  expect(calls).toContainEqual({ method: "retrieveRecord", entityType: "new_country", id: COUNTRY_ID, options: "?$select=new_isocode" });
  expect(adminNote()).not.toBeInTheDocument();
  card.close();
});

test("the lookup's country row holds no ISO code: the country item fails and opens the account", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: customized(LOOKUP_MAPPING, "Belgium") });
  await screen.findByTestId("readiness-summary");
  expect(items()).toMatchObject({ country: "failed", dealValue: "passed" });
  expect(screen.getByText(READINESS_PROBLEMS.countryNotIso[1033])).toBeInTheDocument();
  const settingsReads = (): number => webApiOf(card).calls.filter((c) => c.entityType === "environmentvariabledefinition").length;
  expect(settingsReads()).toBe(1);
  screen.getByRole("button", { name: "Open the account" }).click();
  expect(card.navigation.opened).toContainEqual({ entityName: "account", entityId: ACCOUNT_ID });
  // Back from the account the card reads again; the columns' metadata was asked once for the page.
  await waitFor(() => expect(settingsReads()).toBe(2));
  await screen.findByTestId("readiness-summary");
  expect(card.context.utils.metadataCalls).toEqual([
    { entityName: "opportunity", attributes: ["new_dealamount"] },
    { entityName: "account", attributes: ["new_countryid"] },
    { entityName: "new_country", attributes: ["new_isocode"] },
  ]);
  card.close();
});

test("the configured deal value column decides, not Estimated Revenue", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: { ...customized(LOOKUP_MAPPING), opportunityColumns: { new_dealamount: null }, dealValue: 120000 } });
  await screen.findByTestId("readiness-summary");
  expect(items()).toMatchObject({ dealValue: "failed", country: "passed" });
  expect(screen.getByText(READINESS_PROBLEMS.noDealValue[1033])).toBeInTheDocument();
  card.close();
});

const INVALID = JSON.stringify({ opportunity: { dealValue: "Deal amount" }, account: { country: { lookup: "new_countryid" } } });

test("an invalid mapping: the checklist follows the seed's variables, and the admin sees the exact problem", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: customized(INVALID) });
  await screen.findByTestId("readiness-summary");
  // The seed's columns (estimatedvalue 0, address1_country empty) are what the checklist reads now.
  expect(items()).toMatchObject({ dealValue: "failed", country: "failed" });
  expect(webApiOf(card).calls.find((c) => c.entityType === "opportunity")!.options).toContain("parentaccountid($select=accountid,address1_country)");
  const note = await screen.findByText(/Admin note:/);
  expect(note).toHaveTextContent(`the environment variable ${EnvironmentVariables.fieldMapping.displayName[1033]} (${EnvironmentVariables.fieldMapping.schemaName}) is not used`);
  expect(note).toHaveTextContent("opportunity.dealValue: must be a column's logical name (lower case letters, digits and _), not its display name");
  expect(note).toHaveTextContent('account.country: must be {"column": …} or {"lookup": …, "isoCodeColumn": …}');
  expect(note).toHaveTextContent("the relay keeps its last good field mapping");
  card.close();
});

test("JSON that does not parse is reported as such, in the user's language", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: customized('{"opportunity": '), languageId: 1043 });
  const note = await screen.findByText(/Beheerdersnotitie:/);
  expect(note).toHaveTextContent(`${EnvironmentVariables.fieldMapping.displayName[1043]} (${EnvironmentVariables.fieldMapping.schemaName}) wordt niet gebruikt: (the whole value): is not valid JSON`);
  card.close();
});

test("a seller, who cannot change environment variables, gets the checklist without the admin note", async () => {
  const card = mount({ metadata: CUSTOMER_METADATA, seed: customized(INVALID), deniedPrivileges: ["environmentvariablevalue"] });
  await screen.findByTestId("readiness-summary");
  expect(items()).toMatchObject({ dealValue: "failed", country: "failed" });
  // Give the privilege check its turn: the note stays away.
  await waitFor(() => expect(webApiOf(card).calls.some((c) => c.entityType === "opportunity")).toBe(true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(adminNote()).not.toBeInTheDocument();
  card.close();
});

describe("the columns the mapping names are checked against Dataverse's metadata before they are read", () => {
  const expectSeedReads = (card: ReturnType<typeof mount>): void => {
    const calls = webApiOf(card).calls;
    const opportunityRead = calls.find((c) => c.entityType === "opportunity")!;
    expect(opportunityRead.options).toMatch(/\$select=estimatedvalue,/);
    expect(opportunityRead.options).not.toContain("new_dealamount");
    expect(opportunityRead.options).toContain("parentaccountid($select=accountid,address1_country)");
    expect(calls.some((c) => c.entityType === "new_country")).toBe(false);
  };

  test("a deal value column that does not exist: no read through it, the seed's columns, and the admin note names it", async () => {
    const metadata = withMetadata({ account: CUSTOMER_METADATA.account!, new_country: CUSTOMER_METADATA.new_country! });
    const card = mount({ metadata, seed: customized(LOOKUP_MAPPING) });
    await screen.findByTestId("readiness-summary");
    // The seed's columns: Estimated Revenue (0) and address1_country (empty).
    expect(items()).toMatchObject({ dealValue: "failed", country: "failed" });
    expectSeedReads(card);
    const note = await screen.findByText(/Admin note:/);
    expect(note).toHaveTextContent(`the environment variable ${EnvironmentVariables.fieldMapping.displayName[1033]} (${EnvironmentVariables.fieldMapping.schemaName}) is not used`);
    expect(note).toHaveTextContent("opportunity.dealValue names new_dealamount, which is not a column of opportunity");
    expect(note).toHaveTextContent("the relay keeps its last good field mapping");
    // No generic read error: nothing was read that could fail.
    expect(screen.queryByText(/Dataverse/)).not.toBeInTheDocument();
    card.close();
  });

  test("a country \"lookup\" that is a text column: the exact problem, and the lookup's table is not read", async () => {
    const metadata = withMetadata({ ...CUSTOMER_METADATA, account: { new_countryid: { type: "String" } } });
    const card = mount({ metadata, seed: customized(LOOKUP_MAPPING) });
    const note = await screen.findByText(/Admin note:/);
    expect(note).toHaveTextContent("account.country.lookup names new_countryid, a text column of account; it must be a lookup");
    expect(note).not.toHaveTextContent("opportunity.dealValue");
    expectSeedReads(card);
    expect(card.context.utils.metadataCalls.map((c) => c.entityName)).not.toContain("new_country");
    card.close();
  });

  test("a deal value column that is text, in Dutch for a Dutch admin", async () => {
    const metadata = withMetadata({ ...CUSTOMER_METADATA, opportunity: { new_dealamount: { type: "String" } } });
    const card = mount({ metadata, seed: customized(LOOKUP_MAPPING), languageId: 1043 });
    const note = await screen.findByText(/Beheerdersnotitie:/);
    expect(note).toHaveTextContent("opportunity.dealValue names new_dealamount, a text column of opportunity; it must be a number");
    card.close();
  });

  test("a seller sees no error, only the checklist the seed's columns give", async () => {
    const metadata = withMetadata({ account: CUSTOMER_METADATA.account!, new_country: CUSTOMER_METADATA.new_country! });
    const card = mount({ metadata, seed: customized(LOOKUP_MAPPING), deniedPrivileges: ["environmentvariablevalue"] });
    await screen.findByTestId("readiness-summary");
    expect(items()).toMatchObject({ dealValue: "failed", country: "failed" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(adminNote()).not.toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expectSeedReads(card);
    card.close();
  });
});

// The solution's environment variables as typed settings: defaults, an admin's current value seen
// after the TTL and not before, one request per refresh, and clear errors for values that do not fit.
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";
import {
  ENVIRONMENT_VARIABLE_TABLES as T, EnvironmentVariableError, EnvironmentVariableReader, EnvironmentVariableType,
  parseEnvironmentVariableValue, settingsFromDefinitions,
} from "../../src/settings/environment-variables.ts";
import { literal, type DataverseClient, type Row } from "../../src/clients/dataverse.ts";
import { collect, routeDelta, startEnvironment, type TestEnvironment } from "./helpers.ts";

const ROUTE = `GET /${T.definitions}`;

let env: TestEnvironment;
let client: DataverseClient;
beforeAll(async () => {
  env = await startEnvironment();
  client = env.client();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

/** What an admin does in the maker portal: a current value row for the definition. */
async function setCurrentValue(schemaName: string, value: string): Promise<string> {
  const [definition] = await collect(client.retrieveMultiple<Row & { environmentvariabledefinitionid: string }>(T.definitions, {
    select: [T.definitionId], filter: `${T.schemaName} eq ${literal(schemaName)}`,
  }));
  const { id } = await client.create(T.values, {
    [T.schemaName]: schemaName, [T.value]: value,
    [`${T.valueDefinitionNavigation}@odata.bind`]: `/${T.definitions}(${definition!.environmentvariabledefinitionid})`,
  });
  return id;
}

test("defaults are read and typed: yes/no as booleans, text as text, no default as undefined", async () => {
  const reader = new EnvironmentVariableReader({ client });
  const settings = await reader.get();
  expect(settings).toEqual({
    customerAccountCountryCodeField: EnvironmentVariables.customerAccountCountryCodeField.defaultValue,
    dealValueField: "estimatedvalue",
    displayCheckMarkInName: false,
    referralLinkTemplate: EnvironmentVariables.referralLinkTemplate.defaultValue,
    relayUrl: undefined,
    syncCoSellOpportunitiesOnly: true,
  });
});

test("a current value is seen once the TTL has passed, not before; each refresh is one request", async () => {
  let clock = 1_000_000;
  const reader = new EnvironmentVariableReader({ client, ttlMs: 60_000, now: () => clock });

  let before = await env.stats();
  expect((await reader.get()).displayCheckMarkInName).toBe(false);
  let after = await env.stats();
  expect(routeDelta(before, after, ROUTE)).toBe(1);
  expect(after.requests.total - before.requests.total).toBe(1);

  const valueId = await setCurrentValue(EnvironmentVariables.displayCheckMarkInName.schemaName, "yes");
  await setCurrentValue(EnvironmentVariables.relayUrl.schemaName, "https://relay.contoso.example");

  before = await env.stats();
  clock += 59_000;
  expect((await reader.get()).displayCheckMarkInName).toBe(false);
  after = await env.stats();
  expect(after.requests.total - before.requests.total).toBe(0);

  clock += 2_000;
  const fresh = await reader.get();
  expect(fresh.displayCheckMarkInName).toBe(true);
  expect(fresh.relayUrl).toBe("https://relay.contoso.example");
  const afterRefresh = await env.stats();
  expect(routeDelta(after, afterRefresh, ROUTE)).toBe(1);
  expect(afterRefresh.requests.total - after.requests.total).toBe(1);

  // An explicit refresh reads at once; concurrent readers share one request.
  await client.update(T.values, valueId, { [T.value]: "false" });
  const beforeBurst = await env.stats();
  const [a, b] = await Promise.all([reader.refresh(), reader.refresh()]);
  expect(routeDelta(beforeBurst, await env.stats(), ROUTE)).toBe(1);
  expect([a.displayCheckMarkInName, b.displayCheckMarkInName, (await reader.get()).displayCheckMarkInName]).toEqual([false, false, false]);

  // A value that does not fit is an error naming the variable and what to do.
  await client.update(T.values, valueId, { [T.value]: "maybe" });
  await expect(reader.refresh()).rejects.toMatchObject({
    name: "EnvironmentVariableError", schemaName: EnvironmentVariables.displayCheckMarkInName.schemaName,
    message: expect.stringMatching(/Display check mark.*"maybe".*not yes, no, true or false/), whatToDo: expect.stringMatching(/maker portal/),
  });
  await client.delete(T.values, valueId);
});

test("when a refresh fails for a transient reason the last good settings are served", async () => {
  let clock = 0;
  const reader = new EnvironmentVariableReader({ client: env.client({ backoff: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }), ttlMs: 10, now: () => clock });
  const first = await reader.get();
  clock += 20;
  await env.control("POST", "/sandbox/faults", { status: 503, next: 1 });
  expect(await reader.get()).toBe(first);
  expect(reader.lastError).toMatchObject({ status: 503 });
  await env.control("DELETE", "/sandbox/faults");
  clock += 20;
  await reader.get();
  expect(reader.lastError).toBeUndefined();
});

test("values are parsed by the definition's type, with clear errors", () => {
  const variable = { schemaName: "x_Example", displayName: "Example" };
  expect(parseEnvironmentVariableValue(" TRUE ", EnvironmentVariableType.Boolean, variable)).toBe(true);
  expect(parseEnvironmentVariableValue("No", EnvironmentVariableType.Boolean, variable)).toBe(false);
  expect(parseEnvironmentVariableValue("42.5", EnvironmentVariableType.Number, variable)).toBe(42.5);
  expect(() => parseEnvironmentVariableValue("forty", EnvironmentVariableType.Number, variable)).toThrow(/"Example" \(x_Example\) is "forty", which is not a number/);
  expect(parseEnvironmentVariableValue('{"a":[1,2]}', EnvironmentVariableType.JSON, variable)).toEqual({ a: [1, 2] });
  expect(() => parseEnvironmentVariableValue("{a:1}", EnvironmentVariableType.JSON, variable)).toThrow(EnvironmentVariableError);
  expect(() => parseEnvironmentVariableValue("{a:1}", EnvironmentVariableType.JSON, variable)).toThrow(/is not valid JSON/);
  expect(parseEnvironmentVariableValue("text", EnvironmentVariableType.String, variable)).toBe("text");
});

test("a definition missing from the environment falls back to the generated default; a changed type is refused", () => {
  const settings = settingsFromDefinitions([]);
  expect(settings.dealValueField).toBe(EnvironmentVariables.dealValueField.defaultValue);
  expect(settings.syncCoSellOpportunitiesOnly).toBe(true);
  expect(() => settingsFromDefinitions([{ schemaname: EnvironmentVariables.dealValueField.schemaName, type: EnvironmentVariableType.Number, defaultvalue: "1" }]))
    .toThrow(/is of type Number in this environment; the relay expects String/);
  // An empty current value means "use the default", as in the maker portal.
  expect(settingsFromDefinitions([{
    schemaname: EnvironmentVariables.dealValueField.schemaName, type: EnvironmentVariableType.String, defaultvalue: "estimatedvalue",
    environmentvariabledefinition_environmentvariablevalue: [{ value: "  " }],
  }]).dealValueField).toBe("estimatedvalue");
});

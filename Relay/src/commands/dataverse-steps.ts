// The Dataverse side of `relay init`: one webhook service endpoint per step module (so each step posts to
// its own `/plugins/<name>`), authenticated with the step key as an HTTP header, and the step with its
// images, through dataverse-registration (idempotent: a second run changes nothing). Also sets the
// solution's Relay URL environment variable, which the card and the form scripts read.
import { EnvironmentVariables } from "../../../Core/generated/schema.ts";
import type { StepModule, StepRegistration } from "../../../Plugins/step.ts";
import { literal, type DataverseClient, type Row } from "../clients/dataverse.ts";
import { registerWebhook, type RegistrationResult, type WebhookStepSpec } from "../clients/dataverse-registration.ts";
import { ENVIRONMENT_VARIABLE_TABLES as T } from "../settings/environment-variables.ts";
import { PLUGINS_PATH } from "../routes/plugins.ts";

/** The service endpoint of a step: named after it, so several relays' endpoints never collide by accident. */
export function endpointName(registration: StepRegistration): string {
  return `CoSellRelay.${registration.name}`;
}

/**
 * The columns an Update step filters on. A step that filters on the standard deal value column also
 * filters on the column the admin's "Deal value field" variable names today.
 */
export function filteringAttributes(registration: StepRegistration, dealValueField: string | undefined): string[] {
  const columns = [...registration.filteringAttributes];
  const extra = dealValueField?.trim().toLowerCase();
  if (extra && columns.includes("estimatedvalue") && !columns.includes(extra) && /^[a-z0-9_]+$/.test(extra)) columns.push(extra);
  return columns;
}

export function stepSpec(registration: StepRegistration, dealValueField: string | undefined): WebhookStepSpec {
  return {
    message: registration.message,
    table: registration.table,
    stage: registration.stage,
    mode: registration.mode === 1 ? "Asynchronous" : "Synchronous",
    filteringAttributes: filteringAttributes(registration, dealValueField),
    images: registration.images.map((image) => ({ name: image.name, type: image.type, attributes: image.attributes })),
    description: registration.description,
  };
}

export interface StepRegistrationOutcome {
  step: string;
  result: RegistrationResult;
}

export async function registerSteps(dataverse: DataverseClient, steps: readonly StepModule[], options: { publicUrl: string; stepKey: string; dealValueField: string | undefined }): Promise<StepRegistrationOutcome[]> {
  const outcomes: StepRegistrationOutcome[] = [];
  for (const { registration } of steps) {
    const result = await registerWebhook(dataverse, {
      endpoint: {
        name: endpointName(registration),
        url: `${options.publicUrl}${PLUGINS_PATH}/${registration.name}`,
        auth: { kind: "httpHeader", value: options.stepKey },
        description: `Partner Center co-sell relay: ${registration.name}`,
      },
      steps: [stepSpec(registration, options.dealValueField)],
    });
    outcomes.push({ step: registration.name, result });
  }
  return outcomes;
}

/** Sets the current value of the Relay URL environment variable; "unchanged" when it already holds it. */
export function setRelayUrl(dataverse: DataverseClient, url: string): Promise<"created" | "updated" | "unchanged"> {
  return setEnvironmentVariable(dataverse, EnvironmentVariables.relayUrl.schemaName, url);
}

/** Sets the current value of one of the solution's environment variables; "unchanged" when it already holds it. */
export async function setEnvironmentVariable(dataverse: DataverseClient, schemaName: string, value: string): Promise<"created" | "updated" | "unchanged"> {
  const definitions: Row[] = [];
  for await (const row of dataverse.retrieveMultiple(T.definitions, {
    select: [T.definitionId, T.schemaName],
    filter: `${T.schemaName} eq ${literal(schemaName)}`,
    expand: [{ property: T.valueRelationship, select: ["environmentvariablevalueid", T.value] }],
    formattedValues: false,
  })) definitions.push(row);
  const definition = definitions[0];
  if (!definition) throw new Error(`The environment variable ${schemaName} is not in this environment: import the Partner Center Referrals solution first.`);
  const values = (definition[T.valueRelationship] as Array<{ environmentvariablevalueid?: string; value?: string | null }> | undefined) ?? [];
  const current = values[0];
  if (current?.environmentvariablevalueid) {
    if (current.value === value) return "unchanged";
    const result = await dataverse.update(T.values, current.environmentvariablevalueid, { [T.value]: value }, { ifMatch: "*" });
    if (!result.updated) throw new Error(`The current value of ${schemaName} was deleted meanwhile; run relay init again.`);
    return "updated";
  }
  await dataverse.create(T.values, {
    [T.schemaName]: schemaName, [T.value]: value,
    [`${T.valueDefinitionNavigation}@odata.bind`]: `/${T.definitions}(${String(definition[T.definitionId])})`,
  });
  return "created";
}

// Every Dataverse webhook step the relay hosts. `relay init` registers these; `POST /plugins/:step`
// finds the module by its registration name.
import * as opportunityCreate from "./steps/opportunity-create.ts";
import * as opportunityUpdate from "./steps/opportunity-update.ts";
import * as opportunityRules from "./steps/opportunity-rules.ts";
import * as solutionCreate from "./steps/solution-create.ts";
import * as solutionDelete from "./steps/solution-delete.ts";
import * as leadUpdate from "./steps/lead-update.ts";
import * as leadQualify from "./steps/lead-qualify.ts";
import * as leadQualifyRules from "./steps/lead-qualify-rules.ts";
import { loseStep, winStep } from "./steps/opportunity-close.ts";
import type { StepModule } from "./step.ts";

export const STEPS: readonly StepModule[] = [
  opportunityCreate, opportunityUpdate, opportunityRules.createStep, opportunityRules.updateStep, solutionCreate, solutionDelete,
  winStep, loseStep, leadUpdate, leadQualify, leadQualifyRules.step,
];

export function findStep(name: string): StepModule | undefined {
  return STEPS.find((step) => step.registration.name === name);
}

export { decodeRemoteExecutionContext, ContextDecodeError, type RemoteExecutionContext } from "./context.ts";
export type { SavedDeal, StepDecision, StepModule, StepReader, StepRegistration, StepImage } from "./step.ts";

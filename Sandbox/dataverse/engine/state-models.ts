// State models: which statecode/statuscode changes a plain Update may make, and which need a message
// (WinOpportunity, LoseOpportunity, QualifyLead), worded as Dataverse words the refusal.
import type { TableDef } from "./metadata.ts";
import { DataverseError, ErrorCodes } from "./errors.ts";
import type { Row } from "./values.ts";

/** Closing states a plain Update may not set, with the message that must be used instead. */
const MESSAGE_ONLY_STATES: Record<string, Record<number, { stateName: string; request: string }>> = {
  opportunity: { 1: { stateName: "Won", request: "WinOpportunityRequest" }, 2: { stateName: "Lost", request: "LoseOpportunityRequest" } },
  lead: { 1: { stateName: "Qualified", request: "QualifyLeadRequest" } },
};

/** Tables whose records must be created open (statecode 0). */
const STATE_MODEL_TABLES = new Set(Object.keys(MESSAGE_ONLY_STATES));

export function stateName(table: TableDef, state: number): string {
  return table.columns.get("statecode")?.options?.find((o) => o.value === state)?.label.replace(/\s+/g, "") ?? String(state);
}

/** The default status of a state (the first status option belonging to it). */
export function defaultStatus(table: TableDef, state: number): number | undefined {
  return table.columns.get("statuscode")?.options?.find((o) => o.state === state)?.value;
}

export function stateOfStatus(table: TableDef, status: number): number | undefined {
  return table.columns.get("statuscode")?.options?.find((o) => o.value === status)?.state;
}

export function invalidStatus(table: TableDef, id: string, state: number, status: number): DataverseError {
  return new DataverseError(400, ErrorCodes.InvalidArgument,
    `${status} is not a valid status code for state code ${table.schemaName}State.${stateName(table, state)} on ${table.logicalName} with Id ${id}.`);
}

/** Checks that `status` belongs to `state`; -1 or undefined picks the state's default status. */
export function resolveStatus(table: TableDef, id: string, state: number, status: number | undefined): number | undefined {
  if (status === undefined || status === -1) return defaultStatus(table, state);
  if (stateOfStatus(table, status) !== state) throw invalidStatus(table, id, state, status);
  return status;
}

/**
 * The statecode/statuscode an Update leaves the record in, or an error when the change is one only a
 * message may make. `changes` holds the statecode/statuscode the request names.
 */
export function checkStateChange(table: TableDef, id: string, before: Row | undefined, changes: { statecode?: number; statuscode?: number }, via: "update" | "message"): { statecode?: number; statuscode?: number } {
  if (changes.statecode === undefined && changes.statuscode === undefined) return {};
  if (!table.columns.has("statecode")) return changes;
  let state = changes.statecode;
  if (state === undefined) state = stateOfStatus(table, changes.statuscode!) ?? Number(before?.statecode ?? 0);
  const status = resolveStatus(table, id, state, changes.statuscode);
  const previous = before ? Number(before.statecode ?? 0) : 0;
  if (via === "update" && STATE_MODEL_TABLES.has(table.logicalName)) {
    const only = MESSAGE_ONLY_STATES[table.logicalName]?.[state];
    if (only && (state !== previous || !before)) {
      throw new DataverseError(400, ErrorCodes.InvalidArgument,
        `This message can not be used to set the state of ${table.logicalName} to ${only.stateName}. In order to set state of ${table.logicalName} to ${only.stateName}, use the ${only.request} message instead.`);
    }
    if (!before && state !== 0) {
      throw new DataverseError(400, ErrorCodes.InvalidArgument, `A new ${table.logicalName} must be created in the ${stateName(table, 0)} state.`);
    }
    if (before && previous !== 0 && state !== 0 && state !== previous) {
      throw new DataverseError(400, ErrorCodes.InvalidArgument,
        `The ${table.logicalName} is ${stateName(table, previous)}. Reactivate it (statecode 0) before setting it to ${stateName(table, state)}.`);
    }
  }
  return { statecode: state, ...(status !== undefined ? { statuscode: status } : {}) };
}

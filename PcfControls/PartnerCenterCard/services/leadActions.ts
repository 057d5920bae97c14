// The seller's answer to a referral, from the card on the lead form:
//   Accept  = QualifyLead (CreateOpportunity, no new account or contact, Status 3 Qualified); the
//             relay's synchronous step refuses it when the referral expired or was closed, or revenue or
//             close date are missing, and the card shows that refusal;
//   Decline = an update of the lead to Disqualified with the chosen reason and the seller's note, which
//             the relay turns into Closed/Declined in Partner Center.
// PCF's context.webAPI has no execute, so QualifyLead goes through the page's Xrm.WebApi.online.execute
// when the form offers it, else a plain POST to the org's own Web API (same origin, the user's session).
import { Opportunity } from "../../../Core/generated/schema.ts";
import { LEAD_STATUS_QUALIFIED, LeadState, StandardLead } from "../constants.ts";
import { describeError, normalizeId } from "./dataverse.ts";
import type { FetchLike } from "./relay.ts";

/** The part of ComponentFramework.WebApi the lead actions use. */
export type LeadWebApi = Pick<ComponentFramework.WebApi, "retrieveRecord" | "updateRecord">;

/** A reference as Xrm.WebApi.online.execute takes it. */
export interface XrmReference {
  entityType: string;
  id: string;
}

/** The slice of the page's Xrm the adapter uses (present on model-driven forms). */
export interface XrmExecute {
  WebApi?: { online?: { execute?: (request: object) => Promise<{ ok: boolean; status?: number; json: () => Promise<unknown> }> } };
}

export interface QualifyInput {
  leadId: string;
  /** The lead's existing account (parentaccountid): the new opportunity's customer. */
  customerAccountId: string | null;
  /** The lead's currency, carried to the opportunity as the Qualify dialog does. */
  currencyId: string | null;
}

export interface LeadActions {
  /** Qualifies the lead into a new opportunity; resolves with that opportunity's id (null if none came back). */
  accept(leadId: string): Promise<{ opportunityId: string | null }>;
  /** Disqualifies the lead with a Disqualified status reason and the seller's note for Microsoft. */
  decline(leadId: string, reason: number, note: string): Promise<void>;
  /** Opens the opportunity the lead became. */
  openOpportunity(opportunityId: string): Promise<void>;
}

/** A refusal or failure from Dataverse, with the message Dataverse (or the relay's step) gave. */
export class LeadActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LeadActionError";
  }
}

const ODATA_TYPE = "@odata.type";
const entity = (logicalName: string, idColumn: string, id: string): Record<string, string> => ({ [ODATA_TYPE]: `Microsoft.Dynamics.CRM.${logicalName}`, [idColumn]: id });

/** The Web API body of QualifyLead (POST leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead). */
export function qualifyLeadBody(input: QualifyInput): Record<string, unknown> {
  return {
    CreateAccount: false,
    CreateContact: false,
    CreateOpportunity: true,
    Status: LEAD_STATUS_QUALIFIED,
    ...(input.customerAccountId ? { OpportunityCustomerId: entity("account", "accountid", input.customerAccountId) } : {}),
    ...(input.currencyId ? { OpportunityCurrencyId: entity("transactioncurrency", "transactioncurrencyid", input.currencyId) } : {}),
  };
}

/** The same request for Xrm.WebApi.online.execute: values on the object, metadata from getMetadata. */
export function qualifyLeadRequest(input: QualifyInput): Record<string, unknown> {
  const reference = (typeName: string) => ({ typeName, structuralProperty: 5 });
  const parameterTypes: Record<string, { typeName: string; structuralProperty: number }> = {
    entity: reference(`mscrm.${StandardLead.logicalName}`),
    CreateAccount: { typeName: "Edm.Boolean", structuralProperty: 1 },
    CreateContact: { typeName: "Edm.Boolean", structuralProperty: 1 },
    CreateOpportunity: { typeName: "Edm.Boolean", structuralProperty: 1 },
    Status: { typeName: "Edm.Int32", structuralProperty: 1 },
  };
  const request: Record<string, unknown> = {
    entity: { entityType: StandardLead.logicalName, id: input.leadId } satisfies XrmReference,
    CreateAccount: false,
    CreateContact: false,
    CreateOpportunity: true,
    Status: LEAD_STATUS_QUALIFIED,
  };
  if (input.customerAccountId) {
    request.OpportunityCustomerId = { entityType: "account", id: input.customerAccountId } satisfies XrmReference;
    parameterTypes.OpportunityCustomerId = reference("mscrm.crmbaseentity");
  }
  if (input.currencyId) {
    request.OpportunityCurrencyId = { entityType: "transactioncurrency", id: input.currencyId } satisfies XrmReference;
    parameterTypes.OpportunityCurrencyId = reference("mscrm.transactioncurrency");
  }
  // Xrm reads getMetadata from the request object; it is not sent.
  Object.defineProperty(request, "getMetadata", {
    enumerable: false,
    value: () => ({ boundParameter: "entity", parameterTypes, operationType: 0, operationName: "QualifyLead" }),
  });
  return request;
}

/** The new opportunity's id in QualifyLead's answer (a collection of the records it created). */
export function createdOpportunityId(answer: unknown): string | null {
  const value = answer && typeof answer === "object" ? (answer as { value?: unknown }).value : undefined;
  if (!Array.isArray(value)) return null;
  for (const record of value as Array<Record<string, unknown>>) {
    if (typeof record.opportunityid === "string") return normalizeId(record.opportunityid);
    if (String(record[ODATA_TYPE] ?? "").endsWith(".opportunity") && typeof record.id === "string") return normalizeId(record.id);
  }
  return null;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === "string" && body.error.message) return body.error.message;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${response.status}`;
}

export interface LeadActionsDependencies {
  webAPI: () => LeadWebApi | null;
  /** The page's Xrm (window.Xrm on a model-driven form), if any. */
  xrm: () => XrmExecute | undefined;
  /** fetch for the Web API fallback: same origin, so the user's session cookie signs it. */
  fetch: FetchLike;
  /** The org's own origin (window.location.origin). */
  origin: () => string;
  navigation: () => Pick<ComponentFramework.Navigation, "openForm">;
}

export function createLeadActions(deps: LeadActionsDependencies): LeadActions {
  const webAPI = (): LeadWebApi => {
    const api = deps.webAPI();
    if (!api) throw new LeadActionError("this form offers no Web API");
    return api;
  };

  async function readLead(leadId: string): Promise<QualifyInput> {
    const account = `_${StandardLead.parentAccount}_value`;
    const currency = `_${StandardLead.currency}_value`;
    const lead = await webAPI().retrieveRecord(StandardLead.logicalName, leadId, `?$select=${account},${currency}`);
    return { leadId, customerAccountId: normalizeId(String(lead[account] ?? "")), currencyId: normalizeId(String(lead[currency] ?? "")) };
  }

  async function qualify(input: QualifyInput): Promise<unknown> {
    const execute = deps.xrm()?.WebApi?.online?.execute;
    if (execute) {
      const response = await execute(qualifyLeadRequest(input));
      return response.json();
    }
    const url = `${deps.origin()}/api/data/v9.2/${StandardLead.entitySetName}(${input.leadId})/Microsoft.Dynamics.CRM.QualifyLead`;
    const response = await deps.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json; charset=utf-8", "OData-MaxVersion": "4.0", "OData-Version": "4.0" },
      body: JSON.stringify(qualifyLeadBody(input)),
    });
    if (!response.ok) throw new LeadActionError(await errorMessage(response));
    return response.json();
  }

  const refused = (error: unknown): never => {
    throw error instanceof LeadActionError ? error : new LeadActionError(describeError(error));
  };

  return {
    accept: async (leadId) => {
      try {
        const answer = await qualify(await readLead(leadId));
        return { opportunityId: createdOpportunityId(answer) };
      } catch (error) {
        return refused(error);
      }
    },
    decline: async (leadId, reason, note) => {
      try {
        await webAPI().updateRecord(StandardLead.logicalName, leadId, {
          [StandardLead.stateCode]: LeadState.Disqualified,
          [StandardLead.statusCode]: reason,
          [StandardLead.qualificationComments]: note.trim() || null,
        });
      } catch (error) {
        refused(error);
      }
    },
    openOpportunity: (opportunityId) => deps.navigation().openForm({ entityName: Opportunity.logicalName, entityId: opportunityId }).then(() => undefined),
  };
}

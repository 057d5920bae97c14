// Actions and functions: unbound actions such as WinOpportunity and LoseOpportunity, bound ones such
// as leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead, and the WhoAmI function. Actions change data and
// are never retried after a 5xx; WhoAmI is a read.
import { failure, type DataverseRequest } from "./dataverse-request.ts";
import { recordPath, type RecordKey } from "./dataverse-query.ts";

export interface ActionOptions {
  /** Bind the action to a record: `entitySet(key)/Microsoft.Dynamics.CRM.<name>`. */
  bound?: { entitySet: string; key: RecordKey };
  headers?: Record<string, string>;
}

/** POST an action; answers its response body, or undefined for 204. */
export function actionRequest<T = unknown>(name: string, body: Record<string, unknown> = {}, options: ActionOptions = {}): DataverseRequest<T | undefined> {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new TypeError(`Not an action name: ${name}`);
  const qualified = name.includes(".") ? name : `Microsoft.Dynamics.CRM.${name}`;
  const request: DataverseRequest<T | undefined> = {
    method: "POST",
    path: options.bound ? `${recordPath(options.bound.entitySet, options.bound.key)}/${qualified}` : name.replace(/^Microsoft\.Dynamics\.CRM\./, ""),
    headers: { ...options.headers },
    body,
    idempotent: false,
    read(response) {
      if (response.status === 204) return undefined;
      if (response.status !== 200 && response.status !== 201) throw failure(request, response);
      if (response.json === undefined) return undefined;
      const result = { ...(response.json as Record<string, unknown>) };
      delete result["@odata.context"];
      return result as T;
    },
  };
  return request;
}

export interface WhoAmI {
  UserId: string;
  BusinessUnitId: string;
  OrganizationId: string;
}

export function whoAmIRequest(): DataverseRequest<WhoAmI> {
  const request: DataverseRequest<WhoAmI> = {
    method: "GET",
    path: "WhoAmI",
    headers: {},
    idempotent: true,
    read(response) {
      const body = response.json as Partial<WhoAmI> | undefined;
      if (response.status !== 200 || typeof body?.UserId !== "string") throw failure(request, response);
      return { UserId: body.UserId, BusinessUnitId: String(body.BusinessUnitId ?? ""), OrganizationId: String(body.OrganizationId ?? "") };
    },
  };
  return request;
}

// POST a new record: 204 with its URL in OData-EntityId, or 201 with the row under
// `Prefer: return=representation` (dataverse.md §9). Not idempotent: never retried after a 5xx.
import { failure, type DataverseRequest } from "./dataverse-request.ts";
import { idFromEntityUrl, queryString, type Row } from "./dataverse-query.ts";

export interface CreateOptions {
  /** Answer with the created row (201) instead of 204. */
  returnRepresentation?: boolean;
  /** Columns of the representation. */
  select?: readonly string[];
  /** Put the new record into this unmanaged solution (`MSCRM.SolutionUniqueName`). */
  solutionUniqueName?: string;
  /** Extra headers, e.g. `CallerObjectId` or `MSCRM.BypassCustomPluginExecution`. */
  headers?: Record<string, string>;
}

export interface CreateResult<T extends Row = Row> {
  id: string;
  /** The row, with returnRepresentation. */
  row?: T;
  etag?: string;
}

export function createRequest<T extends Row = Row>(entitySet: string, body: Record<string, unknown>, options: CreateOptions = {}): DataverseRequest<CreateResult<T>> {
  const request: DataverseRequest<CreateResult<T>> = {
    method: "POST",
    path: `${entitySet}${options.returnRepresentation && options.select ? queryString({ select: options.select }) : ""}`,
    headers: {
      ...(options.returnRepresentation ? { prefer: "return=representation" } : {}),
      ...(options.solutionUniqueName ? { "mscrm.solutionuniquename": options.solutionUniqueName } : {}),
      ...options.headers,
    },
    body,
    idempotent: false,
    read(response) {
      if (response.status !== 201 && response.status !== 204) throw failure(request, response);
      const id = idFromEntityUrl(response.headers["odata-entityid"]) ?? idFromEntityUrl(response.headers.location);
      if (!id) throw failure(request, { ...response, status: 500, text: "Dataverse created the record but sent no OData-EntityId header" });
      if (response.status === 201 && response.json && typeof response.json === "object") {
        const row = { ...(response.json as Record<string, unknown>) };
        delete row["@odata.context"];
        const etag = typeof row["@odata.etag"] === "string" ? row["@odata.etag"] : response.headers.etag;
        return { id, row: row as T, ...(etag ? { etag } : {}) };
      }
      return { id, ...(response.headers.etag ? { etag: response.headers.etag } : {}) };
    },
  };
  return request;
}

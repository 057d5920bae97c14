// PATCH: update and upsert (dataverse.md §9). An update always carries If-Match: the row's ETag for
// optimistic concurrency, or `*` so a missing record is never created by accident. A 412 answers
// { updated: false, reason: "changed" }: the caller re-reads and re-diffs, never overwrites blindly.
import { DataverseErrorCodes } from "./dataverse-errors.ts";
import { failure, responseCode, type DataverseRequest, type RawResponse } from "./dataverse-request.ts";
import { idFromEntityUrl, queryString, recordPath, type RecordKey, type Row } from "./dataverse-query.ts";

export interface UpdateOptions {
  /** The ETag the change is based on (`row["@odata.etag"]`), or `*` (default): the record must exist. */
  ifMatch?: string;
  returnRepresentation?: boolean;
  select?: readonly string[];
  headers?: Record<string, string>;
}

export type UpdateResult<T extends Row = Row> =
  | { updated: true; row?: T; etag?: string }
  /** changed: the ETag no longer matches (someone else wrote); missing: no such record. */
  | { updated: false; reason: "changed" | "missing" };

export function updateRequest<T extends Row = Row>(entitySet: string, key: RecordKey, changes: Record<string, unknown>, options: UpdateOptions = {}): DataverseRequest<UpdateResult<T>> {
  const ifMatch = options.ifMatch ?? "*";
  if (!ifMatch.trim()) throw new TypeError("ifMatch must be an ETag or '*'");
  const request: DataverseRequest<UpdateResult<T>> = {
    method: "PATCH",
    path: `${recordPath(entitySet, key)}${options.returnRepresentation && options.select ? queryString({ select: options.select }) : ""}`,
    headers: { "if-match": ifMatch, ...(options.returnRepresentation ? { prefer: "return=representation" } : {}), ...options.headers },
    body: changes,
    // Setting values again is harmless; with an ETag, a retry after a lost answer reads as "changed"
    // and the caller's re-read finds nothing left to do.
    idempotent: true,
    read(response) {
      if (response.status === 412) return { updated: false, reason: "changed" };
      if (response.status === 404 && responseCode(response) === DataverseErrorCodes.ObjectDoesNotExist) return { updated: false, reason: "missing" };
      if (response.status !== 200 && response.status !== 204) throw failure(request, response);
      return { updated: true, ...representation<T>(response) };
    },
  };
  return request;
}

export interface UpsertOptions {
  returnRepresentation?: boolean;
  select?: readonly string[];
  headers?: Record<string, string>;
}

export interface UpsertResult<T extends Row = Row> {
  id: string;
  /** Known only with returnRepresentation (201 created, 200 updated); Dataverse answers 204 to both otherwise. */
  created?: boolean;
  row?: T;
  etag?: string;
}

/** PATCH without If-Match: updates the record with this id or alternate key, or creates it. */
export function upsertRequest<T extends Row = Row>(entitySet: string, key: RecordKey, body: Record<string, unknown>, options: UpsertOptions = {}): DataverseRequest<UpsertResult<T>> {
  const request: DataverseRequest<UpsertResult<T>> = {
    method: "PATCH",
    path: `${recordPath(entitySet, key)}${options.returnRepresentation && options.select ? queryString({ select: options.select }) : ""}`,
    headers: { ...(options.returnRepresentation ? { prefer: "return=representation" } : {}), ...options.headers },
    body,
    idempotent: true,
    read(response) {
      if (response.status !== 200 && response.status !== 201 && response.status !== 204) throw failure(request, response);
      const id = idFromEntityUrl(response.headers["odata-entityid"]) ?? (typeof key === "string" && !key.startsWith("$") ? key.toLowerCase() : undefined);
      if (!id) throw failure(request, { ...response, status: 500, text: "Dataverse upserted the record but sent no OData-EntityId header" });
      return {
        id,
        ...(response.status === 201 ? { created: true } : response.status === 200 ? { created: false } : {}),
        ...representation<T>(response),
      };
    },
  };
  return request;
}

function representation<T extends Row>(response: RawResponse): { row?: T; etag?: string } {
  if (response.json && typeof response.json === "object") {
    const row = { ...(response.json as Record<string, unknown>) };
    delete row["@odata.context"];
    const etag = typeof row["@odata.etag"] === "string" ? row["@odata.etag"] : response.headers.etag;
    return { row: row as T, ...(etag ? { etag } : {}) };
  }
  return response.headers.etag ? { etag: response.headers.etag } : {};
}


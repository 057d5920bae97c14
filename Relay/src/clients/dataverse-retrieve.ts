// Reads: one record by id or alternate key (with its @odata.etag), and pages of a query that follow
// @odata.nextLink unchanged with the same odata.maxpagesize preference (dataverse.md §9, Paging).
import { DataverseErrorCodes } from "./dataverse-errors.ts";
import { failure, readPreferences, responseCode, type DataverseRequest } from "./dataverse-request.ts";
import { queryString, recordPath, type Expand, type QueryOptions, type RecordKey, type Row } from "./dataverse-query.ts";

export interface RetrieveOptions {
  select?: readonly string[];
  expand?: readonly Expand[];
  /** Ask for `@OData.Community.Display.V1.FormattedValue` annotations (default true). */
  formattedValues?: boolean;
}

/** A record and the ETag to update it with. */
export type RetrievedRow<T extends Row = Row> = T & { "@odata.etag": string };

/** GET one record; a missing record reads as undefined (a missing table or column still throws). */
export function retrieveRequest<T extends Row = Row>(entitySet: string, key: RecordKey, options: RetrieveOptions = {}): DataverseRequest<RetrievedRow<T> | undefined> {
  const path = `${recordPath(entitySet, key)}${queryString({ ...(options.select ? { select: options.select } : {}), ...(options.expand ? { expand: options.expand } : {}) })}`;
  const request: DataverseRequest<RetrievedRow<T> | undefined> = {
    method: "GET",
    path,
    headers: readPreferences(options),
    idempotent: true,
    read(response) {
      if (response.status === 404 && responseCode(response) === DataverseErrorCodes.ObjectDoesNotExist) return undefined;
      if (response.status !== 200 || !isObject(response.json)) throw failure(request, response);
      const row = { ...response.json } as Record<string, unknown>;
      delete row["@odata.context"];
      if (typeof row["@odata.etag"] !== "string" && response.headers.etag) row["@odata.etag"] = response.headers.etag;
      return row as RetrievedRow<T>;
    },
  };
  return request;
}

export interface MultipleQuery extends QueryOptions {
  /** `Prefer: odata.maxpagesize` (1..5000; Dataverse's default is 5000). */
  maxPageSize?: number;
  formattedValues?: boolean;
}

export interface Page<T extends Row = Row> {
  value: T[];
  /** Absent on the last page. */
  nextLink?: string;
  /** With `count: true` (capped at 5000 by Dataverse). */
  count?: number;
}

/** GET the first page of a query; pass `nextLink` to get the following one (the URL is used unchanged). */
export function retrieveMultipleRequest<T extends Row = Row>(entitySet: string, query: MultipleQuery = {}, nextLink?: string): DataverseRequest<Page<T>> {
  const { maxPageSize, formattedValues, ...options } = query;
  const request: DataverseRequest<Page<T>> = {
    method: "GET",
    path: nextLink ?? `${entitySet}${queryString(options)}`,
    headers: readPreferences({ ...(maxPageSize !== undefined ? { maxPageSize } : {}), ...(formattedValues !== undefined ? { formattedValues } : {}) }),
    idempotent: true,
    read(response) {
      const body = response.json as { value?: unknown; "@odata.nextLink"?: unknown; "@odata.count"?: unknown } | undefined;
      if (response.status !== 200 || !isObject(body) || !Array.isArray(body.value)) throw failure(request, response);
      return {
        value: body.value as T[],
        ...(typeof body["@odata.nextLink"] === "string" ? { nextLink: body["@odata.nextLink"] } : {}),
        ...(typeof body["@odata.count"] === "number" ? { count: body["@odata.count"] } : {}),
      };
    },
  };
  return request;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}


// One Web API request as data: what to send, and how to read the answer. The same object is sent on
// its own (DataverseClient.send) or as a part of a $batch (DataverseClient.batch), so every request
// kind is written once: its builder in dataverse-<kind>.ts, its answer reader next to it.
import { DataverseError, errorFromResponse, normalizeCode } from "./dataverse-errors.ts";

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** An answer, from the wire or from a $batch part. Header names are lower case. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body when it was JSON. */
  json?: unknown;
  /** Attempts the transport made for it, retries included. */
  attempts?: number;
  /** What the last Retry-After asked for, in ms. */
  retryAfterMs?: number;
}

export interface DataverseRequest<T> {
  method: HttpMethod;
  /** Relative to the Web API root (`opportunities(…)?$select=…`), an absolute URL on the org (a nextLink), or `$n`. */
  path: string;
  headers: Record<string, string>;
  /** JSON-serialisable, or a string sent as is (with its own content-type header). */
  body?: unknown;
  /** Safe to send again after a 5xx or a lost connection (429 is always retried: Dataverse did not run it). */
  idempotent: boolean;
  /** Turns the final answer into the result, or throws a DataverseError. */
  read(response: RawResponse): T;
}

/** The result type of a request. */
export type ResultOf<R> = R extends DataverseRequest<infer T> ? T : never;

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Throws the answer's DataverseError unless it is a 2xx. */
export function expectSuccess(request: Pick<DataverseRequest<unknown>, "method" | "path">, response: RawResponse): void {
  if (!isSuccess(response.status)) throw failure(request, response);
}

/** The error code of a failed answer (hex, lower case), or "". */
export function responseCode(response: RawResponse): string {
  return normalizeCode((response.json as { error?: { code?: unknown } } | undefined)?.error?.code);
}

export function failure(request: Pick<DataverseRequest<unknown>, "method" | "path">, response: RawResponse): DataverseError {
  return errorFromResponse(response, {
    method: request.method,
    url: request.path,
    ...(response.attempts !== undefined ? { attempts: response.attempts } : {}),
    ...(response.retryAfterMs !== undefined ? { retryAfterMs: response.retryAfterMs } : {}),
  });
}

/** Prefer values for reads: formatted values of choices, money and dates, and a page size. */
export function readPreferences(options: { formattedValues?: boolean; maxPageSize?: number }): Record<string, string> {
  const prefer: string[] = [];
  if (options.formattedValues !== false) prefer.push('odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
  if (options.maxPageSize !== undefined) {
    if (!Number.isInteger(options.maxPageSize) || options.maxPageSize < 1 || options.maxPageSize > 5000) {
      throw new RangeError(`maxPageSize must be 1..5000, got ${options.maxPageSize}`);
    }
    prefer.push(`odata.maxpagesize=${options.maxPageSize}`);
  }
  return prefer.length ? { prefer: prefer.join(",") } : {};
}

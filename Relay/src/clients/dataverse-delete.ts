// DELETE a record, optionally only if it is unchanged (If-Match). A record that is already gone
// answers { deleted: false, reason: "missing" }, so a retried delete is harmless.
import { DataverseErrorCodes } from "./dataverse-errors.ts";
import { failure, responseCode, type DataverseRequest } from "./dataverse-request.ts";
import { recordPath, type RecordKey } from "./dataverse-query.ts";

export interface DeleteOptions {
  /** Delete only if the record still has this ETag. */
  ifMatch?: string;
  headers?: Record<string, string>;
}

export type DeleteResult = { deleted: true } | { deleted: false; reason: "changed" | "missing" };

export function deleteRequest(entitySet: string, key: RecordKey, options: DeleteOptions = {}): DataverseRequest<DeleteResult> {
  const request: DataverseRequest<DeleteResult> = {
    method: "DELETE",
    path: recordPath(entitySet, key),
    headers: { ...(options.ifMatch ? { "if-match": options.ifMatch } : {}), ...options.headers },
    idempotent: true,
    read(response) {
      if (response.status === 204 || response.status === 200) return { deleted: true };
      if (response.status === 412) return { deleted: false, reason: "changed" };
      if (response.status === 404 && responseCode(response) === DataverseErrorCodes.ObjectDoesNotExist) return { deleted: false, reason: "missing" };
      throw failure(request, response);
    },
  };
  return request;
}

// Dataverse's error answers: an HTTP status plus the `{ error: { code, message } }` body (dataverse.md §9).
// Codes are the platform's hex error codes where Microsoft documents them; the README lists the
// messages the sandbox words itself.

export class DataverseError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Error codes the sandbox answers with (name → hex code, from Microsoft's web service error code list). */
export const ErrorCodes = {
  /** OData layer: unknown property, segment or malformed query. */
  ODataError: "0x80060888",
  ResourceNotFoundForSegment: "0x8006088a",
  ObjectDoesNotExist: "0x80040217",
  DuplicateRecord: "0x80040237",
  DuplicateRecordEntityKey: "0x80060892",
  InvalidArgument: "0x80040203",
  ValidationError: "0x80044331",
  CannotDeleteDueToAssociation: "0x80040227",
  /** A plug-in (here: a synchronous webhook step) cancelled the operation. */
  IsvAborted: "0x80040265",
  /** The caller may not read (or write) this record: SecLib::AccessCheckEx. */
  AccessDenied: "0x80048306",
  UserNotInOrganization: "0x80072560",
  NotSupported: "0x80040220",
  Unexpected: "0x80040216",
  RequestsLimit: "0x80072322",
  ExecutionTimeLimit: "0x80072321",
  ConcurrencyLimit: "0x80072326",
} as const;

export const odataError = (message: string, status = 400): DataverseError => new DataverseError(status, ErrorCodes.ODataError, message);

export function notFound(table: string, id: string): DataverseError {
  return new DataverseError(404, ErrorCodes.ObjectDoesNotExist, `${table} With Id = ${id} Does Not Exist`);
}

/** The record is outside what the caller may read (Dataverse's AccessCheckEx failure, answered 403). */
export function accessDenied(table: { logicalName: string; objectTypeCode: number }, row: Record<string, unknown>, id: string, userId: string): DataverseError {
  const ref = (value: unknown): string => (typeof value === "object" && value !== null && "id" in value ? String((value as { id: unknown }).id) : "");
  return new DataverseError(403, ErrorCodes.AccessDenied,
    `SecLib::AccessCheckEx failed. Returned hr = -2147187962, ObjectID: ${id}, OwnerId: ${ref(row.ownerid)}, OwnerIdType: 8 and CallingUser: ${userId}. ObjectTypeCode: ${table.objectTypeCode}, objectBusinessUnitId: ${ref(row.owningbusinessunit)}, AccessRights: ReadAccess `);
}

export function segmentNotFound(segment: string): DataverseError {
  return new DataverseError(404, ErrorCodes.ResourceNotFoundForSegment, `Resource not found for the segment '${segment}'.`);
}

export function unknownProperty(table: string, property: string): DataverseError {
  return odataError(`Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${table}'.`);
}

export function badRequest(message: string, code: string = ErrorCodes.InvalidArgument): DataverseError {
  return new DataverseError(400, code, message);
}

/** The error body Dataverse sends; with `Prefer: odata.include-annotations` it adds the CDS annotations. */
export function errorBody(error: DataverseError, annotations: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { code: error.code, message: error.message };
  if (annotations) {
    const hex = error.code.replace(/^0x/, "");
    body["@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus"] = "0";
    body["@Microsoft.PowerApps.CDS.HelpLink"] = `http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a${hex}&client=platform`;
    body["@Microsoft.PowerApps.CDS.TraceText"] = "";
    body["@Microsoft.PowerApps.CDS.InnerError.Message"] = error.message;
  }
  return { error: body };
}

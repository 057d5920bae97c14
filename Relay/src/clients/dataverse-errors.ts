// Dataverse's errors as one typed error: the HTTP status, the platform's hex code, its message, and
// what an admin should do about it in plain words (dataverse.md §9, "Error body"). The relay logs
// `whatToDo` next to the message and shows it on the card; it never shows the raw error alone.
import { EnvironmentVariables, Roles } from "../../../Core/generated/schema.ts";

/** Codes the relay reacts to (hex, as Dataverse writes them in `error.code`). */
export const DataverseErrorCodes = {
  ObjectDoesNotExist: "0x80040217",
  ODataError: "0x80060888",
  ResourceNotFoundForSegment: "0x8006088a",
  DuplicateRecordEntityKey: "0x80060892",
  DuplicateRecord: "0x80040237",
  PrivilegeDenied: "0x80040220",
  UserNotInOrganization: "0x80072560",
  IsvAborted: "0x80040265",
  RequestsLimit: "0x80072322",
  ExecutionTimeLimit: "0x80072321",
  ConcurrencyLimit: "0x80072326",
} as const;

export interface DataverseErrorDetails {
  status: number;
  /** The platform's error code as hex (`0x80040217`), or "" when Dataverse sent none (412, network). */
  code: string;
  message: string;
  method?: string;
  /** The request URL without its query string (queries can hold customer data). */
  url?: string;
  /** Attempts made, retries included. */
  attempts?: number;
  /** What Retry-After asked for on the last answer, in ms. */
  retryAfterMs?: number;
  /** The `@Microsoft.PowerApps.CDS.*` annotations, when Dataverse sent them. */
  annotations?: Record<string, unknown>;
  cause?: unknown;
}

export class DataverseError extends Error {
  override readonly name = "DataverseError";
  readonly status: number;
  readonly code: string;
  /** What to do about it, in plain words, for the admin. */
  readonly whatToDo: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly attempts: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly annotations: Record<string, unknown> | undefined;

  constructor(details: DataverseErrorDetails) {
    super(details.message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.status = details.status;
    this.code = details.code;
    this.method = details.method;
    this.url = details.url;
    this.attempts = details.attempts;
    this.retryAfterMs = details.retryAfterMs;
    this.annotations = details.annotations;
    this.whatToDo = whatToDo(details.status, details.code, details.message);
  }

  /** True for throttling and server trouble: worth trying again later (the queue does). */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** Dataverse writes codes as hex strings; older endpoints and some SDK paths as negative decimals. */
export function normalizeCode(code: unknown): string {
  if (typeof code === "number" || (typeof code === "string" && /^-?\d+$/.test(code.trim()))) {
    return `0x${(Number(code) >>> 0).toString(16).padStart(8, "0")}`;
  }
  return typeof code === "string" ? code.trim().toLowerCase() : "";
}

/** Variables whose value is a column name: a missing column usually means one of them is wrong. */
const COLUMN_VARIABLES = [EnvironmentVariables.dealValueField, EnvironmentVariables.customerAccountCountryCodeField];

function missingColumn(message: string): { column: string; table?: string } | undefined {
  const match = /Could not find a property named '([^']+)'(?: on type 'Microsoft\.Dynamics\.CRM\.([^']+)')?/i.exec(message);
  return match ? { column: match[1]!, ...(match[2] ? { table: match[2] } : {}) } : undefined;
}

function whatToDo(status: number, code: string, message: string): string {
  const column = missingColumn(message);
  if (column) {
    const variables = COLUMN_VARIABLES.map((v) => `"${v.displayName["1033"]}" (${v.schemaName})`).join(" or ");
    return `The column '${column.column}' does not exist${column.table ? ` on ${column.table}` : ""}. ` +
      `If that name comes from an environment variable, check the current value of ${variables} in the maker portal.`;
  }
  switch (status) {
    case 0:
      return "The relay could not reach Dataverse. Check the org URL, DNS, proxy and firewall; the relay retries safe requests by itself.";
    case 401:
      return "Dataverse did not accept the relay's sign-in. Check the app registration (tenant id, client id) and that its client secret is current and not expired.";
    case 403:
      if (code === DataverseErrorCodes.UserNotInOrganization) {
        return `The relay's app registration is not an application user of this environment. In the Power Platform admin center add it as an application user and give it the ${Roles.partnerCenterRelay.name} security role.`;
      }
      return `The relay's application user lacks a privilege. Give it the ${Roles.partnerCenterRelay.name} security role (and nothing more) in the Power Platform admin center.`;
    case 404:
      if (code === DataverseErrorCodes.ResourceNotFoundForSegment) {
        return "Dataverse does not know this table or action. Check that the Partner Center Referrals solution is imported into this environment and the org URL points at it.";
      }
      return "The record does not exist (any more). It may have been deleted; the relay will re-read before acting again.";
    case 412:
      if (/matching key values already exists/i.test(message)) return "A record with the same key already exists: read it and update it instead of creating a new one.";
      return "Someone changed the record since the relay read it. The relay re-reads it and applies its change again; nothing was overwritten.";
    case 429:
      return "Dataverse is throttling the relay (service protection limits). The relay waits as long as Retry-After asks and retries; if this persists, lower the relay's Dataverse concurrency.";
    case 413:
      return "The request is too large for Dataverse. Split it (fewer requests in one $batch, smaller text).";
    default:
      break;
  }
  if (code === DataverseErrorCodes.IsvAborted) return `A synchronous plug-in or webhook step cancelled the operation: ${message}`;
  if (code === DataverseErrorCodes.DuplicateRecordEntityKey || code === DataverseErrorCodes.DuplicateRecord) {
    return "A record with the same key already exists: read it and update it instead of creating a new one.";
  }
  if (status >= 500) return "Dataverse had a server problem. The relay retries safe requests by itself; if it persists, check the Power Platform service health.";
  if (status === 400) return "Dataverse refused the request as invalid. The message says which value or query part; this is usually a relay bug or a customization that changed a column.";
  return "See the message for the cause.";
}

/** The error Dataverse answered with, from its status, headers and body. */
export function errorFromResponse(
  response: { status: number; headers: Record<string, string>; json?: unknown; text: string },
  context: { method?: string; url?: string; attempts?: number; retryAfterMs?: number } = {},
): DataverseError {
  const body = response.json as { error?: Record<string, unknown> } | undefined;
  const error = body && typeof body === "object" && body.error && typeof body.error === "object" ? body.error : undefined;
  const annotations = error ? Object.fromEntries(Object.entries(error).filter(([k]) => k.startsWith("@"))) : {};
  const message = typeof error?.message === "string" && error.message
    ? error.message
    : response.text.trim().slice(0, 500) || `HTTP ${response.status}`;
  return new DataverseError({
    status: response.status,
    code: normalizeCode(error?.code),
    message,
    ...(context.method ? { method: context.method } : {}),
    ...(context.url ? { url: context.url.split("?")[0]! } : {}),
    ...(context.attempts !== undefined ? { attempts: context.attempts } : {}),
    ...(context.retryAfterMs !== undefined ? { retryAfterMs: context.retryAfterMs } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  });
}

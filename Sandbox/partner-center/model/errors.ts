// Errors the model raises; the HTTP layer renders them (Shape A on the referrals API, Shape B on webhooks).

/** Shape A error codes documented for api.partner.microsoft.com, plus the MFA gateway code. */
export type ApiErrorCode =
  | "invalidRequest"
  | "unauthenticated"
  | "accessDenied"
  | "itemNotFound"
  | "preconditionFailed"
  | "resourceModified"
  | "conflict"
  | "methodNotAllowed"
  | "unsupportedMediaType"
  | "tooManyRequests"
  | "generalException"
  | "serviceNotAvailable"
  | "900421";

export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly target: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ApiErrorCode, message: string, options: { target?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.target = options.target;
    this.headers = options.headers ?? {};
  }
}

export const invalid = (message: string, target?: string) => new ApiError(400, "invalidRequest", message, target === undefined ? {} : { target });
export const notFound = (message: string, target = "referral") => new ApiError(404, "itemNotFound", message, { target });

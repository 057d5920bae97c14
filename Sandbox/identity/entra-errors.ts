// Error answers in Entra ID's shape: an OAuth `error`, an `AADSTSnnnn: …` description that ends with
// the trace id, correlation id and timestamp, `error_codes`, and the ids again as fields. Messages
// follow Microsoft's error-code reference (learn.microsoft.com, "Microsoft Entra authentication and
// authorization error codes") and what the service answers on the wire.

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

export class EntraError extends Error {
  readonly status: 400 | 401;
  readonly error: string;
  readonly code: number;
  readonly suberror: string | undefined;

  constructor(status: 400 | 401, error: string, code: number, message: string, suberror?: string) {
    super(message);
    this.status = status;
    this.error = error;
    this.code = code;
    this.suberror = suberror;
  }
}

/** Entra ID's timestamp format: `2016-01-09 02:02:12Z`. */
export function entraTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function entraErrorBody(error: EntraError, ids: { traceId: string; correlationId: string }, now: Date): EntraErrorBody {
  const timestamp = entraTimestamp(now);
  return {
    error: error.error,
    error_description: `AADSTS${error.code}: ${error.message}\r\nTrace ID: ${ids.traceId}\r\nCorrelation ID: ${ids.correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [error.code],
    timestamp,
    trace_id: ids.traceId,
    correlation_id: ids.correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
    ...(error.suberror ? { suberror: error.suberror } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** Every error the sandbox answers with, in one place. */
export const Errors = {
  missingParameter: (name: string) =>
    new EntraError(400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`),
  methodNotAllowed: (method: string) =>
    new EntraError(400, "invalid_request", 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`),
  tenantNotFound: (tenant: string, error: "invalid_tenant" | "invalid_request") =>
    new EntraError(400, error, 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`),
  noTenantInformation: () =>
    new EntraError(400, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials."),
  grantNotOnCommon: () =>
    new EntraError(400, "invalid_request", 9001023, "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."),
  unsupportedGrantType: (grant: string) =>
    new EntraError(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grant}'.`),
  // Entra ID has no per-app list of grants; the sandbox enforces demo-tenant.ts's with the OAuth error for it.
  grantNotAllowed: (grant: string, clientId: string) =>
    new EntraError(400, "unauthorized_client", 70003, `The application '${clientId}' is not allowed the grant type '${grant}'.`),
  appNotFound: (clientId: string, tenant: string) =>
    new EntraError(400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`),
  clientSecretRequired: () =>
    new EntraError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  invalidClientSecret: (clientId: string) =>
    new EntraError(401, "invalid_client", 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`),
  publicClientWithSecret: () =>
    new EntraError(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."),
  invalidScope: (scope: string) =>
    new EntraError(400, "invalid_scope", 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not valid.`),
  clientCredentialsScope: (scope: string) =>
    new EntraError(400, "invalid_scope", 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`),
  multipleResources: (scope: string) =>
    new EntraError(400, "invalid_scope", 28000, `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`),
  resourceNotFound: (resource: string, tenant: string) =>
    new EntraError(400, "invalid_resource", 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`),
  userNotFound: (tenant: string) =>
    new EntraError(400, "invalid_grant", 50034, `The user account {EmailHidden} does not exist in the '${tenant}' directory. To sign into this application, the account must be added to the directory.`),
  invalidPassword: () =>
    new EntraError(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password."),
  authorizationPending: () =>
    new EntraError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."),
  // RFC 8628 §3.5; Entra ID's documentation does not list it.
  slowDown: (interval: number) =>
    new EntraError(400, "slow_down", 70016, `OAuth 2.0 device flow error. Authorization is pending; poll no more often than every ${interval} seconds.`),
  authorizationDeclined: () =>
    new EntraError(400, "authorization_declined", 65004, "User declined to consent to access the app."),
  deviceCodeExpired: () =>
    new EntraError(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."),
  badDeviceCode: () =>
    new EntraError(400, "bad_verification_code", 70000, "The provided value for the input parameter 'device_code' is not valid."),
  refreshTokenMalformed: () =>
    new EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."),
  refreshTokenOtherClient: () =>
    new EntraError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed."),
  refreshTokenRevoked: (issuedAt: number, validFrom: number) =>
    new EntraError(400, "invalid_grant", 50173, `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${iso(issuedAt)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${iso(validFrom)}'.`, "bad_token"),
  // The authorization endpoint and the authorization code grant (single-page apps: PKCE, cross-origin redemption).
  redirectUriMismatch: (redirectUri: string, clientId: string) =>
    new EntraError(400, "invalid_request", 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`),
  unsupportedResponseType: (responseType: string) =>
    new EntraError(400, "unsupported_response_type", 700054, `response_type '${responseType}' is not enabled for the application.`),
  unsupportedResponseMode: (responseMode: string) =>
    new EntraError(400, "invalid_request", 90010, `The response_mode '${responseMode}' is not supported for this request.`),
  pkceRequired: () =>
    new EntraError(400, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption."),
  pkceMethod: (method: string) =>
    new EntraError(400, "invalid_request", 501491, `Invalid code_challenge_method '${method}': the identity sandbox, like single-page apps should, takes S256 only.`),
  loginRequired: () =>
    new EntraError(400, "login_required", 50058, "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD."),
  otherUserSignedIn: () =>
    new EntraError(400, "interaction_required", 16000, "Either multiple user identities are available for the current request or selected account is not supported for the scenario."),
  codeVerifierMismatch: () =>
    new EntraError(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."),
  codeExpired: () =>
    new EntraError(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."),
  codeRedeemed: () =>
    new EntraError(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."),
  spaCrossOriginOnly: () =>
    new EntraError(400, "invalid_request", 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests."),
  crossOriginSpaOnly: () =>
    new EntraError(400, "invalid_request", 9002326, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type."),
  refreshTokenExpired: (issuedAt: number) =>
    new EntraError(400, "invalid_grant", 700082, `The refresh token has expired due to inactivity. The token was issued on ${iso(issuedAt)} and was inactive for 90.00:00:00.`, "bad_token"),
} as const;

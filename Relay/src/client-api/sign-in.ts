// What a browser needs to sign a seller in for the client API, published at GET /api/sign-in so that the
// card and the form scripts need nothing but the Relay URL environment variable: the tenant's authority,
// the single-page app registration to sign in with, and the API's delegated scope.
import { acceptedAudiences } from "./auth.ts";

export interface SignInSettings {
  /** <authority host>/<tenant>: msal-browser's authority. */
  authority: string;
  /** The single-page app registration (its redirect URI is the org's pcr_/signin/redirect.html). */
  clientId: string;
  /** The API's delegated scope, <Application ID URI>/user_impersonation. */
  scopes: string[];
  /** Hosts msal may trust without asking Entra ID's instance discovery. */
  knownAuthorities: string[];
}

/** The scope the API app exposes: admins add it as user_impersonation under "Expose an API". */
export const API_SCOPE_NAME = "user_impersonation";

export function signInSettings(options: { authorityHost: string; tenantId: string; audience: string; spaClientId: string }): SignInSettings {
  const host = options.authorityHost.replace(/\/+$/, "");
  // The Application ID URI names the scope; a bare client id stands for api://<client id>.
  const applicationIdUri = acceptedAudiences(options.audience).find((a) => a.includes("://")) ?? options.audience;
  return {
    authority: `${host}/${options.tenantId}`,
    clientId: options.spaClientId,
    scopes: [`${applicationIdUri}/${API_SCOPE_NAME}`],
    knownAuthorities: [new URL(host).host],
  };
}

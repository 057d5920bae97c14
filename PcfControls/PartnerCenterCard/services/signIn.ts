// The seller's Entra ID token for the relay's client API, with msal-browser, inside Dynamics 365. One
// implementation for the card and the form library (WebResources/src/relaySignIn.ts imports it).
//
//   1. the relay says how to sign in: GET {relayUrl}/api/sign-in (authority, SPA client id, scopes), so
//      the admin sets nothing but the Relay URL environment variable;
//   2. acquireTokenSilent for the cached account of the signed-in Dynamics user (matched by UPN);
//   3. else ssoSilent with login_hint = that user's UPN (systemuser.domainname), a hidden iframe that
//      rides on the user's Entra ID session;
//   4. else, only when the seller clicked (Sync now, Retry), acquireTokenPopup. Without a click the
//      seller is asked to click; a failed silent attempt is remembered, so the next click opens the
//      popup straight away, while the browser still counts the click as a user gesture.
//
// msal-browser is 300 KB: it is not bundled here. It ships as its own web resource
// (pcr_/signin/msal.js, built by WebResources/build.ts) and is loaded the first time a token is needed.
// The redirect URI is pcr_/signin/redirect.html on the org's own origin, which hands the answer back to
// this window (msal's redirect bridge, pcr_/signin/redirect.js).
import type { AccountInfo, Configuration } from "@azure/msal-browser";
import type { FetchLike, GetAccessToken } from "./relay.ts";

/** Web resource names under the publisher prefix's folder (`<prefix>_/signin/…`). */
export const SIGN_IN_FOLDER = "signin";
export const SIGN_IN_FILES = { redirectPage: "redirect.html", redirectScript: "redirect.js", msal: "msal.js" } as const;
/** The global pcr_/signin/msal.js assigns. */
export const MSAL_GLOBAL = "PartnerCenterMsal";

/** Where Dynamics 365 serves a web resource: /WebResources/<name>. */
export function webResourceUrl(origin: string, prefix: string, file: string): string {
  return `${origin}/WebResources/${prefix}_/${SIGN_IN_FOLDER}/${file}`;
}

/** GET /api/sign-in: what the browser needs to sign the seller in for the relay's API. */
export interface SignInSettings {
  /** https://login.microsoftonline.com/<tenant id> */
  authority: string;
  /** The SPA app registration the card and form scripts sign in with. */
  clientId: string;
  /** The relay API's delegated scope(s), e.g. api://<api app id>/user_impersonation. */
  scopes: string[];
  /** Hosts msal may trust without instance discovery. */
  knownAuthorities: string[];
}

/** The part of msal-browser's PublicClientApplication the provider uses (tests pass a fake). */
export interface MsalClient {
  initialize(): Promise<void>;
  getAllAccounts(): AccountInfo[];
  setActiveAccount(account: AccountInfo | null): void;
  acquireTokenSilent(request: { scopes: string[]; account: AccountInfo }): Promise<{ accessToken: string; account: AccountInfo | null }>;
  ssoSilent(request: { scopes: string[]; loginHint?: string; redirectUri: string }): Promise<{ accessToken: string; account: AccountInfo | null }>;
  acquireTokenPopup(request: { scopes: string[]; loginHint?: string; redirectUri: string; prompt?: string }): Promise<{ accessToken: string; account: AccountInfo | null }>;
}

export interface SignInDependencies {
  /** The relay's sign-in settings (GET /api/sign-in). */
  loadSettings(): Promise<SignInSettings>;
  /** A PublicClientApplication for those settings (loads msal-browser). */
  createClient(configuration: Configuration): Promise<MsalClient>;
  /** The Dynamics user's UPN (systemuser.domainname), or undefined when it cannot be read. */
  loginHint(): Promise<string | undefined>;
  /** https://<org>/WebResources/<prefix>_/signin/redirect.html */
  redirectUri: string;
}

/** A sign-in failure, in words for the one who can fix it: the seller, or the admin. */
export class SignInError extends Error {
  override name = "SignInError";
  readonly who: "seller" | "admin";
  readonly code: string;

  constructor(who: "seller" | "admin", code: string, message: string) {
    super(message);
    this.who = who;
    this.code = code;
  }
}

const CLICK_AGAIN = "Select Sync now again to sign in to the relay.";

/** AADSTS codes that only an admin can fix (app registration, redirect URI, consent). */
const ADMIN_CODES: Record<string, string> = {
  "700016": "the sign-in app is not registered in your tenant: ask your administrator to check the relay's PCR_API_SPA_CLIENT_ID and its app registration.",
  "50011": "the sign-in page's address is not a redirect URI of the sign-in app: ask your administrator to add it as a Single-page application redirect URI.",
  "9002326": "the sign-in app's redirect URI is registered as Web, not Single-page application: ask your administrator to move it under Single-page application.",
  "65001": "the relay's API needs consent: ask your administrator to grant admin consent to the sign-in app.",
  "90094": "the relay's API needs consent: ask your administrator to grant admin consent to the sign-in app.",
  "500011": "the relay's API is not registered in your tenant: ask your administrator to check the relay's PCR_API_AUDIENCE.",
  "70011": "the relay's API scope is unknown: ask your administrator to expose the user_impersonation scope on the relay's API app.",
  "700054": "the sign-in app cannot use the authorization code flow: ask your administrator to register its redirect URI as Single-page application.",
};

interface MsalLikeError {
  name?: string;
  errorCode?: string;
  errorMessage?: string;
  subError?: string;
  message?: string;
}

/** msal-browser's errors (and the relay's settings failures) in plain words: who should do what. */
export function describeSignInError(error: unknown, interactive: boolean): SignInError {
  if (error instanceof SignInError) return error;
  const e = (error ?? {}) as MsalLikeError;
  const code = (e.errorCode ?? "").toLowerCase();
  const text = `${e.errorMessage ?? ""} ${e.message ?? ""}`;
  const aadsts = /AADSTS(\d+)/.exec(text)?.[1];
  if (aadsts && ADMIN_CODES[aadsts]) return new SignInError("admin", `AADSTS${aadsts}`, `Signing in to the relay failed: ${ADMIN_CODES[aadsts]}`);
  switch (code) {
    case "consent_required":
      return new SignInError("admin", code, `Signing in to the relay failed: ${ADMIN_CODES["65001"]!}`);
    case "interaction_required":
    case "login_required":
    case "no_tokens_found":
    case "native_account_unavailable":
    case "refresh_token_expired":
    case "bad_token":
      return new SignInError("seller", code, interactive ? "Sign in to Microsoft in the window that opens, then select Sync now again." : CLICK_AGAIN);
    case "popup_window_error":
    case "empty_window_error":
      return new SignInError("seller", code, "Your browser blocked the sign-in window: allow pop-ups for this Dynamics 365 site, then select Sync now again.");
    case "user_cancelled":
      return new SignInError("seller", code, `The sign-in window was closed before signing in. ${CLICK_AGAIN}`);
    case "timed_out":
    case "monitor_window_timeout":
    case "popup_bridge_timeout":
    case "iframe_bridge_timeout":
      return new SignInError("seller", code, interactive ? `Signing in took too long. ${CLICK_AGAIN}` : CLICK_AGAIN);
    case "no_network_connectivity":
    case "endpoints_resolution_error":
    case "openid_config_error":
    case "untrusted_authority":
      return new SignInError("admin", code, "Entra ID's sign-in could not be reached from this browser: ask your administrator to check the relay's PCR_AUTHORITY_HOST and PCR_TENANT_ID.");
    case "invalid_client":
    case "unauthorized_client":
      return new SignInError("admin", code, `Signing in to the relay failed: ${ADMIN_CODES["700016"]!}`);
    default:
      return new SignInError("seller", code || "sign_in_failed", `Signing in to the relay failed${code ? ` (${code})` : ""}: ${(e.errorMessage || e.message || String(error)).split(/\r?\n/)[0]}`);
  }
}

function sameUser(account: AccountInfo, loginHint: string | undefined): boolean {
  return Boolean(loginHint) && account.username.toLowerCase() === loginHint!.toLowerCase();
}

/**
 * The token provider: silent first, ssoSilent next, the popup only when `interactive` (a click). Settings
 * and msal are read once; a failure to read them is not remembered, so the next call tries again.
 */
export function createSignIn(dependencies: SignInDependencies): GetAccessToken {
  let ready: Promise<{ client: MsalClient; settings: SignInSettings }> | undefined;
  /** A silent sign-in failed for want of interaction: the next click goes straight to the popup. */
  let needsInteraction = false;

  const prepare = (): Promise<{ client: MsalClient; settings: SignInSettings }> => {
    ready ??= (async () => {
      const settings = await dependencies.loadSettings();
      const client = await dependencies.createClient({
        auth: { clientId: settings.clientId, authority: settings.authority, knownAuthorities: settings.knownAuthorities, redirectUri: dependencies.redirectUri },
        cache: { cacheLocation: "localStorage" },
      });
      await client.initialize();
      return { client, settings };
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  const popup = async (client: MsalClient, scopes: string[], loginHint: string | undefined): Promise<string> => {
    try {
      const result = await client.acquireTokenPopup({ scopes, redirectUri: dependencies.redirectUri, ...(loginHint ? { loginHint } : { prompt: "select_account" }) });
      needsInteraction = false;
      if (result.account) client.setActiveAccount(result.account);
      return result.accessToken;
    } catch (error) {
      throw describeSignInError(error, true);
    }
  };

  return async (options = {}) => {
    const interactive = options.interactive === true;
    let client: MsalClient;
    let settings: SignInSettings;
    try {
      ({ client, settings } = await prepare());
    } catch (error) {
      throw describeSignInError(error, interactive);
    }
    const scopes = settings.scopes;
    const loginHint = await dependencies.loginHint().catch(() => undefined);
    // Straight to the popup when silence already failed: any await before it could outlast the click.
    if (interactive && needsInteraction) return popup(client, scopes, loginHint);

    const accounts = client.getAllAccounts();
    const account = accounts.find((a) => sameUser(a, loginHint)) ?? (!loginHint && accounts.length === 1 ? accounts[0] : undefined);
    if (account) {
      try {
        return (await client.acquireTokenSilent({ scopes, account })).accessToken;
      } catch {
        // an expired refresh token or a revoked session: the iframe may still find a session
      }
    }
    let silentFailure: unknown;
    try {
      const result = await client.ssoSilent({ scopes, redirectUri: dependencies.redirectUri, ...(loginHint ? { loginHint } : {}) });
      if (result.account) client.setActiveAccount(result.account);
      needsInteraction = false;
      return result.accessToken;
    } catch (error) {
      silentFailure = error;
    }
    const described = describeSignInError(silentFailure, false);
    if (described.who === "admin") throw described;
    needsInteraction = true;
    if (!interactive) throw described;
    return popup(client, scopes, loginHint);
  };
}

/** GET {relayUrl}/api/sign-in, checked. */
export async function fetchSignInSettings(relayUrl: string, fetchImpl: FetchLike): Promise<SignInSettings> {
  let response: Response;
  try {
    response = await fetchImpl(`${relayUrl}/api/sign-in`, { headers: { Accept: "application/json" }, credentials: "omit" });
  } catch (error) {
    throw new SignInError("seller", "relay_unreachable", `The relay could not be reached to sign in (${error instanceof Error ? error.message : String(error)}).`);
  }
  let body: Partial<SignInSettings> & { error?: { message?: string } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // checked below
  }
  if (!response.ok) {
    throw new SignInError("admin", "sign_in_not_set_up", `The relay's sign-in is not set up (HTTP ${response.status}${body.error?.message ? `: ${body.error.message}` : ""}): ask your administrator to set PCR_API_AUDIENCE on the relay.`);
  }
  if (typeof body.authority !== "string" || typeof body.clientId !== "string" || !Array.isArray(body.scopes) || body.scopes.length === 0) {
    throw new SignInError("admin", "sign_in_settings", "The relay's sign-in settings are incomplete: ask your administrator to check the relay's version and configuration.");
  }
  return { authority: body.authority, clientId: body.clientId, scopes: body.scopes, knownAuthorities: Array.isArray(body.knownAuthorities) ? body.knownAuthorities : [] };
}

interface MsalGlobal {
  createClient(configuration: Configuration): MsalClient;
}

const loading = new Map<string, Promise<MsalGlobal>>();

/** Loads pcr_/signin/msal.js once per page and returns what it exposes. */
export function loadMsal(scriptUrl: string): Promise<MsalGlobal> {
  const existing = (window as unknown as Record<string, MsalGlobal | undefined>)[MSAL_GLOBAL];
  if (existing) return Promise.resolve(existing);
  let promise = loading.get(scriptUrl);
  if (!promise) {
    promise = new Promise<MsalGlobal>((resolve, reject) => {
      const script = document.createElement("script");
      script.src = scriptUrl;
      script.async = true;
      script.onload = () => {
        const loaded = (window as unknown as Record<string, MsalGlobal | undefined>)[MSAL_GLOBAL];
        if (loaded) resolve(loaded);
        else reject(new SignInError("admin", "msal_missing", `${scriptUrl} did not load the sign-in library: ask your administrator to import the solution again.`));
      };
      script.onerror = () => reject(new SignInError("admin", "msal_missing", `The sign-in library ${scriptUrl} could not be loaded: ask your administrator to import the solution again.`));
      document.head.appendChild(script);
    });
    promise.catch(() => loading.delete(scriptUrl));
    loading.set(scriptUrl, promise);
  }
  return promise;
}

export interface RelaySignInOptions {
  relayUrl: string;
  /** The publisher prefix (Solution.prefix), the web resources' folder. */
  prefix: string;
  fetch: FetchLike;
  loginHint(): Promise<string | undefined>;
  /** Defaults to window.location.origin: the web resources are served by the org itself. */
  origin?: string;
}

const providers = new Map<string, GetAccessToken>();

/** The provider for one relay, kept for the page's life so msal's state and the remembered failure survive between clicks. */
export function relaySignIn(options: RelaySignInOptions): GetAccessToken {
  const origin = options.origin ?? window.location.origin;
  const key = `${origin} ${options.relayUrl}`;
  let provider = providers.get(key);
  if (!provider) {
    provider = createSignIn({
      loadSettings: () => fetchSignInSettings(options.relayUrl, options.fetch),
      createClient: async (configuration) => (await loadMsal(webResourceUrl(origin, options.prefix, SIGN_IN_FILES.msal))).createClient(configuration),
      loginHint: options.loginHint,
      redirectUri: webResourceUrl(origin, options.prefix, SIGN_IN_FILES.redirectPage),
    });
    providers.set(key, provider);
  }
  return provider;
}

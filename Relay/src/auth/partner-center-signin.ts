// How the relay signs in to Partner Center (architecture.md "Auth"; partner-center-referrals.md §2).
//
// - Referrals API: App+User only, and MFA is enforced, so a service account signs in once with the
//   device code flow (`relay login` shows the code; the admin completes the sign-in, MFA included, in
//   a browser anywhere). From then on the relay asks MSAL silently: an access token from the cache or,
//   when it has expired, a new one for the refresh token. Password grants are never used: they cannot
//   satisfy MFA. The app registration must allow public client flows (device code).
// - Webhook registration API: an app-only token (client credentials) of the same app registration,
//   for resource https://api.partnercenter.microsoft.com; it needs the app's secret.
//
// The MSAL cache (with the refresh token) lives encrypted in the relay's store (partner-center-token-cache.ts),
// so a restarted relay, or another replica on the same Postgres, keeps the sign-in. MSAL makes no
// discovery requests (authority.ts) and trusts the sandbox CA only when one is configured.
import {
  AuthError, ConfidentialClientApplication, InteractionRequiredAuthError, PublicClientApplication, ServerError,
  type AccountInfo, type Configuration, type JsonCache,
} from "@azure/msal-node";
import { PUBLIC_CLOUD_AUTHORITY_HOST, entraAuthority } from "./authority.ts";
import { MsalNetworkClient } from "./msal-network-client.ts";
import { EncryptedTokenCachePlugin, EncryptedTokenCacheStore, TokenCacheUnreadable, parseTokenCacheKey } from "./partner-center-token-cache.ts";
import type { Queryable } from "../store/database.ts";
import { REFERRALS_RESOURCE, WEBHOOKS_RESOURCE } from "../clients/partner-center.ts";

export { REFERRALS_RESOURCE, WEBHOOKS_RESOURCE };

/** An auth problem, with what the admin should do about it. */
export class PartnerCenterAuthError extends Error {
  override name = "PartnerCenterAuthError";
  readonly code: string;
  readonly whatToDo: string;
  /** True when trying again later may work without anyone acting (Entra ID unreachable). */
  readonly retryable: boolean;

  constructor(message: string, options: { code: string; whatToDo: string; retryable?: boolean; cause?: unknown }) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = options.code;
    this.whatToDo = options.whatToDo;
    this.retryable = options.retryable ?? false;
  }
}

/** No usable sign-in of the service account: nobody signed in, or the refresh token lapsed or was revoked. */
export class SignInRequired extends PartnerCenterAuthError {
  override name = "SignInRequired";

  constructor(reason: string, options: { code?: string; cause?: unknown } = {}) {
    super(`Partner Center sign-in required: ${reason}`, {
      code: options.code ?? "sign_in_required",
      whatToDo: "Run relay login and sign in as the Partner Center service account (with MFA); the relay resumes by itself afterwards.",
      cause: options.cause,
    });
  }
}

export interface DeviceCodePrompt {
  /** Entra ID's sentence to show the admin ("To sign in, use a web browser to open … and enter the code …"). */
  message: string;
  userCode: string;
  verificationUri: string;
  expiresInSeconds: number;
}

export interface SignedInAccount {
  username: string;
  homeAccountId: string;
  tenantId: string;
  name?: string;
}

export interface SignInStatus {
  signedIn: boolean;
  username?: string;
  homeAccountId?: string;
  refreshTokenPresent: boolean;
  /** When Entra ID last issued the service account an access token (sign-in or refresh), to the second. */
  lastRefreshAt?: Date;
  accessTokenExpiresAt?: Date;
  /** When the encrypted cache row was last written. */
  cacheUpdatedAt?: Date;
  /** Why the relay cannot act as the service account, and what to do; absent when it can. */
  problem?: string;
}

export interface PartnerCenterSignInOptions {
  /** Entra ID tenant of the partner (GUID or verified domain). */
  tenantId: string;
  /** Default https://login.microsoftonline.com; the identity sandbox's URL in sandbox mode. */
  authorityHost?: string;
  /** The relay's Partner Center app registration. */
  clientId: string;
  /** Its secret: only for the app-only webhook registration token. */
  clientSecret?: string;
  /** The relay's store (token_cache table). */
  db: Queryable;
  /** AES-256 key: 32 bytes, or their base64 (PCR_TOKEN_CACHE_KEY). */
  tokenCacheKey: Buffer | string;
  /** Former keys still accepted for reading (key rotation). */
  previousTokenCacheKeys?: Array<Buffer | string>;
  /** token_cache.tenant_id: the relay's key for this partner tenant; default `tenantId`. */
  storeTenantKey?: string;
  /** PEM of an extra CA to trust (the sandbox CA); never set in production. */
  extraCaPem?: string;
  /** Per request to Entra ID; default 30 s. */
  timeoutMs?: number;
  referralsResource?: string;
  webhooksResource?: string;
}

const key = (value: Buffer | string) => (typeof value === "string" ? parseTokenCacheKey(value) : value);

const EMPTY_CACHE: JsonCache = { Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} };

export class PartnerCenterSignIn {
  readonly #publicApp: PublicClientApplication;
  readonly #appOnly: ConfidentialClientApplication | undefined;
  readonly #network: MsalNetworkClient;
  readonly #store: EncryptedTokenCacheStore;
  readonly #plugin: EncryptedTokenCachePlugin;
  readonly #clientId: string;
  readonly #referralsResource: string;
  readonly #webhooksResource: string;

  constructor(options: PartnerCenterSignInOptions) {
    this.#clientId = options.clientId;
    this.#referralsResource = options.referralsResource ?? REFERRALS_RESOURCE;
    this.#webhooksResource = options.webhooksResource ?? WEBHOOKS_RESOURCE;
    this.#network = new MsalNetworkClient({ ...(options.extraCaPem ? { extraCaPem: options.extraCaPem } : {}), timeoutMs: options.timeoutMs ?? 30_000 });
    this.#store = new EncryptedTokenCacheStore({
      db: options.db,
      tenantId: options.storeTenantKey ?? options.tenantId,
      cacheKey: `partner-center/${options.clientId}`,
      key: key(options.tokenCacheKey),
      previousKeys: (options.previousTokenCacheKeys ?? []).map(key),
    });
    this.#plugin = new EncryptedTokenCachePlugin(this.#store);
    const authority = entraAuthority({ authorityHost: options.authorityHost ?? PUBLIC_CLOUD_AUTHORITY_HOST, tenant: options.tenantId });
    const system: Configuration["system"] = { networkClient: this.#network };
    this.#publicApp = new PublicClientApplication({ auth: { clientId: options.clientId, ...authority }, cache: { cachePlugin: this.#plugin }, system });
    // App-only tokens are cheap to get again with the secret: they stay in memory.
    this.#appOnly = options.clientSecret
      ? new ConfidentialClientApplication({ auth: { clientId: options.clientId, clientSecret: options.clientSecret, ...authority }, system })
      : undefined;
  }

  get referralsScopes(): string[] {
    return [`${this.#referralsResource}/.default`];
  }

  /**
   * `relay login`: the device code flow. `onDeviceCode` shows the prompt; this resolves when the admin
   * has signed in (MFA included) and the encrypted cache is stored. Any other account signed in before
   * is forgotten: the relay acts as exactly one service account.
   */
  async signIn(options: { onDeviceCode: (prompt: DeviceCodePrompt) => void; timeoutSeconds?: number; signal?: AbortSignal }): Promise<SignedInAccount> {
    const request = {
      scopes: this.referralsScopes,
      deviceCodeCallback: (response: { message: string; userCode: string; verificationUri: string; expiresIn: number }) => {
        options.onDeviceCode({ message: response.message, userCode: response.userCode, verificationUri: response.verificationUri, expiresInSeconds: response.expiresIn });
      },
      ...(options.timeoutSeconds ? { timeout: options.timeoutSeconds } : {}),
      cancel: false,
    };
    options.signal?.addEventListener("abort", () => {
      request.cancel = true;
    }, { once: true });
    let account: AccountInfo | null;
    try {
      const result = await this.#publicApp.acquireTokenByDeviceCode(request);
      account = result?.account ?? null;
    } catch (error) {
      throw signInFailure(error);
    }
    if (!account) throw new PartnerCenterAuthError("Entra ID answered the sign-in without an account", { code: "no_account", whatToDo: "Run relay login again." });
    const cache = this.#publicApp.getTokenCache();
    try {
      for (const other of await cache.getAllAccounts()) {
        if (other.homeAccountId !== account.homeAccountId) await cache.removeAccount(other);
      }
    } catch (error) {
      throw unavailable(error);
    }
    return { username: account.username, homeAccountId: account.homeAccountId, tenantId: account.tenantId, ...(account.name ? { name: account.name } : {}) };
  }

  /** An App+User token for the Referrals API, silently: cached, or refreshed with the refresh token. */
  async getAccessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    let account: AccountInfo | undefined;
    try {
      account = (await this.#publicApp.getTokenCache().getAllAccounts())[0];
    } catch (error) {
      throw unavailable(error);
    }
    if (!account) {
      throw new SignInRequired(this.#plugin.problem ?? "no Partner Center service account has signed in yet", { code: this.#plugin.problem ? "token_cache_unreadable" : "not_signed_in" });
    }
    try {
      const result = await this.#publicApp.acquireTokenSilent({ account, scopes: this.referralsScopes, forceRefresh: options.forceRefresh ?? false });
      return result.accessToken;
    } catch (error) {
      throw silentFailure(error);
    }
  }

  /** An app-only token for the webhook registration API (client credentials). */
  async getAppToken(): Promise<string> {
    if (!this.#appOnly) {
      throw new PartnerCenterAuthError("no client secret is configured for the Partner Center app", {
        code: "no_client_secret",
        whatToDo: "Set the Partner Center app's client secret in the relay's configuration: webhook registration uses an app-only token.",
      });
    }
    let result;
    try {
      result = await this.#appOnly.acquireTokenByClientCredential({ scopes: [`${this.#webhooksResource}/.default`] });
    } catch (error) {
      if (error instanceof ServerError && /invalid_client|unauthorized_client/.test(error.errorCode)) {
        throw new PartnerCenterAuthError(`Entra ID refused the Partner Center app's credentials: ${error.errorCode}`, {
          code: error.errorCode,
          whatToDo: "Check the Partner Center app's client id and secret (it may have expired) and that client credentials are allowed for it.",
          cause: error,
        });
      }
      throw unavailable(error);
    }
    if (!result) throw new PartnerCenterAuthError("Entra ID answered without a token", { code: "no_token", whatToDo: "Try again; if it persists, check the Partner Center app registration.", retryable: true });
    return result.accessToken;
  }

  /** The token PartnerCenterClient asks for: App+User for the referrals resource, app-only for the webhooks one. */
  async getToken(resource: string): Promise<string> {
    const wanted = resource.replace(/\/+$/, "");
    if (wanted === this.#referralsResource) return this.getAccessToken();
    if (wanted === this.#webhooksResource) return this.getAppToken();
    throw new Error(`no Partner Center token for resource ${resource}`);
  }

  /** For `relay doctor`: what is stored, read offline (no call to Entra ID). */
  async status(): Promise<SignInStatus> {
    let stored;
    try {
      stored = await this.#store.read();
    } catch (error) {
      if (error instanceof TokenCacheUnreadable) return { signedIn: false, refreshTokenPresent: false, problem: `${error.message}: run relay login again` };
      throw error;
    }
    if (!stored) return { signedIn: false, refreshTokenPresent: false, problem: "nobody has signed in: run relay login" };
    const cache = { ...EMPTY_CACHE, ...(JSON.parse(stored.json) as Partial<JsonCache>) };
    const account = Object.values(cache.Account)[0];
    if (!account) return { signedIn: false, refreshTokenPresent: false, cacheUpdatedAt: stored.updatedAt, problem: "nobody has signed in: run relay login" };
    const mine = <T extends { home_account_id: string; client_id: string }>(entries: Record<string, T>) =>
      Object.values(entries).filter((entry) => entry.home_account_id === account.home_account_id && entry.client_id === this.#clientId);
    const refreshTokenPresent = mine(cache.RefreshToken).length > 0;
    const accessTokens = mine(cache.AccessToken);
    const newest = accessTokens.reduce<(typeof accessTokens)[number] | undefined>((best, token) => (!best || Number(token.cached_at) > Number(best.cached_at) ? token : best), undefined);
    return {
      signedIn: refreshTokenPresent,
      username: account.username,
      homeAccountId: account.home_account_id,
      refreshTokenPresent,
      ...(newest ? { lastRefreshAt: new Date(Number(newest.cached_at) * 1000), accessTokenExpiresAt: new Date(Number(newest.expires_on) * 1000) } : {}),
      cacheUpdatedAt: stored.updatedAt,
      ...(refreshTokenPresent ? {} : { problem: "the stored sign-in has no refresh token: run relay login" }),
    };
  }

  /** `relay logout`: forgets the service account's tokens. */
  async signOut(): Promise<void> {
    await this.#store.delete();
  }

  async close(): Promise<void> {
    await this.#network.close();
  }
}

const SIGNED_OUT_CODES = new Set(["no_account_in_silent_request", "no_account_found", "no_tokens_found", "token_refresh_required", "refresh_token_expired"]);

function silentFailure(error: unknown): Error {
  if (error instanceof InteractionRequiredAuthError || (error instanceof ServerError && error.errorCode === "invalid_grant")) {
    const detail = [error.errorCode, error.subError].filter(Boolean).join("/");
    return new SignInRequired(`the service account's sign-in has lapsed or was revoked (${detail})`, { code: error.errorCode, cause: error });
  }
  if (error instanceof AuthError && SIGNED_OUT_CODES.has(error.errorCode)) {
    return new SignInRequired(`no usable sign-in of the service account is stored (${error.errorCode})`, { code: error.errorCode, cause: error });
  }
  return unavailable(error);
}

function signInFailure(error: unknown): Error {
  if (error instanceof AuthError) {
    const reason = `${error.errorCode} ${error.errorMessage}`;
    if (/authorization_declined|access_denied/.test(reason)) {
      return new PartnerCenterAuthError("the sign-in was declined", { code: "authorization_declined", whatToDo: "Run relay login again and approve the sign-in as the service account.", cause: error });
    }
    if (/expired_token|device_code_expired|user_timeout_reached|device_code_polling_cancelled/.test(reason)) {
      return new PartnerCenterAuthError("the device code expired before the sign-in was completed", { code: error.errorCode, whatToDo: "Run relay login again and complete the sign-in within 15 minutes.", cause: error });
    }
    if (error.errorCode === "network_error") return unavailable(error);
    return new PartnerCenterAuthError(`the sign-in failed: ${reason}`, {
      code: error.errorCode,
      whatToDo: "Check the Partner Center app registration (client id, tenant, public client flows allowed) and run relay login again.",
      cause: error,
    });
  }
  return unavailable(error);
}

function unavailable(error: unknown): Error {
  if (error instanceof PartnerCenterAuthError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof AuthError)) {
    // Not MSAL's: most likely the store behind the token cache.
    return new PartnerCenterAuthError(`the Partner Center sign-in could not be read or saved: ${message}`, {
      code: "token_cache_unavailable",
      whatToDo: "Check the relay's database connection; the relay tries again later.",
      retryable: true,
      cause: error,
    });
  }
  return new PartnerCenterAuthError(`Entra ID could not be asked for a token: ${message}`, {
    code: error.errorCode,
    whatToDo: "Entra ID could not be reached or answered oddly: check the network path to the authority host (and, for the sandbox only, the extra CA); the relay tries again later.",
    retryable: true,
    cause: error,
  });
}

// The relay's sign-in to Dataverse: client credentials for its application user through MSAL, scope
// `<orgUrl>/.default`. The authority settings carry Entra ID's metadata (no discovery requests) and the
// network client trusts an extra CA only when configured (the identity sandbox). MSAL's in-memory
// cache hands out the same token until shortly before it expires.
import { AuthError, ConfidentialClientApplication, type INetworkModule } from "@azure/msal-node";
import { PUBLIC_CLOUD_AUTHORITY_HOST, entraAuthority } from "./authority.ts";
import { MsalNetworkClient } from "./msal-network-client.ts";

export interface DataverseTokenOptions {
  /** The environment's URL, e.g. https://contoso.crm4.dynamics.com: the token's audience. */
  orgUrl: string;
  /** Entra ID tenant id (or verified domain). */
  tenant: string;
  /** Application (client) id of the relay's app registration. */
  clientId: string;
  clientSecret: string;
  /** Default https://login.microsoftonline.com; the identity sandbox's URL in sandbox mode. */
  authorityHost?: string;
  /** MSAL's HTTP client; without one, a MsalNetworkClient trusting `extraCaPem` is made (and closed by close()). */
  networkClient?: INetworkModule;
  extraCaPem?: string;
  timeoutMs?: number;
}

/** Signing in failed; `whatToDo` says what an admin should check. */
export class DataverseSignInError extends Error {
  override readonly name = "DataverseSignInError";
  /** Entra ID's error (invalid_client, unauthorized_client…) or MSAL's (network_error…). */
  readonly errorCode: string;
  readonly whatToDo: string;

  constructor(message: string, errorCode: string, whatToDo: string, cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.errorCode = errorCode;
    this.whatToDo = whatToDo;
  }
}

/** The `.default` scope of a Dataverse environment: its origin, no trailing slash. */
export function dataverseScope(orgUrl: string): string {
  const url = new URL(orgUrl);
  if (url.protocol !== "https:") throw new Error(`The Dataverse org URL must use https: ${orgUrl}`);
  return `${url.origin}/.default`;
}

function signInError(error: unknown, options: DataverseTokenOptions): DataverseSignInError {
  const code = error instanceof AuthError ? error.errorCode : "unknown";
  const detail = error instanceof AuthError ? error.errorMessage || error.message : error instanceof Error ? error.message : String(error);
  const app = `the app registration ${options.clientId} in tenant ${options.tenant}`;
  let whatToDo: string;
  if (code === "invalid_client") whatToDo = `Entra ID refused the client secret of ${app}. Create a new client secret and put it in the relay's configuration.`;
  else if (code === "unauthorized_client") whatToDo = `Entra ID does not know ${app}, or it may not use client credentials. Check the client id and tenant id in the relay's configuration.`;
  else if (code === "invalid_scope" || code === "invalid_resource") whatToDo = `Entra ID does not know the Dataverse environment ${options.orgUrl}. Check the org URL.`;
  else if (code === "invalid_request" && /tenant/i.test(detail)) whatToDo = `Entra ID does not know the tenant ${options.tenant}. Check the tenant id.`;
  else if (code === "network_error" || code === "network_request_failed") whatToDo = `The relay could not reach ${options.authorityHost ?? PUBLIC_CLOUD_AUTHORITY_HOST}. Check DNS, proxy and firewall.`;
  else whatToDo = `Signing in as ${app} failed. Check the relay's Dataverse app settings (tenant, client id, secret).`;
  return new DataverseSignInError(`Could not sign in to Dataverse (${code}): ${detail}`, code, whatToDo, error);
}

export class DataverseTokenProvider {
  readonly scope: string;
  readonly #app: ConfidentialClientApplication;
  readonly #options: DataverseTokenOptions;
  readonly #ownedNetwork: MsalNetworkClient | undefined;

  constructor(options: DataverseTokenOptions) {
    this.#options = options;
    this.scope = dataverseScope(options.orgUrl);
    this.#ownedNetwork = options.networkClient
      ? undefined
      : new MsalNetworkClient({ ...(options.extraCaPem ? { extraCaPem: options.extraCaPem } : {}), timeoutMs: options.timeoutMs ?? 30_000 });
    this.#app = new ConfidentialClientApplication({
      auth: {
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        ...entraAuthority({ authorityHost: options.authorityHost ?? PUBLIC_CLOUD_AUTHORITY_HOST, tenant: options.tenant }),
      },
      system: { networkClient: options.networkClient ?? this.#ownedNetwork! },
    });
  }

  /** An access token for the environment (from MSAL's cache while valid); forceRefresh skips the cache. */
  getToken = async (options: { forceRefresh?: boolean } = {}): Promise<string> => {
    let result;
    try {
      result = await this.#app.acquireTokenByClientCredential({ scopes: [this.scope], ...(options.forceRefresh ? { skipCache: true } : {}) });
    } catch (error) {
      throw signInError(error, this.#options);
    }
    if (!result?.accessToken) throw new DataverseSignInError("Entra ID answered without an access token", "no_token", "Try again; if it persists, check the app registration.");
    return result.accessToken;
  };

  async close(): Promise<void> {
    await this.#ownedNetwork?.close();
  }
}

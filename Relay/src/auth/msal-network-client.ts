// MSAL's HTTP client on undici, with its own connection pool and an optional extra CA.
// With no CA configured it trusts what Node trusts by default (the real Entra ID); with the sandbox
// CA configured it trusts that CA as well (the identity sandbox). Nothing ever turns TLS checks off.
import { getCACertificates } from "node:tls";
import { Agent, request } from "undici";
import { ClientAuthError, ClientAuthErrorCodes, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from "@azure/msal-node";

export interface MsalNetworkClientOptions {
  /** PEM of one or more CA certificates to trust in addition to the default ones (the sandbox CA). */
  extraCaPem?: string;
  /** Upper bound for a whole request: connect, send, headers and body. */
  timeoutMs: number;
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) record[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return record;
}

export class MsalNetworkClient implements INetworkModule {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: MsalNetworkClientOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#agent = new Agent({
      connect: options.extraCaPem ? { ca: [...getCACertificates("default"), options.extraCaPem] } : {},
    });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.#send<T>("GET", url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>("POST", url, options);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #send<T>(method: "GET" | "POST", url: string, options: NetworkRequestOptions | undefined, timeout?: number): Promise<NetworkResponse<T>> {
    const correlationId = options?.correlationId ?? "";
    const limit = timeout ? Math.min(timeout, this.#timeoutMs) : this.#timeoutMs;
    let status: number;
    let headers: Record<string, string>;
    let text: string;
    try {
      const response = await request(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === "POST" ? { body: options?.body ?? "" } : {}),
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(limit),
      });
      status = response.statusCode;
      headers = headerRecord(response.headers);
      text = await response.body.text();
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new ClientAuthError(ClientAuthErrorCodes.networkError, correlationId, `Request timeout after ${limit} ms: ${method} ${url}`);
      }
      // The cause says why (refused, reset, untrusted certificate…), without the request's secrets.
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ClientAuthError(ClientAuthErrorCodes.networkError, correlationId, `Network request failed: ${method} ${url}: ${cause}`);
    }
    try {
      return { status, headers, body: JSON.parse(text) as T };
    } catch {
      // As MSAL's own client: an answer that is not JSON is not a token endpoint's answer.
      throw new ClientAuthError(ClientAuthErrorCodes.tokenParsingError, correlationId, `Failed to parse response: HTTP ${status} from ${method} ${url} is not JSON`);
    }
  }
}

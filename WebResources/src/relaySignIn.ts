// How the form reaches the relay's client API: a bearer token from an injected provider, and fetch.
//
// The token provider will be msal-browser's silent sign-in (acquireTokenSilent for the relay's API
// scope, with the seller's Dynamics 365 session), which the relay issue defines and wires with
// PartnerCenter.configureRelaySignIn(getAccessToken). Until something calls it, Sync now says that
// relay sign-in is not set up, instead of calling the relay without a token.
import type { FetchLike, GetAccessToken } from "../../PcfControls/PartnerCenterCard/services/relay.ts";

export interface RelayServices {
  /** null until relay sign-in is set up. */
  getAccessToken: GetAccessToken | null;
  fetch: FetchLike;
  /** Waits between polls; tests pass one that does not. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const browserFetch: FetchLike = (input, init) => fetch(input, init);

let services: RelayServices = { getAccessToken: null, fetch: browserFetch };

export function relayServices(): RelayServices {
  return services;
}

/** Sets the token provider for the relay's client API (msal-browser silent sign-in, once configured). */
export function configureRelaySignIn(getAccessToken: GetAccessToken): void {
  services = { ...services, getAccessToken };
}

/** Replaces any of the services (tests inject fetch and sleep). */
export function configureRelayServices(changes: Partial<RelayServices>): void {
  services = { ...services, ...changes };
}

export function resetRelayServices(): void {
  services = { getAccessToken: null, fetch: browserFetch };
}

// How the form reaches the relay's client API: the seller's token, and fetch.
//
// The token comes from the card's sign-in module (PcfControls/PartnerCenterCard/services/signIn.ts: one
// implementation for both): msal-browser, silent first, then ssoSilent with the Dynamics user's UPN
// (systemuser.domainname through Xrm.WebApi), and a popup only on the Sync now click. A host may still
// inject its own token source with PartnerCenter.configureRelaySignIn(getAccessToken).
import { Solution } from "../../Core/generated/schema.ts";
import type { FetchLike, GetAccessToken } from "../../PcfControls/PartnerCenterCard/services/relay.ts";
import { relaySignIn } from "../../PcfControls/PartnerCenterCard/services/signIn.ts";
import { Standard } from "./names.ts";

export interface RelayServices {
  /** The token source for one relay URL. */
  signIn: (relayUrl: string) => GetAccessToken;
  fetch: FetchLike;
  /** Waits between polls; tests pass one that does not. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const browserFetch: FetchLike = (input, init) => fetch(input, init);

let upn: Promise<string | undefined> | undefined;

/** The signed-in Dynamics user's UPN: Entra ID's login_hint, so the silent sign-in picks the same person. */
function loginHint(): Promise<string | undefined> {
  upn ??= Promise.resolve()
    .then(() => Xrm.WebApi.retrieveRecord(Standard.systemUser.logicalName, Xrm.Utility.getGlobalContext().userSettings.userId.replace(/[{}]/g, ""), `?$select=${Standard.systemUser.upn}`))
    .then((user) => {
      const value: unknown = (user as Record<string, unknown>)[Standard.systemUser.upn];
      return typeof value === "string" && value ? value : undefined;
    })
    .catch(() => {
      upn = undefined;
      return undefined;
    });
  return upn;
}

// The org serves the redirect page and msal-browser as web resources: its URL is the origin to use.
const msalSignIn = (relayUrl: string): GetAccessToken => relaySignIn({
  relayUrl, prefix: Solution.prefix, fetch: (input, init) => services.fetch(input, init), loginHint,
  origin: new URL(Xrm.Utility.getGlobalContext().getClientUrl()).origin,
});

const defaults = (): RelayServices => ({ signIn: msalSignIn, fetch: browserFetch });

let services: RelayServices = defaults();

export function relayServices(): RelayServices {
  return services;
}

/** Replaces the token source for the relay's client API (by default msal-browser, services/signIn.ts). */
export function configureRelaySignIn(getAccessToken: GetAccessToken): void {
  services = { ...services, signIn: () => getAccessToken };
}

/** Replaces any of the services (tests inject fetch and sleep). */
export function configureRelayServices(changes: Partial<RelayServices>): void {
  services = { ...services, ...changes };
}

export function resetRelayServices(): void {
  services = defaults();
  upn = undefined;
}

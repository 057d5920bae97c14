// The card's side effects on the real platform: context.webAPI, context.navigation, context.formatting,
// and the relay through fetch with a token from the injected getAccessToken.
import { MicrosoftSolution, Opportunity } from "../../Core/generated/schema.ts";
import type { IInputs } from "./generated/ManifestTypes";
import { RelayPolling } from "./constants.ts";
import { createRelayClient, signInNotConfigured, type FetchLike, type GetAccessToken } from "./services/relay.ts";
import type { CardServices, FixTarget, RelayPollingOptions } from "./types.ts";

/** What a host may inject; Dynamics constructs the control with none of it. */
export interface CardOptions {
  /**
   * Bearer token for the relay's client API. In Dynamics this is an msal-browser silent sign-in
   * (acquireTokenSilent for the relay's app scope, falling back to ssoSilent); the relay issue wires it.
   * Until then the default rejects, and Sync now / Retry say that sign-in is not set up.
   */
  getAccessToken?: GetAccessToken;
  /** fetch for the relay calls (defaults to window.fetch). */
  fetch?: FetchLike;
  polling?: Partial<RelayPollingOptions>;
}

type ContextSource = () => ComponentFramework.Context<IInputs>;

/**
 * PCF cannot move the focus to another control on the form (that is Xrm's formContext, which a PCF
 * control must not use), so a failing item opens the record that fixes it: the account for the
 * country, the contact for its e-mail, and a quick create of a Microsoft solution linked to this
 * opportunity. Deal value, currency and close date are fields on this form: the item names them.
 */
export function openFix(navigation: ComponentFramework.Navigation, target: FixTarget): Promise<void> {
  const done = (): void => undefined;
  switch (target.check) {
    case "solution":
      return navigation
        .openForm({
          entityName: MicrosoftSolution.logicalName,
          useQuickCreateForm: true,
          createFromEntity: { entityType: Opportunity.logicalName, id: target.opportunityId, name: target.opportunityName },
        })
        .then(done);
    case "country":
      return navigation.openForm({ entityName: "account", entityId: target.accountId }).then(done);
    case "contact":
      return navigation.openForm({ entityName: "contact", entityId: target.contactId }).then(done);
  }
}

export function createServices(current: ContextSource, options: CardOptions, lifetime: AbortSignal): CardServices {
  const hasWebApi = Boolean(current().webAPI);
  const getAccessToken = options.getAccessToken ?? signInNotConfigured;
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => window.fetch(input, init));
  return {
    webAPI: hasWebApi
      ? {
          retrieveRecord: (entityType, id, query) => current().webAPI.retrieveRecord(entityType, id, query),
          retrieveMultipleRecords: (entityType, query, maxPageSize) => current().webAPI.retrieveMultipleRecords(entityType, query, maxPageSize),
        }
      : null,
    relay: (relayUrl) => createRelayClient(relayUrl, getAccessToken, fetchImpl),
    formatDateTime: (date) => {
      try {
        return current().formatting.formatDateShort(date, true);
      } catch {
        return date.toLocaleString();
      }
    },
    fix: (target) => openFix(current().navigation, target),
    polling: { ...RelayPolling, ...options.polling },
    lifetime,
  };
}

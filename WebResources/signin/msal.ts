// pcr_/signin/msal.js: msal-browser for the card and the form library, loaded on demand by
// PcfControls/PartnerCenterCard/services/signIn.ts (300 KB that neither the card's bundle nor the form
// library should carry on every form load). It assigns one global, PartnerCenterMsal.
import { PublicClientApplication, type Configuration } from "@azure/msal-browser";
import { MSAL_GLOBAL, type MsalClient } from "../../PcfControls/PartnerCenterCard/services/signIn.ts";

(globalThis as unknown as Record<string, unknown>)[MSAL_GLOBAL] = {
  createClient: (configuration: Configuration): MsalClient => new PublicClientApplication(configuration),
};

// pcr_/signin/redirect.js, loaded by pcr_/signin/redirect.html: the sign-in's redirect URI. Entra ID sends
// the browser back here (in the popup, or the hidden iframe of a silent sign-in) with the code; msal's
// redirect bridge hands it to the card or the form on the same origin and closes the popup.
import { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";

broadcastResponseToMainFrame().catch(() => {
  // Opened without a sign-in answer (someone browsed here): nothing to hand back.
});

// What the form library says, in en-US (1033) and nl-NL (1043). Readiness problems are not here: they
// come from Core/messages.ts, so the card, the form and the relay describe a problem one way. The
// wording follows the card's resx strings where both say the same thing.
import { VISIBILITY_LOCKED, type Language } from "../../Core/messages.ts";
import type { SyncErrorKind } from "../../PcfControls/PartnerCenterCard/services/syncError.ts";

type Text = Record<Language, string>;

export const Texts = {
  // Last sync failed (form notification at load).
  lastSyncFailed: {
    1033: "The last sync with Partner Center failed: {0} What to do: {1}",
    1043: "De laatste synchronisatie met Partner Center is mislukt: {0} Wat u kunt doen: {1}",
  },
  relayWords: { 1033: "The relay says: \"{0}\".", 1043: "De relay meldt: \"{0}\"." },
  noDetails: { 1033: "The relay recorded no details.", 1043: "De relay heeft geen details vastgelegd." },
  readinessAction: {
    1033: "Fix these items, save, then choose Sync now.",
    1043: "Los deze punten op, sla op en kies Nu synchroniseren.",
  },

  // Save blocked by the readiness rules.
  saveBlockedTitle: { 1033: "Not saved: Sync with Partner Center is on", 1043: "Niet opgeslagen: Synchroniseren met Partner Center staat aan" },
  saveBlockedHint: {
    1033: "Fix these items and save again, or turn off Sync with Partner Center to save without sharing.",
    1043: "Los deze punten op en sla opnieuw op, of zet Synchroniseren met Partner Center uit om op te slaan zonder te delen.",
  },
  /** Before a form notification naming one thing Partner Center still needs that is not a column here. */
  needed: { 1033: "Partner Center needs this before the deal can be shared: {0}", 1043: "Partner Center heeft dit nodig voordat de deal kan worden gedeeld: {0}" },

  // Referral visibility (the card says the same).
  visibilityConfirmTitle: { 1033: "Show this referral to Microsoft sellers?", 1043: "Deze verwijzing tonen aan verkopers van Microsoft?" },
  visibilityConfirmBody: {
    1033: "Microsoft sellers will see this deal and its customer. This cannot be undone: once visible, the referral stays visible.",
    1043: "Verkopers van Microsoft zien dan deze deal en de klant. Dit kan niet ongedaan worden gemaakt: eenmaal zichtbaar, blijft de verwijzing zichtbaar.",
  },
  visibilityConfirmOk: { 1033: "Make visible", 1043: "Zichtbaar maken" },
  cancel: { 1033: "Cancel", 1043: "Annuleren" },
  /** Core/messages.ts: the rules step refuses the same change with the same words. */
  visibilityLocked: VISIBILITY_LOCKED,

  // Commands.
  openNoLink: { 1033: "The referral link appears once the deal is in Partner Center.", 1043: "De verwijzingskoppeling verschijnt zodra de deal in Partner Center staat." },
  syncNeedsSave: { 1033: "Save the opportunity before syncing it with Partner Center.", 1043: "Sla de verkoopkans op voordat u die met Partner Center synchroniseert." },
  syncNeedsToggle: { 1033: "Turn on Sync with Partner Center and save before syncing.", 1043: "Zet Synchroniseren met Partner Center aan en sla op voordat u synchroniseert." },
  noRelayUrl: {
    1033: "Sync now is off: the Relay URL environment variable is empty. Ask your administrator to set it.",
    1043: "Nu synchroniseren staat uit: de omgevingsvariabele Relay-URL is leeg. Vraag uw beheerder die in te vullen.",
  },
  badRelayUrl: {
    1033: "Sync now is off: the Relay URL \"{0}\" is not an https address.",
    1043: "Nu synchroniseren staat uit: de Relay-URL \"{0}\" is geen https-adres.",
  },
  settingsUnreadable: {
    1033: "The Partner Center settings could not be read: {0}",
    1043: "De instellingen voor Partner Center konden niet worden gelezen: {0}",
  },
  runStarting: { 1033: "Asking the relay to sync…", 1043: "De relay wordt gevraagd te synchroniseren…" },
  runQueued: { 1033: "Waiting in the relay's queue…", 1043: "Wacht in de wachtrij van de relay…" },
  runRunning: { 1033: "Syncing with Partner Center…", 1043: "Synchroniseren met Partner Center…" },
  runSucceeded: { 1033: "Synced with Partner Center.", 1043: "Gesynchroniseerd met Partner Center." },
  runFailed: { 1033: "The sync failed: {0}", 1043: "De synchronisatie is mislukt: {0}" },
  runDead: { 1033: "The relay gave up after several attempts: {0}", 1043: "De relay heeft het na meerdere pogingen opgegeven: {0}" },
  runTimeout: {
    1033: "The sync is still running. The Partner Center tab shows the result when it is done.",
    1043: "De synchronisatie loopt nog. Het tabblad Partner Center toont het resultaat zodra die klaar is.",
  },
  runSignIn: { 1033: "Could not sign in to the relay: {0}", 1043: "Aanmelden bij de relay is mislukt: {0}" },
  runUnreachable: { 1033: "The relay at {0} could not be reached.", 1043: "De relay op {0} is niet bereikbaar." },
  runHttp: { 1033: "The relay answered with HTTP {0}: {1}", 1043: "De relay antwoordde met HTTP {0}: {1}" },
  runBadAnswer: { 1033: "The relay gave an answer the form does not understand.", 1043: "De relay gaf een antwoord dat het formulier niet begrijpt." },

  // Lead form: a referral Microsoft sent waits for the seller's answer until Respond by.
  respondBySoon: {
    1033: "Partner Center closes this referral as Expired on {0} if nobody accepts or declines it: qualify the lead to accept, disqualify it to decline.",
    1043: "Partner Center sluit deze verwijzing op {0} als Verlopen als niemand haar accepteert of afwijst: kwalificeer de lead om te accepteren, diskwalificeer hem om af te wijzen.",
  },
  respondByPassed: {
    1033: "The time to answer this referral ended on {0}: Partner Center closes it as Expired, and qualifying the lead can no longer accept it. Disqualify the lead, or ask Microsoft to send the referral again.",
    1043: "De tijd om deze verwijzing te beantwoorden is op {0} verstreken: Partner Center sluit haar als Verlopen, en door de lead te kwalificeren wordt ze niet meer geaccepteerd. Diskwalificeer de lead, of vraag Microsoft de verwijzing opnieuw te sturen.",
  },
} satisfies Record<string, Text>;

export type TextKey = keyof typeof Texts;

/** Why the last sync failed and what to do, per kind of error (the card's Error_* strings, for the form). */
export const SyncErrorTexts: Record<Exclude<SyncErrorKind, "readiness">, { reason: Text; action: Text }> = {
  auth: {
    reason: { 1033: "The relay could not sign in to Partner Center or Dataverse.", 1043: "De relay kon zich niet aanmelden bij Partner Center of Dataverse." },
    action: { 1033: "Ask your administrator to sign the relay in again (relay login), then choose Sync now.", 1043: "Vraag uw beheerder de relay opnieuw aan te melden (relay login) en kies daarna Nu synchroniseren." },
  },
  busy: {
    reason: { 1033: "Partner Center was busy and asked the relay to slow down.", 1043: "Partner Center was druk en vroeg de relay het rustiger aan te doen." },
    action: { 1033: "Nothing: the relay tries again by itself. Choose Sync now if you are in a hurry.", 1043: "Niets: de relay probeert het zelf opnieuw. Kies Nu synchroniseren als het haast heeft." },
  },
  notFound: {
    reason: { 1033: "Partner Center no longer knows this referral.", 1043: "Partner Center kent deze verwijzing niet meer." },
    action: { 1033: "Check the referral in Partner Center. If it was deleted, ask your administrator to clear the Referral Identifier, then choose Sync now.", 1043: "Controleer de verwijzing in Partner Center. Is die verwijderd, vraag uw beheerder dan de verwijzings-id leeg te maken en kies Nu synchroniseren." },
  },
  conflict: {
    reason: { 1033: "Someone changed the referral in Partner Center at the same time.", 1043: "Iemand heeft de verwijzing tegelijkertijd in Partner Center gewijzigd." },
    action: { 1033: "Choose Sync now: the relay reads both sides again and merges them.", 1043: "Kies Nu synchroniseren: de relay leest beide kanten opnieuw en voegt ze samen." },
  },
  unavailable: {
    reason: { 1033: "Partner Center or Dataverse did not answer in time.", 1043: "Partner Center of Dataverse antwoordde niet op tijd." },
    action: { 1033: "Choose Sync now in a few minutes.", 1043: "Kies over een paar minuten Nu synchroniseren." },
  },
  rejected: {
    reason: { 1033: "Partner Center refused a value on this deal.", 1043: "Partner Center heeft een waarde van deze deal geweigerd." },
    action: { 1033: "Correct the value Partner Center names, save, then choose Sync now.", 1043: "Verbeter de waarde die Partner Center noemt, sla op en kies Nu synchroniseren." },
  },
  other: {
    reason: { 1033: "The sync stopped with an error.", 1043: "De synchronisatie is gestopt met een fout." },
    action: { 1033: "Choose Sync now. If it fails again, send your administrator this message.", 1043: "Kies Nu synchroniseren. Mislukt het weer, stuur deze melding dan naar uw beheerder." },
  },
};

/** The text in the language, with {0}, {1}… filled in. */
export function say(key: TextKey, language: Language, ...args: Array<string | number>): string {
  return Texts[key][language].replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = args[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

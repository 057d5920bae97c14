// What the seller and the admin read, in en-US (1033) and nl-NL (1043). Shared by the card, the form
// scripts, the rules step and the relay's Audit lines, so one problem is described one way everywhere.
import type { ReadinessCheck, ReadinessProblem } from "./readiness.ts";

export type Language = 1033 | 1043;
type Text = Record<Language, string>;

export const READINESS_CHECK_LABELS: Record<ReadinessCheck, Text> = {
  solution: { 1033: "Microsoft solution attached", 1043: "Microsoft-oplossing gekoppeld" },
  country: { 1033: "Two-letter country code on the account", 1043: "Landcode van twee letters op het account" },
  contact: { 1033: "Customer contact (help requested)", 1043: "Klantcontactpersoon (hulp gevraagd)" },
  dealValue: { 1033: "Deal value", 1043: "Dealwaarde" },
  currency: { 1033: "Currency", 1043: "Valuta" },
  closeDate: { 1033: "Estimated close date", 1043: "Verwachte afsluitdatum" },
};

export const READINESS_PROBLEMS: Record<ReadinessProblem, Text> = {
  noSolution: {
    1033: "Add at least one co-sell ready or Microsoft solution under Microsoft Solutions.",
    1043: "Voeg onder Microsoft-oplossingen minstens één co-sell ready oplossing of Microsoft-oplossing toe.",
  },
  noAccount: {
    1033: "Set the customer account: Partner Center needs the customer's company and country.",
    1043: "Vul het klantaccount in: Partner Center heeft het bedrijf en het land van de klant nodig.",
  },
  noCountry: {
    1033: "Enter the customer's two-letter country code (for example NL or US) on the account.",
    1043: "Vul op het account de landcode van twee letters van de klant in (bijvoorbeeld NL of US).",
  },
  countryNotIso: {
    1033: "The account's country must be a two-letter ISO code such as NL or US, not a country name.",
    1043: "Het land van het account moet een ISO-code van twee letters zijn, zoals NL of US, geen landnaam.",
  },
  noContact: {
    1033: "Add a customer contact: Microsoft needs one when you ask for help.",
    1043: "Voeg een klantcontactpersoon toe: Microsoft heeft er een nodig als u om hulp vraagt.",
  },
  contactWithoutEmail: {
    1033: "Give the customer contact an e-mail address: Microsoft uses it to reach the customer.",
    1043: "Geef de klantcontactpersoon een e-mailadres: Microsoft gebruikt het om de klant te bereiken.",
  },
  noDealValue: {
    1033: "Enter the deal value.",
    1043: "Vul de dealwaarde in.",
  },
  dealValueNotPositive: {
    1033: "The deal value must be more than zero.",
    1043: "De dealwaarde moet groter zijn dan nul.",
  },
  noCurrency: {
    1033: "Choose the deal's currency.",
    1043: "Kies de valuta van de deal.",
  },
  currencyNotIso: {
    1033: "The deal's currency must have a three-letter ISO code such as EUR or USD.",
    1043: "De valuta van de deal moet een ISO-code van drie letters hebben, zoals EUR of USD.",
  },
  noCloseDate: {
    1033: "Enter the estimated close date.",
    1043: "Vul de verwachte afsluitdatum in.",
  },
};

/** Referral Visibility cannot be turned back off: the form says it, and the rules step refuses a save that tries. */
export const VISIBILITY_LOCKED: Text = {
  1033: "Once visible to Microsoft sellers, a referral stays visible: Referral Visibility cannot be turned off.",
  1043: "Een verwijzing die zichtbaar is voor verkopers van Microsoft, blijft zichtbaar: Zichtbaarheid van verwijzing kan niet worden uitgezet.",
};

export function languageOf(lcid: number | undefined): Language {
  return lcid === 1043 ? 1043 : 1033;
}

/** One message naming every missing item, for a blocked save or an Audit line. */
export function readinessSummary(problems: readonly ReadinessProblem[], language: Language): string {
  const intro: Text = {
    1033: "Partner Center needs more before this deal can be shared:",
    1043: "Partner Center heeft meer nodig voordat deze deal kan worden gedeeld:",
  };
  return [intro[language], ...problems.map((p) => `• ${READINESS_PROBLEMS[p][language]}`)].join("\n");
}

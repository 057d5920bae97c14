// The readiness rules: what an opportunity needs before Partner Center accepts it as a referral.
// One implementation, used by the relay (before it calls Partner Center), the rules step (to refuse a
// save), the form scripts (to block the save with one message) and the card (the checklist).
// Pure: no I/O, safe in the browser. Sources: the seed guide and FAQ, shared/docs/partner-center-api.md.
import { toCountryCode, toCurrencyCode } from "./iso.ts";

export type ReadinessCheck = "solution" | "country" | "contact" | "dealValue" | "currency" | "closeDate";

/** What the rules need to know about a deal, already read from Dataverse through the admin's mapping. */
export interface DealFacts {
  /** Microsoft solutions attached (Microsoft Partner Center Solution rows). */
  solutionCount: number;
  /** Value of the account column named by the country variable; null when there is no account. */
  customerCountry: string | null;
  hasAccount: boolean;
  /** Whether "How can Microsoft help?" asks for help (a co-sell). */
  helpRequested: boolean;
  /** The customer contact on the deal, if any. */
  contact: { email?: string | null; firstName?: string | null; lastName?: string | null } | null;
  dealValue: number | null;
  /** ISO code of the deal's transaction currency, if any. */
  currencyCode: string | null;
  /** Estimated close date, ISO 8601. */
  closeDate: string | null;
}

export interface ReadinessItem {
  check: ReadinessCheck;
  ok: boolean;
  /** Whether this check applies to this deal at all (the contact only when help is requested). */
  applies: boolean;
  /** What the seller should do, in plain words; present when the check fails. */
  problem?: ReadinessProblem;
}

export type ReadinessProblem =
  | "noSolution" | "noAccount" | "noCountry" | "countryNotIso" | "noContact" | "contactWithoutEmail"
  | "noDealValue" | "dealValueNotPositive" | "noCurrency" | "currencyNotIso" | "noCloseDate";

export interface Readiness {
  ready: boolean;
  items: ReadinessItem[];
  /** Failed items only, in checklist order. */
  problems: ReadinessProblem[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkReadiness(deal: DealFacts): Readiness {
  const items: ReadinessItem[] = [];
  const add = (check: ReadinessCheck, problem: ReadinessProblem | undefined, applies = true): void => {
    items.push({ check, applies, ok: !problem, ...(problem ? { problem } : {}) });
  };
  add("solution", deal.solutionCount > 0 ? undefined : "noSolution");
  add("country", !deal.hasAccount ? "noAccount" : !deal.customerCountry?.trim() ? "noCountry" : toCountryCode(deal.customerCountry) ? undefined : "countryNotIso");
  add("contact", !deal.helpRequested ? undefined : !deal.contact ? "noContact" : EMAIL.test(deal.contact.email?.trim() ?? "") ? undefined : "contactWithoutEmail", deal.helpRequested);
  add("dealValue", deal.dealValue === null || Number.isNaN(deal.dealValue) ? "noDealValue" : deal.dealValue > 0 ? undefined : "dealValueNotPositive");
  add("currency", !deal.currencyCode ? "noCurrency" : toCurrencyCode(deal.currencyCode) ? undefined : "currencyNotIso");
  add("closeDate", deal.closeDate && !Number.isNaN(Date.parse(deal.closeDate)) ? undefined : "noCloseDate");
  const problems = items.filter((i) => !i.ok).map((i) => i.problem!);
  return { ready: problems.length === 0, items, problems };
}

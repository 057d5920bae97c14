// What "converged" means for a set of deals, checked only against the two sides (Dataverse through the
// Web API, Partner Center through its sandbox's referral list), and the counts the tests print:
// - every seller's opportunity: exactly one partner referral with its id as externalReferenceId (and at
//   most one Microsoft side in that engagement), the opportunity pointing at it and Synced, and the
//   referral carrying what the seller wrote last (name, value, notes) while the opportunity still does too;
// - every referral Microsoft sent: exactly one lead (or, when a partner user accepted it in Partner Center
//   before the relay first saw it, one opportunity) with its Referral Identifier, carrying Microsoft's
//   subject and company;
// - one account per company name and one contact per e-mail address;
// - and what later actions should have left: Microsoft CRM Identifier where Microsoft accepted, Active /
//   Accepted on the records of invitations a partner user accepted.
// A few batched queries per check, so polling for convergence stays cheap.
import { appendFileSync } from "node:fs";
import { Lead, Opportunity, PartnerCenterSyncStatus, ReferralStatus } from "../../../Core/generated/schema.ts";
import type { Referral } from "../../../Core/referral.ts";
import type { Row } from "../../src/clients/dataverse.ts";
import { isMicrosoftsReferral } from "../../src/sync/partner-center-side.ts";
import { allReferrals, rowsWhereAnyOf, summaryLine, type Customer, type SellerDeal, type World } from "./harness.ts";

export interface Invitation {
  referral: Referral;
  customer: Customer;
}

export interface Tally {
  expected: number;
  lost: number;
  duplicated: number;
  overwritten: number;
  /** One line per problem, for the summary and the failure message. */
  problems: string[];
}

function tally(): Tally {
  return { expected: 0, lost: 0, duplicated: 0, overwritten: 0, problems: [] };
}

export interface Convergence {
  outbound: Tally;
  inbound: Tally;
  accounts: Tally;
  contacts: Tally;
  converged: boolean;
}

export interface Expectations {
  /** Opportunity id → the Microsoft CRM Identifier Microsoft's acceptance gave it. */
  microsoftCrmIdentifiers?: Map<string, string>;
  /** Referral ids of invitations a partner user accepted in Partner Center. */
  accepted?: Set<string>;
}

function groupBy(rows: Row[], column: string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = String(row[column] ?? "").toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

export async function checkConvergence(world: World, deals: SellerDeal[], invitations: Invitation[], expectations: Expectations = {}): Promise<Convergence> {
  const oc = Opportunity.columns;
  const lc = Lead.columns;
  const referrals = await allReferrals(world);
  const shared = new Map((await rowsWhereAnyOf(world, "opportunities", "opportunityid", deals.map((d) => d.opportunityId), { kind: "id" })).map((r) => [String(r.opportunityid), r]));
  const referralIds = invitations.map((i) => i.referral.id);
  const leadsByReferral = groupBy(await rowsWhereAnyOf(world, "leads", lc.referralIdentifier, referralIds), lc.referralIdentifier);
  const opportunitiesByReferral = groupBy(await rowsWhereAnyOf(world, "opportunities", oc.referralIdentifier, referralIds), oc.referralIdentifier);

  const outbound = tally();
  for (const deal of deals) {
    outbound.expected++;
    const mine = referrals.filter((r) => r.externalReferenceId === deal.opportunityId);
    const partner = mine.filter((r) => !isMicrosoftsReferral(r));
    const microsoft = mine.filter((r) => isMicrosoftsReferral(r));
    if (partner.length === 0) {
      outbound.lost++;
      outbound.problems.push(`${deal.name}: no referral in Partner Center`);
      continue;
    }
    if (partner.length > 1 || microsoft.length > 1) {
      outbound.duplicated += partner.length - 1 + Math.max(0, microsoft.length - 1);
      outbound.problems.push(`${deal.name}: ${partner.length} partner referrals and ${microsoft.length} Microsoft sides`);
    }
    const referral = partner[0]!;
    const record = shared.get(deal.opportunityId);
    if (!record || record[oc.referralIdentifier] !== referral.id || record[oc.syncStatus] !== PartnerCenterSyncStatus.Synced) {
      outbound.lost++;
      outbound.problems.push(`${deal.name}: the opportunity says ${String(record?.[oc.referralIdentifier] ?? "no referral")} / sync status ${String(record?.[oc.syncStatus])}, Partner Center has ${referral.id}`);
      continue;
    }
    const wrong: string[] = [];
    if (referral.name !== deal.name || record.name !== deal.name) wrong.push(`name ${JSON.stringify(referral.name)} / ${JSON.stringify(record.name)}`);
    if (referral.details.dealValue !== deal.dealValue || record.estimatedvalue !== deal.dealValue) {
      wrong.push(`value ${referral.details.dealValue} in Partner Center / ${String(record.estimatedvalue)} in Dynamics, the seller's is ${deal.dealValue}`);
    }
    if (referral.details.notes !== deal.notes || record.description !== deal.notes) wrong.push("notes");
    if (referral.customerProfile.name !== deal.company) wrong.push(`customer ${referral.customerProfile.name}`);
    const msx = expectations.microsoftCrmIdentifiers?.get(deal.opportunityId);
    if (msx && record[oc.microsoftCrmIdentifier] !== msx) wrong.push(`Microsoft CRM Identifier ${String(record[oc.microsoftCrmIdentifier])}, not ${msx}`);
    if (wrong.length) {
      outbound.overwritten++;
      outbound.problems.push(`${deal.name}: ${wrong.join(", ")}`);
    }
  }

  const inbound = tally();
  for (const { referral, customer } of invitations) {
    inbound.expected++;
    const leads = leadsByReferral.get(referral.id.toLowerCase()) ?? [];
    const opportunities = opportunitiesByReferral.get(referral.id.toLowerCase()) ?? [];
    const accepted = expectations.accepted?.has(referral.id) ?? false;
    if (leads.length + opportunities.length === 0) {
      inbound.lost++;
      inbound.problems.push(`${referral.name}: no lead`);
      continue;
    }
    if (leads.length + opportunities.length > 1) {
      inbound.duplicated += leads.length + opportunities.length - 1;
      inbound.problems.push(`${referral.name}: ${leads.length} leads, ${opportunities.length} opportunities`);
    }
    const wrong: string[] = [];
    const status = accepted ? ReferralStatus.Active : ReferralStatus.New;
    const lead = leads[0];
    if (lead) {
      if (lead.subject !== referral.name) wrong.push(`subject ${JSON.stringify(lead.subject)}`);
      if (lead.companyname !== customer.company) wrong.push(`company ${JSON.stringify(lead.companyname)}`);
      if (lead.emailaddress1 !== customer.email) wrong.push("e-mail");
      if (lead[lc.syncStatus] !== PartnerCenterSyncStatus.Synced) wrong.push(`sync status ${String(lead[lc.syncStatus])}`);
      if (lead[lc.referralStatus] !== status) wrong.push(`referral status ${String(lead[lc.referralStatus])}, not ${status}`);
    } else {
      // Accepted in Partner Center before the relay first saw it: an accepted referral is an opportunity.
      const record = opportunities[0]!;
      if (!accepted) wrong.push("an opportunity for a referral nobody accepted");
      if (record.name !== referral.name) wrong.push(`name ${JSON.stringify(record.name)}`);
      if (record[oc.syncStatus] !== PartnerCenterSyncStatus.Synced) wrong.push(`sync status ${String(record[oc.syncStatus])}`);
      if (record[oc.referralStatus] !== status) wrong.push(`referral status ${String(record[oc.referralStatus])}, not ${status}`);
    }
    if (wrong.length) {
      inbound.overwritten++;
      inbound.problems.push(`${referral.name}: ${wrong.join(", ")}`);
    }
  }

  const accounts = tally();
  const companies = [...new Set([...deals.map((d) => d.company), ...invitations.map((i) => i.customer.company)])];
  const accountsByName = groupBy(await rowsWhereAnyOf(world, "accounts", "name", companies, { select: ["accountid", "name"] }), "name");
  for (const company of companies) {
    accounts.expected++;
    const found = accountsByName.get(company.toLowerCase()) ?? [];
    if (found.length === 0) {
      accounts.lost++;
      accounts.problems.push(`${company}: no account`);
    } else if (found.length > 1) {
      accounts.duplicated += found.length - 1;
      accounts.problems.push(`${company}: ${found.length} accounts`);
    }
  }

  const contacts = tally();
  const emails = [...new Set([...deals.map((d) => d.email), ...invitations.map((i) => i.customer.email)])];
  const contactsByEmail = groupBy(await rowsWhereAnyOf(world, "contacts", "emailaddress1", emails, { select: ["contactid", "emailaddress1"] }), "emailaddress1");
  for (const email of emails) {
    contacts.expected++;
    const found = contactsByEmail.get(email.toLowerCase()) ?? [];
    if (found.length === 0) {
      contacts.lost++;
      contacts.problems.push(`${email}: no contact`);
    } else if (found.length > 1) {
      contacts.duplicated += found.length - 1;
      contacts.problems.push(`${email}: ${found.length} contacts`);
    }
  }

  const all = [outbound, inbound, accounts, contacts];
  return { outbound, inbound, accounts, contacts, converged: all.every((t) => t.lost === 0 && t.duplicated === 0 && t.overwritten === 0) };
}

/** Every problem of a check, on one line (for progress notes). */
export function problems(result: Convergence): string {
  return [result.outbound, result.inbound, result.accounts, result.contacts].flatMap((t) => t.problems).join("; ");
}

/**
 * For `npm run test:resilience`: each suite's counts as one JSON line in the file PCR_RESILIENCE_REPORT
 * names (when set), so the runner can print the totals at the end.
 */
export function reportCounts(title: string, tallies: Tally[]): void {
  const file = process.env.PCR_RESILIENCE_REPORT;
  if (!file) return;
  const sum = (key: "expected" | "lost" | "duplicated" | "overwritten") => tallies.reduce((n, t) => n + t[key], 0);
  appendFileSync(file, JSON.stringify({ title, expected: sum("expected"), lost: sum("lost"), duplicated: sum("duplicated"), overwritten: sum("overwritten") }) + "\n");
}

export function printSummary(title: string, result: Convergence, extra: string[] = []): string {
  reportCounts(title, [result.outbound, result.inbound, result.accounts, result.contacts]);
  const text = [
    `── ${title} ──`,
    summaryLine("opportunities → referrals", result.outbound),
    summaryLine("Microsoft's referrals → leads/opportunities", result.inbound),
    summaryLine("accounts (one per company)", result.accounts),
    summaryLine("contacts (one per e-mail)", result.contacts),
    ...extra,
    ...[result.outbound, result.inbound, result.accounts, result.contacts].flatMap((t) => t.problems.map((p) => `  ✖ ${p}`)),
  ].join("\n");
  console.log(text);
  return text;
}

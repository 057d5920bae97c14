// The Partner Center referral as the product uses it, and Partner Center's status rules
// (shared/docs/partner-center-referrals.md §5 and §7). Pure: no I/O.

export type Status = "New" | "Active" | "Closed";
export type Substatus = "Pending" | "Received" | "Accepted" | "Won" | "Lost" | "Declined" | "Expired";
export type ReferralType = "Independent" | "Shared";
export type Direction = "Incoming" | "Outgoing";
export type Qualification = "None" | "Direct" | "SalesQualified" | "MarketingQualified";
export type AssistanceRequestCode =
  | "WorkloadSpecificValueProposition" | "CustomerTechnicalArchitecture" | "ProofOfConceptOrDemo"
  | "QuotesOrLicensing" | "PostSalesCustomerSuccess" | "GeneralOrOther";

export interface Member {
  firstName?: string;
  lastName?: string;
  email?: string;
  phoneNumber?: string;
}

export interface Address {
  addressLine1?: string;
  addressLine2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
  region?: string;
}

export interface SolutionTag {
  id: string;
  type?: "None" | "Category" | "Name";
  name?: string;
  publisherName?: string;
  solutionType?: string;
}

export interface Referral {
  id: string;
  engagementId: string;
  name: string;
  externalReferenceId?: string;
  status: Status;
  substatus: Substatus;
  statusReason?: string;
  type: ReferralType;
  qualification?: Qualification;
  direction: Direction;
  createdDateTime?: string;
  updatedDateTime?: string;
  expirationDateTime?: string | null;
  eTag: string;
  customerProfile: { name?: string; address?: Address; team?: Member[]; ids?: Array<{ profileType: string; id: string }> };
  consent: { consentToShareReferralWithMicrosoftSellers?: boolean; consentToContact?: boolean; consentToToShareInfoWithOthers?: boolean };
  details: {
    notes?: string;
    dealValue?: number;
    currency?: string;
    closingDateTime?: string;
    requirements?: { solutions?: SolutionTag[] };
  };
  team?: Member[];
  inviteContext?: { notes?: string; assistanceRequestCode?: AssistanceRequestCode | "Unknown" | null; invitedBy?: { organizationId?: string; organizationName?: string } };
  target?: Array<{ type: string; id: string }>;
  trackingInfo?: { microsoftMsxId?: string | null };
}

/** Which substatuses go with each status (§7.1). */
export const SUBSTATUSES: Record<Status, readonly Substatus[]> = {
  New: ["Pending", "Received"],
  Active: ["Accepted"],
  Closed: ["Won", "Lost", "Declined", "Expired"],
};

const MOVES: Record<Status, readonly Status[]> = { New: ["New", "Active", "Closed"], Active: ["Active", "Closed"], Closed: ["Closed"] };

export function isValidPair(status: Status, substatus: Substatus): boolean {
  return SUBSTATUSES[status]?.includes(substatus) ?? false;
}

export function isTerminal(status: Status): boolean {
  return status === "Closed";
}

/** Whether Partner Center allows moving a referral from one status pair to another. Closed never changes. */
export function canMove(from: { status: Status; substatus: Substatus }, to: { status: Status; substatus: Substatus }): boolean {
  if (!isValidPair(to.status, to.substatus)) return false;
  if (isTerminal(from.status)) return from.status === to.status && from.substatus === to.substatus;
  return MOVES[from.status].includes(to.status);
}

/** Microsoft's side of a co-sell: the related referral in the same engagement that targets Microsoft (§7.3). */
export function isMicrosoftSide(referral: Pick<Referral, "target">): boolean {
  return (referral.target ?? []).some((t) => t.type === "BusinessProfileLocation" && t.id === "msft");
}

/** Incoming from Microsoft and still waiting for the partner's answer: arrives in Dynamics as a lead. */
export function isAwaitingAnswer(referral: Pick<Referral, "direction" | "status">): boolean {
  return referral.direction === "Incoming" && referral.status === "New";
}

/** Microsoft's qualified lead (not a co-sell invitation): Independent with Sales/MarketingQualified from msft (§7.4). */
export function isMicrosoftQualifiedLead(referral: Pick<Referral, "type" | "qualification" | "inviteContext">): boolean {
  return referral.type === "Independent"
    && (referral.qualification === "SalesQualified" || referral.qualification === "MarketingQualified")
    && referral.inviteContext?.invitedBy?.organizationId === "msft";
}

/** Who sent an incoming referral, for the lead's "Sent by": the organisation and, when named, its first team member. */
export function senderOf(referral: Pick<Referral, "inviteContext" | "team">): string | null {
  const invitedBy = referral.inviteContext?.invitedBy;
  const organization = invitedBy?.organizationName?.trim() || (invitedBy?.organizationId === "msft" ? "Microsoft" : invitedBy?.organizationId?.trim() || "");
  const member = referral.team?.[0];
  const person = member ? [`${member.firstName ?? ""} ${member.lastName ?? ""}`.trim(), member.email?.trim()].filter(Boolean).join(", ") : "";
  const text = organization && person ? `${organization} (${person})` : organization || person;
  return text ? text.slice(0, 200) : null;
}

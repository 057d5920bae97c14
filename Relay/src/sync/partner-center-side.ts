// The sync engine's Partner Center side: reads that tolerate a missing referral, lookups that make
// creates safe to repeat (by externalReferenceId, by engagement), and Microsoft's side of a co-sell.
import { isMicrosoftSide, type Referral } from "../../../Core/referral.ts";
import { toMicrosoftReferralCreate, type DealForReferral, type PatchOperation } from "../../../Core/mapping.ts";
import { PartnerCenterError, PreconditionFailed, type PartnerCenterClient, type ReferralWithETag } from "../clients/partner-center.ts";

const MICROSOFT_ORGANIZATION = "msft";

/**
 * Microsoft's side of an engagement: the related referral the partner addressed to Microsoft
 * (isMicrosoftSide), or Microsoft's own referral in a co-sell Microsoft started (organizationId msft).
 */
export function isMicrosoftsReferral(referral: Referral): boolean {
  return isMicrosoftSide(referral) || (referral as Referral & { organizationId?: string }).organizationId === MICROSOFT_ORGANIZATION;
}

function quoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * PATCH /referrals/{id} with If-Match, answering the referral as it is afterwards (from the answer, else
 * read again); undefined when someone changed it since `ifMatch` was read (412): read both sides again.
 */
export async function patchReferral(pc: PartnerCenterClient, id: string, operations: readonly PatchOperation[], ifMatch: string): Promise<ReferralWithETag | undefined> {
  try {
    const result = await pc.updateReferral(id, operations, { ifMatch, returnRepresentation: true });
    if (result.referral) return { referral: result.referral, eTag: result.eTag ?? result.referral.eTag };
    return await pc.getReferral(id);
  } catch (error) {
    if (error instanceof PreconditionFailed) return undefined;
    throw error;
  }
}

/** GET /referrals/{id}; undefined when Partner Center has no such referral (404). */
export async function getReferralOrUndefined(pc: PartnerCenterClient, id: string): Promise<ReferralWithETag | undefined> {
  try {
    return await pc.getReferral(id);
  } catch (error) {
    if (error instanceof PartnerCenterError && error.status === 404) return undefined;
    throw error;
  }
}

async function first(pc: PartnerCenterClient, filter: string, accept: (r: Referral) => boolean): Promise<Referral | undefined> {
  for await (const referral of pc.listReferrals({ filter })) if (accept(referral)) return referral;
  return undefined;
}

function withETag(referral: Referral): ReferralWithETag {
  return { referral, eTag: referral.eTag };
}

/** The partner's referral made for this Dynamics record (externalReferenceId), if an earlier attempt created one. */
export async function findByExternalReference(pc: PartnerCenterClient, externalReferenceId: string): Promise<ReferralWithETag | undefined> {
  const found = await first(pc, `externalReferenceId eq ${quoted(externalReferenceId)}`, (r) => !isMicrosoftsReferral(r));
  return found && withETag(found);
}

/** Microsoft's side of an engagement, if there is one. */
export async function findMicrosoftReferral(pc: PartnerCenterClient, engagementId: string): Promise<Referral | undefined> {
  return first(pc, `engagementId eq ${quoted(engagementId)}`, isMicrosoftsReferral);
}

/** The partner's own referral in an engagement. */
export async function findPartnerReferral(pc: PartnerCenterClient, engagementId: string): Promise<Referral | undefined> {
  return first(pc, `engagementId eq ${quoted(engagementId)}`, (r) => !isMicrosoftsReferral(r));
}

/**
 * Microsoft's related referral of a co-sell (same engagement, targeted at msft): found when an earlier
 * attempt made it, created otherwise. A create whose answer was lost is looked up before it is repeated.
 */
export async function ensureMicrosoftReferral(pc: PartnerCenterClient, partnerReferral: Referral, deal: DealForReferral): Promise<{ referral: Referral; created: boolean }> {
  const existing = await findMicrosoftReferral(pc, partnerReferral.engagementId);
  if (existing) return { referral: existing, created: false };
  try {
    const { referral } = await pc.createReferral(toMicrosoftReferralCreate(partnerReferral, deal));
    return { referral, created: true };
  } catch (error) {
    if (error instanceof PartnerCenterError && error.outcomeUnknown) {
      const again = await findMicrosoftReferral(pc, partnerReferral.engagementId);
      if (again) return { referral: again, created: true };
    }
    throw error;
  }
}

/** Referral Link from the admin's template (`{referralId}` replaced). */
export function referralLink(template: string, referralId: string): string {
  return template.includes("{referralId}") ? template.replace(/\{referralId\}/g, encodeURIComponent(referralId)) : `${template.replace(/\/+$/, "")}/${encodeURIComponent(referralId)}`;
}

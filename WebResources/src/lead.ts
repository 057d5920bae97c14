// The lead form: a lead comes from a Partner Center referral (inbound), so only what applies to it:
// the relay's columns are read-only and a failed sync is explained. No readiness check: the seller
// answers the referral by qualifying or disqualifying the lead.
import { LEAD_READ_ONLY } from "./names.ts";
import { lockColumns } from "./opportunity.ts";
import { showLastSyncFailure } from "./syncFailure.ts";

function onLeadDataLoad(executionContext: Xrm.Events.EventContext): void {
  showLastSyncFailure(executionContext.getFormContext());
}

/** Lead form OnLoad. */
export function onLoad(executionContext: Xrm.Events.EventContext): void {
  const form = executionContext.getFormContext();
  lockColumns(form, LEAD_READ_ONLY);
  showLastSyncFailure(form);
  form.data.removeOnLoad(onLeadDataLoad);
  form.data.addOnLoad(onLeadDataLoad);
}

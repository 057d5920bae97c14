// The library's entry: esbuild compiles it to one IIFE that assigns the global `PartnerCenter`.
// Form and ribbon XML name these functions as PartnerCenter.Opportunity.onLoad and so on.
import * as commands from "./commands.ts";
import * as lead from "./lead.ts";
import * as opportunity from "./opportunity.ts";
export { configureRelaySignIn } from "./relaySignIn.ts";

export const Opportunity = {
  onLoad: opportunity.onLoad,
  onSave: opportunity.onSave,
  onHelpRequestedChange: opportunity.onHelpRequestedChange,
  onSyncChange: opportunity.onSyncChange,
  onReferralVisibilityChange: opportunity.onReferralVisibilityChange,
  openInPartnerCenter: commands.openInPartnerCenter,
  isOpenInPartnerCenterEnabled: commands.isOpenInPartnerCenterEnabled,
  syncNow: commands.syncNow,
  isSyncNowEnabled: commands.isSyncNowEnabled,
};

export const Lead = {
  onLoad: lead.onLoad,
  openInPartnerCenter: commands.openInPartnerCenter,
  isOpenInPartnerCenterEnabled: commands.isOpenInPartnerCenterEnabled,
};

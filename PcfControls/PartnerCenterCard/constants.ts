// Every manifest key and resx key the card uses, in one place. ControlManifest.Input.xml and the two
// resx files must agree with this file: test/manifest.test.ts checks both.
import { Lead, Opportunity } from "../../Core/generated/schema.ts";
import { LeadDisqualifiedStatus } from "../../Core/lifecycle.ts";

/** Manifest property names (context.parameters.*). */
export const Property = {
  syncWithPartnerCenter: "syncWithPartnerCenter",
  helpRequested: "helpRequested",
  referralVisibility: "referralVisibility",
  referralLink: "referralLink",
  syncStatus: "syncStatus",
  lastSyncedOn: "lastSyncedOn",
  lastSyncError: "lastSyncError",
  microsoftStatus: "microsoftStatus",
  microsoftSubstatus: "microsoftSubstatus",
  microsoftCrmIdentifier: "microsoftCrmIdentifier",
  respondBy: "respondBy",
  sentBy: "sentBy",
  referralStatus: "referralStatus",
  referralSubstatus: "referralSubstatus",
  relayUrl: "relayUrl",
  historySize: "historySize",
} as const;
export type PropertyName = (typeof Property)[keyof typeof Property];

/** The bound properties and the opportunity column each is bound to on the form (controlDescriptions). */
export const BoundColumns = {
  syncWithPartnerCenter: { column: Opportunity.columns.syncWithPartnerCenter, type: "TwoOptions" },
  helpRequested: { column: Opportunity.columns.helpRequested, type: "OptionSet" },
  referralVisibility: { column: Opportunity.columns.referralVisibility, type: "TwoOptions" },
  referralLink: { column: Opportunity.columns.referralLink, type: "SingleLine.URL" },
  syncStatus: { column: Opportunity.columns.syncStatus, type: "OptionSet" },
  lastSyncedOn: { column: Opportunity.columns.lastSyncedOn, type: "DateAndTime.DateAndTime" },
  lastSyncError: { column: Opportunity.columns.lastSyncError, type: "Multiple" },
  microsoftStatus: { column: Opportunity.columns.microsoftStatus, type: "OptionSet" },
  microsoftSubstatus: { column: Opportunity.columns.microsoftSubstatus, type: "OptionSet" },
  microsoftCrmIdentifier: { column: Opportunity.columns.microsoftCrmIdentifier, type: "SingleLine.Text" },
} as const;
export type BoundProperty = keyof typeof BoundColumns;

/**
 * The lead main form binds the same control to the lead's columns (lead mode). The four lead-only
 * properties are optional in the manifest, so the opportunity form's binding stays as it is.
 */
export const LeadBoundColumns = {
  syncWithPartnerCenter: { column: Lead.columns.syncWithPartnerCenter, type: "TwoOptions" },
  helpRequested: { column: Lead.columns.helpRequested, type: "OptionSet" },
  referralLink: { column: Lead.columns.referralLink, type: "SingleLine.URL" },
  syncStatus: { column: Lead.columns.syncStatus, type: "OptionSet" },
  lastSyncedOn: { column: Lead.columns.lastSyncedOn, type: "DateAndTime.DateAndTime" },
  lastSyncError: { column: Lead.columns.lastSyncError, type: "Multiple" },
  respondBy: { column: Lead.columns.respondBy, type: "DateAndTime.DateAndTime" },
  sentBy: { column: Lead.columns.sentBy, type: "SingleLine.Text" },
  referralStatus: { column: Lead.columns.referralStatus, type: "OptionSet" },
  referralSubstatus: { column: Lead.columns.referralSubstatus, type: "OptionSet" },
} as const;
export type LeadBoundProperty = keyof typeof LeadBoundColumns;

/** Standard lead names (system names, the same in every environment) the lead mode reads and writes. */
export const StandardLead = {
  /** context.mode.contextInfo.entityTypeName on the lead form. */
  logicalName: Lead.logicalName,
  entitySetName: Lead.entitySetName,
  id: "leadid",
  parentAccount: "parentaccountid",
  currency: "transactioncurrencyid",
  qualificationComments: "qualificationcomments",
  stateCode: "statecode",
  statusCode: "statuscode",
} as const;

/** Lead statecode values. */
export const LeadState = { Open: 0, Qualified: 1, Disqualified: 2 } as const;
/** QualifyLead's Status: the Qualified status reason. */
export const LEAD_STATUS_QUALIFIED = 3;
/** The lead's Disqualified status reasons, in the order the Decline dialog offers them. */
export const DisqualifyReasons = [
  { value: LeadDisqualifiedStatus.Lost, text: "leadReasonLost" },
  { value: LeadDisqualifiedStatus.CannotContact, text: "leadReasonCannotContact" },
  { value: LeadDisqualifiedStatus.NoLongerInterested, text: "leadReasonNoLongerInterested" },
  { value: LeadDisqualifiedStatus.Canceled, text: "leadReasonCanceled" },
] as const;

/** Inputs that are not columns: static values the form editor sets. */
export const InputProperties = {
  relayUrl: { type: "SingleLine.Text" },
  historySize: { type: "Whole.None", defaultValue: 5 },
} as const;

/** Display and description keys of the control and each property, as the manifest names them. */
export const ManifestKeys = {
  control: { display: "PartnerCenterCard_Display_Key", description: "PartnerCenterCard_Desc_Key" },
  properties: {
    syncWithPartnerCenter: { display: "SyncWithPartnerCenter_Display_Key", description: "SyncWithPartnerCenter_Desc_Key" },
    helpRequested: { display: "HelpRequested_Display_Key", description: "HelpRequested_Desc_Key" },
    referralVisibility: { display: "ReferralVisibility_Display_Key", description: "ReferralVisibility_Desc_Key" },
    referralLink: { display: "ReferralLink_Display_Key", description: "ReferralLink_Desc_Key" },
    syncStatus: { display: "SyncStatus_Display_Key", description: "SyncStatus_Desc_Key" },
    lastSyncedOn: { display: "LastSyncedOn_Display_Key", description: "LastSyncedOn_Desc_Key" },
    lastSyncError: { display: "LastSyncError_Display_Key", description: "LastSyncError_Desc_Key" },
    microsoftStatus: { display: "MicrosoftStatus_Display_Key", description: "MicrosoftStatus_Desc_Key" },
    microsoftSubstatus: { display: "MicrosoftSubstatus_Display_Key", description: "MicrosoftSubstatus_Desc_Key" },
    microsoftCrmIdentifier: { display: "MicrosoftCrmIdentifier_Display_Key", description: "MicrosoftCrmIdentifier_Desc_Key" },
    respondBy: { display: "RespondBy_Display_Key", description: "RespondBy_Desc_Key" },
    sentBy: { display: "SentBy_Display_Key", description: "SentBy_Desc_Key" },
    referralStatus: { display: "ReferralStatus_Display_Key", description: "ReferralStatus_Desc_Key" },
    referralSubstatus: { display: "ReferralSubstatus_Display_Key", description: "ReferralSubstatus_Desc_Key" },
    relayUrl: { display: "RelayUrl_Display_Key", description: "RelayUrl_Desc_Key" },
    historySize: { display: "HistorySize_Display_Key", description: "HistorySize_Desc_Key" },
  } satisfies Record<PropertyName, { display: string; description: string }>,
} as const;

/**
 * Texts the card shows, by resx key. `{0}`, `{1}` are filled by `format`. Readiness texts and option
 * labels are not here: they come from Core/messages.ts and Core/generated/schema.ts, so the card, the
 * form scripts and the relay say one thing one way.
 */
export const Text = {
  title: "Card_Title",
  statusHeading: "Status_Heading",
  notSharedDetail: "Status_NotShared_Detail",
  notSharedTurnOn: "Status_NotShared_TurnOn",
  notSharedSave: "Status_NotShared_Save",
  pendingDetail: "Status_Pending_Detail",
  closedDetail: "Status_Closed_Detail",
  syncedAt: "Status_Synced_At",
  syncedNoTime: "Status_Synced_NoTime",
  failedReason: "Status_Failed_Reason",
  failedWhatToDo: "Status_Failed_WhatToDo",
  errorNoDetails: "Error_NoDetails",
  errorReadinessAction: "Error_Readiness_Action",
  errorAuthReason: "Error_Auth_Reason",
  errorAuthAction: "Error_Auth_Action",
  errorBusyReason: "Error_Busy_Reason",
  errorBusyAction: "Error_Busy_Action",
  errorNotFoundReason: "Error_NotFound_Reason",
  errorNotFoundAction: "Error_NotFound_Action",
  errorConflictReason: "Error_Conflict_Reason",
  errorConflictAction: "Error_Conflict_Action",
  errorUnavailableReason: "Error_Unavailable_Reason",
  errorUnavailableAction: "Error_Unavailable_Action",
  errorRejectedReason: "Error_Rejected_Reason",
  errorRejectedAction: "Error_Rejected_Action",
  errorOtherReason: "Error_Other_Reason",
  errorOtherAction: "Error_Other_Action",
  microsoftHeading: "Microsoft_Heading",
  microsoftStatus: "Microsoft_Status",
  microsoftCrmId: "Microsoft_CrmId",
  microsoftNotYet: "Microsoft_NotYet",
  checklistHeading: "Checklist_Heading",
  checklistReady: "Checklist_Ready",
  checklistNotReady: "Checklist_NotReady",
  checklistPassed: "Checklist_Passed",
  checklistFailed: "Checklist_Failed",
  checklistNotNeeded: "Checklist_NotNeeded",
  checklistLoading: "Checklist_Loading",
  checklistRefresh: "Checklist_Refresh",
  fixOpenAccount: "Fix_OpenAccount",
  fixOpenContact: "Fix_OpenContact",
  fixAddSolution: "Fix_AddSolution",
  actionsHeading: "Actions_Heading",
  syncToggle: "Sync_Toggle",
  helpLabel: "Help_Label",
  helpNotSet: "Help_NotSet",
  visibilityLabel: "Visibility_Label",
  visibilityLocked: "Visibility_Locked",
  visibilityConfirmTitle: "Visibility_Confirm_Title",
  visibilityConfirmBody: "Visibility_Confirm_Body",
  visibilityConfirmOk: "Visibility_Confirm_Ok",
  cancel: "Common_Cancel",
  openInPartnerCenter: "OpenInPartnerCenter",
  openInPartnerCenterNotYet: "OpenInPartnerCenter_NotYet",
  syncNow: "SyncNow",
  retry: "Retry",
  syncNeedsToggle: "Sync_NeedsToggle",
  runStarting: "Run_Starting",
  runQueued: "Run_Queued",
  runRunning: "Run_Running",
  runSucceeded: "Run_Succeeded",
  runFailed: "Run_Failed",
  runDead: "Run_Dead",
  runTimeout: "Run_Timeout",
  runSignIn: "Run_SignIn",
  runUnreachable: "Run_Unreachable",
  runHttp: "Run_Http",
  runBadAnswer: "Run_BadAnswer",
  historyHeading: "History_Heading",
  historyEmpty: "History_Empty",
  historyLoading: "History_Loading",
  configMissingBindings: "Config_MissingBindings",
  configNoRelayUrl: "Config_NoRelayUrl",
  configBadRelayUrl: "Config_BadRelayUrl",
  configWebApi: "Config_WebApi",
  configNoWebApi: "Config_NoWebApi",
  configBadSetting: "Config_BadSetting",
  adminFieldMapping: "Admin_FieldMapping",
  notSaved: "Config_NotSaved",
  hidden: "Security_Hidden",
  readOnly: "Security_ReadOnly",
  formDisabled: "Form_Disabled",
  // Lead mode: the referral Microsoft sent, and the seller's answer.
  leadHeading: "Lead_Heading",
  leadSentBy: "Lead_SentBy",
  leadRespondBy: "Lead_RespondBy",
  leadStatus: "Lead_Status",
  leadNotGiven: "Lead_NotGiven",
  leadDaysLeft: "Lead_DaysLeft",
  leadOneDayLeft: "Lead_OneDayLeft",
  leadExpiresToday: "Lead_ExpiresToday",
  leadExpired: "Lead_Expired",
  leadAnswerHeading: "Lead_AnswerHeading",
  leadAwaiting: "Lead_Awaiting",
  leadNotSynced: "Lead_NotSynced",
  leadAnsweredAccepted: "Lead_Answered_Accepted",
  leadAnsweredDeclined: "Lead_Answered_Declined",
  leadAnsweredExpired: "Lead_Answered_Expired",
  leadAnsweredClosed: "Lead_Answered_Closed",
  leadAnsweredOther: "Lead_Answered_Other",
  leadPassed: "Lead_Passed",
  leadAccept: "Lead_Accept",
  leadDecline: "Lead_Decline",
  leadAcceptTitle: "Lead_Accept_Title",
  leadAcceptBody: "Lead_Accept_Body",
  leadAcceptOk: "Lead_Accept_Ok",
  leadAccepting: "Lead_Accepting",
  leadAcceptRefused: "Lead_Accept_Refused",
  leadAcceptDone: "Lead_Accept_Done",
  leadDeclineTitle: "Lead_Decline_Title",
  leadDeclineBody: "Lead_Decline_Body",
  leadDeclineReason: "Lead_Decline_Reason",
  leadDeclineNote: "Lead_Decline_Note",
  leadDeclineOk: "Lead_Decline_Ok",
  leadDeclining: "Lead_Declining",
  leadDeclineRefused: "Lead_Decline_Refused",
  leadDeclineDone: "Lead_Decline_Done",
  leadReasonLost: "Lead_Reason_Lost",
  leadReasonCannotContact: "Lead_Reason_CannotContact",
  leadReasonNoLongerInterested: "Lead_Reason_NoLongerInterested",
  leadReasonCanceled: "Lead_Reason_Canceled",
  leadNotSaved: "Lead_NotSaved",
} as const;
export type TextKey = keyof typeof Text;
export type Texts = Record<TextKey, string>;

/** Relay polling: how often, and when to stop waiting (the run carries on in the relay). */
export const RelayPolling = { firstIntervalMs: 1000, maxIntervalMs: 5000, timeoutMs: 120_000 } as const;

/** Below this allocated width (px) the card uses the phone layout. */
export const NARROW_WIDTH = 480;

/** context.client.getFormFactor() value for a phone. */
export const FORM_FACTOR_PHONE = 3;

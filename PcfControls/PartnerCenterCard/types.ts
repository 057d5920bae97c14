// The props of the view: everything it shows or does, as plain values and injected services, so it can
// be rendered from a test without a form.
import type { Theme } from "@fluentui/react-components";
import type { DescribeColumns } from "../../Core/checklist-mapping.ts";
import type { Language } from "../../Core/messages.ts";
import type { Texts } from "./constants.ts";
import type { CardWebApi } from "./services/dataverse.ts";
import type { LeadActions } from "./services/leadActions.ts";
import type { RelayClient } from "./services/relay.ts";

/** One bound column as the card sees it, with the user's field security on it. */
export interface FieldValue<T> {
  value: T | null;
  /** The platform's formatted text, when it gives one. */
  formatted: string | null;
  /** False when the form editor did not bind this property to a column. */
  bound: boolean;
  /** Field security: false = the value is masked. */
  readable: boolean;
  /** Field security: false = the card must not change it. */
  editable: boolean;
}

export interface CardFields {
  syncWithPartnerCenter: FieldValue<boolean>;
  helpRequested: FieldValue<number>;
  referralVisibility: FieldValue<boolean>;
  referralLink: FieldValue<string>;
  syncStatus: FieldValue<number>;
  lastSyncedOn: FieldValue<Date>;
  lastSyncError: FieldValue<string>;
  microsoftStatus: FieldValue<number>;
  microsoftSubstatus: FieldValue<number>;
  microsoftCrmIdentifier: FieldValue<string>;
}

/** What the seller changed on the card; the control hands it to the form through getOutputs. */
export interface CardChange {
  syncWithPartnerCenter?: boolean;
  helpRequested?: number | null;
  referralVisibility?: boolean;
}

/** Where a failing checklist item can take the seller (what PCF's navigation API can open). */
export type FixTarget =
  | { check: "solution"; opportunityId: string; opportunityName: string }
  | { check: "country"; accountId: string }
  | { check: "contact"; contactId: string };

export interface RelayPollingOptions {
  firstIntervalMs: number;
  maxIntervalMs: number;
  timeoutMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Side effects, injected once per control instance (stable identity, so the memoised view holds). */
export interface CardServices {
  /** context.webAPI; null when the host offers none. */
  webAPI: CardWebApi | null;
  /** A client for the relay at this URL, with the injected token source and fetch. */
  relay: (relayUrl: string) => RelayClient;
  /** The user's date and time format (context.formatting). */
  formatDateTime: (date: Date) => string;
  /** Opens the record that fixes a checklist item; resolves when the seller is back. */
  fix: (target: FixTarget) => Promise<void>;
  polling: RelayPollingOptions;
  /** Aborted when the control is destroyed: stops polling and late state updates. */
  lifetime: AbortSignal;
  /** Lead mode: accept (qualify) or decline (disqualify) the referral, open the new opportunity. */
  lead: LeadActions;
  /** The clock the time left to answer a referral is counted with. */
  now: () => Date;
  /**
   * Whether the user can change environment variables (create or write Environment Variable Value):
   * the one who can act on an admin note. Never rejects.
   */
  canEditSettings: () => Promise<boolean>;
  /**
   * The metadata of a table's columns (context.utils.getEntityMetadata), asked once per table and
   * columns while the card is on the page; a column that does not exist is left out. Rejects when the
   * metadata cannot be read.
   */
  describeColumns: DescribeColumns;
}

/** The lead's own columns the card reads in lead mode (the shared ones are in CardFields). */
export interface LeadFields {
  respondBy: FieldValue<Date>;
  sentBy: FieldValue<string>;
  referralStatus: FieldValue<number>;
  referralSubstatus: FieldValue<number>;
}

/** Lead mode: the card sits on the lead form and answers the referral Microsoft sent. */
export interface LeadContext {
  /** The saved lead's id; null on a new, unsaved record. */
  id: string | null;
  fields: LeadFields;
  /** The user's time zone offset (minutes ahead of UTC) at Respond by, for counting calendar days. */
  timeZoneOffsetMinutes: number;
}

export type Layout = "wide" | "phone";

export interface CardProps {
  /** Lead mode when the card sits on a lead form; null on the opportunity form. */
  lead: LeadContext | null;
  /** The saved opportunity's id; null on a new, unsaved record. */
  opportunityId: string | null;
  opportunityName: string;
  language: Language;
  /** context.userSettings.isRTL */
  rtl: boolean;
  texts: Texts;
  layout: Layout;
  /** context.mode.isControlDisabled: the whole form is read-only. */
  formDisabled: boolean;
  fields: CardFields;
  /** Names of bound properties the form editor left unbound. */
  missingBindings: string[];
  /** The relayUrl input, when the form sets one; else the environment variable is used. */
  relayUrlInput: string | null;
  historySize: number;
  theme: Theme | undefined;
  services: CardServices;
  onChange: (change: CardChange) => void;
}

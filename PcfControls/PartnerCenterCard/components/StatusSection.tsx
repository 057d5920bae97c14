// State at a glance: where the deal stands with Partner Center, and Microsoft's side of the co-sell.
import * as React from "react";
import { Badge, mergeClasses, Text, useId, type BadgeProps } from "@fluentui/react-components";
import { PartnerCenterSyncStatus } from "../../../Core/generated/schema.ts";
import { READINESS_PROBLEMS, type Language } from "../../../Core/messages.ts";
import type { Texts } from "../constants.ts";
import { explainSyncError, type SyncErrorKind } from "../services/syncError.ts";
import type { Layout } from "../types.ts";
import { format, referralStatusLabel, referralSubstatusLabel, syncStatusLabel } from "./format.ts";
import { useStyles } from "./styles.ts";

/** A value as the card may show it: masked when field security hides it. */
export interface Shown<T> {
  value: T | null;
  readable: boolean;
  bound: boolean;
}

export interface ShownStatus {
  syncStatus: Shown<number>;
  lastSyncedOn: Shown<Date>;
  lastSyncError: Shown<string>;
  microsoftStatus: Shown<number>;
  microsoftSubstatus: Shown<number>;
  microsoftCrmIdentifier: Shown<string>;
}

const BADGE_COLOR: Record<number, BadgeProps["color"]> = {
  [PartnerCenterSyncStatus.NotShared]: "informative",
  [PartnerCenterSyncStatus.Pending]: "warning",
  [PartnerCenterSyncStatus.Synced]: "success",
  [PartnerCenterSyncStatus.Failed]: "danger",
  [PartnerCenterSyncStatus.ClosedInPartnerCenter]: "subtle",
};

const REASON: Record<Exclude<SyncErrorKind, "readiness">, keyof Texts> = {
  rejected: "errorRejectedReason",
  other: "errorOtherReason",
  auth: "errorAuthReason",
  busy: "errorBusyReason",
  conflict: "errorConflictReason",
  notFound: "errorNotFoundReason",
  unavailable: "errorUnavailableReason",
};
const ACTION: Record<SyncErrorKind, keyof Texts> = {
  readiness: "errorReadinessAction",
  auth: "errorAuthAction",
  busy: "errorBusyAction",
  conflict: "errorConflictAction",
  notFound: "errorNotFoundAction",
  unavailable: "errorUnavailableAction",
  rejected: "errorRejectedAction",
  other: "errorOtherAction",
};

interface StatusProps {
  status: ShownStatus;
  syncOn: boolean;
  saved: boolean;
  language: Language;
  texts: Texts;
  layout: Layout;
  formatDateTime: (date: Date) => string;
}

const Failure = ({ error, language, texts }: { error: Shown<string>; language: Language; texts: Texts }): React.ReactElement => {
  const styles = useStyles();
  if (!error.readable) {
    return (
      <div className={styles.failure} data-testid="sync-failure">
        <Text as="h4" weight="semibold" className={styles.subheading}>{texts.failedReason}</Text>
        <Text>{texts.hidden}</Text>
      </div>
    );
  }
  const explanation = explainSyncError(error.value);
  const reasonKey = explanation && explanation.kind in REASON ? REASON[explanation.kind as keyof typeof REASON] : null;
  return (
    <div className={styles.failure} data-testid="sync-failure">
      <Text as="h4" weight="semibold" className={styles.subheading}>{texts.failedReason}</Text>
      {!explanation && <Text>{texts.errorNoDetails}</Text>}
      {explanation?.kind === "readiness" && (
        <ul className={styles.list}>
          {explanation.problems.map((problem) => (
            <li key={problem}><Text>{READINESS_PROBLEMS[problem][language]}</Text></li>
          ))}
        </ul>
      )}
      {reasonKey && <Text>{texts[reasonKey]}</Text>}
      {explanation && explanation.kind !== "readiness" && (
        <Text size={200} className={mergeClasses(styles.muted, styles.wrap)}>{explanation.detail}</Text>
      )}
      <Text as="h4" weight="semibold" className={mergeClasses(styles.subheading, styles.spaced)}>{texts.failedWhatToDo}</Text>
      <Text>{texts[ACTION[explanation?.kind ?? "other"]]}</Text>
    </div>
  );
};

export const StatusSection = React.memo(function StatusSection(props: StatusProps): React.ReactElement {
  const { status, language, texts } = props;
  const styles = useStyles();
  const headingId = useId("pcc-status");
  const code = status.syncStatus.value ?? PartnerCenterSyncStatus.NotShared;
  const label = status.syncStatus.readable ? syncStatusLabel(code, language) ?? String(code) : texts.hidden;

  let detail: React.ReactNode = null;
  if (!status.syncStatus.readable) detail = null;
  else if (code === PartnerCenterSyncStatus.NotShared) {
    detail = (
      <>
        <Text>{texts.notSharedDetail}</Text>
        <Text className={styles.muted}>{!props.saved ? texts.notSaved : props.syncOn ? texts.notSharedSave : texts.notSharedTurnOn}</Text>
      </>
    );
  } else if (code === PartnerCenterSyncStatus.Pending) {
    detail = <Text>{texts.pendingDetail}</Text>;
  } else if (code === PartnerCenterSyncStatus.Synced) {
    const at = status.lastSyncedOn.readable && status.lastSyncedOn.value ? props.formatDateTime(status.lastSyncedOn.value) : null;
    detail = <Text>{at ? format(texts.syncedAt, at) : texts.syncedNoTime}</Text>;
  } else if (code === PartnerCenterSyncStatus.ClosedInPartnerCenter) {
    detail = <Text>{texts.closedDetail}</Text>;
  } else if (code === PartnerCenterSyncStatus.Failed) {
    detail = <Failure error={status.lastSyncError} language={language} texts={texts} />;
  }

  const microsoftStatus = status.microsoftStatus.readable ? referralStatusLabel(status.microsoftStatus.value, language) : texts.hidden;
  const microsoftSubstatus = status.microsoftSubstatus.readable ? referralSubstatusLabel(status.microsoftSubstatus.value, language) : texts.hidden;
  const microsoftState = [microsoftStatus, microsoftSubstatus].filter(Boolean).join(" · ") || texts.microsoftNotYet;
  const crmId = status.microsoftCrmIdentifier.readable ? status.microsoftCrmIdentifier.value ?? texts.microsoftNotYet : texts.hidden;
  const showMicrosoft = status.microsoftStatus.bound || status.microsoftSubstatus.bound || status.microsoftCrmIdentifier.bound;

  return (
    <section className={styles.section} aria-labelledby={headingId}>
      <Text as="h3" id={headingId} className={styles.heading}>{texts.statusHeading}</Text>
      <div className={styles.statusLine}>
        <Badge appearance="filled" size="large" color={status.syncStatus.readable ? BADGE_COLOR[code] ?? "informative" : "subtle"} data-testid="sync-status">
          {label}
        </Badge>
      </div>
      {detail}
      {showMicrosoft && (
        <div className={styles.panel}>
          <Text as="h4" className={styles.subheading}>{texts.microsoftHeading}</Text>
          <dl className={mergeClasses(styles.definitions, props.layout === "phone" && styles.definitionsNarrow)}>
            {(status.microsoftStatus.bound || status.microsoftSubstatus.bound) && (
              <>
                <dt className={styles.term}>{texts.microsoftStatus}</dt>
                <dd className={styles.definition} data-testid="microsoft-status">{microsoftState}</dd>
              </>
            )}
            {status.microsoftCrmIdentifier.bound && (
              <>
                <dt className={styles.term}>{texts.microsoftCrmId}</dt>
                <dd className={styles.definition} data-testid="microsoft-crm-id">{crmId}</dd>
              </>
            )}
          </dl>
        </div>
      )}
    </section>
  );
});

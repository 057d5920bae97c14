// The card's view: a pure function of its props (values, texts and injected services), memoised.
// Reads go through services.webAPI, relay calls through services.relay, navigation through services.fix.
import * as React from "react";
import { FluentProvider, MessageBar, MessageBarBody, Text, useId, webLightTheme } from "@fluentui/react-components";
import { EnvironmentVariables, PartnerCenterSyncStatus, HowCanMicrosoftHelp } from "../../../Core/generated/schema.ts";
import { mappedChecklist } from "../../../Core/checklist-mapping.ts";
import type { ReadinessItem } from "../../../Core/readiness.ts";
import type { Texts } from "../constants.ts";
import { validRelayUrl } from "../services/relay.ts";
import type { CardProps, FixTarget } from "../types.ts";
import { ActionsSection } from "./ActionsSection.tsx";
import { ChecklistSection } from "./ChecklistSection.tsx";
import { format } from "./format.ts";
import { HistorySection } from "./HistorySection.tsx";
import { useAfterFirstPaint, useCardData, useRelayRun } from "./hooks.ts";
import { LeadCard } from "./LeadCard.tsx";
import { StatusSection, type ShownStatus } from "./StatusSection.tsx";
import { useStyles } from "./styles.ts";

/** Why Sync now and Retry cannot run: null when they can, "" while that is not known yet. */
function relayBlockedReason(props: CardProps, relayUrlSource: string | null, settingsLoading: boolean, texts: Texts): string | null {
  if (!props.opportunityId) return texts.notSaved;
  if (props.formDisabled) return texts.formDisabled;
  if (props.fields.syncWithPartnerCenter.value !== true) return texts.syncNeedsToggle;
  // While the variable is being read the buttons wait, without a message.
  if (relayUrlSource === null) return settingsLoading ? "" : texts.configNoRelayUrl;
  if (!validRelayUrl(relayUrlSource)) return format(texts.configBadRelayUrl, relayUrlSource);
  return null;
}

/** The opportunity form's card (unchanged by lead mode). */
function OpportunityCardView(props: CardProps): React.ReactElement {
  const { services, texts, language, fields } = props;
  const styles = useStyles();
  const titleId = useId("pcc-title");
  const data = useCardData(services, props.opportunityId, props.historySize);
  const afterFirstPaint = useAfterFirstPaint();

  // After a relay run the saved status columns are newer than the form's copy: show them until the
  // form hands the card new values.
  const [preferSaved, setPreferSaved] = React.useState(false);
  const boundStamp = `${fields.syncStatus.value}|${fields.lastSyncedOn.value?.getTime()}|${fields.lastSyncError.value}|${fields.microsoftStatus.value}|${fields.microsoftSubstatus.value}|${fields.microsoftCrmIdentifier.value}|${fields.referralLink.value}`;
  React.useEffect(() => setPreferSaved(false), [boundStamp]);

  const relayUrlSource = props.relayUrlInput ?? (data.settings.value ? data.settings.value.relayUrl || null : null);
  const relayUrl = validRelayUrl(relayUrlSource);
  const { reload } = data;
  const onRunFinished = React.useCallback(() => {
    setPreferSaved(true);
    reload();
  }, [reload]);
  const { run, start } = useRelayRun(services, relayUrl, props.opportunityId, onRunFinished);

  const saved = preferSaved ? data.deal.value?.status ?? null : null;
  const status: ShownStatus = React.useMemo(() => {
    const shown = <T,>(field: { value: T | null; readable: boolean; bound: boolean }, savedValue: T | null | undefined) => ({
      value: field.readable ? (saved ? savedValue ?? null : field.value) : null,
      readable: field.readable,
      bound: field.bound,
    });
    return {
      syncStatus: shown(fields.syncStatus, saved?.syncStatus),
      lastSyncedOn: shown(fields.lastSyncedOn, saved?.lastSyncedOn),
      lastSyncError: shown(fields.lastSyncError, saved?.lastSyncError),
      microsoftStatus: shown(fields.microsoftStatus, saved?.microsoftStatus),
      microsoftSubstatus: shown(fields.microsoftSubstatus, saved?.microsoftSubstatus),
      microsoftCrmIdentifier: shown(fields.microsoftCrmIdentifier, saved?.microsoftCrmIdentifier),
    };
  }, [fields, saved]);
  // The first sync writes the link: Open in Partner Center appears without reloading the form.
  const referralLink = React.useMemo(
    () => (saved && fields.referralLink.readable ? { ...fields.referralLink, value: saved.referralLink ?? null } : fields.referralLink),
    [fields.referralLink, saved],
  );

  const helpValue = fields.helpRequested.value;
  const helpRequested = helpValue !== null && helpValue !== HowCanMicrosoftHelp.NoHelpNeeded;
  const deal = data.deal.value;
  // The same function the form scripts run: the deal read through the admin's field mapping.
  const readiness = React.useMemo(() => (deal ? mappedChecklist(deal.mapping, { ...deal.records, helpRequested }) : null), [deal, helpRequested]);

  const fixFor = React.useCallback(
    (item: ReadinessItem): FixTarget | null => {
      if (item.check === "solution" && props.opportunityId) return { check: "solution", opportunityId: props.opportunityId, opportunityName: props.opportunityName };
      if (item.check === "country" && deal?.accountId) return { check: "country", accountId: deal.accountId };
      if (item.check === "contact" && item.problem === "contactWithoutEmail" && deal?.contactId) return { check: "contact", contactId: deal.contactId };
      return null;
    },
    [props.opportunityId, props.opportunityName, deal],
  );
  const onFix = React.useCallback(
    (target: FixTarget) => {
      services.fix(target).then(reload, reload);
    },
    [services, reload],
  );
  // Adding a solution creates a record: not on a read-only form. Opening a record only reads.
  const fixDisabled = React.useCallback((target: FixTarget) => target.check === "solution" && props.formDisabled, [props.formDisabled]);

  const statusCode = status.syncStatus.readable ? status.syncStatus.value : null;
  const relayBlocked = relayBlockedReason(props, relayUrlSource, data.settings.loading, texts);

  const messages: Array<{ key: string; intent: "warning" | "error" | "info"; text: string }> = [];
  if (props.missingBindings.length > 0) messages.push({ key: "bindings", intent: "warning", text: format(texts.configMissingBindings, props.missingBindings.join(", ")) });
  if (!services.webAPI) messages.push({ key: "webapi", intent: "warning", text: texts.configNoWebApi });
  const readError = data.settings.error ?? data.deal.error ?? data.history.error;
  if (readError) messages.push({ key: "read", intent: "error", text: format(texts.configWebApi, readError) });
  if (data.settingProblem) messages.push({ key: "setting", intent: "error", text: format(texts.configBadSetting, data.settingProblem.schemaName, data.settingProblem.value) });
  // An admin note, for those who can change the variable: a seller cannot act on it.
  const mappingProblems = data.settings.value?.fieldMappingProblems ?? [];
  if (mappingProblems.length && data.canEditSettings) {
    const variable = EnvironmentVariables.fieldMapping;
    messages.push({ key: "fieldMapping", intent: "warning", text: format(texts.adminFieldMapping, variable.displayName[language], variable.schemaName, mappingProblems.join("; ")) });
  }

  const phone = props.layout === "phone";
  const left = (
    <div className={styles.stack}>
      <StatusSection
        status={status}
        syncOn={fields.syncWithPartnerCenter.value === true}
        saved={props.opportunityId !== null}
        language={language}
        texts={texts}
        layout={props.layout}
        formatDateTime={services.formatDateTime}
      />
      <ActionsSection
        syncWithPartnerCenter={fields.syncWithPartnerCenter}
        helpRequested={fields.helpRequested}
        referralVisibility={fields.referralVisibility}
        referralLink={referralLink}
        formDisabled={props.formDisabled}
        language={language}
        texts={texts}
        layout={props.layout}
        onChange={props.onChange}
        relayBlocked={relayBlocked}
        showRetry={statusCode === PartnerCenterSyncStatus.Failed || (run.phase === "done" && run.status.state !== "succeeded")}
        run={run}
        relayUrl={relayUrl}
        onRun={start}
      />
    </div>
  );
  const right = !props.opportunityId ? null : !afterFirstPaint ? (
    <div className={styles.stack} aria-busy="true" />
  ) : (
    <div className={styles.stack}>
      {services.webAPI && (
        <ChecklistSection
          readiness={readiness}
          loading={data.deal.loading || data.settings.loading}
          language={language}
          texts={texts}
          fixFor={fixFor}
          onFix={onFix}
          fixDisabled={fixDisabled}
          onRefresh={reload}
        />
      )}
      {services.webAPI && (
        <HistorySection rows={data.history.value} loading={data.history.loading} language={language} texts={texts} formatDateTime={services.formatDateTime} />
      )}
    </div>
  );

  return (
    <FluentProvider theme={props.theme ?? webLightTheme} dir={props.rtl ? "rtl" : "ltr"} style={{ backgroundColor: "transparent" }}>
      <article className={styles.root} aria-labelledby={titleId} data-layout={props.layout}>
        <div className={styles.header}>
          <Text as="h2" id={titleId} className={styles.title}>{texts.title}</Text>
        </div>
        {messages.map((m) => (
          <MessageBar key={m.key} intent={m.intent} layout="multiline">
            <MessageBarBody>{m.text}</MessageBarBody>
          </MessageBar>
        ))}
        {phone || !right ? (
          <div className={styles.stack}>
            {left}
            {right}
          </div>
        ) : (
          <div className={styles.grid}>
            {left}
            {right}
          </div>
        )}
      </article>
    </FluentProvider>
  );
}

/** The card on either form: lead mode on a lead, the deal's card on an opportunity. */
function PartnerCenterCardView(props: CardProps): React.ReactElement {
  return props.lead ? <LeadCard {...props} lead={props.lead} /> : <OpportunityCardView {...props} />;
}

/** The card. Memoised: the form calls updateView often, and equal props need no new render. */
export const PartnerCenterCard = React.memo(PartnerCenterCardView);
PartnerCenterCard.displayName = "PartnerCenterCard";

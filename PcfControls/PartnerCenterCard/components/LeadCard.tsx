// Lead mode: the card on the lead form, for a referral Microsoft sent. Who sent it, what help they ask
// for, how long is left to answer, and the answer itself: Accept (qualify the lead) or Decline
// (disqualify it with a reason and a note for Microsoft). The relay turns either into Partner Center's
// decision; a refusal from Dataverse (the relay's step) is shown here with its message.
import * as React from "react";
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  FluentProvider,
  Link,
  MessageBar,
  MessageBarBody,
  ProgressBar,
  Select,
  Text,
  Textarea,
  mergeClasses,
  useId,
  webLightTheme,
  type BadgeProps,
} from "@fluentui/react-components";
import { ReferralStatus, ReferralSubstatus } from "../../../Core/generated/schema.ts";
import { isAwaitingResponse, respondByNotice, timeLeft, type TimeLeft } from "../../../Core/respondBy.ts";
import { DisqualifyReasons, type Texts } from "../constants.ts";
import { describeError } from "../services/dataverse.ts";
import type { CardProps, LeadContext } from "../types.ts";
import { format, helpLabel, referralStatusLabel, referralSubstatusLabel, safeLink } from "./format.ts";
import { useStyles } from "./styles.ts";

type AnswerKind = "accept" | "decline";
type Answer =
  | { phase: "idle" }
  | { phase: "working"; kind: AnswerKind }
  | { phase: "refused"; kind: AnswerKind; message: string }
  | { phase: "done"; kind: AnswerKind };

/** "2 days left", "Expires today", "Expired". */
export function timeLeftText(left: TimeLeft, texts: Texts): string {
  if (left.kind === "expired") return texts.leadExpired;
  if (left.kind === "today") return texts.leadExpiresToday;
  return left.days === 1 ? texts.leadOneDayLeft : format(texts.leadDaysLeft, left.days);
}

/** Why the referral no longer waits for an answer, in the seller's words; null while it does. */
function answeredText(status: number | null, substatus: number | null, texts: Texts, language: CardProps["language"]): string | null {
  if (status === ReferralStatus.New) return null;
  if (status === ReferralStatus.Active) return texts.leadAnsweredAccepted;
  if (status === ReferralStatus.Closed) {
    if (substatus === ReferralSubstatus.Declined) return texts.leadAnsweredDeclined;
    if (substatus === ReferralSubstatus.Expired) return texts.leadAnsweredExpired;
    return format(texts.leadAnsweredClosed, referralSubstatusLabel(substatus, language) ?? referralStatusLabel(status, language) ?? "");
  }
  return format(texts.leadAnsweredOther, referralStatusLabel(status, language) ?? texts.leadNotGiven);
}

const TIME_LEFT_COLOR: Record<"none" | "soon" | "passed", BadgeProps["color"]> = { none: "informative", soon: "warning", passed: "danger" };

function LeadCardView(props: CardProps & { lead: LeadContext }): React.ReactElement {
  const { services, texts, language, fields, lead } = props;
  const styles = useStyles();
  const titleId = useId("pcc-title");
  const referralId = useId("pcc-referral");
  const answerId = useId("pcc-answer");
  const [dialog, setDialog] = React.useState<AnswerKind | null>(null);
  const [reason, setReason] = React.useState<string>("");
  const [note, setNote] = React.useState("");
  const [answer, setAnswer] = React.useState<Answer>({ phase: "idle" });
  const mounted = React.useRef(true);
  React.useEffect(() => () => {
    mounted.current = false;
  }, []);
  const live = React.useCallback((): boolean => mounted.current && !services.lifetime.aborted, [services]);

  const now = services.now();
  const respondBy = lead.fields.respondBy.readable ? lead.fields.respondBy.value : null;
  const left = respondBy ? timeLeft(respondBy, now, lead.timeZoneOffsetMinutes) : null;
  const notice = respondByNotice(respondBy, now);
  const status = lead.fields.referralStatus.readable ? lead.fields.referralStatus.value : null;
  const substatus = lead.fields.referralSubstatus.readable ? lead.fields.referralSubstatus.value : null;
  const synced = fields.syncWithPartnerCenter.value === true;
  const awaiting = isAwaitingResponse({ syncWithPartnerCenter: synced, referralStatus: status });
  const answered = synced ? answeredText(status, substatus, texts, language) : null;
  const passed = awaiting && notice === "passed";
  const respondByText = respondBy ? services.formatDateTime(respondBy) : null;
  const busy = answer.phase === "working";
  const answeredHere = answer.phase === "done";
  const canAnswer = awaiting && !passed && !answeredHere && lead.id !== null && !props.formDisabled;
  const link = fields.referralLink.readable ? safeLink(fields.referralLink.value) : null;

  const accept = React.useCallback(() => {
    if (!lead.id) return;
    setDialog(null);
    setAnswer({ phase: "working", kind: "accept" });
    services.lead.accept(lead.id).then(
      ({ opportunityId }) => {
        if (!live()) return;
        setAnswer({ phase: "done", kind: "accept" });
        if (opportunityId) void services.lead.openOpportunity(opportunityId).catch(() => undefined);
      },
      (error: unknown) => live() && setAnswer({ phase: "refused", kind: "accept", message: describeError(error) }),
    );
  }, [services, lead.id, live]);

  const decline = React.useCallback(() => {
    if (!lead.id || !reason) return;
    setDialog(null);
    setAnswer({ phase: "working", kind: "decline" });
    services.lead.decline(lead.id, Number(reason), note).then(
      () => live() && setAnswer({ phase: "done", kind: "decline" }),
      (error: unknown) => live() && setAnswer({ phase: "refused", kind: "decline", message: describeError(error) }),
    );
  }, [services, lead.id, reason, note, live]);

  const statusBadge = status !== null ? [referralStatusLabel(status, language), referralSubstatusLabel(substatus, language)].filter(Boolean).join(" · ") : null;

  const messages: Array<{ key: string; intent: "warning" | "error"; text: string }> = [];
  if (props.missingBindings.length > 0) messages.push({ key: "bindings", intent: "warning", text: format(texts.configMissingBindings, props.missingBindings.join(", ")) });

  let explanation: string;
  if (!synced) explanation = texts.leadNotSynced;
  else if (answeredHere) explanation = answer.kind === "accept" ? texts.leadAcceptDone : texts.leadDeclineDone;
  else if (answered) explanation = answered;
  else if (passed) explanation = texts.leadPassed;
  else explanation = format(texts.leadAwaiting, respondByText ?? texts.leadNotGiven);

  const progress =
    answer.phase === "working" ? { text: answer.kind === "accept" ? texts.leadAccepting : texts.leadDeclining, tone: "info" as const }
    : answer.phase === "refused" ? { text: format(answer.kind === "accept" ? texts.leadAcceptRefused : texts.leadDeclineRefused, answer.message), tone: "error" as const }
    : null;

  const sentBy = lead.fields.sentBy.readable ? lead.fields.sentBy.value ?? texts.leadNotGiven : texts.hidden;
  const help = fields.helpRequested.readable ? helpLabel(fields.helpRequested.value, language) ?? texts.leadNotGiven : texts.hidden;
  const phone = props.layout === "phone";

  const referral = (
    <section className={styles.section} aria-labelledby={referralId}>
      <Text as="h3" id={referralId} className={styles.heading}>{texts.leadHeading}</Text>
      <dl className={mergeClasses(styles.definitions, phone && styles.definitionsNarrow)}>
        <dt className={styles.term}>{texts.leadSentBy}</dt>
        <dd className={styles.definition} data-testid="lead-sent-by">{sentBy}</dd>
        <dt className={styles.term}>{texts.helpLabel}</dt>
        <dd className={styles.definition} data-testid="lead-help">{help}</dd>
        <dt className={styles.term}>{texts.leadRespondBy}</dt>
        <dd className={mergeClasses(styles.definition, styles.statusLine)} data-testid="lead-respond-by">
          <span>{lead.fields.respondBy.readable ? respondByText ?? texts.leadNotGiven : texts.hidden}</span>
          {left && awaiting && !answeredHere && (
            <Badge appearance="tint" color={TIME_LEFT_COLOR[notice]} data-testid="time-left">{timeLeftText(left, texts)}</Badge>
          )}
        </dd>
      </dl>
    </section>
  );

  const actions = (
    <section className={styles.panel} aria-labelledby={answerId}>
      <Text as="h3" id={answerId} className={styles.heading}>{texts.leadAnswerHeading}</Text>
      <Text data-testid="lead-explanation">{explanation}</Text>
      {canAnswer && (
        <div className={mergeClasses(styles.actions, phone && styles.actionsPhone)}>
          <Button appearance="primary" disabledFocusable={busy} onClick={() => setDialog("accept")}>{texts.leadAccept}</Button>
          <Button appearance="secondary" disabledFocusable={busy} onClick={() => setDialog("decline")}>{texts.leadDecline}</Button>
          {link && <Link href={link} target="_blank" rel="noopener noreferrer">{texts.openInPartnerCenter}</Link>}
        </div>
      )}
      {!canAnswer && link && <Link className={styles.fixLink} href={link} target="_blank" rel="noopener noreferrer">{texts.openInPartnerCenter}</Link>}
      {awaiting && !passed && !answeredHere && lead.id === null && <Text size={200} className={styles.muted}>{texts.leadNotSaved}</Text>}
      {awaiting && !passed && !answeredHere && lead.id !== null && props.formDisabled && <Text size={200} className={styles.muted}>{texts.formDisabled}</Text>}
      <div className={styles.progress} role="status" aria-live="polite" aria-atomic="true" data-testid="answer-status">
        {progress?.tone === "info" && <ProgressBar thickness="medium" aria-label={progress.text} />}
        {progress && (
          <Text className={progress.tone === "error" ? styles.failed : undefined} weight={progress.tone === "error" ? "semibold" : "regular"}>{progress.text}</Text>
        )}
      </div>

      <Dialog open={dialog === "accept"} onOpenChange={(_event, data) => setDialog(data.open ? "accept" : null)}>
        <DialogSurface aria-describedby={`${answerId}-accept`}>
          <DialogBody>
            <DialogTitle>{texts.leadAcceptTitle}</DialogTitle>
            <DialogContent id={`${answerId}-accept`}>{texts.leadAcceptBody}</DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={accept}>{texts.leadAcceptOk}</Button>
              <Button appearance="secondary" onClick={() => setDialog(null)}>{texts.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>

      <Dialog open={dialog === "decline"} onOpenChange={(_event, data) => setDialog(data.open ? "decline" : null)}>
        <DialogSurface aria-describedby={`${answerId}-decline`}>
          <DialogBody>
            <DialogTitle>{texts.leadDeclineTitle}</DialogTitle>
            <DialogContent className={styles.stack}>
              <Text id={`${answerId}-decline`}>{texts.leadDeclineBody}</Text>
              <Field label={texts.leadDeclineReason} required>
                <Select value={reason} onChange={(_event, data) => setReason(data.value)}>
                  <option value="" disabled>{texts.helpNotSet}</option>
                  {DisqualifyReasons.map((r) => (
                    <option key={r.value} value={String(r.value)}>{texts[r.text]}</option>
                  ))}
                </Select>
              </Field>
              <Field label={texts.leadDeclineNote}>
                <Textarea value={note} maxLength={2000} resize="vertical" onChange={(_event, data) => setNote(data.value)} />
              </Field>
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" disabled={!reason} onClick={decline}>{texts.leadDeclineOk}</Button>
              <Button appearance="secondary" onClick={() => setDialog(null)}>{texts.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </section>
  );

  return (
    <FluentProvider theme={props.theme ?? webLightTheme} dir={props.rtl ? "rtl" : "ltr"} style={{ backgroundColor: "transparent" }}>
      <article className={styles.root} aria-labelledby={titleId} data-layout={props.layout} data-mode="lead">
        <div className={styles.header}>
          <Text as="h2" id={titleId} className={styles.title}>{texts.title}</Text>
          {statusBadge && (
            <Badge appearance="filled" size="large" color={awaiting && !answeredHere ? "brand" : "informative"} data-testid="referral-status" aria-label={`${texts.leadStatus}: ${statusBadge}`}>
              {statusBadge}
            </Badge>
          )}
        </div>
        {messages.map((m) => (
          <MessageBar key={m.key} intent={m.intent} layout="multiline">
            <MessageBarBody>{m.text}</MessageBarBody>
          </MessageBar>
        ))}
        <div className={phone ? styles.stack : styles.grid}>
          {referral}
          {actions}
        </div>
      </article>
    </FluentProvider>
  );
}

export const LeadCard = React.memo(LeadCardView);
LeadCard.displayName = "LeadCard";

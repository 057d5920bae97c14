// What the seller can do: share or stop sharing, say how Microsoft can help, show the referral to
// Microsoft sellers (once, after a confirmation), open it in Partner Center, and sync or retry now.
import * as React from "react";
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Link,
  ProgressBar,
  Select,
  Switch,
  Text,
  mergeClasses,
  useId,
} from "@fluentui/react-components";
import { HowCanMicrosoftHelpOptions } from "../../../Core/generated/schema.ts";
import type { Language } from "../../../Core/messages.ts";
import type { Texts } from "../constants.ts";
import type { RunKind } from "../services/relay.ts";
import type { CardChange, FieldValue, Layout } from "../types.ts";
import { format, safeLink } from "./format.ts";
import type { RunView } from "./hooks.ts";
import { PassedIcon } from "./icons.tsx";
import { useStyles } from "./styles.ts";

interface ActionsProps {
  syncWithPartnerCenter: FieldValue<boolean>;
  helpRequested: FieldValue<number>;
  referralVisibility: FieldValue<boolean>;
  referralLink: FieldValue<string>;
  formDisabled: boolean;
  language: Language;
  texts: Texts;
  layout: Layout;
  onChange: (change: CardChange) => void;
  /** Why Sync now and Retry cannot run (null = they can). */
  relayBlocked: string | null;
  showRetry: boolean;
  run: RunView;
  relayUrl: string | null;
  onRun: (kind: RunKind) => void;
}

function runMessage(run: RunView, texts: Texts, relayUrl: string | null): { text: string; busy: boolean; tone: "info" | "success" | "error" } | null {
  switch (run.phase) {
    case "idle":
      return null;
    case "starting":
      return { text: texts.runStarting, busy: true, tone: "info" };
    case "following":
      return { text: run.state === "running" ? texts.runRunning : texts.runQueued, busy: true, tone: "info" };
    case "done": {
      const error = run.status.error ?? "";
      if (run.status.state === "succeeded") return { text: texts.runSucceeded, busy: false, tone: "success" };
      return { text: format(run.status.state === "dead" ? texts.runDead : texts.runFailed, error || texts.errorNoDetails), busy: false, tone: "error" };
    }
    case "failed": {
      const f = run.failure;
      const text =
        f.kind === "signIn" ? format(texts.runSignIn, f.message)
        : f.kind === "unreachable" ? format(texts.runUnreachable, relayUrl ?? "")
        : f.kind === "http" ? format(texts.runHttp, f.status) + (f.message && f.message !== `HTTP ${f.status}` ? ` ${f.message}` : "")
        : f.kind === "timeout" ? texts.runTimeout
        : f.kind === "badAnswer" ? texts.runBadAnswer
        : "";
      return text ? { text, busy: false, tone: f.kind === "timeout" ? "info" : "error" } : null;
    }
  }
}

export const ActionsSection = React.memo(function ActionsSection(props: ActionsProps): React.ReactElement {
  const { texts, language, formDisabled } = props;
  const styles = useStyles();
  const headingId = useId("pcc-actions");
  const [confirming, setConfirming] = React.useState(false);

  const sync = props.syncWithPartnerCenter;
  const help = props.helpRequested;
  const visibility = props.referralVisibility;
  const syncOn = sync.value === true;
  const visible = visibility.value === true;
  const link = props.referralLink.readable ? safeLink(props.referralLink.value) : null;
  const busy = props.run.phase === "starting" || props.run.phase === "following";
  const message = runMessage(props.run, texts, props.relayUrl);
  const canRun = props.relayBlocked === null && !busy;
  const lockedHint = (field: FieldValue<unknown>): string | undefined =>
    !field.readable ? texts.hidden : !field.editable ? texts.readOnly : undefined;

  return (
    <section className={styles.panel} aria-labelledby={headingId}>
      <Text as="h3" id={headingId} className={styles.heading}>{texts.actionsHeading}</Text>
      {formDisabled && <Text size={200} className={styles.muted}>{texts.formDisabled}</Text>}

      {sync.bound && (
        <Field hint={lockedHint(sync)}>
          <Switch
            className={styles.switch}
            label={texts.syncToggle}
            checked={syncOn}
            disabled={formDisabled || !sync.editable || !sync.readable}
            onChange={(_event, data) => props.onChange({ syncWithPartnerCenter: data.checked })}
          />
        </Field>
      )}

      {help.bound && (
        <Field label={texts.helpLabel} hint={lockedHint(help)}>
          <Select
            value={help.readable && help.value !== null ? String(help.value) : ""}
            disabled={formDisabled || !help.editable || !help.readable}
            onChange={(_event, data) => props.onChange({ helpRequested: data.value === "" ? null : Number(data.value) })}
          >
            <option value="">{help.readable ? texts.helpNotSet : texts.hidden}</option>
            {HowCanMicrosoftHelpOptions.map((option) => (
              <option key={option.value} value={String(option.value)}>{option.label[String(language) as "1033" | "1043"]}</option>
            ))}
          </Select>
        </Field>
      )}

      {/* Once visible, always visible: a statement, not a switch that looks as if it could go back. */}
      {visibility.bound && visible && (
        <div className={styles.locked} data-testid="visibility-on">
          <PassedIcon className={mergeClasses(styles.itemIcon, styles.passed)} />
          <div className={styles.itemText}>
            <Text>{texts.visibilityLabel}</Text>
            <Text size={200} className={styles.muted}>{texts.visibilityLocked}</Text>
          </div>
        </div>
      )}
      {visibility.bound && !visible && (
        <Field hint={lockedHint(visibility)}>
          <Switch
            className={styles.switch}
            label={texts.visibilityLabel}
            checked={false}
            disabled={formDisabled || !visibility.editable || !visibility.readable}
            onChange={(_event, data) => {
              if (data.checked) setConfirming(true);
            }}
          />
        </Field>
      )}

      <Dialog open={confirming} onOpenChange={(_event, data) => setConfirming(data.open)}>
        <DialogSurface aria-describedby={`${headingId}-confirm`}>
          <DialogBody>
            <DialogTitle>{texts.visibilityConfirmTitle}</DialogTitle>
            <DialogContent id={`${headingId}-confirm`}>{texts.visibilityConfirmBody}</DialogContent>
            <DialogActions>
              <Button
                appearance="primary"
                onClick={() => {
                  setConfirming(false);
                  props.onChange({ referralVisibility: true });
                }}
              >
                {texts.visibilityConfirmOk}
              </Button>
              <Button appearance="secondary" onClick={() => setConfirming(false)}>{texts.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>

      <div className={mergeClasses(styles.actions, props.layout === "phone" && styles.actionsPhone)}>
        {props.showRetry && (
          <Button appearance="primary" disabled={!canRun} onClick={() => props.onRun("retry")}>{texts.retry}</Button>
        )}
        <Button appearance={props.showRetry ? "secondary" : "primary"} disabled={!canRun} onClick={() => props.onRun("sync")}>
          {texts.syncNow}
        </Button>
        {link && (
          <Link href={link} target="_blank" rel="noopener noreferrer">{texts.openInPartnerCenter}</Link>
        )}
      </div>
      {!link && props.referralLink.bound && <Text size={200} className={styles.muted}>{texts.openInPartnerCenterNotYet}</Text>}
      {props.relayBlocked && <Text size={200} className={styles.muted} data-testid="relay-blocked">{props.relayBlocked}</Text>}

      <div className={styles.progress} role="status" aria-live="polite" aria-atomic="true" data-testid="run-status">
        {message?.busy && <ProgressBar thickness="medium" aria-label={message.text} />}
        {message && (
          <Text className={message.tone === "error" ? styles.failed : message.tone === "success" ? styles.passed : undefined} weight={message.tone === "info" ? "regular" : "semibold"}>
            {message.text}
          </Text>
        )}
      </div>
    </section>
  );
});

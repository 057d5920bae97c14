// The readiness checklist: Core's checkReadiness on the saved deal and the form's help choice. A
// failing item says what to do and, where PCF can open the record that fixes it, offers to go there.
import * as React from "react";
import { Button, Link, mergeClasses, Spinner, Text, useId } from "@fluentui/react-components";
import type { Readiness, ReadinessItem } from "../../../Core/readiness.ts";
import { READINESS_CHECK_LABELS, READINESS_PROBLEMS, type Language } from "../../../Core/messages.ts";
import type { Texts } from "../constants.ts";
import type { FixTarget } from "../types.ts";
import { format } from "./format.ts";
import { FailedIcon, NotNeededIcon, PassedIcon } from "./icons.tsx";
import { useStyles } from "./styles.ts";

interface ChecklistProps {
  readiness: Readiness | null;
  loading: boolean;
  language: Language;
  texts: Texts;
  /** The record that fixes an item, when there is one to open. */
  fixFor: (item: ReadinessItem) => FixTarget | null;
  onFix: (target: FixTarget) => void;
  onRefresh: () => void;
  fixDisabled: (target: FixTarget) => boolean;
}

const FIX_LABEL: Record<FixTarget["check"], keyof Texts> = { solution: "fixAddSolution", country: "fixOpenAccount", contact: "fixOpenContact" };

export const ChecklistSection = React.memo(function ChecklistSection(props: ChecklistProps): React.ReactElement {
  const { readiness, texts, language } = props;
  const styles = useStyles();
  const headingId = useId("pcc-checklist");
  const applicable = readiness?.items.filter((i) => i.applies) ?? [];
  const failing = applicable.filter((i) => !i.ok);
  return (
    <section className={styles.panel} aria-labelledby={headingId} aria-busy={props.loading}>
      <div className={styles.header}>
        <Text as="h3" id={headingId} className={styles.heading}>{texts.checklistHeading}</Text>
        <Button size="small" appearance="subtle" onClick={props.onRefresh} disabled={props.loading}>{texts.checklistRefresh}</Button>
      </div>
      {props.loading && !readiness && <Spinner size="tiny" label={texts.checklistLoading} labelPosition="after" />}
      {readiness && (
        <>
          <Text weight="semibold" className={failing.length ? styles.failed : styles.passed} data-testid="readiness-summary">
            {failing.length ? format(texts.checklistNotReady, failing.length, applicable.length) : texts.checklistReady}
          </Text>
          <ul className={styles.list} aria-label={texts.checklistHeading}>
            {readiness.items.map((item) => {
              const label = READINESS_CHECK_LABELS[item.check][language];
              const state = !item.applies ? texts.checklistNotNeeded : item.ok ? texts.checklistPassed : texts.checklistFailed;
              const target = !item.ok ? props.fixFor(item) : null;
              const Icon = !item.applies ? NotNeededIcon : item.ok ? PassedIcon : FailedIcon;
              const tone = !item.applies ? styles.notNeeded : item.ok ? styles.passed : styles.failed;
              return (
                <li key={item.check} className={styles.item} data-check={item.check} data-state={!item.applies ? "notNeeded" : item.ok ? "passed" : "failed"}>
                  <Icon className={mergeClasses(styles.itemIcon, tone)} />
                  <div className={styles.itemText}>
                    <Text weight={item.ok || !item.applies ? "regular" : "semibold"}>
                      {label}
                      <span className={styles.visuallyHidden}>: {state}</span>
                    </Text>
                    {item.problem && <Text size={200}>{READINESS_PROBLEMS[item.problem][language]}</Text>}
                    {target && (
                      <Link as="button" className={styles.fixLink} disabled={props.fixDisabled(target)} onClick={() => props.onFix(target)}>
                        {texts[FIX_LABEL[target.check]]}
                      </Link>
                    )}
                  </div>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
});

// The latest Sync Event rows of the opportunity, newest first, as a timeline.
import * as React from "react";
import { Badge, mergeClasses, Spinner, Text, useId } from "@fluentui/react-components";
import { SyncOutcome } from "../../../Core/generated/schema.ts";
import type { Language } from "../../../Core/messages.ts";
import type { Texts } from "../constants.ts";
import type { SyncEventRow } from "../services/dataverse.ts";
import { directionLabel, outcomeLabel } from "./format.ts";
import { useStyles } from "./styles.ts";

interface HistoryProps {
  rows: SyncEventRow[] | null;
  loading: boolean;
  language: Language;
  texts: Texts;
  formatDateTime: (date: Date) => string;
}

export const HistorySection = React.memo(function HistorySection(props: HistoryProps): React.ReactElement {
  const { rows, texts, language } = props;
  const styles = useStyles();
  const headingId = useId("pcc-history");
  return (
    <section className={styles.panel} aria-labelledby={headingId} aria-busy={props.loading}>
      <Text as="h3" id={headingId} className={styles.heading}>{texts.historyHeading}</Text>
      {props.loading && !rows && <Spinner size="tiny" label={texts.historyLoading} labelPosition="after" />}
      {rows && rows.length === 0 && <Text className={styles.muted}>{texts.historyEmpty}</Text>}
      {rows && rows.length > 0 && (
        <ol className={styles.timeline} aria-label={texts.historyHeading}>
          {rows.map((row, index) => {
            const outcome = outcomeLabel(row.outcome, language);
            const direction = directionLabel(row.direction, language);
            const dot = row.outcome === SyncOutcome.Succeeded ? styles.dotSucceeded : row.outcome === SyncOutcome.Failed ? styles.dotFailed : styles.dotOther;
            const color = row.outcome === SyncOutcome.Succeeded ? "success" : row.outcome === SyncOutcome.Failed ? "danger" : row.outcome === SyncOutcome.Conflict ? "warning" : "informative";
            return (
              <li key={row.id || index} className={styles.event}>
                <span className={styles.rail} aria-hidden="true">
                  <span className={mergeClasses(styles.dot, dot)} />
                  {index < rows.length - 1 && <span className={styles.line} />}
                </span>
                <div className={styles.eventBody}>
                  <div className={styles.eventMeta}>
                    {row.occurredOn && (
                      <Text size={200} weight="semibold">
                        <time dateTime={row.occurredOn.toISOString()}>{props.formatDateTime(row.occurredOn)}</time>
                      </Text>
                    )}
                    {outcome && <Badge size="small" appearance="tint" color={color}>{outcome}</Badge>}
                  </div>
                  {direction && <Text size={200} className={styles.muted}>{direction}</Text>}
                  {(row.message || row.name) && <Text size={200} className={styles.wrap}>{row.message || row.name}</Text>}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
});

// The view's two stateful pieces: what it reads from Dataverse, and the relay run it follows.
import * as React from "react";
import { describeError, readDeal, readHistory, readSettings, SettingError, type CardSettings, type DealRecord, type SyncEventRow } from "../services/dataverse.ts";
import { RelayError, runAndFollow, type RelayFailure, type RunKind, type RunState, type RunStatus } from "../services/relay.ts";
import type { CardServices } from "../types.ts";

export interface Loaded<T> {
  value: T | null;
  loading: boolean;
  /** A message for the seller when the read failed. */
  error: string | null;
}

export interface CardData {
  settings: Loaded<CardSettings>;
  settingProblem: SettingError | null;
  /** Whether this user can change environment variables, asked only when an admin note may be shown. */
  canEditSettings: boolean;
  deal: Loaded<DealRecord>;
  history: Loaded<SyncEventRow[]>;
  reload: () => void;
}

const idle = <T>(): Loaded<T> => ({ value: null, loading: false, error: null });
const loading = <T>(previous: Loaded<T>): Loaded<T> => ({ value: previous.value, loading: true, error: null });

/** Reads settings, the deal and its history; reads again when `reload` is called or the inputs change. */
export function useCardData(services: CardServices, opportunityId: string | null, historySize: number): CardData {
  const [generation, setGeneration] = React.useState(0);
  // What will be read is loading from the first render on, so no "missing" message flashes by.
  const first = <T,>(reads: boolean) => (): Loaded<T> => (reads ? loading(idle<T>()) : idle<T>());
  const [settings, setSettings] = React.useState<Loaded<CardSettings>>(first(services.webAPI !== null));
  const [settingProblem, setSettingProblem] = React.useState<SettingError | null>(null);
  const [canEditSettings, setCanEditSettings] = React.useState(false);
  const [deal, setDeal] = React.useState<Loaded<DealRecord>>(first(services.webAPI !== null && opportunityId !== null));
  const [history, setHistory] = React.useState<Loaded<SyncEventRow[]>>(first(services.webAPI !== null && opportunityId !== null));
  // reload may be called after the seller comes back from another form, when the card may be gone.
  const mounted = React.useRef(true);
  React.useEffect(() => () => {
    mounted.current = false;
  }, []);
  const reload = React.useCallback(() => {
    if (mounted.current && !services.lifetime.aborted) setGeneration((g) => g + 1);
  }, [services]);

  React.useEffect(() => {
    const webAPI = services.webAPI;
    if (!webAPI) return undefined;
    let stale = false;
    const live = (): boolean => !stale && !services.lifetime.aborted;
    setSettings(loading);
    void readSettings(webAPI, services.describeColumns).then(
      (value) => {
        if (!live()) return;
        setSettings({ value, loading: false, error: null });
        setSettingProblem(value.problem);
        if (value.fieldMappingProblems.length) void services.canEditSettings().then((can) => live() && setCanEditSettings(can));
        if (!opportunityId || value.problem) {
          setDeal(idle);
          return;
        }
        setDeal(loading);
        readDeal(webAPI, opportunityId, value).then(
          (record) => live() && setDeal({ value: record, loading: false, error: null }),
          (error: unknown) => live() && setDeal({ value: null, loading: false, error: describeError(error) }),
        );
      },
      (error: unknown) => {
        if (!live()) return;
        setSettings({ value: null, loading: false, error: describeError(error) });
        setDeal(idle);
      },
    );
    if (opportunityId) {
      setHistory(loading);
      readHistory(webAPI, opportunityId, historySize).then(
        (rows) => live() && setHistory({ value: rows, loading: false, error: null }),
        (error: unknown) => live() && setHistory({ value: null, loading: false, error: describeError(error) }),
      );
    } else {
      setHistory(idle);
    }
    return () => {
      stale = true;
    };
  }, [services, opportunityId, historySize, generation]);

  return { settings, settingProblem, canEditSettings, deal, history, reload };
}

export type RunView =
  | { phase: "idle" }
  | { phase: "starting"; kind: RunKind }
  | { phase: "following"; kind: RunKind; state: RunState }
  | { phase: "done"; kind: RunKind; status: RunStatus }
  | { phase: "failed"; kind: RunKind; failure: RelayFailure };

/** Starts a sync or retry through the relay and follows it; calls `onFinished` when the run ends. */
export function useRelayRun(services: CardServices, relayUrl: string | null, opportunityId: string | null, onFinished: () => void): { run: RunView; start: (kind: RunKind) => void } {
  const [run, setRun] = React.useState<RunView>({ phase: "idle" });
  const controller = React.useRef<AbortController | null>(null);
  React.useEffect(() => () => controller.current?.abort(), []);

  const start = React.useCallback(
    (kind: RunKind) => {
      if (!relayUrl || !opportunityId) return;
      controller.current?.abort();
      const abort = new AbortController();
      controller.current = abort;
      const stop = (): void => abort.abort();
      services.lifetime.addEventListener("abort", stop, { once: true });
      const live = (): boolean => !abort.signal.aborted;
      setRun({ phase: "starting", kind });
      runAndFollow(services.relay(relayUrl), kind, opportunityId, {
        ...services.polling,
        signal: abort.signal,
        onProgress: (status) => live() && setRun({ phase: "following", kind, state: status.state }),
      }).then(
        (status) => {
          if (!live()) return;
          setRun({ phase: "done", kind, status });
          onFinished();
        },
        (error: unknown) => {
          if (!live()) return;
          const failure: RelayFailure = error instanceof RelayError ? error.failure : { kind: "unreachable", message: describeError(error) };
          setRun({ phase: "failed", kind, failure });
          if (failure.kind === "timeout") onFinished();
        },
      ).finally(() => services.lifetime.removeEventListener("abort", stop));
    },
    [services, relayUrl, opportunityId, onFinished],
  );
  return { run, start };
}

/**
 * False on the card's first render, true from the frame after: the form shows the deal's status (the part a
 * seller reads first) in the first paint, and the checklist and history (which wait for Web API reads
 * anyway) mount a frame later, so their cold code and styles do not delay that paint. A timer backs up the
 * frame, which a hidden tab never gives.
 */
export function useAfterFirstPaint(): boolean {
  const [painted, setPainted] = React.useState(false);
  React.useEffect(() => {
    if (painted) return;
    const done = () => setPainted(true);
    const frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(() => setTimeout(done, 0)) : undefined;
    const fallback = setTimeout(done, 100);
    return () => {
      if (frame !== undefined) cancelAnimationFrame(frame);
      clearTimeout(fallback);
    };
  }, [painted]);
  return painted;
}

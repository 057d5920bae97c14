// What the sync engine runs on (its dependencies), what a run answers (SyncOutcome), and the small
// shared pieces every part of the engine uses: the fingerprint, the keyed lock, error classification.
import { createHash } from "node:crypto";
import type { PgBoss } from "pg-boss";
import { canonicalFields, type SyncedFields } from "../../../Core/mapping.ts";
import { DataverseError, type DataverseClient } from "../clients/dataverse.ts";
import { PartnerCenterError, type PartnerCenterClient } from "../clients/partner-center.ts";
import { EnvironmentVariableError, type EnvironmentVariableReader } from "../settings/environment-variables.ts";
import type { Database } from "../store/database.ts";
import type { DataverseSide } from "./dataverse-side.ts";

/** The pino subset the engine logs through. */
export interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  debug?(object: object, message?: string): void;
}

export type Direction = "outbound" | "inbound";

export interface SyncMetrics {
  syncFinished(direction: Direction, outcome: SyncOutcome["state"], ms: number): void;
}

export interface SyncDependencies {
  tenantId: string;
  db: Database;
  dataverse: DataverseClient;
  partnerCenter: PartnerCenterClient;
  settings: EnvironmentVariableReader;
  /** systemuserid of the relay's application user: its writes are echoes, never synced back. */
  relayUserId: string;
  boss: PgBoss;
  log: Logger;
  now?: () => Date;
  metrics?: SyncMetrics;
}

export interface SyncOutcome {
  state: "succeeded" | "skipped" | "failed";
  direction: Direction;
  /** Plain words: what the run did, or why not. */
  message: string;
  /** For failures: what the seller or the admin should do. */
  whatToDo?: string;
  /** For failures: the queue tries again later (throttling, outages, a write that kept colliding). */
  retryable?: boolean;
}

/** Job reasons that sync even when the last write was the relay's own (the card's "sync now" and "retry", the CLI). */
export const FORCED_REASONS: ReadonlySet<string> = new Set(["sync-now", "retry", "manual", "cli"]);

/** sha256 of the canonical text of the synced fields (Core/mapping.ts canonicalFields). */
export function fingerprint(fields: SyncedFields): string {
  return createHash("sha256").update(canonicalFields(fields)).digest("hex");
}

/**
 * Serialises work per key inside this process: one referral (or one not yet shared record) is synced
 * by one job at a time, so an outbound and an inbound job of the same pair never interleave.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: (waited: boolean) => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = (previous ?? Promise.resolve()).then(() => mine);
    this.#tails.set(key, tail);
    try {
      if (previous) await previous;
      return await work(previous !== undefined);
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Everything the engine's parts share for one tenant. */
export interface SyncContext {
  deps: SyncDependencies;
  dv: DataverseSide;
  pc: PartnerCenterClient;
  locks: KeyedLock;
  now: () => Date;
}

/** Throttling, outages and lost answers are worth another attempt; a refused request is not. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PartnerCenterError) return error.retryable || error.outcomeUnknown;
  if (error instanceof DataverseError) return error.transient;
  if (error instanceof EnvironmentVariableError) return false;
  if (error instanceof RetryLater) return true;
  return false;
}

export function whatToDoOf(error: unknown): string | undefined {
  if (error instanceof PartnerCenterError || error instanceof DataverseError || error instanceof EnvironmentVariableError) return error.whatToDo;
  return undefined;
}

/** A run that could not finish for a reason that passes (a record that kept changing under it). */
export class RetryLater extends Error {
  override readonly name = "RetryLater";
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

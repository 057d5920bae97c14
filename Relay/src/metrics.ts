// The relay's Prometheus metrics (GET /metrics). One registry per relay, so tests can run several.
// Labels stay low-cardinality: directions, outcomes, targets, status codes, event names and refusal
// reasons; never ids, subjects or URLs.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type OutgoingTarget = "dataverse" | "partner-center-referrals" | "partner-center-webhooks" | "entra-id" | "certificate";
export type WebhookSource = "partner-center" | "dataverse";

export interface QueueDepth {
  queue: string;
  state: "queued" | "active" | "deferred" | "failed";
  count: number;
}

/** The metric names, as /metrics exposes them (README and tests read them here). */
export const METRIC_NAMES = {
  syncs: "relay_syncs_total",
  syncDuration: "relay_sync_duration_seconds",
  queueJobs: "relay_queue_jobs",
  outgoingRequests: "relay_outgoing_requests_total",
  outgoingDuration: "relay_outgoing_request_duration_seconds",
  webhooksReceived: "relay_webhooks_received_total",
  webhooksRefused: "relay_webhooks_refused_total",
} as const;

export class RelayMetrics {
  readonly registry = new Registry();
  readonly #syncs: Counter<"direction" | "outcome">;
  readonly #syncDuration: Histogram<"direction" | "outcome">;
  readonly #outgoing: Counter<"target" | "status">;
  readonly #outgoingDuration: Histogram<"target">;
  readonly #received: Counter<"source" | "event">;
  readonly #refused: Counter<"source" | "reason">;
  #queueDepth: (() => Promise<QueueDepth[]>) | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#syncs = new Counter({ name: METRIC_NAMES.syncs, help: "Sync runs finished, by direction (outbound: Dynamics to Partner Center; inbound) and outcome", labelNames: ["direction", "outcome"], registers });
    this.#syncDuration = new Histogram({
      name: METRIC_NAMES.syncDuration, help: "Time from a sync run's start to its end", labelNames: ["direction", "outcome"], registers,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    });
    this.#outgoing = new Counter({ name: METRIC_NAMES.outgoingRequests, help: "HTTP requests the relay made, by target and status (0: no answer)", labelNames: ["target", "status"], registers });
    this.#outgoingDuration = new Histogram({
      name: METRIC_NAMES.outgoingDuration, help: "Duration of the relay's HTTP requests", labelNames: ["target"], registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    });
    this.#received = new Counter({ name: METRIC_NAMES.webhooksReceived, help: "Webhook deliveries accepted, by source and event (Partner Center event name or Dataverse step)", labelNames: ["source", "event"], registers });
    this.#refused = new Counter({ name: METRIC_NAMES.webhooksRefused, help: "Webhook deliveries refused, by source and reason", labelNames: ["source", "reason"], registers });
    const depth = () => this.#queueDepth;
    new Gauge({
      name: METRIC_NAMES.queueJobs, help: "Jobs in the relay's queues, by queue and state", labelNames: ["queue", "state"], registers,
      async collect() {
        const read = depth();
        if (!read) return;
        this.reset();
        try {
          for (const row of await read()) this.set({ queue: row.queue, state: row.state }, row.count);
        } catch {
          // The database is unreachable: /readyz says so; the gauge stays empty.
        }
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "relay_" });
  }

  /** The engine calls this when a run ends (SyncDependencies.metrics). */
  syncFinished(direction: string, outcome: string, ms: number): void {
    this.#syncs.inc({ direction, outcome });
    this.#syncDuration.observe({ direction, outcome }, ms / 1000);
  }

  outgoingRequest(target: OutgoingTarget, status: number, ms: number): void {
    this.#outgoing.inc({ target, status: String(status) });
    this.#outgoingDuration.observe({ target }, ms / 1000);
  }

  webhookReceived(source: WebhookSource, event: string): void {
    this.#received.inc({ source, event });
  }

  webhookRefused(source: WebhookSource, reason: string): void {
    this.#refused.inc({ source, reason });
  }

  /** Where the queue depth gauge reads from when scraped. */
  setQueueDepthSource(read: () => Promise<QueueDepth[]>): void {
    this.#queueDepth = read;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

// Webhook delivery as Partner Center does it (partner-center-webhooks.md §3): a signed POST of the compact
// pointer payload to the registered URL, up to 10 attempts with backoff, then given up for good. Due times
// are on the sandbox clock, so moving the clock runs the retry schedule. Faults from /sandbox/faults can
// drop, duplicate, reorder, delay or corrupt a delivery.
import { Agent, request } from "undici";
import type { SandboxClock } from "../model/clock.ts";
import type { DeliveryFaultKind, FaultBook } from "../model/faults.ts";
import { newId } from "../model/format.ts";
import type { Stats } from "../model/stats.ts";
import { statusName, type Registration } from "../model/webhooks.ts";
import { signBody, signatureHeaders, signingKey } from "./signing.ts";

/** The documented event body, in the documented member order (docs §2.2). */
export interface EventPayload {
  EventName: string;
  ResourceUri: string;
  ResourceName: string;
  AuditUri: string | null;
  ResourceChangeUtcDate: string;
}

export interface DeliverySettings {
  /** Attempts in all, the first included (docs: 10). */
  maxAttempts: number;
  /** Wait after attempt n before attempt n+1 is `backoffMs[n-1]` (the last value repeats), sandbox-clock ms. */
  backoffMs: readonly number[];
  /** Per-attempt timeout, real ms. */
  timeoutMs: number;
  /** `x-ms-signature` value form when the registration asks for that header. */
  msSignatureFormat: "prefixed" | "bare";
  /** Which webhook hosts the sandbox may send to (default: loopback only). */
  allowHost: (hostname: string) => boolean;
}

/** Unverified: Partner Center publishes no schedule. 1, 2, 4 … 256 minutes: about 8.5 hours over 10 attempts. */
export const DEFAULT_BACKOFF_MS = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((m) => m * 60_000);

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host) || /^::ffff:127(\.\d{1,3}){3}$/.test(host);
}

export interface AttemptRecord {
  at: number;
  /** HTTP status, or null when no answer came (network error, timeout, blocked host). */
  status: number | null;
  responseCode: string | null;
  responseMessage: string;
  systemError: boolean;
  durationMs: number;
}

export interface DeliveryRecord {
  id: string;
  seq: number;
  eventName: string;
  payload: EventPayload;
  url: string;
  msSignatureHeader: boolean;
  state: "pending" | "delivering" | "delivered" | "failed" | "dropped";
  attempts: AttemptRecord[];
  dueAt: number;
  createdAt: number;
  faults: DeliveryFaultKind[];
  correlationId: string | undefined;
  duplicateOf: string | undefined;
  heldForReorder: boolean;
}

export interface DispatcherOptions {
  clock: SandboxClock;
  caPem: string;
  signingKeyPem: string;
  certificateUrl: string;
  faults: FaultBook;
  stats: Stats;
  settings: DeliverySettings;
  /** Hears every attempt (the validation-event log uses it). */
  onAttempt?: (delivery: DeliveryRecord, attempt: AttemptRecord, final: boolean) => void;
  /** How many finished deliveries GET /sandbox/deliveries keeps. */
  keep?: number;
}

export class WebhookDispatcher {
  private readonly options: DispatcherOptions;
  private readonly key;
  private agent: Agent;
  private deliveries: DeliveryRecord[] = [];
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private stopped = false;
  private abort = new AbortController();
  private waiters: Array<() => void> = [];
  private readonly unsubscribeClock: () => void;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.key = signingKey(options.signingKeyPem);
    this.agent = this.newAgent();
    this.unsubscribeClock = options.clock.onJump(() => this.pump());
  }

  private newAgent(): Agent {
    return new Agent({ connect: { ca: this.options.caPem }, keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 });
  }

  /** Queues one event for the registration as it is now; faults decide what happens to it. */
  enqueue(payload: EventPayload, registration: Registration, correlationId?: string): DeliveryRecord {
    const now = this.options.clock.now();
    const faults = this.options.faults.forDelivery(payload.EventName);
    const kinds = faults.map((f) => f.kind as DeliveryFaultKind);
    const delivery = this.record(payload, registration, now, kinds, correlationId);
    const { stats } = this.options;
    stats.delivery(payload.EventName, "queued");
    if (kinds.includes("drop")) {
      delivery.state = "dropped";
      stats.delivery(payload.EventName, "dropped");
      if (correlationId) this.options.onAttempt?.(delivery, { at: now, status: null, responseCode: null, responseMessage: "dropped by a sandbox fault", systemError: true, durationMs: 0 }, true);
      return this.view(delivery);
    }
    stats.delivery(payload.EventName, "pending");
    for (const fault of faults) {
      if (fault.kind === "delay") delivery.dueAt = now + fault.delayMs;
      if (fault.kind === "reorder") {
        // Held until the next delivery has been sent, or at most delayMs (30 s by default).
        delivery.heldForReorder = true;
        delivery.dueAt = now + (fault.delayMs || 30_000);
      }
    }
    if (kinds.includes("duplicate")) {
      const copy = this.record(payload, registration, now, kinds.filter((k) => k !== "duplicate" && k !== "reorder"), correlationId);
      copy.duplicateOf = delivery.id;
      copy.dueAt = delivery.dueAt;
      stats.delivery(payload.EventName, "queued");
      stats.delivery(payload.EventName, "duplicated");
      stats.delivery(payload.EventName, "pending");
    }
    queueMicrotask(() => this.pump());
    return this.view(delivery);
  }

  list(): DeliveryRecord[] {
    return this.deliveries.map((d) => this.view(d));
  }

  /** Resolves when nothing is due now and nothing is in flight (later retries may still be scheduled). */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Forgets every delivery, including scheduled retries; in-flight requests are abandoned. */
  reset(): void {
    this.abort.abort();
    this.abort = new AbortController();
    this.deliveries = [];
    this.inFlight.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.notifySettled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeClock();
    this.reset();
    await this.agent.close().catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------------

  private record(payload: EventPayload, registration: Registration, now: number, faults: DeliveryFaultKind[], correlationId: string | undefined): DeliveryRecord {
    const delivery: DeliveryRecord = {
      id: newId(),
      seq: ++this.seq,
      eventName: payload.EventName,
      payload,
      url: registration.webhookUrl,
      msSignatureHeader: registration.signatureTokenToMsSignatureHeader,
      state: "pending",
      attempts: [],
      dueAt: now,
      createdAt: now,
      faults,
      correlationId,
      duplicateOf: undefined,
      heldForReorder: false,
    };
    this.deliveries.push(delivery);
    const keep = this.options.keep ?? 2000;
    if (this.deliveries.length > keep) {
      const finished = this.deliveries.findIndex((d) => d.state !== "pending" && d.state !== "delivering");
      if (finished >= 0) this.deliveries.splice(finished, 1);
    }
    return delivery;
  }

  private view(delivery: DeliveryRecord): DeliveryRecord {
    return { ...delivery, payload: { ...delivery.payload }, attempts: delivery.attempts.map((a) => ({ ...a })), faults: [...delivery.faults] };
  }

  private isSettled(): boolean {
    const now = this.options.clock.now();
    return this.inFlight.size === 0 && !this.deliveries.some((d) => d.state === "pending" && d.dueAt <= now);
  }

  private notifySettled(): void {
    if (!this.isSettled() && !this.stopped) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    const due = this.deliveries.filter((d) => d.state === "pending" && d.dueAt <= now && !this.inFlight.has(d.id)).sort((a, b) => a.seq - b.seq);
    // One request at a time per resource, so a referral's events leave in the order they happened
    // (unless a fault reorders them); different referrals go out in parallel.
    const busy = new Set(this.deliveries.filter((d) => this.inFlight.has(d.id)).map((d) => d.payload.ResourceUri));
    for (const delivery of due) {
      if (busy.has(delivery.payload.ResourceUri)) continue;
      busy.add(delivery.payload.ResourceUri);
      void this.attempt(delivery);
    }
    this.schedule();
    this.notifySettled();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    let next: number | undefined;
    const now = this.options.clock.now();
    // Deliveries waiting behind an in-flight one for the same resource are pumped when it finishes.
    const busy = new Set(this.deliveries.filter((d) => this.inFlight.has(d.id)).map((d) => d.payload.ResourceUri));
    for (const d of this.deliveries) {
      if (d.state !== "pending" || busy.has(d.payload.ResourceUri)) continue;
      if (next === undefined || d.dueAt < next) next = d.dueAt;
    }
    if (next === undefined) return;
    const wait = Math.min(Math.max(0, next - now), 2 ** 31 - 1);
    this.timer = setTimeout(() => this.pump(), wait);
    this.timer.unref();
  }

  private async attempt(delivery: DeliveryRecord): Promise<void> {
    const { clock, settings, stats } = this.options;
    this.inFlight.add(delivery.id);
    delivery.state = "delivering";
    const signal = this.abort.signal;
    const body = Buffer.from(JSON.stringify(delivery.payload), "utf8");
    const signature = signBody(body, this.key);
    const faults = new Set(delivery.faults);
    const sent = faults.has("tamper") ? Buffer.from(JSON.stringify({ ...delivery.payload, ResourceChangeUtcDate: delivery.payload.ResourceChangeUtcDate.replace(/\d(?=\+)/, (d) => String((Number(d) + 1) % 10)) }), "utf8") : body;
    const headers = signatureHeaders({
      signature,
      certificateUrl: faults.has("foreignCertUrl") ? "https://certificates.example.invalid/cert/pcnotifications-dispatch.microsoft.com.cer" : this.options.certificateUrl,
      msSignatureHeader: delivery.msSignatureHeader || faults.has("bareSignature"),
      msSignatureFormat: faults.has("bareSignature") ? "bare" : settings.msSignatureFormat,
      algorithm: faults.has("wrongAlgorithm") ? "rsa-sha1" : "rsa-sha256",
    });
    const startedAt = performance.now();
    let status: number | null = null;
    let message = "";
    let systemError = false;
    let blocked = false;
    try {
      const url = new URL(delivery.url);
      if (!settings.allowHost(url.hostname)) {
        blocked = true;
        throw new Error(`the sandbox delivers only to loopback addresses, not ${url.hostname}`);
      }
      const response = await request(url, {
        method: "POST",
        headers,
        body: sent,
        dispatcher: this.agent,
        headersTimeout: settings.timeoutMs,
        bodyTimeout: settings.timeoutMs,
        signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
      });
      status = response.statusCode;
      message = (await response.body.text()).slice(0, 1024);
    } catch (error) {
      systemError = true;
      message = (error as Error).message;
    }
    if (signal.aborted || this.stopped) return;
    this.inFlight.delete(delivery.id);
    const attempt: AttemptRecord = {
      at: clock.now(),
      status,
      responseCode: status === null ? null : statusName(status),
      responseMessage: message,
      systemError,
      durationMs: Math.round(performance.now() - startedAt),
    };
    delivery.attempts.push(attempt);
    stats.delivery(delivery.eventName, "attempts");
    const ok = status !== null && status >= 200 && status < 300;
    let final = true;
    if (ok) {
      delivery.state = "delivered";
      stats.delivery(delivery.eventName, "delivered");
      stats.delivery(delivery.eventName, "pending", -1);
    } else {
      stats.delivery(delivery.eventName, "failedAttempts");
      if (blocked || delivery.attempts.length >= settings.maxAttempts) {
        delivery.state = "failed";
        stats.delivery(delivery.eventName, "givenUp");
        stats.delivery(delivery.eventName, "pending", -1);
      } else {
        final = false;
        const wait = settings.backoffMs[Math.min(delivery.attempts.length - 1, settings.backoffMs.length - 1)] ?? 0;
        delivery.state = "pending";
        delivery.dueAt = clock.now() + wait;
      }
    }
    this.options.onAttempt?.(delivery, attempt, final);
    if (!delivery.heldForReorder) this.releaseHeld(delivery);
    delivery.heldForReorder = false;
    this.pump();
  }

  /** A reordered delivery goes out once a later one has been sent. */
  private releaseHeld(sent: DeliveryRecord): void {
    const now = this.options.clock.now();
    for (const held of this.deliveries) {
      if (held.heldForReorder && held.state === "pending" && held.seq < sent.seq) {
        held.dueAt = now;
        held.heldForReorder = false;
      }
    }
  }
}

// Sends webhook deliveries (dataverse.md §8.5): POST with a 60 s timeout, 2xx is success, one more
// attempt only after 502, 503 or 504. Synchronous steps cancel the operation when they fail;
// asynchronous ones are sent after the commit and recorded as system jobs (asyncoperation, statuscode
// 30 Succeeded / 31 Failed). HTTPS endpoints are trusted through the sandbox CA. By default only
// loopback endpoints are called, so a sandbox never posts records anywhere else.
import { Agent, request } from "undici";
import { DataverseError, ErrorCodes } from "./engine/errors.ts";
import type { Engine, StepInvoker } from "./engine/engine.ts";
import type { Delivery } from "./engine/steps.ts";

export interface WebhookOptions {
  /** Per attempt (Dataverse: 60 s). */
  timeoutMs?: number;
  /** Extra attempts after 502/503/504 (Dataverse: 1). */
  retries?: number;
  retryDelayMs?: number;
  /** Allow endpoints that are not on loopback (default false). */
  allowNonLoopback?: boolean;
  /**
   * What a failing synchronous step tells the caller: "generic" (the status code; Dataverse ignores the
   * response body) or "body" (the endpoint's answer, so a relay can say why it refused). Unverified (§12.9).
   */
  syncFailureMessage?: "generic" | "body";
}

export interface DeliveryRecord {
  at: string;
  step: string;
  stepId: string;
  endpoint: string;
  url: string;
  message: string;
  entity: string;
  primaryId: string;
  stage: number;
  mode: number;
  attempts: number;
  status: number | null;
  ok: boolean;
  error?: string;
  correlationId: string;
}

interface Outcome {
  ok: boolean;
  status: number | null;
  attempts: number;
  text: string;
  error?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const MAX_LOG = 500;

export class WebhookDispatcher implements StepInvoker {
  private readonly agent: Agent;
  private readonly options: Required<WebhookOptions>;
  private readonly pending = new Set<Promise<void>>();
  private engine: Engine | undefined;
  readonly log: DeliveryRecord[] = [];

  constructor(caPem: string, options: WebhookOptions = {}) {
    this.options = { timeoutMs: 60_000, retries: 1, retryDelayMs: 1000, allowNonLoopback: false, syncFailureMessage: "generic", ...options };
    this.agent = new Agent({ connect: { ca: caPem }, headersTimeout: this.options.timeoutMs, bodyTimeout: this.options.timeoutMs });
  }

  attach(engine: Engine): void {
    this.engine = engine;
  }

  private async post(delivery: Delivery): Promise<Outcome> {
    const url = new URL(delivery.url);
    if (!this.options.allowNonLoopback && !LOOPBACK.has(url.hostname)) {
      return { ok: false, status: null, attempts: 0, text: "", error: `endpoint ${url.host} is not on loopback (allowNonLoopback is off)` };
    }
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        const response = await request(delivery.url, {
          method: "POST", headers: delivery.headers, body: delivery.body, dispatcher: this.agent,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        const text = await response.body.text();
        if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true, status: response.statusCode, attempts, text };
        if ([502, 503, 504].includes(response.statusCode) && attempts <= this.options.retries) {
          await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
          continue;
        }
        return { ok: false, status: response.statusCode, attempts, text };
      } catch (error) {
        return { ok: false, status: null, attempts, text: "", error: (error as Error).message };
      }
    }
  }

  private record(delivery: Delivery, outcome: Outcome): void {
    this.log.push({
      at: new Date().toISOString(), step: delivery.step.name, stepId: delivery.step.id, endpoint: delivery.step.endpoint.name, url: delivery.url.replace(/([?&]code=)[^&]*/, "$1***"),
      message: delivery.message, entity: delivery.entity, primaryId: delivery.primaryId, stage: delivery.stage, mode: delivery.mode,
      attempts: outcome.attempts, status: outcome.status, ok: outcome.ok, ...(outcome.error ? { error: outcome.error } : {}), correlationId: delivery.correlationId,
    });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  private failureText(delivery: Delivery, outcome: Outcome): string {
    if (this.options.syncFailureMessage === "body" && outcome.text.trim()) {
      try {
        const parsed = JSON.parse(outcome.text) as { message?: unknown; error?: { message?: unknown } };
        const message = parsed.error?.message ?? parsed.message;
        if (typeof message === "string" && message) return message;
      } catch {
        // not JSON: the text itself
      }
      return outcome.text.trim().slice(0, 2000);
    }
    const cause = outcome.status !== null ? `HTTP status ${outcome.status}` : outcome.error ?? "no response";
    return `The webhook '${delivery.step.endpoint.name}' registered for step '${delivery.step.name}' failed: ${cause}.`;
  }

  async deliverSync(delivery: Delivery): Promise<void> {
    const outcome = await this.post(delivery);
    this.record(delivery, outcome);
    if (!outcome.ok) throw new DataverseError(400, ErrorCodes.IsvAborted, this.failureText(delivery, outcome));
  }

  /** Queues asynchronous deliveries of a committed operation. */
  enqueue(deliveries: Delivery[]): void {
    for (const delivery of deliveries) {
      const job = this.runAsync(delivery).finally(() => this.pending.delete(job));
      this.pending.add(job);
    }
  }

  private async runAsync(delivery: Delivery): Promise<void> {
    const jobId = delivery.asyncOperationId;
    const started = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    if (jobId && this.engine?.get("asyncoperation", jobId)) {
      this.engine.systemPut("asyncoperation", { asyncoperationid: jobId, statecode: 2, statuscode: 20, startedon: started });
    }
    const outcome = await this.post(delivery);
    this.record(delivery, outcome);
    if (!jobId || !this.engine?.get("asyncoperation", jobId)) return;
    const completed = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    if (outcome.ok && delivery.step.asyncAutoDelete) {
      this.engine.systemRemove("asyncoperation", jobId);
      return;
    }
    this.engine.systemPut("asyncoperation", {
      asyncoperationid: jobId, statecode: 3, statuscode: outcome.ok ? 30 : 31, completedon: completed, retrycount: Math.max(0, outcome.attempts - 1),
      ...(outcome.ok ? {} : { message: this.failureText(delivery, outcome), friendlymessage: this.failureText(delivery, outcome), errorcode: -2147220891 }),
    });
  }

  /** Resolves when every queued asynchronous delivery has been attempted. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  clear(): void {
    this.log.length = 0;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.agent.close();
  }
}

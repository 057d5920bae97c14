// Liveness, readiness and metrics. /healthz answers while the process runs; /readyz only when the store
// answers and the queue is started (a load balancer stops sending deliveries otherwise, and Partner
// Center and Dataverse retry); /metrics is Prometheus text.
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import type { RelayMetrics } from "../metrics.ts";
import { jsonSchema } from "./schemas.ts";

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; throws (with a message fit for the answer) when not. */
  check: () => Promise<void>;
}

const Health = z.object({ status: z.literal("ok") });
const Readiness = z.object({ status: z.enum(["ready", "not ready"]), checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })) });

const CHECK_TIMEOUT_MS = 3000;

async function run(check: ReadinessCheck): Promise<{ name: string; ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name: check.name, ok: true };
  } catch (error) {
    return { name: check.name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, options: { checks: readonly ReadinessCheck[]; metrics: RelayMetrics }): void {
  app.get("/healthz", { logLevel: "warn", schema: { response: { 200: jsonSchema(Health) } } }, async () => ({ status: "ok" as const }));

  app.get("/readyz", { logLevel: "warn", schema: { response: { 200: jsonSchema(Readiness), 503: jsonSchema(Readiness) } } }, async (request, reply) => {
    const checks = await Promise.all(options.checks.map(run));
    const ready = checks.every((c) => c.ok);
    if (!ready) request.log.warn({ checks: checks.filter((c) => !c.ok) }, "not ready");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });

  app.get("/metrics", { logLevel: "warn", schema: { response: { 200: { type: "string" } } } }, async (_request, reply) => {
    reply.type(options.metrics.contentType);
    return options.metrics.text();
  });
}

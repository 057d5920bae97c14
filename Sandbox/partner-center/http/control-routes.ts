// The sandbox control API under /sandbox/: Microsoft's side of co-sell, the clock, faults, stats, reset
// and seed. No token; loopback callers only (checked in server.ts). Not part of Partner Center.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseDuration } from "../model/clock.ts";
import { ApiError, invalid } from "../model/errors.ts";
import { readFault } from "../model/faults.ts";
import type { SandboxContext } from "./context.ts";

type IdRequest = FastifyRequest<{ Params: { id: string } }>;
const ACTIONS = ["accept", "decline", "update", "close"] as const;

export function controlRoutes(app: FastifyInstance, context: SandboxContext): void {
  const { referrals, clock, faults, stats, dispatcher, webhooks } = context;

  app.post("/sandbox/microsoft/referrals", async (request, reply) => {
    const { referral } = referrals.receiveFromMicrosoft(request.body ?? {});
    reply.code(201);
    return referral;
  });

  for (const action of ACTIONS) {
    app.post(`/sandbox/microsoft/referrals/:id/${action}`, async (request: IdRequest) => referrals.microsoftAction(request.params.id, action, request.body ?? {}));
  }

  /** Every referral, no token: what Partner Center holds, for debugging. */
  app.get("/sandbox/referrals", async () => referrals.all());

  app.get("/sandbox/clock", async () => ({ now: new Date(clock.now()).toISOString(), offsetMs: clock.offsetMs }));
  app.post("/sandbox/clock", async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const expiredBefore = referrals.all().filter((r) => r.substatus === "Expired").length;
    try {
      if (body.to !== undefined) {
        const at = Date.parse(String(body.to));
        if (Number.isNaN(at)) throw invalid("'to' must be an ISO 8601 date-time", "to");
        clock.set(at);
      } else if (body.advance !== undefined || body.advanceMs !== undefined) {
        clock.advance(parseDuration(body.advance ?? body.advanceMs));
      } else throw invalid("send { \"advance\": \"14d\" } (or advanceMs, or to)", "advance");
    } catch (error) {
      if (error instanceof RangeError) throw invalid(error.message, "advance");
      throw error;
    }
    referrals.expireDue(); // the clock's listeners have already run it; harmless twice
    const expired = referrals.all().filter((r) => r.substatus === "Expired").length - expiredBefore;
    return { now: new Date(clock.now()).toISOString(), offsetMs: clock.offsetMs, expired };
  });

  app.get("/sandbox/faults", async () => faults.list());
  app.post("/sandbox/faults", async (request, reply) => {
    const input = request.body;
    const rules = (Array.isArray(input) ? input : [input]).map((item) => faults.add(readFault(item)));
    reply.code(201);
    return Array.isArray(input) ? rules : rules[0];
  });
  app.delete("/sandbox/faults", async (_request, reply) => {
    faults.clear();
    return reply.code(204).send();
  });
  app.delete("/sandbox/faults/:id", async (request: IdRequest, reply) => {
    if (!faults.remove(request.params.id)) throw new ApiError(404, "itemNotFound", `no fault '${request.params.id}'`);
    return reply.code(204).send();
  });

  app.get("/sandbox/stats", async () => stats.snapshot());
  app.delete("/sandbox/stats", async (_request, reply) => {
    stats.reset();
    return reply.code(204).send();
  });

  app.get("/sandbox/deliveries", async () => dispatcher.list());
  /** Waits until no delivery is due and none is in flight (scheduled retries may remain). */
  app.post("/sandbox/deliveries/settle", async () => {
    await dispatcher.settled();
    return dispatcher.list();
  });

  app.get("/sandbox/webhooks/registration", async () => webhooks.current() ?? null);
  app.delete("/sandbox/webhooks/registration", async (_request, reply) => {
    webhooks.remove();
    return reply.code(204).send();
  });

  app.post("/sandbox/reset", async (_request, reply) => {
    context.reset();
    return reply.code(204).send();
  });

  app.post("/sandbox/seed", async () => ({ added: context.seed(), referrals: referrals.size }));
}

// The webhook registration API (api.partnercenter.microsoft.com/webhooks/v1/registration) and the signing
// certificate (3psostorageacct.blob.core.windows.net/cert/…cer), served from the same sandbox.
import { X509Certificate } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../model/errors.ts";
import { eventDate } from "../model/format.ts";
import { ALL_EVENTS, TEST_EVENT, type Registration } from "../model/webhooks.ts";
import { WEBHOOKS_PATH, type SandboxContext } from "./context.ts";

/** Create and update answer with the subscriber id; the documented GET example has none. */
const created = (r: Registration) => ({ SubscriberId: r.subscriberId, WebhookUrl: r.webhookUrl, WebhookEvents: r.webhookEvents });

export function webhookRoutes(app: FastifyInstance, context: SandboxContext): void {
  const { webhooks, auth, dispatcher, clock, settings } = context;
  const authorize = (request: FastifyRequest) => auth.webhooks(request.headers.authorization);

  app.get(WEBHOOKS_PATH, async (request) => {
    await authorize(request);
    const registration = webhooks.get();
    return { WebhookUrl: registration.webhookUrl, WebhookEvents: registration.webhookEvents };
  });

  app.post(WEBHOOKS_PATH, async (request) => {
    await authorize(request);
    return created(webhooks.create(request.body));
  });

  app.put(WEBHOOKS_PATH, async (request) => {
    await authorize(request);
    return created(webhooks.replace(request.body, settings.putCreatesRegistration));
  });

  app.delete(WEBHOOKS_PATH, async () => {
    // No DELETE is documented; the control API's DELETE /sandbox/webhooks/registration removes it in the sandbox.
    throw new ApiError(405, "methodNotAllowed", "the webhook registration cannot be deleted through the API; replace it with PUT", { headers: { Allow: "GET, POST, PUT" } });
  });

  app.get(`${WEBHOOKS_PATH}/events`, async (request) => {
    await authorize(request);
    return [...ALL_EVENTS];
  });

  app.post(`${WEBHOOKS_PATH}/validationEvents`, async (request) => {
    await authorize(request);
    const event = webhooks.startValidation();
    const registration = webhooks.get();
    dispatcher.enqueue(
      {
        EventName: TEST_EVENT,
        ResourceUri: `${settings.webhooksBaseUrl}${WEBHOOKS_PATH}/validationEvents/${event.correlationId}`,
        ResourceName: "test",
        AuditUri: null,
        ResourceChangeUtcDate: eventDate(clock.now()),
      },
      registration,
      event.correlationId,
    );
    return { correlationId: event.correlationId };
  });

  app.get(`${WEBHOOKS_PATH}/validationEvents/:correlationId`, async (request: FastifyRequest<{ Params: { correlationId: string } }>) => {
    await authorize(request);
    const event = webhooks.validation(request.params.correlationId);
    return { correlationId: event.correlationId, partnerId: event.partnerId, status: event.status, callbackUrl: event.callbackUrl, results: event.results };
  });

  const der = new X509Certificate(context.webhookSigningCertPem).raw;
  app.get(settings.certificatePath, async (_request, reply) => {
    if (settings.certificateEncoding === "der") {
      reply.type("application/pkix-cert");
      return reply.send(der);
    }
    reply.type("application/x-pem-file");
    return reply.send(context.webhookSigningCertPem);
  });
}

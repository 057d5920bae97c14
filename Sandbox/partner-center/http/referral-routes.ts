// The Referrals API (api.partner.microsoft.com/v1.0/engagements/referrals): thin handlers over ReferralBook.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../model/errors.ts";
import { encodeSkipToken } from "../model/odata.ts";
import type { JsonObject } from "../model/schema.ts";
import { REFERRALS_PATH, type SandboxContext } from "./context.ts";

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

export function referralRoutes(app: FastifyInstance, context: SandboxContext): void {
  const { referrals, auth, settings } = context;
  const collectionUrl = `${settings.referralsBaseUrl}${REFERRALS_PATH}`;
  const authorize = (request: FastifyRequest) => auth.referrals(request.headers.authorization);

  const single = (reply: FastifyReply, referral: JsonObject) => {
    if (settings.etagHeader) reply.header("ETag", String(referral.eTag));
    return referral;
  };

  app.post(REFERRALS_PATH, async (request, reply) => {
    await authorize(request);
    const referral = referrals.create(request.body);
    reply.code(settings.createStatus);
    return single(reply, referral);
  });

  app.get(REFERRALS_PATH, async (request) => {
    await authorize(request);
    const page = referrals.list(request.query as Record<string, unknown>, settings.pageSize);
    const select = (request.query as Record<string, unknown>)["$select"];
    const body: Record<string, unknown> = {
      "@odata.context": `${settings.referralsBaseUrl}/v1.0/$metadata#Referrals${typeof select === "string" && select.trim() ? `(${select.replace(/\s+/g, "")})` : ""}`,
      "@odata.count": page.count,
      value: page.items,
    };
    if (page.next) body["@odata.nextLink"] = `${collectionUrl}?$skiptoken=${encodeSkipToken(page.next)}`;
    return body;
  });

  app.get(`${REFERRALS_PATH}/:id`, async (request: IdRequest, reply) => {
    await authorize(request);
    const referral = referrals.get(request.params.id);
    single(reply, referral);
    return { "@odata.context": `${collectionUrl}/$metadata#Referrals/$entity`, ...referral };
  });

  app.patch(`${REFERRALS_PATH}/:id`, async (request: IdRequest, reply) => {
    await authorize(request);
    const referral = referrals.patch(request.params.id, request.body, header(request, "if-match"));
    const prefer = header(request, "prefer") ?? "";
    if (/(^|[;,\s])return\s*=\s*representation\b/i.test(prefer)) {
      reply.header("Preference-Applied", "return=representation");
      return single(reply, referral);
    }
    reply.code(204);
    return reply.send();
  });

  app.put(`${REFERRALS_PATH}/:id`, async (request: IdRequest, reply) => {
    await authorize(request);
    const referral = referrals.replace(request.params.id, request.body, header(request, "if-match"));
    return single(reply, referral);
  });

  const notAllowed = (allow: string) => async () => {
    throw new ApiError(405, "methodNotAllowed", `the Referrals API does not support this method here (allowed: ${allow})`, { headers: { Allow: allow } });
  };
  app.delete(`${REFERRALS_PATH}/:id`, notAllowed("GET, PATCH, PUT"));
  app.delete(REFERRALS_PATH, notAllowed("GET, POST"));
}

// The read-only contract against the real Partner Center, when someone provides a token. GETs only.
//   PCR_REAL_PARTNER_CENTER_TOKEN            App+User token (with MFA) for https://api.partner.microsoft.com
//   PCR_REAL_PARTNER_CENTER_BASE_URL         default https://api.partner.microsoft.com
//   PCR_REAL_PARTNER_CENTER_WEBHOOKS_TOKEN   optional: token for https://api.partnercenter.microsoft.com
//   PCR_REAL_PARTNER_CENTER_WEBHOOKS_BASE_URL default https://api.partnercenter.microsoft.com
import { randomUUID } from "node:crypto";
import { readOnlyReferralContract, type ContractClient } from "./read-only-contract.ts";

const referralsToken = process.env.PCR_REAL_PARTNER_CENTER_TOKEN;
const referralsBase = (process.env.PCR_REAL_PARTNER_CENTER_BASE_URL ?? "https://api.partner.microsoft.com").replace(/\/$/, "");
const webhooksToken = process.env.PCR_REAL_PARTNER_CENTER_WEBHOOKS_TOKEN;
const webhooksBase = (process.env.PCR_REAL_PARTNER_CENTER_WEBHOOKS_BASE_URL ?? "https://api.partnercenter.microsoft.com").replace(/\/$/, "");

async function get(url: string, tokenValue: string | null, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    headers: { accept: "application/json", "client-request-id": randomUUID(), ...(tokenValue ? { authorization: `Bearer ${tokenValue}` } : {}), ...headers },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), text: await response.text() };
}

if (!referralsToken) {
  console.log("Real Partner Center contract skipped: set PCR_REAL_PARTNER_CENTER_TOKEN (and PCR_REAL_PARTNER_CENTER_BASE_URL) to run it.");
  describe.skip("read-only contract against the real Partner Center (PCR_REAL_PARTNER_CENTER_TOKEN not set)", () => {
    test("skipped", () => undefined);
  });
} else {
  describe(`read-only contract against ${referralsBase}`, () => {
    const client = (): ContractClient => ({
      get: (path, options = {}) => get(path.startsWith("https://") ? path : `${referralsBase}${path}`, options.token === null ? null : referralsToken, options.headers),
    });
    readOnlyReferralContract(client);
  });
}

if (!webhooksToken) {
  describe.skip("webhook registration API against the real Partner Center (PCR_REAL_PARTNER_CENTER_WEBHOOKS_TOKEN not set)", () => {
    test("skipped", () => undefined);
  });
} else {
  describe(`webhook registration API (read-only) against ${webhooksBase}`, () => {
    test("GET /events lists the referral events", async () => {
      const response = await get(`${webhooksBase}/webhooks/v1/registration/events`, webhooksToken);
      expect(response.status).toBe(200);
      const events = JSON.parse(response.text) as string[];
      for (const name of ["referral-created", "referral-updated", "test-created"]) expect(events).toContain(name);
    });

    test("GET /registration is 200 with WebhookUrl and WebhookEvents, or 404 when none exists", async () => {
      const response = await get(`${webhooksBase}/webhooks/v1/registration`, webhooksToken);
      expect([200, 404]).toContain(response.status);
      if (response.status === 200) {
        const body = JSON.parse(response.text) as Record<string, unknown>;
        const keys = Object.keys(body).map((k) => k.toLowerCase());
        expect(keys).toEqual(expect.arrayContaining(["webhookurl", "webhookevents"]));
      }
    });
  });
}

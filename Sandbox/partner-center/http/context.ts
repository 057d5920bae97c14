// What the route modules share: the state, the settings and the renderers.
import type { SandboxClock } from "../model/clock.ts";
import type { FaultBook } from "../model/faults.ts";
import type { ReferralBook } from "../model/referrals.ts";
import type { Stats } from "../model/stats.ts";
import type { WebhookBook } from "../model/webhooks.ts";
import type { WebhookDispatcher } from "../webhooks/dispatcher.ts";
import type { PartnerCenterAuth } from "./auth.ts";

export interface SandboxSettings {
  /** Public base of the referrals host (links, @odata.context, nextLink). */
  referralsBaseUrl: string;
  /** Public base of the webhooks host (validation-event ResourceUri). */
  webhooksBaseUrl: string;
  /** Path the signing certificate is served at, and the URL deliveries name in X-MS-Certificate-Url. */
  certificatePath: string;
  certificateUrl: string;
  certificateEncoding: "pem" | "der";
  /** ResourceUri of referral events; `{id}` is replaced by the referral id. */
  resourceUriTemplate: string;
  /** Status of a successful create: 200 per the connector swagger (201 is also listed generically). */
  createStatus: 200 | 201;
  /** Send an `ETag` response header with single-referral bodies (the 2020 header page lists it; unverified). */
  etagHeader: boolean;
  pageSize: number;
  /** PUT /registration without one: create it (true) or 404 (false, default). */
  putCreatesRegistration: boolean;
}

export interface SandboxContext {
  settings: SandboxSettings;
  clock: SandboxClock;
  referrals: ReferralBook;
  webhooks: WebhookBook;
  dispatcher: WebhookDispatcher;
  faults: FaultBook;
  stats: Stats;
  auth: PartnerCenterAuth;
  webhookSigningCertPem: string;
  /** Clears all state (POST /sandbox/reset). */
  reset: () => void;
  /** Adds the seed referrals (POST /sandbox/seed). */
  seed: () => string[];
}

export const REFERRALS_PATH = "/v1.0/engagements/referrals";
export const WEBHOOKS_PATH = "/webhooks/v1/registration";

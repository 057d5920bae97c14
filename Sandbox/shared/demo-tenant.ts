// The demo tenant every sandbox shares: one Entra ID tenant with the app registrations and users the
// product needs, and the Partner Center roles those users hold. Ids are fixed so that .sandbox/ state,
// tests and docs agree across runs.
import { Solution } from "../../Core/generated/schema.ts";

export const DEMO_TENANT_ID = "7d3f2c1b-5a4e-4f6d-8c9b-0a1e2f3d4c5b";
export const DEMO_TENANT_DOMAIN = "contoso-sandbox.onmicrosoft.com";

/** Partner Center's organisation for the demo partner (the partner's referrals carry it). */
export const DEMO_PARTNER = {
  organizationId: "3a9e6c2d-1f4b-4e8a-9d7c-6b5a4f3e2d1c",
  organizationName: "Contoso Consulting (sandbox)",
  mpnId: "6123456",
} as const;

/** Resource identifiers (token audiences) as in production; the Dataverse one is the org URL. */
export const PARTNER_CENTER_RESOURCE = "https://api.partner.microsoft.com";
export const PARTNER_CENTER_WEBHOOKS_RESOURCE = "https://api.partnercenter.microsoft.com";

export type PartnerCenterRole = "ReferralsAdmin" | "ReferralsUser";

export interface DemoApp {
  clientId: string;
  displayName: string;
  /** Confidential clients have a secret; public clients (device code) have none. */
  clientSecret?: string;
  /** Grants the identity sandbox allows for this app. */
  grants: Array<"client_credentials" | "refresh_token" | "device_code" | "password" | "authorization_code">;
  /** Application permissions (roles claim) granted for app-only tokens, by resource. */
  appRoles?: Record<string, string[]>;
  /**
   * Single-page application redirect URIs, as paths on the Dynamics 365 org (the Dataverse sandbox's
   * URL): codes for them are redeemed cross-origin only, with PKCE, and their refresh tokens last 24 h.
   */
  spaRedirectPaths?: readonly string[];
}

/** Where the solution's sign-in redirect page is served on the org (web resource pcr_/signin/redirect.html). */
export const SIGN_IN_REDIRECT_PATH = `/WebResources/${Solution.prefix}_/signin/redirect.html`;

export const DEMO_APPS = {
  /** The relay's Dataverse application user: client credentials only. */
  relayDataverse: {
    clientId: "b1c2d3e4-0001-4a5b-8c7d-9e0f1a2b3c4d",
    displayName: "Co-sell relay (Dataverse)",
    clientSecret: "sandbox-relay-dataverse-secret",
    grants: ["client_credentials"],
  },
  /** The relay's Partner Center app: App+User through device code, then refresh tokens. Also registers webhooks app-only. */
  relayPartnerCenter: {
    clientId: "b1c2d3e4-0002-4a5b-8c7d-9e0f1a2b3c4d",
    displayName: "Co-sell relay (Partner Center)",
    clientSecret: "sandbox-relay-partnercenter-secret",
    grants: ["device_code", "refresh_token", "client_credentials"],
  },
  /** A client for scripts and tests outside the project; the only app allowed the password grant. */
  script: {
    clientId: "b1c2d3e4-0003-4a5b-8c7d-9e0f1a2b3c4d",
    displayName: "Sandbox script client",
    clientSecret: "sandbox-script-secret",
    grants: ["password", "refresh_token", "client_credentials"],
  },
  /** The card and form scripts (single-page app inside Dynamics) calling the relay's client API. */
  card: {
    clientId: "b1c2d3e4-0004-4a5b-8c7d-9e0f1a2b3c4d",
    displayName: "Partner Center card",
    grants: ["authorization_code", "refresh_token", "password"],
  },
  /** The card's and form scripts' sign-in (msal-browser inside Dynamics): a single-page app asking for the card app's API. */
  cardSignIn: {
    clientId: "b1c2d3e4-0005-4a5b-8c7d-9e0f1a2b3c4d",
    displayName: "Partner Center card sign-in (SPA)",
    grants: ["authorization_code", "refresh_token"],
    spaRedirectPaths: [SIGN_IN_REDIRECT_PATH],
  },
} as const satisfies Record<string, DemoApp>;

export interface DemoUser {
  oid: string;
  username: string;
  password: string;
  displayName: string;
  givenName: string;
  surname: string;
  /** The user's Partner Center role; undefined = signed in to Entra ID but no referral role. */
  partnerCenterRole?: PartnerCenterRole;
}

export const DEMO_USERS = {
  seller: {
    oid: "c0ffee00-0001-4d2e-9f3a-1b2c3d4e5f60",
    username: `dana.seller@${DEMO_TENANT_DOMAIN}`,
    password: "Sandbox-seller-1!",
    displayName: "Dana Seller",
    givenName: "Dana",
    surname: "Seller",
    partnerCenterRole: "ReferralsUser",
  },
  referralsAdmin: {
    oid: "c0ffee00-0002-4d2e-9f3a-1b2c3d4e5f60",
    username: `riley.referrals@${DEMO_TENANT_DOMAIN}`,
    password: "Sandbox-referrals-1!",
    displayName: "Riley Referrals",
    givenName: "Riley",
    surname: "Referrals",
    partnerCenterRole: "ReferralsAdmin",
  },
  noReferralRole: {
    oid: "c0ffee00-0003-4d2e-9f3a-1b2c3d4e5f60",
    username: `noel.norole@${DEMO_TENANT_DOMAIN}`,
    password: "Sandbox-norole-1!",
    displayName: "Noel Norole",
    givenName: "Noel",
    surname: "Norole",
  },
} as const satisfies Record<string, DemoUser>;

export const DEFAULT_PORTS = { dataverse: 4701, partnerCenter: 4702, identity: 4703, relay: 4700 } as const;

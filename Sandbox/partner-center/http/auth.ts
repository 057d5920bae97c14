// Bearer-token checks the two Partner Center hosts make (docs §2): the referrals API takes App+User tokens
// only, for https://api.partner.microsoft.com, from a user with a referral role, with MFA in `amr`
// (401 / 900421 otherwise); the webhooks API takes app-only or App+User tokens for
// https://api.partnercenter.microsoft.com. Tokens come from the identity sandbox, verified against its
// signing key file with shared/tokens.ts.
import { existsSync, readFileSync } from "node:fs";
import { decodeProtectedHeader, type JWK } from "jose";
import { DEMO_TENANT_ID, DEMO_USERS, PARTNER_CENTER_RESOURCE, PARTNER_CENTER_WEBHOOKS_RESOURCE, type DemoUser } from "../../shared/demo-tenant.ts";
import { createTokenVerifier, ensureSigningKey, issuerFor, type SigningKeySet, type TokenVerifier, type VerifiedToken } from "../../shared/tokens.ts";
import { ApiError } from "../model/errors.ts";

export interface Caller {
  appOnly: boolean;
  user: DemoUser | undefined;
  claims: VerifiedToken["claims"];
}

export interface AuthOptions {
  identity: { baseUrl: string; signingKeyFile: string };
  /** Refuse App+User tokens without `mfa` in `amr` (401, 900421). Default true (enforced since 2026-04-01). */
  enforceMfa: boolean;
}

const unauthenticated = (message: string) =>
  new ApiError(401, "unauthenticated", message, { target: "authorization", headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${message.replace(/"/g, "'")}"` } });

export class PartnerCenterAuth {
  private readonly options: AuthOptions;
  private keys: JWK[] = [];
  private verifiers = new Map<string, TokenVerifier>();

  private constructor(options: AuthOptions) {
    this.options = options;
  }

  static async create(options: AuthOptions): Promise<PartnerCenterAuth> {
    const auth = new PartnerCenterAuth(options);
    auth.useKeys(await ensureSigningKey(options.identity.signingKeyFile));
    return auth;
  }

  /** Referrals API: App+User with MFA and a Partner Center referral role. */
  async referrals(authorization: string | undefined): Promise<Caller> {
    const caller = await this.verify(authorization, PARTNER_CENTER_RESOURCE);
    if (caller.appOnly) throw unauthenticated("app-only tokens are not accepted by the Referrals API: sign in a user (App+User)");
    this.checkMfa(caller);
    if (!caller.user?.partnerCenterRole) {
      throw new ApiError(403, "accessDenied", "the signed-in user has no Partner Center referral role (Referrals Admin or Referrals User)", { target: "referral" });
    }
    return caller;
  }

  /** Webhook registration API: app-only or App+User; roles are not enforced (the docs disagree on them). */
  async webhooks(authorization: string | undefined): Promise<Caller> {
    const caller = await this.verify(authorization, PARTNER_CENTER_WEBHOOKS_RESOURCE);
    if (!caller.appOnly) this.checkMfa(caller);
    return caller;
  }

  private checkMfa(caller: Caller): void {
    if (!this.options.enforceMfa) return;
    const amr = caller.claims.amr;
    if (Array.isArray(amr) && amr.includes("mfa")) return;
    throw new ApiError(401, "900421", "Multi-factor authentication is required: the token has no MFA claim (AADSTS900421-style enforcement for App+User calls)", {
      target: "authorization",
      headers: { "WWW-Authenticate": 'Bearer error="insufficient_claims", error_description="MFA required", error_codes="900421"' },
    });
  }

  private async verify(authorization: string | undefined, audience: string): Promise<Caller> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) throw unauthenticated("a bearer token is required (Authorization: Bearer <token>)");
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(match[1]!).kid;
    } catch {
      throw unauthenticated("the bearer token is not a JWT");
    }
    // The identity sandbox may have made a new key since we started: reread its key file once.
    if (kid !== undefined && !this.keys.some((k) => k.kid === kid)) this.reloadKeys();
    let verified: VerifiedToken;
    try {
      verified = await this.verifier(audience)(authorization);
    } catch (error) {
      throw unauthenticated((error as Error).message);
    }
    const claims = verified.claims;
    if (claims.tid !== undefined && claims.tid !== DEMO_TENANT_ID) throw unauthenticated("the token is for another tenant");
    const user = Object.values(DEMO_USERS).find((u: DemoUser) => u.oid === claims.oid) as DemoUser | undefined;
    return { appOnly: verified.appOnly, user, claims };
  }

  private verifier(audience: string): TokenVerifier {
    let verifier = this.verifiers.get(audience);
    if (!verifier) {
      verifier = createTokenVerifier({ jwks: { keys: this.keys }, issuer: issuerFor(this.options.identity.baseUrl, DEMO_TENANT_ID), audience });
      this.verifiers.set(audience, verifier);
    }
    return verifier;
  }

  private reloadKeys(): void {
    const file = this.options.identity.signingKeyFile;
    if (!existsSync(file)) return;
    try {
      this.useKeys(JSON.parse(readFileSync(file, "utf8")) as SigningKeySet);
    } catch {
      // A half-written file: keep the keys we have.
    }
  }

  private useKeys(set: SigningKeySet): void {
    this.keys = [set.publicJwk];
    this.verifiers.clear();
  }
}

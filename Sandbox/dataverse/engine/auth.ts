// Bearer tokens from the identity sandbox: verified with shared/tokens.ts (signature, issuer, audience
// = the org URL, lifetime) and mapped to a systemuser, so createdby, modifiedby, InitiatingUserId and
// UserId are real users: delegated tokens by `oid` (azureactivedirectoryobjectid), app-only tokens by
// `appid`/`azp` (applicationid of the application user).
import { readFileSync, statSync } from "node:fs";
import { createTokenVerifier, ensureSigningKey, issuerFor, TokenError, type SigningKeySet, type TokenVerifier } from "../../shared/tokens.ts";
import { DEMO_TENANT_ID } from "../../shared/demo-tenant.ts";
import { DataverseError, ErrorCodes } from "./errors.ts";
import type { Caller, Engine } from "./engine.ts";
import { isRef, type Row } from "./values.ts";

export interface IdentityOptions {
  baseUrl: string;
  signingKeyFile: string;
}

export class Authenticator {
  private readonly identity: IdentityOptions;
  private readonly audience: string[];
  private readonly engine: Engine;
  private verifier: TokenVerifier | undefined;
  private keyStamp = "";

  constructor(identity: IdentityOptions, orgUrl: string, engine: Engine) {
    this.identity = identity;
    const base = orgUrl.replace(/\/$/, "");
    this.audience = [base, `${base}/`];
    this.engine = engine;
  }

  /** Loads the signing key (created if missing), and again whenever the identity sandbox rewrites it. */
  async init(): Promise<void> {
    await ensureSigningKey(this.identity.signingKeyFile);
    this.load();
  }

  private load(): void {
    const stamp = String(statSync(this.identity.signingKeyFile).mtimeMs);
    if (this.verifier && stamp === this.keyStamp) return;
    const keys = JSON.parse(readFileSync(this.identity.signingKeyFile, "utf8")) as SigningKeySet;
    this.verifier = createTokenVerifier({ jwks: { keys: [keys.publicJwk] }, issuer: issuerFor(this.identity.baseUrl, DEMO_TENANT_ID), audience: this.audience });
    this.keyStamp = stamp;
  }

  private unauthorized(message: string): DataverseError {
    const authority = `${this.identity.baseUrl.replace(/\/$/, "")}/${DEMO_TENANT_ID}/oauth2/authorize`;
    return new DataverseError(401, "", message, { "www-authenticate": `Bearer authorization_uri=${authority}, resource_id=${this.audience[0]}/` });
  }

  private callerFor(user: Row, initiating: Row): Caller {
    const bu = isRef(user.businessunitid) ? user.businessunitid.id : this.engine.org.businessUnitId;
    return {
      userId: String(user.systemuserid),
      initiatingUserId: String(initiating.systemuserid),
      businessUnitId: bu,
      // Interactive users read at business-unit depth; application users (4) and administrative ones (1) everywhere.
      ...(user.accessmode === 1 || user.accessmode === 4 ? {} : { readScope: "businessUnit" as const }),
      ...(typeof user.azureactivedirectoryobjectid === "string" ? { aadObjectId: user.azureactivedirectoryobjectid } : {}),
      ...(typeof initiating.azureactivedirectoryobjectid === "string" ? { initiatingAadObjectId: initiating.azureactivedirectoryobjectid } : {}),
    };
  }

  /** The caller a request runs as; `callerObjectId` is the CallerObjectId impersonation header. */
  async authenticate(authorization: string | undefined, callerObjectId?: string): Promise<Caller> {
    this.load();
    let verified;
    try {
      verified = await this.verifier!(authorization);
    } catch (error) {
      if (error instanceof TokenError) throw this.unauthorized(error.code === "missing" ? "No bearer token was sent." : `The bearer token was refused: ${error.message}.`);
      throw error;
    }
    const claims = verified.claims;
    const users = this.engine.rows("systemuser");
    let user: Row | undefined;
    if (verified.appOnly) {
      const appId = String(claims.appid ?? claims.azp ?? "").toLowerCase();
      user = users.find((u) => typeof u.applicationid === "string" && u.applicationid.toLowerCase() === appId);
    } else {
      const oid = String(claims.oid ?? "").toLowerCase();
      user = users.find((u) => typeof u.azureactivedirectoryobjectid === "string" && u.azureactivedirectoryobjectid.toLowerCase() === oid);
    }
    if (!user) throw new DataverseError(403, ErrorCodes.UserNotInOrganization, "The user is not a member of the organization.");
    if (user.isdisabled === true) throw new DataverseError(403, ErrorCodes.UserNotInOrganization, `The user with SystemUserId=${String(user.systemuserid)} is disabled.`);
    if (callerObjectId) {
      const impersonated = users.find((u) => typeof u.azureactivedirectoryobjectid === "string" && u.azureactivedirectoryobjectid.toLowerCase() === callerObjectId.toLowerCase());
      if (!impersonated) throw new DataverseError(403, ErrorCodes.UserNotInOrganization, `The user with azureactivedirectoryobjectid ${callerObjectId} named by CallerObjectId is not a member of the organization.`);
      return this.callerFor(impersonated, user);
    }
    return this.callerFor(user, user);
  }
}

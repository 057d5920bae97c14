// Pending device code sign-ins (RFC 8628 as Entra ID runs it): the app polls with the device code
// while a person enters the user code on the sign-in page and approves or declines. Memory only:
// a device code lives 15 minutes.
import { randomBytes, randomInt } from "node:crypto";
import type { DemoUser } from "../shared/demo-tenant.ts";

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  /** The scope string as the app sent it to /devicecode. */
  scope: string;
  createdAt: number;
  expiresAt: number;
  interval: number;
  state: "pending" | "approved" | "declined";
  user?: DemoUser;
  lastPollAt?: number;
}

export type Answer =
  | { ok: true; authorization: DeviceAuthorization }
  | { ok: false; reason: "unknown" | "expired" | "answered"; authorization?: DeviceAuthorization };

// Entra ID's user codes are nine letters and digits, e.g. "FNSV8X2MC".
const USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function userCode(): string {
  let code = "";
  for (let i = 0; i < 9; i += 1) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

export class DeviceCodeStore {
  readonly #byDeviceCode = new Map<string, DeviceAuthorization>();

  create(clientId: string, scope: string, lifetimeSeconds: number, intervalSeconds: number, now = Date.now()): DeviceAuthorization {
    this.#sweep(now);
    let code = userCode();
    while (this.byUserCode(code)) code = userCode();
    const authorization: DeviceAuthorization = {
      deviceCode: `DAQABIQEAAAD${randomBytes(120).toString("base64url")}`,
      userCode: code,
      clientId,
      scope,
      createdAt: now,
      expiresAt: now + lifetimeSeconds * 1000,
      interval: intervalSeconds,
      state: "pending",
    };
    this.#byDeviceCode.set(authorization.deviceCode, authorization);
    return authorization;
  }

  byDeviceCode(deviceCode: string): DeviceAuthorization | undefined {
    return this.#byDeviceCode.get(deviceCode);
  }

  byUserCode(code: string): DeviceAuthorization | undefined {
    const wanted = code.replace(/[\s-]/g, "").toUpperCase();
    for (const authorization of this.#byDeviceCode.values()) if (authorization.userCode === wanted) return authorization;
    return undefined;
  }

  /** The person at the sign-in page approves (as `user`) or declines. */
  answer(code: string, decision: { approve: DemoUser } | { decline: true }, now = Date.now()): Answer {
    const authorization = this.byUserCode(code);
    if (!authorization) return { ok: false, reason: "unknown" };
    if (authorization.expiresAt <= now) return { ok: false, reason: "expired", authorization };
    if (authorization.state !== "pending") return { ok: false, reason: "answered", authorization };
    if ("approve" in decision) {
      authorization.state = "approved";
      authorization.user = decision.approve;
    } else {
      authorization.state = "declined";
    }
    return { ok: true, authorization };
  }

  /** A device code is redeemed once. */
  consume(deviceCode: string): void {
    this.#byDeviceCode.delete(deviceCode);
  }

  pending(now = Date.now()): DeviceAuthorization[] {
    return [...this.#byDeviceCode.values()].filter((a) => a.state === "pending" && a.expiresAt > now);
  }

  clear(): void {
    this.#byDeviceCode.clear();
  }

  // Forget codes long past their expiry (polling an expired code answers expired_token for a while first).
  #sweep(now: number): void {
    for (const [key, authorization] of this.#byDeviceCode) {
      if (authorization.expiresAt + 15 * 60 * 1000 < now) this.#byDeviceCode.delete(key);
    }
  }
}

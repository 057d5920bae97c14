// Refresh tokens: opaque strings, remembered by their SHA-256 in memory and in a file under the
// state directory, so a relay that restarts (or a sandbox that restarts) keeps its sign-in.
// Like Entra ID's, a refresh token serves any resource the user consented to, stays valid after it is
// redeemed (the answer carries a new one as well), lasts 90 days, and dies when the user's sessions
// are revoked.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 24 * 60 * 60;
/** Entra ID: refresh tokens issued to single-page apps (codes redeemed cross-origin) last 24 hours, and are never extended. */
export const SPA_REFRESH_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** What a refresh token stands for: one user's sign-in to one app. */
export interface SignInSession {
  clientId: string;
  oid: string;
  username: string;
  /** Authentication methods of the original sign-in; refreshed tokens carry them on. */
  amr: string[];
  /** Session id (`sid`). */
  sid: string;
  /** Whether the app authenticated with its secret; such tokens need the secret again to be redeemed. */
  confidential: boolean;
  /** The scopes of the sign-in, used when a refresh request names none. */
  scope: string;
  /** A single-page app's sign-in: its refresh tokens are redeemed cross-origin only and end 24 h after the sign-in. */
  spa?: { signedInAt: number };
}

interface StoredRefreshToken extends SignInSession {
  hash: string;
  issuedAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export type Redemption =
  | { status: "valid"; session: SignInSession }
  | { status: "unknown" }
  | { status: "revoked"; issuedAt: number; revokedAt: number }
  | { status: "expired"; issuedAt: number };

const hashOf = (token: string) => createHash("sha256").update(token).digest("base64url");

export class RefreshTokenStore {
  readonly #file: string;
  readonly #tokens = new Map<string, StoredRefreshToken>();

  constructor(file: string) {
    this.#file = file;
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, "utf8")) as { tokens?: StoredRefreshToken[] };
      const now = Date.now();
      for (const token of saved.tokens ?? []) if (token.expiresAt > now) this.#tokens.set(token.hash, token);
    }
  }

  issue(session: SignInSession, now = Date.now()): string {
    // Entra ID's refresh tokens are long opaque strings starting "0.A"; clients must not parse them.
    const token = `0.A${randomBytes(180).toString("base64url")}`;
    for (const [hash, stored] of this.#tokens) if (stored.expiresAt <= now) this.#tokens.delete(hash);
    this.#tokens.set(hashOf(token), {
      ...session,
      amr: [...session.amr],
      hash: hashOf(token),
      issuedAt: now,
      expiresAt: session.spa ? session.spa.signedInAt + SPA_REFRESH_TOKEN_LIFETIME_SECONDS * 1000 : now + REFRESH_TOKEN_LIFETIME_SECONDS * 1000,
    });
    this.#save();
    return token;
  }

  redeem(token: string, now = Date.now()): Redemption {
    const stored = this.#tokens.get(hashOf(token));
    if (!stored) return { status: "unknown" };
    if (stored.revokedAt !== undefined) return { status: "revoked", issuedAt: stored.issuedAt, revokedAt: stored.revokedAt };
    if (stored.expiresAt <= now) return { status: "expired", issuedAt: stored.issuedAt };
    const { clientId, oid, username, amr, sid, confidential, scope, spa } = stored;
    return { status: "valid", session: { clientId, oid, username, amr: [...amr], sid, confidential, scope, ...(spa ? { spa } : {}) } };
  }

  /** Revokes the live refresh tokens of one user (by username) or of everyone; returns how many. */
  revoke(username?: string, now = Date.now()): number {
    let count = 0;
    for (const token of this.#tokens.values()) {
      if (token.revokedAt !== undefined || token.expiresAt <= now) continue;
      if (username !== undefined && token.username.toLowerCase() !== username.toLowerCase()) continue;
      token.revokedAt = now;
      count += 1;
    }
    if (count > 0) this.#save();
    return count;
  }

  /** Live (not revoked, not expired) refresh tokens, for the stats page. */
  liveCount(now = Date.now()): number {
    let count = 0;
    for (const token of this.#tokens.values()) if (token.revokedAt === undefined && token.expiresAt > now) count += 1;
    return count;
  }

  clear(): void {
    this.#tokens.clear();
    rmSync(this.#file, { force: true });
  }

  #save(): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    const temp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: 1, tokens: [...this.#tokens.values()] }), { mode: 0o600 });
    renameSync(temp, this.#file);
  }
}

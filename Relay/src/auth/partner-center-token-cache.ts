// The MSAL token cache of the Partner Center service account, kept encrypted in the relay's store
// (table token_cache, migrations/001_initial.sql). It holds a refresh token that can act as the
// service account for 90 days, so it never lands in the database as plain text: AES-256-GCM with a
// 32-byte key from configuration (PCR_TOKEN_CACHE_KEY, base64), a fresh random 96-bit IV on every
// write, and the row's tenant and cache key as additional authenticated data, so a ciphertext copied
// into another tenant's row does not decrypt.
//
// MSAL calls the plugin around every cache access: before, it reads and decrypts the row (so every
// replica sharing one Postgres sees the latest sign-in); after, when something changed, it encrypts and
// upserts it. Two replicas refreshing at the same moment both write a valid cache; the last one wins.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { ICachePlugin, TokenCacheContext } from "@azure/msal-node";
import type { Queryable } from "../store/database.ts";

export const TOKEN_CACHE_KEY_VARIABLE = "PCR_TOKEN_CACHE_KEY";

const ALGORITHM = "aes-256-gcm";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Reads a 32-byte key written as base64 (or base64url); throws a message an admin can act on. */
export function parseTokenCacheKey(value: string | undefined, variable = TOKEN_CACHE_KEY_VARIABLE): Buffer {
  if (value === undefined || value.trim() === "") {
    throw new Error(`${variable} is not set: it must be 32 random bytes in base64 (for example: node -e "console.log(crypto.randomBytes(32).toString('base64'))")`);
  }
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new Error(`${variable} is not base64`);
  const key = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== 32) throw new Error(`${variable} must decode to 32 bytes (AES-256); it decodes to ${key.length}`);
  return key;
}

/** A new random key, base64, for `relay init`. */
export function generateTokenCacheKey(): string {
  return randomBytes(32).toString("base64");
}

export interface EncryptedBlob {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

function associatedData(tenantId: string, cacheKey: string): Buffer {
  return Buffer.from(`pcr-token-cache:v1:${tenantId}:${cacheKey}`, "utf8");
}

export function encryptTokenCache(plaintext: string, key: Buffer, tenantId: string, cacheKey: string): EncryptedBlob {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(tenantId, cacheKey));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** Throws when the key is wrong or the row was altered (GCM authenticates both). */
export function decryptTokenCache(blob: EncryptedBlob, key: Buffer, tenantId: string, cacheKey: string): string {
  const decipher = createDecipheriv(ALGORITHM, key, blob.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(tenantId, cacheKey));
  decipher.setAuthTag(blob.authTag);
  return Buffer.concat([decipher.update(blob.ciphertext), decipher.final()]).toString("utf8");
}

export class TokenCacheUnreadable extends Error {
  override name = "TokenCacheUnreadable";
}

export interface EncryptedTokenCacheStoreOptions {
  db: Queryable;
  /** The relay's tenant key for this partner tenant (token_cache.tenant_id). */
  tenantId: string;
  /** Which cache of that tenant, e.g. `partner-center/<client id>`. */
  cacheKey: string;
  /** The current key: every write uses it. */
  key: Buffer;
  /** Former keys, tried for reading after the current one, so a key can be rotated without a new sign-in. */
  previousKeys?: Buffer[];
}

export interface StoredTokenCache {
  json: string;
  updatedAt: Date;
}

/** One encrypted row of token_cache. */
export class EncryptedTokenCacheStore {
  readonly tenantId: string;
  readonly cacheKey: string;
  readonly #db: Queryable;
  readonly #keys: Buffer[];

  constructor(options: EncryptedTokenCacheStoreOptions) {
    for (const key of [options.key, ...(options.previousKeys ?? [])]) {
      if (key.length !== 32) throw new Error("token cache keys are 32 bytes (AES-256)");
    }
    this.#db = options.db;
    this.tenantId = options.tenantId;
    this.cacheKey = options.cacheKey;
    this.#keys = [options.key, ...(options.previousKeys ?? [])];
  }

  /** The decrypted cache, or null when none is stored. Throws TokenCacheUnreadable when no key opens it. */
  async read(): Promise<StoredTokenCache | null> {
    const result = await this.#db.query<{ ciphertext: Uint8Array; iv: Uint8Array; auth_tag: Uint8Array; updated_at: Date | string }>(
      "SELECT ciphertext, iv, auth_tag, updated_at FROM token_cache WHERE tenant_id = $1 AND cache_key = $2",
      [this.tenantId, this.cacheKey],
    );
    const row = result.rows[0];
    if (!row) return null;
    const blob = { ciphertext: Buffer.from(row.ciphertext), iv: Buffer.from(row.iv), authTag: Buffer.from(row.auth_tag) };
    for (const key of this.#keys) {
      try {
        return { json: decryptTokenCache(blob, key, this.tenantId, this.cacheKey), updatedAt: new Date(row.updated_at) };
      } catch {
        // try the next key
      }
    }
    throw new TokenCacheUnreadable(`the stored Partner Center sign-in cannot be decrypted with ${TOKEN_CACHE_KEY_VARIABLE} (the key changed, or the row was altered)`);
  }

  async write(json: string): Promise<void> {
    const blob = encryptTokenCache(json, this.#keys[0]!, this.tenantId, this.cacheKey);
    await this.#db.query(
      `INSERT INTO token_cache (tenant_id, cache_key, ciphertext, iv, auth_tag, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (tenant_id, cache_key) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag, updated_at = now()`,
      [this.tenantId, this.cacheKey, blob.ciphertext, blob.iv, blob.authTag],
    );
  }

  async delete(): Promise<void> {
    await this.#db.query("DELETE FROM token_cache WHERE tenant_id = $1 AND cache_key = $2", [this.tenantId, this.cacheKey]);
  }
}

/** MSAL's persistence hook over the encrypted store. */
export class EncryptedTokenCachePlugin implements ICachePlugin {
  readonly #store: EncryptedTokenCacheStore;
  /** Why the stored cache could not be used on the last read, if it could not. */
  problem: string | undefined;

  constructor(store: EncryptedTokenCacheStore) {
    this.#store = store;
  }

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    let stored: StoredTokenCache | null;
    try {
      stored = await this.#store.read();
      this.problem = undefined;
    } catch (error) {
      if (!(error instanceof TokenCacheUnreadable)) throw error;
      // Treated as signed out, so a new `relay login` can overwrite it; silent calls explain why.
      this.problem = error.message;
      stored = null;
    }
    // An empty snapshot also clears what this process held before: the store is the truth.
    context.tokenCache.deserialize(stored?.json ?? JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} }));
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (context.cacheHasChanged) await this.#store.write(context.tokenCache.serialize());
  }
}

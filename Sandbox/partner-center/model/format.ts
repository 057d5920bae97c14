// Wire formats Partner Center uses for dates and concurrency tokens.
import { randomBytes, randomUUID } from "node:crypto";

/** Referral timestamps: UTC with seven fractional digits, as captured payloads show (`2024-05-01T10:00:00.1230000Z`). */
export function referralDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

/** Webhook `ResourceChangeUtcDate`: .NET round-trip form with an offset (`2018-02-17T00:05:39.5485487+00:00`). */
export function eventDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000+00:00");
}

/** Validation-event results: .NET `DateTime` without an offset (`2017-12-08T21:39:48.2386997`). */
export function resultDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000");
}

let etagCounter = 0;

/**
 * A referral eTag: the value itself carries double quotes, like Cosmos DB etags
 * (`"\"00006d10-0000-0000-0000-5c70aa630000\""` in the JSON). Unique on every write.
 */
export function newETag(): string {
  etagCounter = (etagCounter + 1) % 0x100000000;
  const head = etagCounter.toString(16).padStart(8, "0");
  return `"${head}-0000-0000-0000-${randomBytes(6).toString("hex")}"`;
}

export function newId(): string {
  return randomUUID();
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

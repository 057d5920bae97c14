// Pure helpers that spell Web API URLs (dataverse.md §9): record keys (id or alternate key), OData
// literals, $select/$filter/$orderby/$expand/$top/$count query strings, and ids out of OData-EntityId.
// No I/O; every request kind builds its path with these.

/** A row as the Web API returns it: columns, `_lookup_value`s, annotations and `@odata.etag`. */
export type Row = Record<string, unknown> & { "@odata.etag"?: string };

/** Alternate key values by column, e.g. `{ [Opportunity.columns.referralIdentifier]: "…" }`. */
export type AlternateKey = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Which record: its id (a GUID), its alternate key, or `$n`, the record part n of the same $batch
 * change set created (the entity set is then ignored).
 */
export type RecordKey = string | AlternateKey;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTENT_ID_REF = /^\$\d+$/;

export function isGuid(value: unknown): value is string {
  return typeof value === "string" && GUID.test(value);
}

/** An OData literal: strings quoted with '' for ', numbers and booleans bare, null. */
export function literal(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`Not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  return `'${value.replace(/'/g, "''")}'`;
}

/** `column eq 'a' or column eq 'b'` in parentheses; one value gives a plain `eq`. */
export function anyOf(column: string, values: ReadonlyArray<string | number | boolean | null>): string {
  if (values.length === 0) throw new TypeError(`anyOf(${column}) needs at least one value`);
  const terms = values.map((v) => `${column} eq ${literal(v)}`);
  return terms.length === 1 ? terms[0]! : `(${terms.join(" or ")})`;
}

/** Percent-encodes a query option's value, leaving OData's own punctuation readable. */
function encode(text: string): string {
  return encodeURIComponent(text)
    .replace(/%24/g, "$").replace(/%2C/gi, ",").replace(/%3D/gi, "=").replace(/%2F/gi, "/")
    .replace(/%3A/gi, ":").replace(/%40/g, "@").replace(/%3B/gi, ";");
}

/** The `(…)` after an entity set: `(guid)` or `(col='v',col2=1)`. Lookup columns (`_x_value`) take bare GUIDs. */
export function keySegment(key: RecordKey): string {
  if (typeof key === "string") {
    if (!isGuid(key)) throw new TypeError(`A record id must be a GUID, got '${key}'. Use an alternate key object for other values.`);
    return `(${key.toLowerCase()})`;
  }
  const parts = Object.entries(key);
  if (parts.length === 0) throw new TypeError("An alternate key needs at least one column");
  return `(${parts.map(([column, value]) => {
    const bare = /^_.+_value$/.test(column) && isGuid(value);
    // In the path a key value is encoded whole (a '/' in it must not split the segment).
    return `${column}=${encodeURIComponent(bare ? (value as string) : literal(value))}`;
  }).join(",")})`;
}

/** `opportunities(…)`, or `$n` unchanged (a Content-ID reference inside a change set). */
export function recordPath(entitySet: string, key: RecordKey): string {
  if (typeof key === "string" && CONTENT_ID_REF.test(key)) return key;
  return `${entitySet}${keySegment(key)}`;
}

export interface Expand {
  /** A single- or collection-valued navigation property (generated: `lookups.x.navigationProperty`, `collections.x`). */
  property: string;
  select?: readonly string[];
  filter?: string;
  orderBy?: readonly string[];
  top?: number;
  expand?: readonly Expand[];
}

export interface QueryOptions {
  select?: readonly string[];
  filter?: string;
  orderBy?: readonly string[];
  expand?: readonly Expand[];
  /** Ignored by Dataverse when a page size is asked too (§9). */
  top?: number;
  count?: boolean;
}

function expandText(expand: Expand): string {
  const options: string[] = [];
  if (expand.select?.length) options.push(`$select=${expand.select.join(",")}`);
  if (expand.filter) options.push(`$filter=${expand.filter}`);
  if (expand.orderBy?.length) options.push(`$orderby=${expand.orderBy.join(",")}`);
  if (expand.top !== undefined) options.push(`$top=${expand.top}`);
  if (expand.expand?.length) options.push(`$expand=${expand.expand.map(expandText).join(",")}`);
  return options.length ? `${expand.property}(${options.join(";")})` : expand.property;
}

/** `?$select=…&$filter=…`, or "" when there is nothing to ask. */
export function queryString(options: QueryOptions = {}): string {
  const params: Array<[string, string]> = [];
  if (options.select?.length) params.push(["$select", options.select.join(",")]);
  if (options.filter) params.push(["$filter", options.filter]);
  if (options.orderBy?.length) params.push(["$orderby", options.orderBy.join(",")]);
  if (options.expand?.length) params.push(["$expand", options.expand.map(expandText).join(",")]);
  if (options.top !== undefined) params.push(["$top", String(options.top)]);
  if (options.count) params.push(["$count", "true"]);
  return params.length ? `?${params.map(([name, value]) => `${name}=${encode(value)}`).join("&")}` : "";
}

/** The id in an `OData-EntityId` header: `https://org/api/data/v9.2/accounts(<guid>)`. */
export function idFromEntityUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const match = /\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)\/?$/i.exec(url.trim());
  return match ? match[1]!.toLowerCase() : undefined;
}

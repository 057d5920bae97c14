// $batch (dataverse.md §9): several requests in one multipart/mixed round trip, optionally as one
// change set that Dataverse applies atomically, with `Content-ID: n` so later parts can refer to `$n`.
//
// The multipart packages on npm parse multipart/form-data (uploads); none builds or reads OData's
// multipart/mixed with nested change sets and embedded HTTP messages, so the small builder and parser
// are here, pure and unit-tested (Relay/test/dataverse/batch-format.test.ts).
import { randomUUID } from "node:crypto";
import { DataverseError } from "./dataverse-errors.ts";
import { failure, type DataverseRequest, type RawResponse, type ResultOf } from "./dataverse-request.ts";

export const MAX_BATCH_REQUESTS = 1000;

export interface BatchOptions {
  /** Put every request into one change set: all are applied or none (no GET allowed inside). */
  changeSet?: boolean;
  /** Run the remaining requests after a failure (`Prefer: odata.continue-on-error`); outside change sets only. */
  continueOnError?: boolean;
}

export type BatchOutcome<T> =
  | { outcome: "ok"; status: number; value: T }
  /** This request failed (and, in a change set, rolled the whole set back). */
  | { outcome: "failed"; status: number; error: DataverseError }
  /** In a change set another request failed, so this one was undone (or never run). */
  | { outcome: "rolledBack"; error: DataverseError }
  /** The batch stopped at an earlier failure before reaching this request. */
  | { outcome: "notRun" };

export type BatchOutcomes<R extends readonly DataverseRequest<unknown>[]> = { -readonly [K in keyof R]: BatchOutcome<ResultOf<R[K]>> };

// ------------------------------------------------------------------ the wire format (pure)

export interface BatchPart {
  method: string;
  /** Absolute URL, or `$n`. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  contentId?: string;
}

export interface MimePart {
  headers: Record<string, string>;
  body: string;
}

export interface ParsedHttpResponse {
  contentId?: string;
  response: RawResponse;
}

export type ParsedBatchItem = { kind: "response"; item: ParsedHttpResponse } | { kind: "changeset"; items: ParsedHttpResponse[] };

const CRLF = "\r\n";

function httpPart(part: BatchPart): string {
  const lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"];
  if (part.contentId !== undefined) lines.push(`Content-ID: ${part.contentId}`);
  lines.push("", `${part.method} ${part.url} HTTP/1.1`);
  for (const [name, value] of Object.entries(part.headers)) lines.push(`${name}: ${value}`);
  lines.push("");
  if (part.body !== undefined) lines.push(part.body);
  return lines.join(CRLF);
}

/** A $batch body: each part on its own, or all parts inside one change set. */
export function buildBatchBody(parts: readonly BatchPart[], boundary: string, changeSetBoundary?: string): string {
  if (changeSetBoundary === undefined) {
    return parts.map((p) => `--${boundary}${CRLF}${httpPart(p)}${CRLF}`).join("") + `--${boundary}--${CRLF}`;
  }
  const inner = parts.map((p) => `--${changeSetBoundary}${CRLF}${httpPart(p)}${CRLF}`).join("") + `--${changeSetBoundary}--`;
  return `--${boundary}${CRLF}Content-Type: multipart/mixed; boundary=${changeSetBoundary}${CRLF}${CRLF}${inner}${CRLF}--${boundary}--${CRLF}`;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return match ? (match[1] ?? match[2]) : undefined;
}

function parseHeaderLines(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Splits a multipart body at its `--boundary` lines; preamble and epilogue are dropped. */
export function splitMultipart(body: string, boundary: string): MimePart[] {
  const lines = body.split(/\r?\n/);
  const parts: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) break;
    if (trimmed === `--${boundary}`) {
      if (current) parts.push(current);
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) parts.push(current);
  return parts.map((partLines) => {
    const blank = partLines.findIndex((l) => l.trim() === "");
    const head = blank < 0 ? partLines : partLines.slice(0, blank);
    const rest = blank < 0 ? [] : partLines.slice(blank + 1);
    return { headers: parseHeaderLines(head), body: rest.join(CRLF).replace(/(\r\n)+$/, "") };
  });
}

/** An embedded `HTTP/1.1 <status> <reason>` message: status, headers and body. */
export function parseHttpResponse(text: string): RawResponse {
  const lines = text.split(/\r?\n/);
  const statusLine = lines.shift() ?? "";
  const match = /^HTTP\/\d\.\d\s+(\d{3})/.exec(statusLine.trim());
  if (!match) throw new Error(`A $batch answer part does not start with an HTTP status line: '${statusLine.slice(0, 80)}'`);
  const blank = lines.findIndex((l) => l.trim() === "");
  const headers = parseHeaderLines(blank < 0 ? lines : lines.slice(0, blank));
  const bodyText = blank < 0 ? "" : lines.slice(blank + 1).join(CRLF).trim();
  let json: unknown;
  if (bodyText && /json/i.test(headers["content-type"] ?? "json")) {
    try {
      json = JSON.parse(bodyText);
    } catch {
      json = undefined;
    }
  }
  return { status: Number(match[1]), headers, text: bodyText, ...(json !== undefined ? { json } : {}) };
}

function parsedResponse(part: MimePart): ParsedHttpResponse {
  const contentId = part.headers["content-id"];
  return { ...(contentId ? { contentId } : {}), response: parseHttpResponse(part.body) };
}

/** The answer to a $batch: top-level responses and change set responses, in order. */
export function parseBatchResponse(body: string, contentType: string | undefined): ParsedBatchItem[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new Error(`A $batch answer needs a multipart boundary, got content-type '${contentType ?? ""}'`);
  return splitMultipart(body, boundary).map((part): ParsedBatchItem => {
    const type = part.headers["content-type"] ?? "";
    if (/^multipart\/mixed/i.test(type)) {
      const inner = boundaryOf(type);
      if (!inner) throw new Error("A change set answer needs a boundary");
      return { kind: "changeset", items: splitMultipart(part.body, inner).map(parsedResponse) };
    }
    return { kind: "response", item: parsedResponse(part) };
  });
}

// ------------------------------------------------------------------ the request

function partOf(request: DataverseRequest<unknown>, apiRoot: string, contentId?: string): BatchPart {
  const url = /^\$\d+/.test(request.path) || /^https?:\/\//i.test(request.path) ? request.path : `${apiRoot}/${request.path.replace(/^\//, "")}`;
  const body = request.body === undefined ? undefined : typeof request.body === "string" ? request.body : JSON.stringify(request.body);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json; type=entry";
  return { method: request.method, url, headers, ...(body !== undefined ? { body } : {}), ...(contentId !== undefined ? { contentId } : {}) };
}

function readOutcome<T>(request: DataverseRequest<T>, response: RawResponse): BatchOutcome<T> {
  try {
    return { outcome: "ok", status: response.status, value: request.read(response) };
  } catch (error) {
    if (error instanceof DataverseError) return { outcome: "failed", status: response.status, error };
    throw error;
  }
}

/**
 * One POST $batch carrying `requests`. Each part is read by its own request kind; in a change set the
 * parts are numbered 1..n (Content-ID), so a later part may use `$1` as a URL or an `@odata.bind` value.
 */
export function batchRequest<const R extends readonly DataverseRequest<unknown>[]>(requests: R, apiRoot: string, options: BatchOptions = {}): DataverseRequest<BatchOutcomes<R>> {
  if (requests.length === 0) throw new TypeError("A $batch needs at least one request");
  if (requests.length > MAX_BATCH_REQUESTS) throw new RangeError(`A $batch holds at most ${MAX_BATCH_REQUESTS} requests, got ${requests.length}`);
  const changeSet = options.changeSet === true;
  if (changeSet && requests.some((r) => r.method === "GET")) throw new TypeError("A change set cannot contain a GET request");
  const boundary = `batch_${randomUUID()}`;
  const changeSetBoundary = changeSet ? `changeset_${randomUUID()}` : undefined;
  const parts = requests.map((r, i) => partOf(r, apiRoot, changeSet ? String(i + 1) : undefined));
  const request: DataverseRequest<BatchOutcomes<R>> = {
    method: "POST",
    path: "$batch",
    headers: {
      "content-type": `multipart/mixed; boundary=${boundary}`,
      ...(options.continueOnError && !changeSet ? { prefer: "odata.continue-on-error" } : {}),
    },
    body: buildBatchBody(parts, boundary, changeSetBoundary),
    // Only reads may be sent twice; a batch that writes is retried after 429 only.
    idempotent: requests.every((r) => r.method === "GET"),
    read(response) {
      if (response.status !== 200) throw failure(request, response);
      const items = parseBatchResponse(response.text, response.headers["content-type"]);
      const outcomes: Array<BatchOutcome<unknown>> = [];
      if (!changeSet) {
        const answers = items.flatMap((item) => (item.kind === "response" ? [item.item] : item.items));
        requests.forEach((r, i) => {
          const answer = answers[i];
          outcomes.push(answer ? readOutcome(r, answer.response) : { outcome: "notRun" });
        });
        return outcomes as BatchOutcomes<R>;
      }
      const first = items[0];
      if (first?.kind === "changeset") {
        const byId = new Map(first.items.map((item, i) => [item.contentId ?? String(i + 1), item.response]));
        requests.forEach((r, i) => {
          const answer = byId.get(String(i + 1));
          outcomes.push(answer ? readOutcome(r, answer) : { outcome: "notRun" });
        });
        return outcomes as BatchOutcomes<R>;
      }
      if (!first) throw failure(request, { ...response, status: 500, text: "Dataverse answered the $batch with no parts" });
      // A change set that failed answers with the failing request only; nothing in it was applied.
      const culprit = first.item.contentId;
      const error = failure(requests[Number(culprit) - 1] ?? request, first.item.response);
      requests.forEach((_r, i) => {
        outcomes.push(String(i + 1) === culprit ? { outcome: "failed", status: first.item.response.status, error } : { outcome: "rolledBack", error });
      });
      return outcomes as BatchOutcomes<R>;
    },
  };
  return request;
}

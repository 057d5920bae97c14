// $batch (dataverse.md §9): a multipart/mixed body of application/http parts, change sets as nested
// multipart/mixed parts that succeed or fail as a whole, Content-ID references ($1) to records an
// earlier part of the change set created, and the multipart/mixed answer in the same order.
//
// No npm package parses OData batch bodies with nested change sets and embedded HTTP requests (the
// multipart packages on npm handle multipart/form-data), so the few lines of MIME splitting are here.
import { randomUUID } from "node:crypto";
import { DataverseError, ErrorCodes, badRequest } from "./errors.ts";
import type { Caller, Engine } from "./engine.ts";
import type { ApiRequest, ApiResponse, WebApi } from "./webapi.ts";

export const MAX_BATCH_REQUESTS = 1000;

interface MimePart {
  headers: Record<string, string>;
  body: string;
}

interface InnerRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  contentId?: string;
}

type BatchItem = { kind: "request"; request: InnerRequest } | { kind: "changeset"; requests: InnerRequest[] };

const STATUS_TEXT: Record<number, string> = {
  200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed", 413: "Payload Too Large", 429: "Too Many Requests",
  500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
};

export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return match ? (match[1] ?? match[2]) : undefined;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Splits a multipart body at `--boundary` lines; preamble and epilogue are dropped. */
export function splitMultipart(body: string, boundary: string): MimePart[] {
  const delimiter = `--${boundary}`;
  const lines = body.split(/\r?\n/);
  const parts: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `${delimiter}--`) {
      if (current) parts.push(current);
      current = undefined;
      break;
    }
    if (trimmed === delimiter) {
      if (current) parts.push(current);
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) parts.push(current);
  return parts.map((partLines) => {
    const text = partLines.join("\r\n");
    const split = /\r?\n\r?\n/.exec(text);
    const headerBlock = split ? text.slice(0, split.index) : text;
    const rest = split ? text.slice(split.index + split[0].length) : "";
    return { headers: parseHeaders(headerBlock), body: rest.replace(/(\r\n)+$/, "") };
  });
}

function parseHttp(part: MimePart): InnerRequest {
  const split = /\r?\n\r?\n/.exec(part.body);
  const head = split ? part.body.slice(0, split.index) : part.body;
  const body = split ? part.body.slice(split.index + split[0].length).trim() : "";
  const [requestLine = "", ...headerLines] = head.split(/\r?\n/);
  const match = /^(GET|POST|PATCH|PUT|DELETE)\s+(.+?)(?:\s+HTTP\/1\.[01])?$/i.exec(requestLine.trim());
  if (!match) throw badRequest(`The batch part request line '${requestLine.trim()}' is not an HTTP request.`, ErrorCodes.ODataError);
  const contentId = part.headers["content-id"];
  return { method: match[1]!.toUpperCase(), url: match[2]!, headers: parseHeaders(headerLines.join("\n")), body, ...(contentId ? { contentId } : {}) };
}

export function parseBatch(body: string, contentType: string | undefined): BatchItem[] {
  const boundary = boundaryOf(contentType);
  if (!/^multipart\/mixed/i.test(contentType ?? "") || !boundary) {
    throw badRequest("A $batch request needs Content-Type: multipart/mixed;boundary=batch_<id>.", ErrorCodes.ODataError);
  }
  const items: BatchItem[] = [];
  for (const part of splitMultipart(body, boundary)) {
    const type = part.headers["content-type"] ?? "";
    if (/^multipart\/mixed/i.test(type)) {
      const inner = boundaryOf(type);
      if (!inner) throw badRequest("A change set needs a boundary.", ErrorCodes.ODataError);
      const requests = splitMultipart(part.body, inner).map((p) => {
        if (/^multipart\//i.test(p.headers["content-type"] ?? "")) throw badRequest("Change sets cannot be nested.", ErrorCodes.ODataError);
        return parseHttp(p);
      });
      if (requests.some((r) => r.method === "GET")) throw badRequest("A change set cannot contain a GET request.", ErrorCodes.ODataError);
      items.push({ kind: "changeset", requests });
    } else {
      items.push({ kind: "request", request: parseHttp(part) });
    }
  }
  const count = items.reduce((n, i) => n + (i.kind === "request" ? 1 : i.requests.length), 0);
  if (count > MAX_BATCH_REQUESTS) throw badRequest(`The number of requests in the batch (${count}) exceeds the limit of ${MAX_BATCH_REQUESTS}.`, ErrorCodes.ODataError);
  return items;
}

const HEADER_NAMES: Record<string, string> = { "odata-version": "OData-Version", "odata-entityid": "OData-EntityId", etag: "ETag", "www-authenticate": "WWW-Authenticate" };

function headerName(name: string): string {
  return HEADER_NAMES[name] ?? name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

function formatResponse(response: ApiResponse, contentId?: string): string {
  const lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"];
  if (contentId) lines.push(`Content-ID: ${contentId}`);
  lines.push("", `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? ""}`.trimEnd());
  for (const [name, value] of Object.entries(response.headers)) lines.push(`${headerName(name)}: ${value}`);
  lines.push("");
  if (response.body !== undefined) lines.push(typeof response.body === "string" ? response.body : JSON.stringify(response.body));
  return lines.join("\r\n");
}

/** Replaces `$n` references (URL start, @odata.bind values) with the URL of the record part n created. */
function substitute(text: string, ids: Map<string, string>): string {
  return text.replace(/\$(\d+)(?=[/"?]|$)/g, (whole, n: string) => ids.get(n) ?? whole);
}

function toApiRequest(inner: InnerRequest, caller: Caller, ids: Map<string, string>): ApiRequest {
  let url = substitute(inner.url, ids);
  if (!/^https?:/i.test(url) && !url.startsWith("/")) url = `/api/data/v9.2/${url}`;
  url = url.replace(/^https?:\/\/[^/]+/i, "");
  let body: unknown;
  if (inner.body) {
    try {
      body = JSON.parse(substitute(inner.body, ids));
    } catch {
      throw badRequest("A batch part's body is not valid JSON.", ErrorCodes.ODataError);
    }
  }
  return { method: inner.method, url, headers: inner.headers, ...(body !== undefined ? { body } : {}), caller };
}

/** Runs a $batch body and returns the multipart answer. */
export async function executeBatch(api: WebApi, engine: Engine, caller: Caller, body: string, contentType: string | undefined, outerHeaders: Record<string, string | undefined>): Promise<ApiResponse> {
  const items = parseBatch(body, contentType);
  const continueOnError = /odata\.continue-on-error/i.test(outerHeaders.prefer ?? "");
  const boundary = `batchresponse_${randomUUID()}`;
  const chunks: string[] = [];
  const inherit = (headers: Record<string, string>): Record<string, string> => ({
    ...(outerHeaders["mscrm.bypasscustompluginexecution"] ? { "mscrm.bypasscustompluginexecution": outerHeaders["mscrm.bypasscustompluginexecution"] } : {}),
    ...headers,
  });
  for (const item of items) {
    if (item.kind === "request") {
      let response: ApiResponse;
      try {
        const request = toApiRequest({ ...item.request, headers: inherit(item.request.headers) }, caller, new Map());
        response = await api.handle(request);
      } catch (error) {
        if (!(error instanceof DataverseError)) throw error;
        response = api.error(error);
      }
      chunks.push(`--${boundary}\r\n${formatResponse(response)}`);
      if (response.status >= 400 && !continueOnError) break;
      continue;
    }
    const tx = await engine.begin(caller, {
      ...(/^true$/i.test(outerHeaders["mscrm.bypasscustompluginexecution"] ?? "") ? { bypassSteps: true } : {}),
    });
    const ids = new Map<string, string>();
    const responses: Array<{ response: ApiResponse; contentId?: string }> = [];
    let failed: { response: ApiResponse; contentId?: string } | undefined;
    try {
      for (const inner of item.requests) {
        let response: ApiResponse;
        try {
          response = await api.handle({ ...toApiRequest({ ...inner, headers: inherit(inner.headers) }, caller, ids), op: tx.op });
        } catch (error) {
          if (!(error instanceof DataverseError)) throw error;
          response = api.error(error);
        }
        if (response.status >= 400) {
          failed = { response, ...(inner.contentId ? { contentId: inner.contentId } : {}) };
          break;
        }
        const entityId = response.headers["odata-entityid"];
        if (inner.contentId && entityId) ids.set(inner.contentId, entityId);
        responses.push({ response, ...(inner.contentId ? { contentId: inner.contentId } : {}) });
      }
    } catch (error) {
      tx.rollback();
      throw error;
    }
    if (failed) {
      tx.rollback();
      chunks.push(`--${boundary}\r\n${formatResponse(failed.response, failed.contentId)}`);
      if (!continueOnError) break;
      continue;
    }
    tx.commit();
    const changeset = `changesetresponse_${randomUUID()}`;
    const inner = responses.map((r) => `--${changeset}\r\n${formatResponse(r.response, r.contentId)}`).join("\r\n");
    chunks.push(`--${boundary}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n${inner}\r\n--${changeset}--`);
  }
  return {
    status: 200,
    headers: { "odata-version": "4.0", "content-type": `multipart/mixed; boundary=${boundary}` },
    body: `${chunks.join("\r\n")}\r\n--${boundary}--\r\n`,
  };
}

// The pure parts of the client: URL spelling (keys, literals, query strings), the $batch
// multipart/mixed builder and parser, error codes and what-to-do texts, and the semaphore.
import { Opportunity, Roles } from "../../../Core/generated/schema.ts";
import { anyOf, idFromEntityUrl, keySegment, literal, queryString, recordPath } from "../../src/clients/dataverse-query.ts";
import { batchRequest, buildBatchBody, parseBatchResponse, parseHttpResponse, splitMultipart } from "../../src/clients/dataverse-batch.ts";
import { createRequest, retrieveRequest, updateRequest } from "../../src/clients/dataverse.ts";
import { DataverseError, errorFromResponse, normalizeCode } from "../../src/clients/dataverse-errors.ts";
import { Semaphore } from "../../src/clients/dataverse-http.ts";

const ID = "6d81597f-0f9f-e711-8122-000d3aa2331c";
const API = "https://contoso.crm4.dynamics.com/api/data/v9.2";

describe("URLs", () => {
  test("literals and keys", () => {
    expect(literal("O'Brien")).toBe("'O''Brien'");
    expect(literal(5)).toBe("5");
    expect(literal(false)).toBe("false");
    expect(literal(null)).toBe("null");
    expect(keySegment(ID.toUpperCase())).toBe(`(${ID})`);
    expect(keySegment({ [Opportunity.columns.referralIdentifier]: "a/b#c'd" })).toBe(`(${Opportunity.columns.referralIdentifier}='a%2Fb%23c''d')`);
    expect(keySegment({ _primarycontactid_value: ID, accountnumber: ID })).toBe(`(_primarycontactid_value=${ID},accountnumber='${ID}')`);
    expect(() => keySegment("REF-1")).toThrow(/GUID/);
    expect(recordPath("opportunities", "$2")).toBe("$2");
    expect(anyOf("schemaname", ["a", "b'c"])).toBe("(schemaname eq 'a' or schemaname eq 'b''c')");
  });

  test("query strings keep OData's punctuation readable and encode the rest", () => {
    expect(queryString({})).toBe("");
    expect(queryString({
      select: ["name", "estimatedvalue"], filter: "name eq 'A & B' and estimatedvalue gt 5", orderBy: ["name desc"], top: 3, count: true,
      expand: [{ property: "parentaccountid", select: ["name"], expand: [{ property: "primarycontactid", select: ["fullname"] }] }, { property: "x_rows", filter: "statecode eq 0", top: 2 }],
    })).toBe("?$select=name,estimatedvalue&$filter=name%20eq%20'A%20%26%20B'%20and%20estimatedvalue%20gt%205&$orderby=name%20desc"
      + "&$expand=parentaccountid($select=name;$expand=primarycontactid($select=fullname)),x_rows($filter=statecode%20eq%200;$top=2)&$top=3&$count=true");
  });

  test("ids from OData-EntityId", () => {
    expect(idFromEntityUrl(`${API}/accounts(${ID.toUpperCase()})`)).toBe(ID);
    expect(idFromEntityUrl(`${API}/accounts(accountnumber='x')`)).toBeUndefined();
    expect(idFromEntityUrl(undefined)).toBeUndefined();
  });
});

describe("$batch wire format", () => {
  test("a change set: parts numbered by Content-ID, JSON bodies, absolute URLs, $n left as is", () => {
    const request = batchRequest([
      createRequest("accounts", { name: "A" }),
      updateRequest("contacts", "$1", { lastname: "B" }, { ifMatch: "*" }),
    ], API, { changeSet: true });
    const body = String(request.body);
    const boundary = /boundary=(batch_[0-9a-f-]+)/.exec(request.headers["content-type"]!)![1]!;
    const [outer] = splitMultipart(body, boundary);
    const changeset = /boundary=(changeset_[0-9a-f-]+)/.exec(outer!.headers["content-type"]!)![1]!;
    const parts = splitMultipart(outer!.body, changeset);
    expect(parts.map((p) => p.headers["content-id"])).toEqual(["1", "2"]);
    expect(parts[0]!.body).toMatch(new RegExp(`^POST ${API.replace(/[.]/g, "\\.")}/accounts HTTP/1\\.1\\r\\ncontent-type: application/json; type=entry\\r\\n\\r\\n\\{"name":"A"\\}$`));
    expect(parts[1]!.body).toMatch(/^PATCH \$1 HTTP\/1\.1\r\nif-match: \*\r\n/);
    expect(request.idempotent).toBe(false);
  });

  test("refuses GET inside a change set, empty batches and more than 1000 requests", () => {
    expect(() => batchRequest([retrieveRequest("accounts", ID)], API, { changeSet: true })).toThrow(/GET/);
    expect(() => batchRequest([], API)).toThrow(/at least one/);
    expect(() => batchRequest(Array.from({ length: 1001 }, () => retrieveRequest("accounts", ID)), API)).toThrow(/1000/);
    expect(batchRequest([retrieveRequest("accounts", ID)], API).idempotent).toBe(true);
  });

  test("builds and reads back its own format", () => {
    const text = buildBatchBody([{ method: "GET", url: `${API}/WhoAmI`, headers: { accept: "application/json" } }], "batch_x");
    expect(text).toBe(`--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET ${API}/WhoAmI HTTP/1.1\r\naccept: application/json\r\n\r\n--batch_x--\r\n`);
  });

  test("reads a batch answer with a top-level response and a change set response (LF line ends too)", () => {
    const answer = [
      "--batchresponse_1", "Content-Type: application/http", "Content-Transfer-Encoding: binary", "",
      "HTTP/1.1 200 OK", "Content-Type: application/json; odata.metadata=minimal", "OData-Version: 4.0", "",
      `{"@odata.etag":"W/\\"12\\"","name":"A"}`,
      "--batchresponse_1", "Content-Type: multipart/mixed; boundary=changesetresponse_2", "",
      "--changesetresponse_2", "Content-Type: application/http", "Content-Transfer-Encoding: binary", "Content-ID: 1", "",
      "HTTP/1.1 204 No Content", `OData-EntityId: ${API}/accounts(${ID})`, "", "",
      "--changesetresponse_2--",
      "--batchresponse_1--", "",
    ].join("\n");
    const items = parseBatchResponse(answer, "multipart/mixed; boundary=batchresponse_1");
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ kind: "response", item: { response: { status: 200, json: { name: "A" } } } });
    expect(items[1]).toMatchObject({ kind: "changeset", items: [{ contentId: "1", response: { status: 204, headers: { "odata-entityid": `${API}/accounts(${ID})` } } }] });
  });

  test("maps a failed change set answer to failed and rolled-back outcomes", () => {
    const request = batchRequest([createRequest("accounts", { name: "A" }), createRequest("accounts", { bad: 1 })], API, { changeSet: true });
    const failure = [
      "--batchresponse_9", "Content-Type: application/http", "Content-Transfer-Encoding: binary", "Content-ID: 2", "",
      "HTTP/1.1 400 Bad Request", "Content-Type: application/json", "",
      `{"error":{"code":"0x80060888","message":"Could not find a property named 'bad' on type 'Microsoft.Dynamics.CRM.account'."}}`,
      "--batchresponse_9--",
    ].join("\r\n");
    const outcomes = request.read({ status: 200, headers: { "content-type": "multipart/mixed; boundary=batchresponse_9" }, text: failure });
    expect(outcomes.map((o) => o.outcome)).toEqual(["rolledBack", "failed"]);
    expect(outcomes[1]).toMatchObject({ status: 400, error: { code: "0x80060888" } });
  });

  test("an HTTP message without a status line is refused", () => {
    expect(() => parseHttpResponse("hello")).toThrow(/status line/);
  });
});

describe("errors", () => {
  test("codes are hex, whatever Dataverse sent", () => {
    expect(normalizeCode(-2147015902)).toBe("0x80072322");
    expect(normalizeCode("-2147015902")).toBe("0x80072322");
    expect(normalizeCode("0x80040217")).toBe("0x80040217");
    expect(normalizeCode(undefined)).toBe("");
  });

  test("plain words for what to do", () => {
    const error = (status: number, code = "", message = "x"): DataverseError =>
      errorFromResponse({ status, headers: {}, text: "", json: { error: { code, message } } }, { method: "GET", url: `${API}/accounts?$filter=secret` });
    expect(error(401).whatToDo).toMatch(/app registration.*client secret/);
    expect(error(403).whatToDo).toContain(Roles.partnerCenterRelay.name);
    expect(error(403, "0x80072560").whatToDo).toMatch(/application user/);
    expect(error(429, "0x80072322").whatToDo).toMatch(/throttling.*retries/);
    expect(error(404, "0x80040217").whatToDo).toMatch(/record does not exist/);
    expect(error(400, "0x80060888", "Could not find a property named 'x_value' on type 'Microsoft.Dynamics.CRM.opportunity'.").whatToDo)
      .toMatch(/column 'x_value' does not exist on opportunity.*environment variable/);
    expect(error(503).transient).toBe(true);
    expect(error(400).transient).toBe(false);
    expect(error(500).url).toBe(`${API}/accounts`);
    expect(errorFromResponse({ status: 502, headers: {}, text: "<html>Bad gateway</html>" }).message).toBe("<html>Bad gateway</html>");
  });
});

test("the semaphore lets N through and queues the rest in order", async () => {
  const semaphore = new Semaphore(2);
  const order: number[] = [];
  await semaphore.acquire();
  await semaphore.acquire();
  const third = semaphore.acquire().then(() => order.push(3));
  const fourth = semaphore.acquire().then(() => order.push(4));
  expect(semaphore.waiting).toBe(2);
  semaphore.release();
  await third;
  semaphore.release();
  await fourth;
  expect(order).toEqual([3, 4]);
});

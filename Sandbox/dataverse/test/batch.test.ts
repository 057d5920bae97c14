// $batch (dataverse.md §9): multipart/mixed requests, change sets that succeed or fail as a whole,
// Content-ID references, responses in order, stop at the first error unless odata.continue-on-error.
import { startSandbox, type TestSandbox, ORG_URL } from "./helpers.ts";

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.control("POST", "/sandbox/reset");
  await sandbox.control("POST", "/sandbox/seed");
});

function part(method: string, url: string, body?: unknown, contentId?: string): string {
  const lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"];
  if (contentId) lines.push(`Content-ID: ${contentId}`);
  lines.push("", `${method} ${url} HTTP/1.1`);
  if (body !== undefined) lines.push("Content-Type: application/json; type=entry", "", JSON.stringify(body));
  else lines.push("Accept: application/json", "");
  return lines.join("\r\n");
}

function changeset(boundary: string, parts: string[]): string {
  return [`Content-Type: multipart/mixed; boundary=${boundary}`, "", ...parts.map((p) => `--${boundary}\r\n${p}`), `--${boundary}--`].join("\r\n");
}

function batchBody(boundary: string, parts: string[]): string {
  return `${parts.map((p) => `--${boundary}\r\n${p}`).join("\r\n")}\r\n--${boundary}--\r\n`;
}

async function runBatch(parts: string[], headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; text: string }> {
  const res = await sandbox.api("POST", "$batch", { raw: batchBody("batch_AAA123", parts), headers: { "content-type": 'multipart/mixed; boundary="batch_AAA123"', ...headers } });
  return { status: res.status, contentType: String(res.headers["content-type"]), text: res.text };
}

function statuses(text: string): number[] {
  return [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
}

test("a change set with Content-ID references commits as a whole; GETs run in order and answer in order", async () => {
  const result = await runBatch([
    changeset("changeset_BBB456", [
      part("POST", "/api/data/v9.2/accounts", { name: "Batch account" }, "1"),
      part("POST", "/api/data/v9.2/contacts", { lastname: "Batch", "parentcustomerid_account@odata.bind": "$1" }, "2"),
      part("PATCH", "$1", { telephone1: "+31 20 000 0000" }, "3"),
    ]),
    part("GET", `${ORG_URL}/api/data/v9.2/accounts?$select=name,telephone1&$filter=name eq 'Batch account'&$expand=contact_customer_accounts($select=lastname)`),
  ]);
  expect(result.status).toBe(200);
  expect(result.contentType).toMatch(/^multipart\/mixed; boundary=batchresponse_[0-9a-f-]{36}$/);
  expect(statuses(result.text)).toEqual([204, 204, 204, 200]);
  expect(result.text).toMatch(/--changesetresponse_[0-9a-f-]{36}\r\nContent-Type: application\/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP\/1\.1 204 No Content\r\n/);
  expect(result.text).toMatch(/OData-EntityId: https:\/\/127\.0\.0\.1:4701\/api\/data\/v9\.2\/accounts\([0-9a-f-]{36}\)/);
  const json = JSON.parse(/\{"@odata\.context".*\}/.exec(result.text)![0]);
  expect(json.value).toEqual([expect.objectContaining({ name: "Batch account", telephone1: "+31 20 000 0000", contact_customer_accounts: [expect.objectContaining({ lastname: "Batch" })] })]);
  expect(result.text.trimEnd().endsWith("--")).toBe(true);
});

test("a failing request rolls back its whole change set and the batch stops there", async () => {
  const result = await runBatch([
    changeset("changeset_CCC", [
      part("POST", "accounts", { name: "Rolled back" }, "1"),
      part("POST", "accounts", { name: "Bad", nosuch: true }, "2"),
    ]),
    part("GET", "accounts?$select=name"),
  ]);
  expect(result.status).toBe(200);
  expect(statuses(result.text)).toEqual([400]);
  expect(result.text).toContain("The property 'nosuch' does not exist on type 'Microsoft.Dynamics.CRM.account'.");
  const after = await sandbox.api("GET", "accounts?$filter=name eq 'Rolled back'");
  expect(after.body.value).toEqual([]);
});

test("Prefer: odata.continue-on-error runs the rest after a failure", async () => {
  const result = await runBatch([
    part("GET", "accountz"),
    part("POST", "accounts", { name: "After the error" }),
  ], { prefer: "odata.continue-on-error" });
  expect(statuses(result.text)).toEqual([404, 204]);
  expect((await sandbox.api("GET", "accounts?$filter=name eq 'After the error'")).body.value.length).toBe(1);
});

test("malformed batches are refused: wrong content type, a GET inside a change set", async () => {
  const wrongType = await sandbox.api("POST", "$batch", { raw: "x", headers: { "content-type": "application/json" } });
  expect(wrongType.status).toBe(400);
  const getInChangeset = await runBatch([changeset("changeset_D", [part("GET", "accounts")])]);
  expect(getInChangeset.status).toBe(400);
});

// Read-only contract checks written from the documentation (dataverse.md §9). They run against the
// sandbox always, and against a real environment too when PCR_REAL_DATAVERSE_URL (the org URL) and
// PCR_REAL_DATAVERSE_TOKEN (a bearer token for it) are set. Nothing here writes.
import { readSolutionSource } from "../../../scripts/solution/source.ts";
import { readSchema } from "../../../scripts/solution/model.ts";
import { Solution } from "../../../Core/generated/schema.ts";
import { solutionDir, startSandbox, type TestSandbox } from "./helpers.ts";

interface Answer {
  status: number;
  header(name: string): string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}
type Client = (path: string, options?: { headers?: Record<string, string>; anonymous?: boolean }) => Promise<Answer>;

const schema = readSchema(readSolutionSource(solutionDir));
const realUrl = process.env.PCR_REAL_DATAVERSE_URL?.replace(/\/$/, "");
const realToken = process.env.PCR_REAL_DATAVERSE_TOKEN;

function realClient(orgUrl: string, token: string): Client {
  return async (path, options = {}) => {
    const response = await fetch(`${orgUrl}/api/data/v9.2/${path}`, {
      headers: { accept: "application/json", "odata-maxversion": "4.0", "odata-version": "4.0", ...(options.anonymous ? {} : { authorization: `Bearer ${token}` }), ...options.headers },
    });
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, body: text && /json/.test(response.headers.get("content-type") ?? "") ? JSON.parse(text) : text };
  };
}

function sandboxClient(sandbox: TestSandbox): Client {
  return async (path, options = {}) => {
    const res = await sandbox.api("GET", path, { headers: options.headers ?? {}, ...(options.anonymous ? { as: null } : {}) });
    return { status: res.status, header: (name) => (res.headers[name] as string | undefined), body: res.body };
  };
}

function contract(name: string, client: () => Client): void {
  describe(name, () => {
    test("WhoAmI answers BusinessUnitId, UserId and OrganizationId", async () => {
      const res = await client()("WhoAmI");
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["@odata.context", "BusinessUnitId", "OrganizationId", "UserId"]);
    });

    test("without a token: 401 with a Bearer challenge", async () => {
      const res = await client()("WhoAmI", { anonymous: true });
      expect(res.status).toBe(401);
      expect(res.header("www-authenticate")).toMatch(/^Bearer authorization_uri=/);
    });

    test("a collection: @odata.context with the projection, @odata.etag and the primary id on every row", async () => {
      const res = await client()("accounts?$select=name&$top=2");
      expect(res.status).toBe(200);
      expect(res.header("odata-version")).toBe("4.0");
      expect(res.body["@odata.context"]).toMatch(/\/api\/data\/v9\.2\/\$metadata#accounts\(name\)$/);
      for (const row of res.body.value) {
        expect(row["@odata.etag"]).toMatch(/^W\/"\d+"$/);
        expect(row.accountid).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    test("paging: odata.maxpagesize=1 gives one row and a nextLink with a $skiptoken when there are more", async () => {
      const res = await client()("transactioncurrencies?$select=isocurrencycode", { headers: { prefer: "odata.maxpagesize=1" } });
      expect(res.status).toBe(200);
      expect(res.body.value.length).toBeLessThanOrEqual(1);
      if (res.body["@odata.nextLink"]) expect(res.body["@odata.nextLink"]).toMatch(/skiptoken/i);
    });

    test("errors: unknown segment 404 0x8006088a, unknown property 400 0x80060888, missing record 404 0x80040217", async () => {
      const segment = await client()("nosuchentityset");
      expect(segment.status).toBe(404);
      expect(segment.body.error).toEqual(expect.objectContaining({ code: "0x8006088a", message: "Resource not found for the segment 'nosuchentityset'." }));
      const property = await client()("accounts?$select=nosuchcolumn");
      expect(property.status).toBe(400);
      expect(property.body.error).toEqual(expect.objectContaining({ code: "0x80060888", message: "Could not find a property named 'nosuchcolumn' on type 'Microsoft.Dynamics.CRM.account'." }));
      const record = await client()("accounts(00000000-0000-0000-0000-000000000001)");
      expect(record.status).toBe(404);
      expect(record.body.error.code).toBe("0x80040217");
      expect(record.body.error.message).toMatch(/With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist/);
    });

    test("where the solution is installed, opportunity and lead carry exactly its custom columns", async () => {
      const installed = await client()(`solutions?$select=version&$filter=uniquename eq '${Solution.uniqueName}'`);
      expect(installed.status).toBe(200);
      if (!installed.body.value.length) {
        console.log(`${name}: solution ${Solution.uniqueName} is not installed; column check skipped`);
        return;
      }
      for (const table of schema.tables.filter((t) => !t.isNew)) {
        const res = await client()(`EntityDefinitions(LogicalName='${table.logicalName}')/Attributes?$select=LogicalName&$filter=IsCustomAttribute eq true and startswith(LogicalName,'${schema.prefix}_')`);
        expect(res.status).toBe(200);
        expect(res.body.value.map((a: { LogicalName: string }) => a.LogicalName).sort()).toEqual(table.columns.filter((c) => c.isCustom).map((c) => c.logicalName).sort());
      }
    });
  });
}

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.control("POST", "/sandbox/seed");
});
afterAll(async () => {
  await sandbox.close();
});

contract("sandbox", () => sandboxClient(sandbox));

if (realUrl && realToken) {
  contract(`real environment ${realUrl}`, () => realClient(realUrl, realToken));
} else {
  test("real environment (skipped)", () => {
    console.log("Dataverse contract checks against a real environment skipped: set PCR_REAL_DATAVERSE_URL and PCR_REAL_DATAVERSE_TOKEN to run them (read-only).");
  });
}

// Reading through the Web API (dataverse.md §9): $select, $filter, $orderby, $top, $count, $expand,
// paging with odata.maxpagesize and @odata.nextLink, annotations, lookups as _x_value, ETags, errors.
import { MicrosoftSolutionDetail, SolutionType } from "../../../Core/generated/schema.ts";
import { startSandbox, type TestSandbox, ORG_URL } from "./helpers.ts";

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
  expect((await sandbox.control("POST", "/sandbox/seed")).status).toBe(200);
});
afterAll(async () => {
  await sandbox.close();
});

const names = (body: { value: Array<{ name: string }> }): string[] => body.value.map((r) => r.name);

test("GET a collection: @odata.context, @odata.etag per row, only the $select-ed columns plus the primary id", async () => {
  const res = await sandbox.api("GET", "accounts?$select=name,address1_country&$orderby=name");
  expect(res.status).toBe(200);
  expect(res.headers["odata-version"]).toBe("4.0");
  expect(res.headers["content-type"]).toBe("application/json; odata.metadata=minimal");
  expect(res.body["@odata.context"]).toBe(`${ORG_URL}/api/data/v9.2/$metadata#accounts(name,address1_country)`);
  expect(res.body.value[0]).toEqual({ "@odata.etag": expect.stringMatching(/^W\/"\d+"$/), name: "Contoso Nederland B.V.", address1_country: "NL", accountid: expect.any(String) });
});

test("$filter: eq, ne, gt, ge, lt, le, and, or, not, contains, startswith, endswith, null", async () => {
  const q = async (filter: string): Promise<string[]> => {
    const res = await sandbox.api("GET", `accounts?$select=name&$orderby=name&$filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
    return names(res.body);
  };
  expect(await q("address1_country eq 'NL'")).toEqual(["Contoso Nederland B.V."]);
  expect(await q("address1_country eq 'nl'")).toEqual(["Contoso Nederland B.V."]); // case-insensitive, like SQL Server
  expect(await q("address1_country ne 'NL' and address1_country ne 'US'")).toEqual(["Northwind Traders GmbH", "Tailspin Toys Ltd", "Wingtip Toys SAS"]);
  expect(await q("address1_country eq 'DE' or address1_country eq 'FR'")).toEqual(["Northwind Traders GmbH", "Wingtip Toys SAS"]);
  expect(await q("not (address1_country eq 'NL' or address1_country eq 'DE' or address1_country eq 'FR')")).toEqual(["Fabrikam, Inc.", "Tailspin Toys Ltd"]);
  expect(await q("contains(name,'toys')")).toEqual(["Tailspin Toys Ltd", "Wingtip Toys SAS"]);
  expect(await q("startswith(name,'north')")).toEqual(["Northwind Traders GmbH"]);
  expect(await q("endswith(name,'Inc.')")).toEqual(["Fabrikam, Inc."]);
  expect(await q("revenue eq null and address1_country eq 'GB'")).toEqual(["Tailspin Toys Ltd"]);
  expect(await q("primarycontactid/fullname eq 'Sanne de Vries'")).toEqual(["Contoso Nederland B.V."]);
  const nl = (await sandbox.api("GET", "accounts?$select=accountid&$filter=address1_country eq 'NL'")).body.value[0].accountid;
  expect(await q(`accountid eq ${nl}`)).toEqual(["Contoso Nederland B.V."]);
  const opportunities = await sandbox.api("GET", `opportunities?$select=name&$filter=_parentaccountid_value eq ${nl} and estimatedvalue gt 100000 and estimatedvalue le 120000 and estimatedclosedate ge 2026-01-01 and estimatedclosedate lt 2027-01-01 and statecode eq 0`);
  expect(names(opportunities.body)).toEqual(["Contoso: Azure migration"]);
});

test("$filter errors: unknown column, incompatible literal, bad syntax, unsupported $skip", async () => {
  const unknown = await sandbox.api("GET", "accounts?$filter=nosuch eq 1");
  expect(unknown.status).toBe(400);
  expect(unknown.body).toEqual({ error: { code: "0x80060888", message: "Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.account'." } });
  const types = await sandbox.api("GET", "accounts?$filter=name eq 5");
  expect(types.status).toBe(400);
  expect(types.body.error.message).toMatch(/incompatible types/);
  const syntax = await sandbox.api("GET", "accounts?$filter=name eq");
  expect(syntax.status).toBe(400);
  const skip = await sandbox.api("GET", "accounts?$skip=1");
  expect(skip.status).toBe(400);
  const select = await sandbox.api("GET", "accounts?$select=name,nosuch");
  expect(select.status).toBe(400);
  expect(select.body.error.message).toBe("Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.account'.");
});

test("$orderby (several columns, desc), $top and $count", async () => {
  const res = await sandbox.api("GET", "accounts?$select=name&$orderby=address1_country desc,name&$top=2&$count=true");
  expect(names(res.body)).toEqual(["Fabrikam, Inc.", "Contoso Nederland B.V."]);
  expect(res.body["@odata.count"]).toBe(5);
});

test("paging: Prefer odata.maxpagesize gives pages and an @odata.nextLink followed unchanged until absent", async () => {
  const seen: string[] = [];
  let url: string | undefined = "accounts?$select=name&$orderby=name";
  let pages = 0;
  while (url) {
    const res = await sandbox.api("GET", url.replace(ORG_URL, ""), { headers: { prefer: "odata.maxpagesize=2" } });
    expect(res.status).toBe(200);
    expect(res.headers["preference-applied"]).toBe("odata.maxpagesize=2");
    expect(res.body.value.length).toBeLessThanOrEqual(2);
    seen.push(...names(res.body));
    url = res.body["@odata.nextLink"];
    if (url) expect(url).toMatch(new RegExp(`^${ORG_URL}/api/data/v9.2/accounts\\?.*%24skiptoken=`));
    pages += 1;
  }
  expect(pages).toBe(3);
  expect(seen).toEqual(["Contoso Nederland B.V.", "Fabrikam, Inc.", "Northwind Traders GmbH", "Tailspin Toys Ltd", "Wingtip Toys SAS"]);
});

test("lookups read as _x_value; Prefer odata.include-annotations adds FormattedValue, navigation property and logical name", async () => {
  const plain = await sandbox.api("GET", "opportunities?$select=name,estimatedvalue,_parentaccountid_value,statecode");
  const row = plain.body.value[0];
  expect(row._parentaccountid_value).toMatch(/^[0-9a-f-]{36}$/);
  expect(Object.keys(row).some((k) => k.includes("@OData"))).toBe(false);
  const annotated = await sandbox.api("GET", "opportunities?$select=name,estimatedvalue,parentaccountid,statecode,estimatedclosedate", { headers: { prefer: 'odata.include-annotations="*"' } });
  expect(annotated.headers["preference-applied"]).toBe('odata.include-annotations="*"');
  const a = annotated.body.value[0];
  expect(a["estimatedvalue@OData.Community.Display.V1.FormattedValue"]).toBe("€120,000.00");
  expect(a["statecode@OData.Community.Display.V1.FormattedValue"]).toBe("Open");
  expect(a["estimatedclosedate@OData.Community.Display.V1.FormattedValue"]).toBe("9/30/2026");
  expect(a["_parentaccountid_value@OData.Community.Display.V1.FormattedValue"]).toBe("Contoso Nederland B.V.");
  expect(a["_parentaccountid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"]).toBe("parentaccountid");
  expect(a["_parentaccountid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]).toBe("account");
  const only = await sandbox.api("GET", "opportunities?$select=statecode", { headers: { prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' } });
  expect(only.body.value[0]["statecode@OData.Community.Display.V1.FormattedValue"]).toBe("Open");
});

test("$expand single-valued and collection-valued navigation properties with nested $select, $filter, $orderby", async () => {
  const res = await sandbox.api("GET", "accounts?$select=name&$filter=address1_country eq 'NL'&$expand=primarycontactid($select=fullname),contact_customer_accounts($select=firstname;$orderby=firstname desc;$filter=startswith(firstname,'S') or startswith(firstname,'D'))");
  expect(res.status).toBe(200);
  const account = res.body.value[0];
  expect(account.primarycontactid).toEqual({ "@odata.etag": expect.any(String), fullname: "Sanne de Vries", contactid: expect.any(String) });
  expect(account.contact_customer_accounts.map((c: { firstname: string }) => c.firstname)).toEqual(["Sanne", "Daan"]);
  const nested = await sandbox.api("GET", "opportunities?$select=name&$expand=parentcontactid($select=fullname;$expand=parentcustomerid_account($select=name))");
  expect(nested.body.value[0].parentcontactid.parentcustomerid_account.name).toBe("Contoso Nederland B.V.");
  const bad = await sandbox.api("GET", "accounts?$expand=nosuchnav");
  expect(bad.status).toBe(400);
});

test("the solution's tables are queryable through their entity sets, with choices", async () => {
  const res = await sandbox.api("GET", `${MicrosoftSolutionDetail.entitySetName}?$select=${MicrosoftSolutionDetail.columns.primaryName}&$filter=${MicrosoftSolutionDetail.columns.solutionType} eq ${SolutionType.MicrosoftSolution}&$orderby=${MicrosoftSolutionDetail.columns.primaryName}`);
  expect(res.status).toBe(200);
  expect(res.body.value.length).toBe(3);
});

test("GET one record; If-None-Match with its ETag gives 304; unknown id 404; unknown entity set 404", async () => {
  const list = await sandbox.api("GET", "accounts?$select=name&$top=1");
  const { accountid, "@odata.etag": etag } = list.body.value[0];
  const one = await sandbox.api("GET", `accounts(${accountid})?$select=name`);
  expect(one.status).toBe(200);
  expect(one.body["@odata.context"]).toBe(`${ORG_URL}/api/data/v9.2/$metadata#accounts(name)/$entity`);
  expect(one.body["@odata.etag"]).toBe(etag);
  const notModified = await sandbox.api("GET", `accounts(${accountid})?$select=name`, { headers: { "if-none-match": etag } });
  expect(notModified.status).toBe(304);
  const annotated = await sandbox.api("GET", `accounts(${accountid})?$select=name`, { headers: { "if-none-match": etag, prefer: 'odata.include-annotations="*"' } });
  expect(annotated.status).toBe(200);
  const missing = await sandbox.api("GET", "accounts(00000000-0000-0000-0000-000000000001)");
  expect(missing.status).toBe(404);
  expect(missing.body).toEqual({ error: { code: "0x80040217", message: "account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist" } });
  const set = await sandbox.api("GET", "accountz");
  expect(set.status).toBe(404);
  expect(set.body).toEqual({ error: { code: "0x8006088a", message: "Resource not found for the segment 'accountz'." } });
});

test("a property, a collection-valued navigation property and $count can be read directly", async () => {
  const account = (await sandbox.api("GET", "accounts?$select=name&$filter=address1_country eq 'NL'")).body.value[0];
  const name = await sandbox.api("GET", `accounts(${account.accountid})/name`);
  expect(name.body.value).toBe("Contoso Nederland B.V.");
  const contacts = await sandbox.api("GET", `accounts(${account.accountid})/contact_customer_accounts?$select=fullname`);
  expect(contacts.body.value.length).toBe(2);
  const count = await sandbox.api("GET", "accounts/$count");
  expect(count.text).toBe("5");
});

test("WhoAmI answers the caller's systemuser, business unit and organization", async () => {
  const res = await sandbox.api("GET", "WhoAmI", { as: "seller" });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ "@odata.context": `${ORG_URL}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`, BusinessUnitId: expect.any(String), UserId: expect.any(String), OrganizationId: expect.any(String) });
  const user = await sandbox.api("GET", `systemusers(${res.body.UserId})?$select=fullname,azureactivedirectoryobjectid`);
  expect(user.body.fullname).toBe("Dana Seller");
});

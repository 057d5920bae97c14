// Writing through the Web API (dataverse.md §9): create (204 + OData-EntityId, or 201 with
// Prefer: return=representation), update, upsert, If-Match / If-None-Match, delete and cascades,
// alternate keys from the solution, @odata.bind, validation errors, createdby/modifiedby.
import { Opportunity, MicrosoftSolution, MicrosoftSolutionDetail, SyncEvent, PartnerCenterSyncStatus, Roles } from "../../../Core/generated/schema.ts";
import { DEMO_USERS } from "../../shared/demo-tenant.ts";
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

const idFrom = (entityId: unknown): string => /\(([0-9a-f-]{36})\)$/.exec(String(entityId))![1]!;
const referral = Opportunity.columns.referralIdentifier;

async function accountId(country: string): Promise<string> {
  return (await sandbox.api("GET", `accounts?$select=name&$filter=address1_country eq '${country}'`)).body.value[0].accountid;
}

test("POST creates: 204 with OData-EntityId, createdby/ownerid are the caller, defaults filled in", async () => {
  const res = await sandbox.api("POST", "opportunities", { as: "seller", body: { name: "Fabrikam: Copilot", estimatedvalue: 5000.5, "parentaccountid@odata.bind": `/accounts(${await accountId("US")})` } });
  expect(res.status).toBe(204);
  expect(res.text).toBe("");
  expect(res.headers["odata-entityid"]).toMatch(new RegExp(`^${ORG_URL}/api/data/v9.2/opportunities\\([0-9a-f-]{36}\\)$`));
  const id = idFrom(res.headers["odata-entityid"]);
  const me = (await sandbox.api("GET", "WhoAmI", { as: "seller" })).body.UserId;
  const row = (await sandbox.api("GET", `opportunities(${id})`)).body;
  expect(row).toMatchObject({
    name: "Fabrikam: Copilot", estimatedvalue: 5000.5, statecode: 0, statuscode: 1, _createdby_value: me, _modifiedby_value: me, _ownerid_value: me,
    [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.NotShared, [Opportunity.columns.syncWithPartnerCenter]: false, [referral]: null,
  });
  expect(row._transactioncurrencyid_value).toMatch(/^[0-9a-f-]{36}$/); // the organization's base currency
  expect(row.createdon).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
});

test("POST with Prefer: return=representation: 201 with the record ($select applies)", async () => {
  const res = await sandbox.api("POST", `opportunities?$select=name,${referral}`, { body: { name: "Rep", [referral]: "ref-rep" }, headers: { prefer: "return=representation" } });
  expect(res.status).toBe(201);
  expect(res.headers["preference-applied"]).toBe("return=representation");
  expect(res.body).toEqual({
    "@odata.context": `${ORG_URL}/api/data/v9.2/$metadata#opportunities(name,${referral})/$entity`,
    "@odata.etag": expect.stringMatching(/^W\/"\d+"$/), name: "Rep", [referral]: "ref-rep", opportunityid: expect.any(String),
  });
});

test("PATCH updates (204), modifiedby follows the caller, the ETag changes; with return=representation 200", async () => {
  const id = idFrom((await sandbox.api("POST", "opportunities", { as: "seller", body: { name: "Before" } })).headers["odata-entityid"]);
  const before = (await sandbox.api("GET", `opportunities(${id})?$select=name`)).body["@odata.etag"];
  const res = await sandbox.api("PATCH", `opportunities(${id})`, { as: "relay", body: { name: "After", [Opportunity.columns.syncStatus]: PartnerCenterSyncStatus.Synced } });
  expect(res.status).toBe(204);
  expect(res.headers["odata-entityid"]).toBe(`${ORG_URL}/api/data/v9.2/opportunities(${id})`);
  const after = (await sandbox.api("GET", `opportunities(${id})?$select=name,_modifiedby_value,_createdby_value`)).body;
  expect(after.name).toBe("After");
  expect(after["@odata.etag"]).not.toBe(before);
  expect(after._modifiedby_value).toBe((await sandbox.api("GET", "WhoAmI", { as: "relay" })).body.UserId);
  expect(after._createdby_value).toBe((await sandbox.api("GET", "WhoAmI", { as: "seller" })).body.UserId);
  const rep = await sandbox.api("PATCH", `opportunities(${id})?$select=name`, { body: { name: "Again" }, headers: { prefer: "return=representation" } });
  expect(rep.status).toBe(200);
  expect(rep.body.name).toBe("Again");
});

test("optimistic concurrency: If-Match with a stale ETag is 412 with Dataverse's message; the current one succeeds", async () => {
  const id = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "Concurrent" } })).headers["odata-entityid"]);
  const etag = (await sandbox.api("GET", `opportunities(${id})?$select=name`)).body["@odata.etag"];
  expect((await sandbox.api("PATCH", `opportunities(${id})`, { body: { name: "First" }, headers: { "if-match": etag } })).status).toBe(204);
  const stale = await sandbox.api("PATCH", `opportunities(${id})`, { body: { name: "Second" }, headers: { "if-match": etag } });
  expect(stale.status).toBe(412);
  expect(stale.body).toEqual({ error: { code: "", message: "The version of the existing record doesn't match the RowVersion property provided." } });
  const staleDelete = await sandbox.api("DELETE", `opportunities(${id})`, { headers: { "if-match": etag } });
  expect(staleDelete.status).toBe(412);
  expect((await sandbox.api("GET", `opportunities(${id})?$select=name`)).body.name).toBe("First");
});

test("upsert: PATCH on a missing id creates; If-Match: * prevents the create (404); If-None-Match: * prevents the update (412)", async () => {
  const id = "6d81597f-0f9f-e711-8122-000d3aa2331c";
  const blocked = await sandbox.api("PATCH", `accounts(${id})`, { body: { name: "No" }, headers: { "if-match": "*" } });
  expect(blocked.status).toBe(404);
  expect(blocked.body.error.message).toBe(`account With Id = ${id} Does Not Exist`);
  const created = await sandbox.api("PATCH", `accounts(${id})`, { body: { name: "Upserted" } });
  expect(created.status).toBe(204);
  expect(created.headers["odata-entityid"]).toBe(`${ORG_URL}/api/data/v9.2/accounts(${id})`);
  const noUpdate = await sandbox.api("PATCH", `accounts(${id})`, { body: { name: "Changed" }, headers: { "if-none-match": "*" } });
  expect(noUpdate.status).toBe(412);
  expect(noUpdate.body).toEqual({ error: { code: "", message: "A record with matching key values already exists." } });
  const update = await sandbox.api("PATCH", `accounts(${id})`, { body: { name: "Updated" }, headers: { "if-match": "*" } });
  expect(update.status).toBe(204);
  expect((await sandbox.api("GET", `accounts(${id})?$select=name`)).body.name).toBe("Updated");
});

test("alternate key from the solution: read, update and upsert /opportunities(<key>='…'); duplicates refused", async () => {
  const key = `${referral}='REF-0001'`;
  const missing = await sandbox.api("GET", `opportunities(${key})`);
  expect(missing.status).toBe(404);
  const upserted = await sandbox.api("PATCH", `opportunities(${key})`, { body: { name: "From referral" } });
  expect(upserted.status).toBe(204);
  const id = idFrom(upserted.headers["odata-entityid"]);
  const read = await sandbox.api("GET", `opportunities(${key})?$select=name,${referral}`);
  expect(read.body).toMatchObject({ opportunityid: id, name: "From referral", [referral]: "REF-0001" });
  expect((await sandbox.api("PATCH", `opportunities(${key})`, { body: { name: "Renamed" } })).status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${id})?$select=name`)).body.name).toBe("Renamed");
  const duplicate = await sandbox.api("POST", "opportunities", { body: { name: "Dup", [referral]: "ref-0001" } });
  expect(duplicate.status).toBe(412);
  expect(duplicate.body.error.code).toBe("0x80060892");
  const notAKey = await sandbox.api("GET", "opportunities(name='x')");
  expect(notAKey.status).toBe(400);
  const quoted = await sandbox.api("PATCH", `opportunities(${referral}='O''Brien')`, { body: { name: "Quote" } });
  expect(quoted.status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${referral}='O''Brien')?$select=${referral}`)).body[referral]).toBe("O'Brien");
});

test("@odata.bind sets lookups on the solution's tables; reading gives _x_value; a missing target is 404; null clears", async () => {
  const opportunity = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "With solutions" } })).headers["odata-entityid"]);
  const detail = (await sandbox.api("GET", `${MicrosoftSolutionDetail.entitySetName}?$top=1`)).body.value[0][MicrosoftSolutionDetail.primaryId];
  const nav = MicrosoftSolution.lookups;
  const res = await sandbox.api("POST", MicrosoftSolution.entitySetName, {
    body: {
      [MicrosoftSolution.columns.primaryName]: "Attached",
      [`${nav.opportunity.navigationProperty}@odata.bind`]: `/${Opportunity.entitySetName}(${opportunity})`,
      [`${nav.solutionDetail.navigationProperty}@odata.bind`]: `${ORG_URL}/api/data/v9.2/${MicrosoftSolutionDetail.entitySetName}(${detail})`,
    },
  });
  expect(res.status).toBe(204);
  const expanded = await sandbox.api("GET", `${Opportunity.entitySetName}(${opportunity})?$select=name&$expand=${Opportunity.collections.microsoftPartnerCenterSolutions}($select=_${nav.solutionDetail.column}_value)`);
  expect(expanded.body[Opportunity.collections.microsoftPartnerCenterSolutions]).toEqual([
    expect.objectContaining({ [`_${nav.solutionDetail.column}_value`]: detail }),
  ]);
  const missing = await sandbox.api("POST", SyncEvent.entitySetName, { body: { [SyncEvent.columns.primaryName]: "x", [SyncEvent.columns.occurredOn]: "2026-01-01T00:00:00Z", [`${SyncEvent.lookups.opportunity.navigationProperty}@odata.bind`]: "/opportunities(00000000-0000-0000-0000-0000000000aa)" } });
  expect(missing.status).toBe(404);
  const wrongNav = await sandbox.api("POST", "opportunities", { body: { name: "x", "nosuch@odata.bind": "/accounts(00000000-0000-0000-0000-0000000000aa)" } });
  expect(wrongNav.status).toBe(400);
  const account = await accountId("NL");
  await sandbox.api("PATCH", `opportunities(${opportunity})`, { body: { "parentaccountid@odata.bind": `/accounts(${account})` } });
  expect((await sandbox.api("GET", `opportunities(${opportunity})?$select=_parentaccountid_value`)).body._parentaccountid_value).toBe(account);
  await sandbox.api("PATCH", `opportunities(${opportunity})`, { body: { "parentaccountid@odata.bind": null } });
  expect((await sandbox.api("GET", `opportunities(${opportunity})?$select=_parentaccountid_value`)).body._parentaccountid_value).toBeNull();
});

test("validation: unknown property, lookup written directly, wrong type, choice out of range, text too long", async () => {
  const unknown = await sandbox.api("POST", "accounts", { body: { name: "x", nosuch: 1 } });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error).toEqual({ code: "0x80060888", message: "The property 'nosuch' does not exist on type 'Microsoft.Dynamics.CRM.account'. Make sure to only use property names that are defined by the type." });
  const direct = await sandbox.api("POST", "opportunities", { body: { name: "x", _parentaccountid_value: "00000000-0000-0000-0000-000000000001" } });
  expect(direct.body.error.message).toBe("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.");
  const type = await sandbox.api("POST", "opportunities", { body: { name: "x", estimatedvalue: "lots" } });
  expect(type.status).toBe(400);
  expect(type.body.error.message).toBe("Cannot convert the literal 'lots' to the expected type 'Edm.Decimal'.");
  const choice = await sandbox.api("POST", "opportunities", { body: { name: "x", [Opportunity.columns.syncStatus]: 1 } });
  expect(choice.status).toBe(400);
  expect(choice.body.error.message).toMatch(/is outside the valid range/);
  const long = await sandbox.api("POST", "opportunities", { body: { name: "x", [referral]: "r".repeat(101) } });
  expect(long.status).toBe(400);
  expect(long.body.error.message).toBe(`A validation error occurred. The length of the '${referral}' attribute of the 'opportunity' entity exceeded the maximum allowed length of '100'.`);
  const json = await sandbox.api("POST", "accounts", { raw: "{not json", headers: { "content-type": "application/json" } });
  expect(json.status).toBe(400);
  const annotated = await sandbox.api("POST", "accounts", { body: { nosuch: 1 }, headers: { prefer: 'odata.include-annotations="*"' } });
  expect(annotated.body.error["@Microsoft.PowerApps.CDS.InnerError.Message"]).toBe(annotated.body.error.message);
});

test("DELETE: 204, then 404; cascade deletes the solution's child rows", async () => {
  const opportunity = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "Doomed" } })).headers["odata-entityid"]);
  const event = await sandbox.api("POST", SyncEvent.entitySetName, {
    body: { [SyncEvent.columns.primaryName]: "sync", [SyncEvent.columns.occurredOn]: "2026-01-01T10:00:00Z", [`${SyncEvent.lookups.opportunity.navigationProperty}@odata.bind`]: `/opportunities(${opportunity})` },
  });
  expect(event.status).toBe(204);
  expect((await sandbox.api("DELETE", `opportunities(${opportunity})`)).status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${opportunity})`)).status).toBe(404);
  expect((await sandbox.api("GET", event.headers["odata-entityid"] as string)).status).toBe(404);
  expect((await sandbox.api("DELETE", `opportunities(${opportunity})`)).status).toBe(404);
});

test("DELETE of a Microsoft Solution Detail in use is refused (Restrict)", async () => {
  const opportunity = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "Uses a solution" } })).headers["odata-entityid"]);
  const detail = (await sandbox.api("GET", `${MicrosoftSolutionDetail.entitySetName}?$top=1`)).body.value[0][MicrosoftSolutionDetail.primaryId];
  await sandbox.api("POST", MicrosoftSolution.entitySetName, {
    body: { [MicrosoftSolution.columns.primaryName]: "Attached", [`${MicrosoftSolution.lookups.opportunity.navigationProperty}@odata.bind`]: `/opportunities(${opportunity})`, [`${MicrosoftSolution.lookups.solutionDetail.navigationProperty}@odata.bind`]: `/${MicrosoftSolutionDetail.entitySetName}(${detail})` },
  });
  const res = await sandbox.api("DELETE", `${MicrosoftSolutionDetail.entitySetName}(${detail})`);
  expect(res.status).toBe(405);
  expect(res.body.error.code).toBe("0x80040227");
});

test("a single property can be written with PUT and cleared with DELETE", async () => {
  const id = idFrom((await sandbox.api("POST", "opportunities", { body: { name: "Prop", description: "d" } })).headers["odata-entityid"]);
  expect((await sandbox.api("PUT", `opportunities(${id})/name`, { body: { value: "Put" } })).status).toBe(204);
  expect((await sandbox.api("DELETE", `opportunities(${id})/description`)).status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${id})?$select=name,description`)).body).toMatchObject({ name: "Put", description: null });
});

test("CallerObjectId impersonates: the record is the seller's, made on behalf by the relay", async () => {
  const res = await sandbox.api("POST", "accounts", { as: "relay", body: { name: "Impersonated" }, headers: { callerobjectid: DEMO_USERS.seller.oid } });
  expect(res.status).toBe(204);
  const row = (await sandbox.api("GET", `${String(res.headers["odata-entityid"]).replace(ORG_URL, "")}?$select=_createdby_value,_createdonbehalfby_value`)).body;
  expect(row._createdby_value).toBe((await sandbox.api("GET", "WhoAmI", { as: "seller" })).body.UserId);
  expect(row._createdonbehalfby_value).toBe((await sandbox.api("GET", "WhoAmI", { as: "relay" })).body.UserId);
});

test("security roles: the solution's roles, the N:N systemuserroles_association read with $expand, associate and disassociate through $ref", async () => {
  const roles = (await sandbox.api("GET", "roles?$select=name&$orderby=name")).body.value.map((r: { roleid: string; name: string }) => [r.roleid, r.name]);
  expect(roles).toEqual(Object.values(Roles).map((r) => [r.id, r.name]).sort((a, b) => a[1]!.localeCompare(b[1]!)));
  const rolesOf = async (who: "relay" | "seller"): Promise<string[]> => {
    const me = (await sandbox.api("GET", "WhoAmI", { as: who })).body.UserId;
    const user = (await sandbox.api("GET", `systemusers(${me})?$select=fullname&$expand=systemuserroles_association($select=name)`)).body;
    return user.systemuserroles_association.map((r: { name: string }) => r.name);
  };
  expect(await rolesOf("relay")).toEqual([Roles.partnerCenterRelay.name]);
  expect(await rolesOf("seller")).toEqual([]);

  const seller = (await sandbox.api("GET", "WhoAmI", { as: "seller" })).body.UserId;
  const roleUrl = `${ORG_URL}/api/data/v9.2/roles(${Roles.partnerCenterSeller.id})`;
  expect((await sandbox.api("POST", `systemusers(${seller})/systemuserroles_association/$ref`, { body: { "@odata.id": roleUrl } })).status).toBe(204);
  expect(await rolesOf("seller")).toEqual([Roles.partnerCenterSeller.name]);
  const again = await sandbox.api("POST", `systemusers(${seller})/systemuserroles_association/$ref`, { body: { "@odata.id": roleUrl } });
  expect([again.status, again.body.error.code]).toEqual([400, "0x80040237"]);
  const fromRole = (await sandbox.api("GET", `roles(${Roles.partnerCenterSeller.id})/systemuserroles_association?$select=fullname`)).body.value;
  expect(fromRole.map((u: { systemuserid: string }) => u.systemuserid)).toEqual([seller]);

  expect((await sandbox.api("DELETE", `systemusers(${seller})/systemuserroles_association(${Roles.partnerCenterSeller.id})/$ref`)).status).toBe(204);
  expect(await rolesOf("seller")).toEqual([]);
  expect((await sandbox.api("POST", `systemusers(${seller})/systemuserroles_association/$ref`, { body: { "@odata.id": roleUrl } })).status).toBe(204);
  expect((await sandbox.api("DELETE", `systemusers(${seller})/systemuserroles_association/$ref?$id=${roleUrl}`)).status).toBe(204);
  expect(await rolesOf("seller")).toEqual([]);
  const wrong = await sandbox.api("POST", `systemusers(${seller})/systemuserroles_association/$ref`, { body: { "@odata.id": `${ORG_URL}/api/data/v9.2/accounts(${await accountId("NL")})` } });
  expect(wrong.status).toBe(400);
});

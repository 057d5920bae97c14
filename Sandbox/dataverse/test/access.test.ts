// Per-user read access, the smallest faithful slice of Dataverse security: interactive users read
// user-owned rows owned in their own business unit (a Business Unit read privilege); application users
// read everything. A row owned elsewhere answers 403 (AccessCheckEx) by id and is left out of lists,
// also when the relay reads on a user's behalf (CallerObjectId).
import { DEMO_USERS } from "../../shared/demo-tenant.ts";
import { startSandbox, type TestSandbox } from "./helpers.ts";

let sandbox: TestSandbox;
let unitId: string;
let noelId: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.control("POST", "/sandbox/reset");
  const unit = await sandbox.api("POST", "businessunits", { body: { name: "Fabrikam division" }, headers: { prefer: "return=representation" } });
  unitId = unit.body.businessunitid;
  noelId = (await sandbox.api("GET", "WhoAmI", { as: "noReferralRole" })).body.UserId;
  const moved = await sandbox.api("PATCH", `systemusers(${noelId})`, { body: { "businessunitid@odata.bind": `/businessunits(${unitId})` } });
  expect(moved.status).toBe(204);
});
afterAll(async () => {
  await sandbox.close();
});

test("a user in another business unit cannot read the seller's account: 403 by id, left out of lists", async () => {
  const { headers } = await sandbox.api("POST", "accounts", { as: "seller", body: { name: "Seller's customer" } });
  const id = /\(([0-9a-f-]{36})\)$/.exec(String(headers["odata-entityid"]))![1]!;

  expect((await sandbox.api("GET", `accounts(${id})?$select=name`, { as: "seller" })).status).toBe(200);
  expect((await sandbox.api("GET", `accounts(${id})?$select=name`, { as: "relay" })).status).toBe(200);
  const denied = await sandbox.api("GET", `accounts(${id})?$select=name`, { as: "noReferralRole" });
  expect(denied.status).toBe(403);
  expect(denied.body.error.code).toBe("0x80048306");
  expect(denied.body.error.message).toMatch(/^SecLib::AccessCheckEx failed\. .*ObjectID: [0-9a-f-]{36}, .*AccessRights: ReadAccess/);
  expect((await sandbox.api("GET", `accounts(${id})/name`, { as: "noReferralRole" })).status).toBe(403);

  const list = await sandbox.api("GET", "accounts?$select=name", { as: "noReferralRole" });
  expect(list.body.value.map((a: { name: string }) => a.name)).not.toContain("Seller's customer");
  expect((await sandbox.api("GET", "accounts?$select=name", { as: "seller" })).body.value.map((a: { name: string }) => a.name)).toContain("Seller's customer");
});

test("impersonation reads as the impersonated user; a row the user owns in the other unit is theirs to read", async () => {
  const { headers } = await sandbox.api("POST", "accounts", { as: "seller", body: { name: "Another customer" } });
  const id = /\(([0-9a-f-]{36})\)$/.exec(String(headers["odata-entityid"]))![1]!;
  expect((await sandbox.api("GET", `accounts(${id})`, { as: "relay", headers: { callerobjectid: DEMO_USERS.noReferralRole.oid } })).status).toBe(403);
  expect((await sandbox.api("GET", `accounts(${id})`, { as: "relay", headers: { callerobjectid: DEMO_USERS.seller.oid } })).status).toBe(200);

  const own = await sandbox.api("POST", "accounts", { as: "noReferralRole", body: { name: "Noel's customer" }, headers: { prefer: "return=representation" } });
  expect(own.body._owningbusinessunit_value).toBe(unitId);
  expect((await sandbox.api("GET", `accounts(${own.body.accountid})`, { as: "noReferralRole" })).status).toBe(200);
  expect((await sandbox.api("GET", `accounts(${own.body.accountid})`, { as: "seller" })).status).toBe(403);
});

test("a row assigned to a user is owned in that user's business unit", async () => {
  const created = await sandbox.api("POST", "accounts", { body: { name: "Assigned", "ownerid@odata.bind": `/systemusers(${noelId})` }, headers: { prefer: "return=representation" } });
  expect(created.body._owningbusinessunit_value).toBe(unitId);
  expect((await sandbox.api("GET", `accounts(${created.body.accountid})`, { as: "noReferralRole" })).status).toBe(200);
  const sellerId = (await sandbox.api("GET", "WhoAmI", { as: "seller" })).body.UserId;
  await sandbox.api("PATCH", `accounts(${created.body.accountid})`, { body: { "ownerid@odata.bind": `/systemusers(${sellerId})` } });
  expect((await sandbox.api("GET", `accounts(${created.body.accountid})`, { as: "noReferralRole" })).status).toBe(403);
});

// State models: opportunity Open → Won / Lost only through WinOpportunity / LoseOpportunity (with an
// opportunityclose record), lead Open → Qualified through QualifyLead (creating the account, contact
// and opportunity asked for) and Open → Disqualified with a statecode/statuscode PATCH.
import { startSandbox, type TestSandbox } from "./helpers.ts";

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

async function newOpportunity(): Promise<string> {
  const res = await sandbox.api("POST", "opportunities", { as: "seller", body: { name: "Deal", estimatedvalue: 1000 } });
  return idFrom(res.headers["odata-entityid"]);
}

async function newLead(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await sandbox.api("POST", "leads", { as: "seller", body: { subject: "Interested in Azure", firstname: "Eva", lastname: "Bakker", companyname: "Bakker BV", emailaddress1: "eva@bakker.example", address1_country: "NL", estimatedamount: 2500, ...extra } });
  expect(res.status).toBe(204);
  return idFrom(res.headers["odata-entityid"]);
}

test("WinOpportunity closes the opportunity as Won and records the opportunityclose", async () => {
  const id = await newOpportunity();
  const res = await sandbox.api("POST", "WinOpportunity", { body: { Status: 3, OpportunityClose: { subject: "Won it", actualrevenue: 1200, actualend: "2026-06-30", "opportunityid@odata.bind": `/opportunities(${id})` } } });
  expect(res.status).toBe(204);
  const opportunity = (await sandbox.api("GET", `opportunities(${id})?$select=statecode,statuscode,actualvalue,actualclosedate,closeprobability`)).body;
  expect(opportunity).toMatchObject({ statecode: 1, statuscode: 3, actualvalue: 1200, actualclosedate: "2026-06-30", closeprobability: 100 });
  const closes = (await sandbox.api("GET", `opportunitycloses?$select=subject,actualrevenue,statecode,statuscode&$filter=_opportunityid_value eq ${id}`)).body.value;
  expect(closes).toEqual([expect.objectContaining({ subject: "Won it", actualrevenue: 1200, statecode: 1, statuscode: 2 })]);
});

test("LoseOpportunity closes as Lost with the status asked (5 Out-Sold)", async () => {
  const id = await newOpportunity();
  const res = await sandbox.api("POST", "LoseOpportunity", { body: { Status: 5, OpportunityClose: { subject: "Lost", "opportunityid@odata.bind": `/opportunities(${id})` } } });
  expect(res.status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${id})?$select=statecode,statuscode,closeprobability`)).body).toMatchObject({ statecode: 2, statuscode: 5, closeprobability: 0 });
});

test("invalid opportunity transitions are refused like Dataverse", async () => {
  const id = await newOpportunity();
  const wrongStatus = await sandbox.api("POST", "WinOpportunity", { body: { Status: 5, OpportunityClose: { "opportunityid@odata.bind": `/opportunities(${id})` } } });
  expect(wrongStatus.status).toBe(400);
  expect(wrongStatus.body.error.message).toBe(`5 is not a valid status code for state code OpportunityState.Won on opportunity with Id ${id}.`);
  const patchWon = await sandbox.api("PATCH", `opportunities(${id})`, { body: { statecode: 1, statuscode: 3 } });
  expect(patchWon.status).toBe(400);
  expect(patchWon.body.error.message).toBe("This message can not be used to set the state of opportunity to Won. In order to set state of opportunity to Won, use the WinOpportunityRequest message instead.");
  const patchLost = await sandbox.api("PATCH", `opportunities(${id})`, { body: { statecode: 2 } });
  expect(patchLost.body.error.message).toMatch(/use the LoseOpportunityRequest message instead/);
  const createdWon = await sandbox.api("POST", "opportunities", { body: { name: "Born won", statecode: 1 } });
  expect(createdWon.status).toBe(400);
  expect((await sandbox.api("POST", "WinOpportunity", { body: { Status: 3, OpportunityClose: { "opportunityid@odata.bind": `/opportunities(${id})` } } })).status).toBe(204);
  const again = await sandbox.api("POST", "LoseOpportunity", { body: { Status: 4, OpportunityClose: { "opportunityid@odata.bind": `/opportunities(${id})` } } });
  expect(again.status).toBe(400);
  const missingClose = await sandbox.api("POST", "WinOpportunity", { body: { Status: 3 } });
  expect(missingClose.status).toBe(400);
  // Reopening is a plain update back to Open.
  expect((await sandbox.api("PATCH", `opportunities(${id})`, { body: { statecode: 0, statuscode: 2 } })).status).toBe(204);
  expect((await sandbox.api("GET", `opportunities(${id})?$select=statecode,statuscode`)).body).toMatchObject({ statecode: 0, statuscode: 2 });
});

test("QualifyLead creates the account, contact and opportunity asked for, links them and qualifies the lead", async () => {
  const lead = await newLead();
  const eur = (await sandbox.api("GET", "transactioncurrencies?$select=isocurrencycode&$filter=isocurrencycode eq 'EUR'")).body.value[0].transactioncurrencyid;
  const res = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, {
    as: "seller", body: { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3, "OpportunityCurrencyId@odata.bind": `/transactioncurrencies(${eur})` },
  });
  expect(res.status).toBe(200);
  expect(res.body["@odata.context"]).toMatch(/\$metadata#Collection\(Microsoft\.Dynamics\.CRM\.crmbaseentity\)$/);
  const [account, contact, opportunity] = res.body.value;
  expect(account["@odata.type"]).toBe("#Microsoft.Dynamics.CRM.account");
  expect(contact["@odata.type"]).toBe("#Microsoft.Dynamics.CRM.contact");
  expect(opportunity["@odata.type"]).toBe("#Microsoft.Dynamics.CRM.opportunity");
  expect((await sandbox.api("GET", `accounts(${account.accountid})?$select=name,address1_country,_originatingleadid_value`)).body).toMatchObject({ name: "Bakker BV", address1_country: "NL", _originatingleadid_value: lead });
  expect((await sandbox.api("GET", `contacts(${contact.contactid})?$select=fullname,_parentcustomerid_value`)).body).toMatchObject({ fullname: "Eva Bakker", _parentcustomerid_value: account.accountid });
  expect((await sandbox.api("GET", `opportunities(${opportunity.opportunityid})?$select=name,estimatedvalue,_customerid_value,_parentaccountid_value,_parentcontactid_value,_originatingleadid_value,_transactioncurrencyid_value`)).body).toMatchObject({
    name: "Interested in Azure", estimatedvalue: 2500, _customerid_value: account.accountid, _parentaccountid_value: account.accountid, _parentcontactid_value: contact.contactid,
    _originatingleadid_value: lead, _transactioncurrencyid_value: eur,
  });
  expect((await sandbox.api("GET", `leads(${lead})?$select=statecode,statuscode,_qualifyingopportunityid_value`)).body).toMatchObject({ statecode: 1, statuscode: 3, _qualifyingopportunityid_value: opportunity.opportunityid });
});

test("QualifyLead with only an opportunity for an existing customer; refusals for closed leads and wrong status", async () => {
  const lead = await newLead();
  const customer = (await sandbox.api("GET", "accounts?$select=name&$filter=address1_country eq 'US'")).body.value[0].accountid;
  const wrong = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 4 } });
  expect(wrong.status).toBe(400);
  expect(wrong.body.error.message).toBe(`4 is not a valid status code for state code LeadState.Qualified on lead with Id ${lead}.`);
  const res = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 3, "OpportunityCustomerId@odata.bind": `/accounts(${customer})` } });
  expect(res.status).toBe(200);
  expect(res.body.value.map((v: { "@odata.type": string }) => v["@odata.type"])).toEqual(["#Microsoft.Dynamics.CRM.opportunity"]);
  expect((await sandbox.api("GET", `opportunities(${res.body.value[0].opportunityid})?$select=_customerid_value`)).body._customerid_value).toBe(customer);
  const again = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { CreateAccount: false, CreateContact: false, CreateOpportunity: false, Status: 3 } });
  expect(again.status).toBe(400);
  const patchQualified = await sandbox.api("PATCH", `leads(${await newLead()})`, { body: { statecode: 1, statuscode: 3 } });
  expect(patchQualified.body.error.message).toBe("This message can not be used to set the state of lead to Qualified. In order to set state of lead to Qualified, use the QualifyLeadRequest message instead.");
});

test("a failing part of QualifyLead rolls the whole message back", async () => {
  const lead = await newLead({ companyname: null });
  const res = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 } });
  expect(res.status).toBe(400);
  expect((await sandbox.api("GET", `leads(${lead})?$select=statecode`)).body.statecode).toBe(0);
  expect((await sandbox.api("GET", `contacts?$filter=_originatingleadid_value eq ${lead}`)).body.value).toEqual([]);
});

test("a lead is disqualified with a statecode/statuscode PATCH, reactivated, and a status must fit its state", async () => {
  const lead = await newLead();
  const mismatch = await sandbox.api("PATCH", `leads(${lead})`, { body: { statecode: 2, statuscode: 3 } });
  expect(mismatch.status).toBe(400);
  expect(mismatch.body.error.message).toBe(`3 is not a valid status code for state code LeadState.Disqualified on lead with Id ${lead}.`);
  expect((await sandbox.api("PATCH", `leads(${lead})`, { body: { statecode: 2, statuscode: 6 } })).status).toBe(204);
  expect((await sandbox.api("GET", `leads(${lead})?$select=statecode,statuscode`)).body).toMatchObject({ statecode: 2, statuscode: 6 });
  const qualifyDisqualified = await sandbox.api("POST", `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 3 } });
  expect(qualifyDisqualified.status).toBe(400);
  expect((await sandbox.api("PATCH", `leads(${lead})`, { body: { statecode: 0, statuscode: 1 } })).status).toBe(204);
  // statuscode alone implies its state
  expect((await sandbox.api("PATCH", `leads(${lead})`, { body: { statuscode: 4 } })).status).toBe(204);
  expect((await sandbox.api("GET", `leads(${lead})?$select=statecode,statuscode`)).body).toMatchObject({ statecode: 2, statuscode: 4 });
});

// The lead actions' platform adapter without a DOM: QualifyLead through the page's Xrm when there is
// one, else a same-origin POST to the org's Web API; the Decline update; lead mode's context mapping.
import { Lead, Opportunity } from "../../../Core/generated/schema.ts";
import { readEntityTypeName, readProps, readTexts } from "../props.ts";
import { createdOpportunityId, createLeadActions, qualifyLeadBody, type XrmExecute } from "../services/leadActions.ts";
import { LEAD_ACCOUNT_ID, LEAD_CURRENCY_ID, LEAD_ID, leadParameters, NEW_OPPORTUNITY_ID, parameters, seedLeadWebApi } from "./fixtures.ts";
import { MockContext, MockNavigation } from "./mocks.ts";
import { loadStrings } from "./strings.ts";

const ORG = "https://contoso.crm4.dynamics.com";

interface Sent {
  url: string;
  init: RequestInit;
}

function actions(answer: { status: number; body: unknown }, xrm?: XrmExecute) {
  const sent: Sent[] = [];
  const navigation = new MockNavigation();
  const webAPI = seedLeadWebApi();
  const lead = createLeadActions({
    webAPI: () => webAPI,
    xrm: () => xrm,
    fetch: (url, init) => {
      sent.push({ url, init: init ?? {} });
      return Promise.resolve({ ok: answer.status < 300, status: answer.status, json: () => Promise.resolve(answer.body) } as unknown as Response);
    },
    origin: () => ORG,
    navigation: () => navigation,
  });
  return { lead, sent, navigation, webAPI };
}

test("without Xrm on the page, Accept POSTs QualifyLead to the org's own Web API, with the user's session", async () => {
  const { lead, sent } = actions({ status: 200, body: { value: [{ "@odata.type": "#Microsoft.Dynamics.CRM.opportunity", opportunityid: NEW_OPPORTUNITY_ID.toUpperCase() }] } });
  expect(await lead.accept(LEAD_ID)).toEqual({ opportunityId: NEW_OPPORTUNITY_ID });
  expect(sent).toHaveLength(1);
  expect(sent[0]!.url).toBe(`${ORG}/api/data/v9.2/leads(${LEAD_ID})/Microsoft.Dynamics.CRM.QualifyLead`);
  expect(sent[0]!.init).toMatchObject({ method: "POST", credentials: "same-origin", headers: { "OData-Version": "4.0", "Content-Type": "application/json; charset=utf-8" } });
  expect(JSON.parse(String(sent[0]!.init.body))).toEqual({
    CreateAccount: false,
    CreateContact: false,
    CreateOpportunity: true,
    Status: 3,
    OpportunityCustomerId: { "@odata.type": "Microsoft.Dynamics.CRM.account", accountid: LEAD_ACCOUNT_ID },
    OpportunityCurrencyId: { "@odata.type": "Microsoft.Dynamics.CRM.transactioncurrency", transactioncurrencyid: LEAD_CURRENCY_ID },
  });
});

test("a refusal keeps Dataverse's message; a body that is not JSON says the status", async () => {
  const refusal = "This referral expired in Partner Center on 2026-11-19 and can no longer be accepted.";
  await expect(actions({ status: 400, body: { error: { code: "0x80040265", message: refusal } } }).lead.accept(LEAD_ID)).rejects.toThrow(refusal);
  await expect(actions({ status: 502, body: "<html>" }).lead.accept(LEAD_ID)).rejects.toThrow("HTTP 502");
});

test("with Xrm on the page, QualifyLead goes through Xrm.WebApi.online.execute and nothing is fetched", async () => {
  const requests: unknown[] = [];
  const xrm: XrmExecute = {
    WebApi: { online: { execute: (request) => (requests.push(request), Promise.resolve({ ok: true, json: () => Promise.resolve({ value: [] }) })) } },
  };
  const { lead, sent } = actions({ status: 500, body: {} }, xrm);
  expect(await lead.accept(LEAD_ID)).toEqual({ opportunityId: null });
  expect(sent).toEqual([]);
  expect(requests).toHaveLength(1);
});

test("Decline updates the lead to Disqualified with the reason and the note; an empty note clears it", async () => {
  const { lead, webAPI } = actions({ status: 200, body: {} });
  await lead.decline(LEAD_ID, 5, "  ");
  expect(webAPI.rows(Lead.logicalName)[0]).toMatchObject({ statecode: 2, statuscode: 5, qualificationcomments: null });
});

test("opening the new opportunity uses PCF's navigation", async () => {
  const { lead, navigation } = actions({ status: 200, body: {} });
  await lead.openOpportunity(NEW_OPPORTUNITY_ID);
  expect(navigation.opened).toEqual([{ entityName: Opportunity.logicalName, entityId: NEW_OPPORTUNITY_ID }]);
});

test("the Web API body and the answer's opportunity id are pure", () => {
  expect(qualifyLeadBody({ leadId: LEAD_ID, customerAccountId: null, currencyId: null })).toEqual({ CreateAccount: false, CreateContact: false, CreateOpportunity: true, Status: 3 });
  expect(createdOpportunityId({ value: [{ "@odata.type": "#Microsoft.Dynamics.CRM.account", accountid: LEAD_ACCOUNT_ID }] })).toBeNull();
  expect(createdOpportunityId(null)).toBeNull();
});

test("the card is in lead mode only on a lead form; the opportunity form's props are as before", () => {
  const strings = loadStrings(1033);
  const opportunity = new MockContext({ parameters: parameters(), strings });
  const leadForm = new MockContext({ parameters: leadParameters(), strings, entityTypeName: "lead", entityId: LEAD_ID });
  expect(readEntityTypeName(opportunity)).toBe("opportunity");
  expect(readEntityTypeName(leadForm)).toBe("lead");
  const services = {} as Parameters<typeof readProps>[2];
  const onOpportunity = readProps(opportunity, readTexts(opportunity.resources), services, () => undefined);
  expect(onOpportunity.lead).toBeNull();
  expect(onOpportunity.missingBindings).toEqual([]);
  const onLead = readProps(leadForm, readTexts(leadForm.resources), services, () => undefined);
  expect(onLead.opportunityId).toBeNull();
  expect(onLead.lead).toMatchObject({ id: LEAD_ID, timeZoneOffsetMinutes: 0 });
  expect(onLead.lead!.fields.respondBy.value).toEqual(new Date("2026-11-22T17:00:00Z"));
  // The lead has no Microsoft side nor visibility: not missing on the lead form.
  expect(onLead.missingBindings).toEqual([]);
});

import { mergeFields, normalize, fieldsFromReferral, toReferralPatch, toReferralCreate, toMicrosoftReferralCreate, canonicalFields, unpatchable, FIELDS, type SyncedFields } from "../mapping.ts";
import type { Referral } from "../referral.ts";

const base: SyncedFields = normalize({
  name: "Fabrikam migration", dealValue: 120000, currency: "EUR", closeDate: "2026-12-31", notes: "Architecture help",
  helpRequested: "CustomerTechnicalArchitecture", visibleToMicrosoft: true, customerName: "Fabrikam",
  customerAddress: { addressLine1: "Damrak 1", addressLine2: "", city: "Amsterdam", state: "", postalCode: "1012 LG", country: "NL" },
  customerContact: { firstName: "Ann", lastName: "Lee", email: "ann@fabrikam.example", phoneNumber: "" },
  solutions: ["SOL-34104-EBB"],
});

describe("field mapping specification", () => {
  test("every synced field has exactly one specification with a referral path", () => {
    const keys = Object.keys(base).sort();
    expect(FIELDS.map((f) => f.field).sort()).toEqual(keys);
    for (const f of FIELDS) expect(f.referralPath.startsWith("/")).toBe(true);
  });
});

describe("normalize and fingerprints", () => {
  test("equal deals give the same canonical text whatever the formatting", () => {
    const messy = { ...base, name: "  Fabrikam migration ", currency: "eur", closeDate: "2026-12-31T00:00:00Z", solutions: ["SOL-34104-EBB", "SOL-34104-EBB"],
      customerContact: { ...base.customerContact!, email: "ANN@fabrikam.example" }, customerAddress: { ...base.customerAddress, country: "nl" } };
    expect(canonicalFields(messy)).toBe(canonicalFields(base));
    expect(canonicalFields({ ...base, dealValue: 120001 })).not.toBe(canonicalFields(base));
  });
});

describe("three-way merge", () => {
  test("first sync: Dynamics' values go to Partner Center", () => {
    const partnerCenter = { ...base, dealValue: 0, notes: "" };
    const result = mergeFields(null, base, partnerCenter);
    expect(result.toPartnerCenter).toEqual({ dealValue: 120000, notes: "Architecture help" });
    expect(result.toDynamics).toEqual({});
  });

  test("a change in Dynamics only goes to Partner Center; one in Partner Center only comes to Dynamics", () => {
    const out = mergeFields(base, { ...base, dealValue: 150000 }, base);
    expect(out.toPartnerCenter).toEqual({ dealValue: 150000 });
    expect(out.toDynamics).toEqual({});
    const inbound = mergeFields(base, base, { ...base, closeDate: "2027-01-31" });
    expect(inbound.toDynamics).toEqual({ closeDate: "2027-01-31" });
    expect(inbound.toPartnerCenter).toEqual({});
    expect(inbound.conflicts).toEqual([]);
  });

  test("both sides changed a partner-owned field: Dynamics wins and the conflict is reported", () => {
    const result = mergeFields(base, { ...base, dealValue: 150000 }, { ...base, dealValue: 90000 });
    expect(result.toPartnerCenter).toEqual({ dealValue: 150000 });
    expect(result.conflicts).toEqual([expect.objectContaining({ field: "dealValue", winner: "dynamics", dynamics: 150000, partnerCenter: 90000 })]);
    expect(result.merged.dealValue).toBe(150000);
  });

  test("visibility never goes back to private", () => {
    const result = mergeFields(base, { ...base, visibleToMicrosoft: false }, base);
    expect(result.toPartnerCenter).toEqual({});
    expect(result.toDynamics).toEqual({ visibleToMicrosoft: true });
    expect(result.conflicts[0]).toMatchObject({ field: "visibleToMicrosoft", winner: "partnerCenter" });
  });

  test("create-only fields never ping-pong", () => {
    const result = mergeFields(base, { ...base, customerName: "Fabrikam BV" }, base);
    expect(result.toPartnerCenter).toEqual({});
    expect(result.toDynamics).toEqual({});
  });

  test("nothing changed: nothing to write", () => {
    const result = mergeFields(base, base, base);
    expect(result).toMatchObject({ toPartnerCenter: {}, toDynamics: {}, conflicts: [] });
  });
});

describe("Partner Center bodies", () => {
  test("patch uses replace on the documented paths, with a UTC closing date and solution tags", () => {
    const ops = toReferralPatch({ dealValue: 150000, closeDate: "2027-01-31", solutions: ["SOL-1"] }, [{ id: "SOL-1", name: "Contoso Ale", solutionType: "3P" }]);
    expect(ops).toEqual([
      { op: "replace", path: "/details/dealValue", value: 150000 },
      { op: "replace", path: "/details/closingDateTime", value: "2027-01-31T00:00:00Z" },
      { op: "replace", path: "/details/requirements/solutions", value: [{ id: "SOL-1", type: "Name", name: "Contoso Ale", solutionType: "3P" }] },
    ]);
    expect(unpatchable({ customerName: "x", dealValue: 1 })).toEqual(["customerName"]);
  });

  test("a deal with help requested creates a Shared, visible co-sell and Microsoft's related referral", () => {
    const body = toReferralCreate({ opportunityId: "opp-1", fields: base, solutionDetails: [], team: [] }) as Record<string, unknown> & { consent: Record<string, unknown> };
    expect(body).toMatchObject({ type: "Shared", externalReferenceId: "opp-1", consent: { consentToShareReferralWithMicrosoftSellers: true },
      inviteContext: { assistanceRequestCode: "CustomerTechnicalArchitecture" }, details: { currency: "EUR", closingDateTime: "2026-12-31T00:00:00Z" },
      customerProfile: { address: { country: "NL", postalCode: "1012 LG" }, team: [{ email: "ann@fabrikam.example" }] } });
    const microsoft = toMicrosoftReferralCreate({ engagementId: "eng-1" } as Referral, { opportunityId: "opp-1", fields: base, solutionDetails: [], team: [] });
    expect(microsoft).toMatchObject({ engagementId: "eng-1", target: [{ type: "BusinessProfileLocation", id: "msft" }] });
  });

  test("a private deal is Independent and not visible", () => {
    const body = toReferralCreate({ opportunityId: "o", fields: { ...base, helpRequested: null, visibleToMicrosoft: false }, solutionDetails: [], team: [] }) as Record<string, unknown> & { consent: Record<string, unknown> };
    expect(body.type).toBe("Independent");
    expect(body.consent.consentToShareReferralWithMicrosoftSellers).toBe(false);
    expect(body.inviteContext).toBeUndefined();
  });

  test("reading a referral back gives the fields it was created from", () => {
    const body = toReferralCreate({ opportunityId: "o", fields: base, solutionDetails: [], team: [] }) as unknown as Referral;
    expect(canonicalFields(fieldsFromReferral(body))).toBe(canonicalFields(base));
  });
});

import { decideLifecycle, qualifyMissing, qualifyRefusal, statusReasonText, type RecordState, type ReferralState } from "../lifecycle.ts";
import { senderOf, type Status, type Substatus } from "../referral.ts";

const r = (status: Status, substatus: Substatus): ReferralState => ({ status, substatus });
const opp = (state: "open" | "won" | "lost"): RecordState => ({ type: "opportunity", state });
const lead = (state: "open" | "qualified" | "disqualified"): RecordState => ({ type: "lead", state });

describe("the seller's decisions become Partner Center's", () => {
  test("qualify accepts, disqualify declines (or loses an accepted referral)", () => {
    expect(decideLifecycle(lead("qualified"), r("New", "Pending"), r("New", "Pending"))).toMatchObject({ kind: "toPartnerCenter", status: "Active", substatus: "Accepted" });
    expect(decideLifecycle(lead("disqualified"), r("New", "Pending"), null)).toMatchObject({ kind: "toPartnerCenter", status: "Closed", substatus: "Declined" });
    expect(decideLifecycle(lead("disqualified"), r("Active", "Accepted"), null)).toMatchObject({ kind: "toPartnerCenter", status: "Closed", substatus: "Lost" });
    expect(decideLifecycle(lead("qualified"), r("Active", "Accepted"), null)).toEqual({ kind: "none" });
  });
  test("win and lose close the referral; an opportunity closed on both sides is left alone", () => {
    expect(decideLifecycle(opp("won"), r("Active", "Accepted"), null)).toMatchObject({ kind: "toPartnerCenter", status: "Closed", substatus: "Won" });
    expect(decideLifecycle(opp("lost"), r("Active", "Accepted"), null)).toMatchObject({ kind: "toPartnerCenter", status: "Closed", substatus: "Lost" });
    expect(decideLifecycle(opp("won"), r("Closed", "Lost"), null)).toEqual({ kind: "none" });
    expect(decideLifecycle(opp("open"), r("Active", "Accepted"), null)).toEqual({ kind: "none" });
  });
});

describe("Partner Center's closing reaches Dynamics 365 once", () => {
  test("Won and Lost close the opportunity; Declined and Expired disqualify the lead", () => {
    expect(decideLifecycle(opp("open"), r("Closed", "Won"), r("Active", "Accepted"))).toMatchObject({ kind: "toDynamics", action: "win" });
    expect(decideLifecycle(opp("open"), r("Closed", "Lost"), null)).toMatchObject({ kind: "toDynamics", action: "lose" });
    expect(decideLifecycle(lead("open"), r("Closed", "Expired"), r("New", "Pending"))).toMatchObject({ kind: "toDynamics", action: "disqualify", why: expect.stringContaining("14 days") });
    expect(decideLifecycle(lead("open"), r("Closed", "Declined"), null)).toMatchObject({ kind: "toDynamics", action: "disqualify" });
  });
  test("a record reopened after its referral closed is never closed again, nor the referral reopened", () => {
    expect(decideLifecycle(opp("open"), r("Closed", "Won"), r("Closed", "Won"))).toMatchObject({ kind: "closedInPartnerCenter", why: expect.stringContaining("cannot be reopened") });
    expect(decideLifecycle(lead("open"), r("Closed", "Expired"), r("Closed", "Expired"))).toMatchObject({ kind: "closedInPartnerCenter" });
  });
  test("an opportunity whose referral was declined stays open and is told so", () => {
    expect(decideLifecycle(opp("open"), r("Closed", "Declined"), null)).toMatchObject({ kind: "closedInPartnerCenter", why: expect.stringContaining("stays open") });
  });
});

describe("qualifying a synced lead", () => {
  const now = new Date("2027-01-10T12:00:00Z");
  test("needs revenue and a close date, named in one message", () => {
    expect(qualifyMissing({ estimatedRevenue: null, estimatedCloseDate: null })).toBe("Partner Center needs Est. Revenue and Est. Close Date to accept the referral: fill them in before you qualify the lead.");
    expect(qualifyMissing({ estimatedRevenue: 0, estimatedCloseDate: null })).toContain("Est. Close Date");
    expect(qualifyMissing({ estimatedRevenue: 10, estimatedCloseDate: "2027-03-01" })).toBeNull();
  });
  test("is refused when the referral can no longer be accepted, with the reason", () => {
    expect(qualifyRefusal(undefined, null, now)).toContain("withdrawn");
    expect(qualifyRefusal(r("Closed", "Expired"), "2027-01-05T00:00:00Z", now)).toBe("The referral expired on 2027-01-05 in Partner Center and can no longer be accepted. Disqualify the lead instead.");
    expect(qualifyRefusal(r("Closed", "Declined"), null, now)).toContain("Closed/Declined");
    expect(qualifyRefusal(r("New", "Pending"), "2027-01-09T00:00:00Z", now)).toContain("ran out");
    expect(qualifyRefusal(r("New", "Pending"), "2027-01-20T00:00:00Z", now)).toBeNull();
    expect(qualifyRefusal(r("Active", "Accepted"), null, now)).toBeNull();
  });
});

test("the status reason joins the reason and the seller's note", () => {
  expect(statusReasonText("No longer interested", " Outside our regions ")).toBe("No longer interested: Outside our regions");
  expect(statusReasonText(null, "")).toBeNull();
  expect(statusReasonText("Won", null)).toBe("Won");
});

test("the sender of an incoming referral: organisation and person", () => {
  expect(senderOf({ inviteContext: { invitedBy: { organizationId: "msft", organizationName: "Microsoft" } }, team: [{ firstName: "Morgan", lastName: "Seller", email: "m@microsoft.example" }] }))
    .toBe("Microsoft (Morgan Seller, m@microsoft.example)");
  expect(senderOf({ inviteContext: { invitedBy: { organizationId: "msft" } } })).toBe("Microsoft");
  expect(senderOf({})).toBeNull();
});

import { canMove, isValidPair, isTerminal, isMicrosoftSide, isAwaitingAnswer, isMicrosoftQualifiedLead, type Status, type Substatus } from "../referral.ts";

const pair = (status: Status, substatus: Substatus) => ({ status, substatus });

describe("Partner Center status rules", () => {
  test("valid pairs follow the table", () => {
    expect(isValidPair("New", "Pending")).toBe(true);
    expect(isValidPair("Active", "Accepted")).toBe(true);
    expect(isValidPair("Closed", "Expired")).toBe(true);
    expect(isValidPair("Active", "Won")).toBe(false);
    expect(isValidPair("New", "Accepted")).toBe(false);
  });
  test("accept, decline, win and lose are allowed moves", () => {
    expect(canMove(pair("New", "Pending"), pair("Active", "Accepted"))).toBe(true);
    expect(canMove(pair("New", "Pending"), pair("Closed", "Declined"))).toBe(true);
    expect(canMove(pair("Active", "Accepted"), pair("Closed", "Won"))).toBe(true);
    expect(canMove(pair("Active", "Accepted"), pair("Closed", "Lost"))).toBe(true);
  });
  test("Closed is terminal: nothing reopens it or changes its substatus", () => {
    expect(isTerminal("Closed")).toBe(true);
    expect(canMove(pair("Closed", "Won"), pair("Active", "Accepted"))).toBe(false);
    expect(canMove(pair("Closed", "Expired"), pair("New", "Pending"))).toBe(false);
    expect(canMove(pair("Closed", "Lost"), pair("Closed", "Won"))).toBe(false);
    expect(canMove(pair("Closed", "Won"), pair("Closed", "Won"))).toBe(true);
  });
  test("Active never goes back to New", () => {
    expect(canMove(pair("Active", "Accepted"), pair("New", "Pending"))).toBe(false);
  });
  test("classifies Microsoft's side, waiting referrals and Microsoft's qualified leads", () => {
    expect(isMicrosoftSide({ target: [{ type: "BusinessProfileLocation", id: "msft" }] })).toBe(true);
    expect(isMicrosoftSide({ target: [{ type: "SolutionProfile", id: "SOL-1" }] })).toBe(false);
    expect(isAwaitingAnswer({ direction: "Incoming", status: "New" })).toBe(true);
    expect(isAwaitingAnswer({ direction: "Outgoing", status: "Active" })).toBe(false);
    expect(isMicrosoftQualifiedLead({ type: "Independent", qualification: "SalesQualified", inviteContext: { invitedBy: { organizationId: "msft" } } })).toBe(true);
    expect(isMicrosoftQualifiedLead({ type: "Shared", qualification: "SalesQualified", inviteContext: { invitedBy: { organizationId: "msft" } } })).toBe(false);
  });
});

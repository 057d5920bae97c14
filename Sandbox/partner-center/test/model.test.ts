// The pure model without HTTP: OData evaluation, JSON Patch reading, status rules, durations, faults.
import { parseDuration } from "../model/clock.ts";
import { FaultBook, readFault } from "../model/faults.ts";
import { eventDate, referralDate } from "../model/format.ts";
import { parseFilter, parseListQuery, runListQuery, type Stored } from "../model/odata.ts";
import { applyPatch, readPatch } from "../model/patch.ts";
import { canonicalize, REFERRAL, type JsonObject } from "../model/schema.ts";
import { checkTransition } from "../model/status.ts";

const referral = (overrides: JsonObject = {}): JsonObject => ({
  id: "a",
  status: "Active",
  substatus: "Accepted",
  direction: "Outgoing",
  name: "O'Brien & Co",
  details: { dealValue: 100, closingDateTime: "2027-01-01T00:00:00Z" },
  customerProfile: { address: { country: "US" } },
  team: [{ email: "A@example.com" }, { email: "b@example.com" }],
  createdDateTime: "2026-01-01T00:00:00.0000000Z",
  updatedDateTime: "2026-01-02T00:00:00.0000000Z",
  isSpam: false,
  ...overrides,
});

describe("$filter", () => {
  test.each([
    ["status eq 'Active'", true],
    ["status eq 'active'", true],
    ["status ne 'Active'", false],
    ["name eq 'O''Brien & Co'", true],
    ["details/dealValue ge 100 and details/dealValue lt 101", true],
    ["details/dealValue gt 100", false],
    ["100 le details/dealValue", true],
    ["createdDateTime lt 2026-01-01T12:00:00Z", true],
    ["createdDateTime gt 2026-01-01", false],
    ["details/closingDateTime ge 2026-12-31T00:00:00Z", true],
    ["team/any(t:t/email eq 'a@example.com')", true],
    ["team/all(t:t/email ne null)", true],
    ["team/any(t:t/email eq 'c@example.com')", false],
    ["not (status eq 'New')", true],
    ["statusReason eq null", true],
    ["isSpam eq false and (direction eq 'Incoming' or customerProfile/address/country eq 'US')", true],
    ["isSpam", false],
  ])("%s → %s", (filter, expected) => {
    expect(parseFilter(filter)(referral())).toBe(expected);
  });

  test.each(["status eq", "bogus eq 1", "team/any(t:t/colour eq 'x')", "startswith(name,'O')", "customerProfile/team/email eq 'x'", "name/any(x:x eq 'a')"])("rejects %s", (filter) => {
    expect(() => parseFilter(filter)).toThrow(expect.objectContaining({ status: 400, code: "invalidRequest" }));
  });
});

describe("paging", () => {
  const records: Stored[] = Array.from({ length: 7 }, (_, i) => ({ seq: i + 1, referral: referral({ id: `r${i}`, createdDateTime: referralDate(Date.UTC(2026, 0, 1 + (i % 3))) }) }));

  test("keyset pages in createdDateTime desc order with seq as the tie-break, without gaps or repeats", () => {
    const seen: string[] = [];
    let query = parseListQuery({ $orderby: "createdDateTime desc" });
    for (;;) {
      const page = runListQuery(records, query, 3);
      seen.push(...page.items.map((r) => String(r.id)));
      if (!page.next) break;
      query = parseListQuery({ $skiptoken: Buffer.from(JSON.stringify(page.next)).toString("base64url") });
    }
    expect(seen).toEqual(["r2", "r5", "r1", "r4", "r0", "r3", "r6"]);
  });
});

describe("JSON Patch", () => {
  test("reads add/replace with canonical paths and coerced values", () => {
    expect(readPatch([{ OP: "Replace", Path: "/DETAILS/dealvalue", Value: "12.5" }])).toEqual([{ op: "replace", path: "/details/dealValue", value: 12.5 }]);
    expect(readPatch([{ op: "add", path: "/team/-", value: { EMAIL: "x@y" } }])).toEqual([{ op: "add", path: "/team/-", value: { email: "x@y" } }]);
  });

  test("applies to a copy, creating parents the model knows", () => {
    const before = referral();
    const after = applyPatch(before, readPatch([{ op: "add", path: "/inviteContext/notes", value: "help" }, { op: "replace", path: "/team/0/email", value: "z@example.com" }]));
    expect(after.inviteContext).toEqual({ notes: "help" });
    expect((after.team as JsonObject[])[0]!.email).toBe("z@example.com");
    expect((before.team as JsonObject[])[0]!.email).toBe("A@example.com");
  });

  test("refuses out-of-range indexes and replace on '-'", () => {
    expect(() => applyPatch(referral(), readPatch([{ op: "replace", path: "/team/5/email", value: "x" }]))).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => readPatch([{ op: "replace", path: "/team/-", value: {} }])).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => readPatch([{ op: "add", path: "/team/x", value: {} }])).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => readPatch([{ op: "add", path: "/team" }])).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe("model reading", () => {
  test("enum names are written back in their documented case; unknown members dropped", () => {
    expect(canonicalize({ STATUS: "closed", Substatus: "won", Whatever: 1, Target: [{ TYPE: "businessprofilelocation", ID: "msft" }] }, REFERRAL)).toEqual({
      status: "Closed",
      substatus: "Won",
      target: [{ type: "BusinessProfileLocation", id: "msft" }],
    });
  });
});

describe("status rules", () => {
  const ok = (from: [string, string], to: [string, string], actor: "partner" | "microsoft" | "system" = "partner") => () =>
    checkTransition({ status: from[0], substatus: from[1] }, { status: to[0], substatus: to[1] }, actor);
  test("documented moves", () => {
    expect(ok(["New", "Pending"], ["New", "Received"])).not.toThrow();
    expect(ok(["New", "Pending"], ["Active", "Accepted"])).not.toThrow();
    expect(ok(["New", "Pending"], ["Closed", "Declined"])).not.toThrow();
    expect(ok(["Active", "Accepted"], ["Closed", "Lost"])).not.toThrow();
    expect(ok(["New", "Pending"], ["Closed", "Expired"], "system")).not.toThrow();
    expect(ok(["Closed", "Won"], ["Closed", "Won"])).not.toThrow();
  });
  test("refused moves", () => {
    expect(ok(["Closed", "Won"], ["Closed", "Lost"])).toThrow();
    expect(ok(["Active", "Accepted"], ["New", "Pending"])).toThrow();
    expect(ok(["Active", "Accepted"], ["Active", "Pending"])).toThrow();
    expect(ok(["New", "Pending"], ["Closed", "Expired"])).toThrow();
  });
});

describe("formats, durations, faults", () => {
  test("dates carry seven fractional digits", () => {
    expect(referralDate(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe("2026-01-02T03:04:05.6780000Z");
    expect(eventDate(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe("2026-01-02T03:04:05.6780000+00:00");
  });

  test.each([
    [1500, 1500],
    ["14d", 14 * 86_400_000],
    ["90s", 90_000],
    ["P14D", 14 * 86_400_000],
    ["PT2H30M", 9_000_000],
    ["P1W", 7 * 86_400_000],
  ])("duration %s", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test("a count-limited fault is used up; one call uses up one error rule", () => {
    const faults = new FaultBook();
    faults.add(readFault({ kind: "throttle", route: "GET /x", count: 1 }));
    faults.add(readFault({ kind: "error", route: "*", count: 1 }));
    expect(faults.forRequest("GET /x").map((r) => r.kind)).toEqual(["throttle"]);
    expect(faults.forRequest("GET /x").map((r) => r.kind)).toEqual(["error"]);
    expect(faults.forRequest("GET /x")).toEqual([]);
  });
});

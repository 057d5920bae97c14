import { ReferralStatus } from "../generated/schema.ts";
import { isAwaitingResponse, respondByNotice, timeLeft } from "../respondBy.ts";

const now = new Date("2026-11-20T14:00:00Z");
const inHours = (hours: number): Date => new Date(now.getTime() + hours * 3_600_000);

test("only a synced lead with a New referral awaits an answer", () => {
  expect(isAwaitingResponse({ syncWithPartnerCenter: true, referralStatus: ReferralStatus.New })).toBe(true);
  expect(isAwaitingResponse({ syncWithPartnerCenter: false, referralStatus: ReferralStatus.New })).toBe(false);
  expect(isAwaitingResponse({ syncWithPartnerCenter: null, referralStatus: ReferralStatus.New })).toBe(false);
  expect(isAwaitingResponse({ syncWithPartnerCenter: true, referralStatus: ReferralStatus.Active })).toBe(false);
  expect(isAwaitingResponse({ syncWithPartnerCenter: true, referralStatus: ReferralStatus.Closed })).toBe(false);
  expect(isAwaitingResponse({ syncWithPartnerCenter: true, referralStatus: null })).toBe(false);
});

test("time left counts calendar days in the user's time zone", () => {
  expect(timeLeft(inHours(-1), now)).toEqual({ kind: "expired" });
  expect(timeLeft(now, now)).toEqual({ kind: "expired" });
  expect(timeLeft(inHours(5), now)).toEqual({ kind: "today" });
  // 20:00 UTC tomorrow-ish: 14:00 + 12 h = 02:00 the next day in UTC, but still today at UTC-5.
  expect(timeLeft(inHours(12), now)).toEqual({ kind: "days", days: 1 });
  expect(timeLeft(inHours(12), now, -300)).toEqual({ kind: "today" });
  expect(timeLeft(inHours(48), now)).toEqual({ kind: "days", days: 2 });
  expect(timeLeft(inHours(14 * 24), now)).toEqual({ kind: "days", days: 14 });
});

test("the reminder starts under 3 days, and says so differently once Respond by passed", () => {
  expect(respondByNotice(null, now)).toBe("none");
  expect(respondByNotice(new Date("not a date"), now)).toBe("none");
  expect(respondByNotice(inHours(5 * 24), now)).toBe("none");
  expect(respondByNotice(inHours(3 * 24), now)).toBe("none");
  expect(respondByNotice(inHours(3 * 24 - 1), now)).toBe("soon");
  expect(respondByNotice(inHours(2 * 24), now)).toBe("soon");
  expect(respondByNotice(inHours(-2), now)).toBe("passed");
});

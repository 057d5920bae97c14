import { checkReadiness, type DealFacts } from "../readiness.ts";
import { readinessSummary, READINESS_PROBLEMS } from "../messages.ts";

const ready: DealFacts = {
  solutionCount: 1, hasAccount: true, customerCountry: "NL", helpRequested: true,
  contact: { email: "ann@fabrikam.example", firstName: "Ann", lastName: "Lee" },
  dealValue: 120000, currencyCode: "EUR", closeDate: "2026-12-31",
};

describe("readiness rules", () => {
  test("a complete co-sell is ready", () => {
    const r = checkReadiness(ready);
    expect(r.ready).toBe(true);
    expect(r.items.map((i) => i.check)).toEqual(["solution", "country", "contact", "dealValue", "currency", "closeDate"]);
  });

  test.each<[Partial<DealFacts>, string]>([
    [{ solutionCount: 0 }, "noSolution"],
    [{ hasAccount: false, customerCountry: null }, "noAccount"],
    [{ customerCountry: "" }, "noCountry"],
    [{ customerCountry: "Netherlands" }, "countryNotIso"],
    [{ customerCountry: "XX" }, "countryNotIso"],
    [{ contact: null }, "noContact"],
    [{ contact: { email: "not-an-address" } }, "contactWithoutEmail"],
    [{ dealValue: null }, "noDealValue"],
    [{ dealValue: 0 }, "dealValueNotPositive"],
    [{ currencyCode: null }, "noCurrency"],
    [{ currencyCode: "EURO" }, "currencyNotIso"],
    [{ closeDate: null }, "noCloseDate"],
  ])("%o fails with %s", (change, problem) => {
    const r = checkReadiness({ ...ready, ...change });
    expect(r.ready).toBe(false);
    expect(r.problems).toEqual([problem]);
  });

  test("a lower-case country code is accepted", () => {
    expect(checkReadiness({ ...ready, customerCountry: " nl " }).ready).toBe(true);
  });

  test("without help requested a contact is not needed, and the contact item says it does not apply", () => {
    const r = checkReadiness({ ...ready, helpRequested: false, contact: null });
    expect(r.ready).toBe(true);
    expect(r.items.find((i) => i.check === "contact")).toMatchObject({ ok: true, applies: false });
  });

  test("every problem is reported at once, in checklist order, and the summary names each in both languages", () => {
    const r = checkReadiness({ solutionCount: 0, hasAccount: true, customerCountry: null, helpRequested: true, contact: null, dealValue: null, currencyCode: null, closeDate: null });
    expect(r.problems).toEqual(["noSolution", "noCountry", "noContact", "noDealValue", "noCurrency", "noCloseDate"]);
    for (const lang of [1033, 1043] as const) {
      const summary = readinessSummary(r.problems, lang);
      for (const p of r.problems) expect(summary).toContain(READINESS_PROBLEMS[p][lang]);
    }
  });
});

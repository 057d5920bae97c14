// Property-based tests (fast-check) of the pure cores: the mapping's normalisation, three-way merge, JSON
// Patch and create body; the readiness rules; Partner Center's status moves; the lifecycle decisions.
// PCR_FUZZ_RUNS sets the runs per property (default 300: a few seconds in all); a bigger number finds more.
import fc from "fast-check";
import { checkReadiness, type DealFacts } from "../readiness.ts";
import { canMove, isTerminal, isValidPair, SUBSTATUSES, type Referral, type Status, type Substatus } from "../referral.ts";
import { decideLifecycle, qualifyRefusal, statusReasonText, type RecordState, type ReferralState } from "../lifecycle.ts";
import { canonicalFields, FIELDS, fieldsFromReferral, mergeFields, normalize, toReferralCreate, toReferralPatch, unpatchable, type SyncedFields } from "../mapping.ts";

const RUNS = Math.max(1, Number(process.env.PCR_FUZZ_RUNS ?? 300) || 300);
const options = { numRuns: RUNS };

// ---- arbitraries ----

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", " ", "  Fabrikam  ", "Ünïcødé ✔", "a\u0000b", "<script>"));
const currency = fc.constantFrom<string | null>("EUR", "USD", "eur", " usd ", "GBP", null, "", "XYZ", "euro");
const country = fc.constantFrom("NL", "nl", "US", "DE", "Netherlands", "", "ZZ", " gb ");
const date = fc.oneof(
  fc.constant<string | null>(null),
  fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom("not a date", ""),
);
const money = fc.oneof(fc.constant<number | null>(null), fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 10_000_000 }));
const help = fc.constantFrom<SyncedFields["helpRequested"]>(null, "WorkloadSpecificValueProposition", "CustomerTechnicalArchitecture", "ProofOfConceptOrDemo", "QuotesOrLicensing", "PostSalesCustomerSuccess", "GeneralOrOther");
const contact = fc.option(fc.record({ firstName: text, lastName: text, email: fc.oneof(fc.emailAddress(), text), phoneNumber: text }), { nil: null });
const solutions = fc.array(fc.oneof(fc.constantFrom("SOL-AZ-MIGRATE", "SOL-1", " SOL-2 ", ""), fc.string({ maxLength: 12 })), { maxLength: 5 });

const fields: fc.Arbitrary<SyncedFields> = fc.record({
  name: text, dealValue: money, currency, closeDate: date, notes: text, helpRequested: help, visibleToMicrosoft: fc.boolean(),
  customerName: text,
  customerAddress: fc.record({ addressLine1: text, addressLine2: text, city: text, state: text, postalCode: text, country }),
  customerContact: contact, solutions,
});

/** Another deal that shares some of `f`'s values: so merges see equal, changed and conflicting fields. */
function variantOf(f: fc.Arbitrary<SyncedFields>): fc.Arbitrary<[SyncedFields, SyncedFields]> {
  return fc.tuple(f, fields, fc.array(fc.boolean(), { minLength: FIELDS.length, maxLength: FIELDS.length })).map(([a, b, keep]) => {
    const out: Record<string, unknown> = { ...a };
    FIELDS.forEach((spec, i) => {
      if (!keep[i]) out[spec.field] = b[spec.field];
    });
    return [a, out as unknown as SyncedFields];
  });
}

const threeWay = fc.tuple(fields, fields, fields, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: FIELDS.length, maxLength: FIELDS.length }))
  .map(([base, x, y, pick]) => {
    // Per field: 0 nobody changed it, 1 Dynamics did, 2 Partner Center did, 3 both did.
    const d: Record<string, unknown> = { ...base };
    const p: Record<string, unknown> = { ...base };
    FIELDS.forEach((spec, i) => {
      if (pick[i] === 1 || pick[i] === 3) d[spec.field] = x[spec.field];
      if (pick[i] === 2 || pick[i] === 3) p[spec.field] = y[spec.field];
    });
    return { base, dynamics: d as unknown as SyncedFields, partnerCenter: p as unknown as SyncedFields };
  });

const json = (v: unknown) => JSON.stringify(v);
const apply = (f: SyncedFields, changes: Partial<SyncedFields>): SyncedFields => normalize({ ...f, ...changes });

// ---- mapping ----

describe("mapping: normalize and fingerprints", () => {
  test("normalize is idempotent and never throws", () => {
    fc.assert(fc.property(fields, (f) => {
      const once = normalize(f);
      expect(normalize(once)).toEqual(once);
    }), options);
  });

  test("equal fields after normalising give equal canonical text; different ones different text", () => {
    fc.assert(fc.property(variantOf(fields), ([a, b]) => {
      const same = json(normalize(a)) === json(normalize(b));
      expect(canonicalFields(a) === canonicalFields(b)).toBe(same);
    }), options);
  });

  test("solutions come out sorted, trimmed, without blanks or repeats", () => {
    fc.assert(fc.property(fields, (f) => {
      const s = normalize(f).solutions;
      expect([...s].sort()).toEqual(s);
      expect(new Set(s).size).toBe(s.length);
      for (const id of s) expect(id).toBe(id.trim());
      expect(s).not.toContain("");
    }), options);
  });
});

describe("mapping: three-way merge", () => {
  test("after the writes both sides agree on every field that flows both ways, and on the merged value", () => {
    fc.assert(fc.property(threeWay, ({ base, dynamics, partnerCenter }) => {
      const result = mergeFields(base, dynamics, partnerCenter);
      const d = apply(dynamics, result.toDynamics);
      const p = apply(partnerCenter, result.toPartnerCenter);
      for (const spec of FIELDS.filter((s) => s.flow === "both")) {
        expect(json(d[spec.field])).toBe(json(p[spec.field]));
        expect(json(d[spec.field])).toBe(json(normalize(result.merged)[spec.field]));
      }
    }), options);
  });

  test("a field changed on both sides: the owner wins (partner-owned fields follow Dynamics 365) and the conflict is recorded", () => {
    fc.assert(fc.property(threeWay, ({ base, dynamics, partnerCenter }) => {
      const b = normalize(base);
      const d = normalize(dynamics);
      const p = normalize(partnerCenter);
      const result = mergeFields(base, dynamics, partnerCenter);
      for (const spec of FIELDS.filter((s) => s.flow === "both" && s.field !== "visibleToMicrosoft")) {
        const k = spec.field;
        const both = json(d[k]) !== json(b[k]) && json(p[k]) !== json(b[k]) && json(d[k]) !== json(p[k]);
        if (!both) continue;
        const winner = spec.owner === "partner" ? d[k] : p[k];
        expect(json(result.merged[k])).toBe(json(winner));
        expect(result.conflicts.map((c) => c.field)).toContain(k);
      }
    }), options);
  });

  test("a field changed on one side only is never overwritten by the other side's old value", () => {
    fc.assert(fc.property(threeWay, ({ base, dynamics, partnerCenter }) => {
      const b = normalize(base);
      const d = normalize(dynamics);
      const p = normalize(partnerCenter);
      const result = mergeFields(base, dynamics, partnerCenter);
      for (const spec of FIELDS.filter((s) => s.flow === "both" && s.field !== "visibleToMicrosoft")) {
        const k = spec.field;
        if (json(d[k]) !== json(b[k]) && json(p[k]) === json(b[k])) expect(json(result.merged[k])).toBe(json(d[k]));
        if (json(p[k]) !== json(b[k]) && json(d[k]) === json(b[k])) expect(json(result.merged[k])).toBe(json(p[k]));
      }
    }), options);
  });

  test("visibility to Microsoft sellers never goes back to private", () => {
    fc.assert(fc.property(fc.option(fields, { nil: null }), fields, fields, (base, dynamics, partnerCenter) => {
      const result = mergeFields(base, dynamics, partnerCenter);
      if (dynamics.visibleToMicrosoft || partnerCenter.visibleToMicrosoft) expect(result.merged.visibleToMicrosoft).toBe(true);
      expect(result.toPartnerCenter.visibleToMicrosoft).not.toBe(false);
      expect(result.toDynamics.visibleToMicrosoft).not.toBe(false);
    }), options);
  });

  test("a second merge against the result writes nothing (no ping-pong between the sides)", () => {
    fc.assert(fc.property(fc.option(fields, { nil: null }), fields, fields, (base, dynamics, partnerCenter) => {
      const first = mergeFields(base, dynamics, partnerCenter);
      const again = mergeFields(first.merged, apply(dynamics, first.toDynamics), apply(partnerCenter, first.toPartnerCenter));
      expect(again.toDynamics).toEqual({});
      expect(again.toPartnerCenter).toEqual({});
    }), options);
  });

  test("equal sides: nothing to write, nothing in conflict", () => {
    fc.assert(fc.property(fc.option(fields, { nil: null }), fields, (base, f) => {
      const result = mergeFields(base, f, f);
      expect(result.toDynamics).toEqual({});
      expect(result.toPartnerCenter).toEqual({});
      expect(result.conflicts).toEqual([]);
    }), options);
  });
});

describe("mapping: patch and create body", () => {
  const patchable = new Map(FIELDS.filter((f) => f.patchPath).map((f) => [f.field, f.patchPath!]));

  test("a patch has only replace operations on the specification's patch paths, one per patchable change", () => {
    fc.assert(fc.property(fields, fc.subarray(FIELDS.map((f) => f.field)), (f, keys) => {
      const changes = Object.fromEntries(keys.map((k) => [k, normalize(f)[k]])) as Partial<SyncedFields>;
      const ops = toReferralPatch(changes);
      for (const op of ops) {
        expect(["add", "replace"]).toContain(op.op);
        expect([...patchable.values()]).toContain(op.path);
      }
      expect(ops.map((o) => o.path).sort()).toEqual(keys.filter((k) => patchable.has(k)).map((k) => patchable.get(k)!).sort());
      expect(unpatchable(changes).sort()).toEqual(keys.filter((k) => !patchable.has(k)).sort());
    }), options);
  });

  test("the create body carries the deal: read back from it, the fields are the deal's", () => {
    fc.assert(fc.property(fields, fc.uuid(), (f, opportunityId) => {
      const body = toReferralCreate({ opportunityId, fields: f, solutionDetails: [], team: [] });
      expect(body.externalReferenceId).toBe(opportunityId);
      const n = normalize(f);
      const coSell = n.helpRequested !== null;
      expect(body.type).toBe(coSell ? "Shared" : "Independent");
      const back = fieldsFromReferral(body as unknown as Referral);
      for (const k of ["name", "dealValue", "currency", "closeDate", "notes", "helpRequested", "customerName", "solutions"] as const) expect(back[k]).toEqual(n[k]);
      expect(back.customerAddress).toEqual(n.customerAddress);
      expect(back.customerContact).toEqual(n.customerContact);
      expect(back.visibleToMicrosoft).toBe(coSell || n.visibleToMicrosoft);
    }), options);
  });
});

// ---- readiness ----

const facts: fc.Arbitrary<DealFacts> = fc.record({
  solutionCount: fc.integer({ min: 0, max: 5 }),
  customerCountry: fc.option(country, { nil: null }),
  hasAccount: fc.boolean(),
  helpRequested: fc.boolean(),
  contact: fc.option(fc.record({ email: fc.option(fc.oneof(fc.emailAddress(), text), { nil: null }), firstName: fc.option(text, { nil: null }), lastName: fc.option(text, { nil: null }) }), { nil: null }),
  dealValue: fc.option(fc.oneof(fc.double({ min: -1e6, max: 1e9 }), fc.constant(Number.NaN)), { nil: null }),
  currencyCode: fc.option(currency.map((c) => c ?? ""), { nil: null }),
  closeDate: date,
});

describe("readiness", () => {
  test("ready exactly when nothing failed; every check once, in checklist order", () => {
    fc.assert(fc.property(facts, (deal) => {
      const r = checkReadiness(deal);
      expect(r.items.map((i) => i.check)).toEqual(["solution", "country", "contact", "dealValue", "currency", "closeDate"]);
      expect(r.ready).toBe(r.problems.length === 0);
      expect(r.problems).toEqual(r.items.filter((i) => !i.ok).map((i) => i.problem));
      for (const item of r.items) expect(item.ok).toBe(item.problem === undefined);
    }), options);
  });

  test("the contact matters only when Microsoft's help is requested", () => {
    fc.assert(fc.property(facts, (deal) => {
      const item = checkReadiness(deal).items.find((i) => i.check === "contact")!;
      expect(item.applies).toBe(deal.helpRequested);
      if (!deal.helpRequested) expect(item.ok).toBe(true);
    }), options);
  });

  test("a complete deal is ready; breaking one fact names exactly that problem", () => {
    const good: DealFacts = { solutionCount: 1, customerCountry: "NL", hasAccount: true, helpRequested: true, contact: { email: "eva@fabrikam.example" }, dealValue: 1000, currencyCode: "EUR", closeDate: "2027-03-31" };
    const breaks: Array<[Partial<DealFacts>, string]> = [
      [{ solutionCount: 0 }, "noSolution"], [{ hasAccount: false }, "noAccount"], [{ customerCountry: " " }, "noCountry"],
      [{ contact: null }, "noContact"], [{ contact: { email: "not-an-address" } }, "contactWithoutEmail"], [{ dealValue: null }, "noDealValue"],
      [{ dealValue: 0 }, "dealValueNotPositive"], [{ currencyCode: null }, "noCurrency"], [{ closeDate: null }, "noCloseDate"],
    ];
    expect(checkReadiness(good).ready).toBe(true);
    fc.assert(fc.property(fc.constantFrom(...breaks), ([change, problem]) => {
      expect(checkReadiness({ ...good, ...change }).problems).toEqual([problem]);
    }), { numRuns: Math.min(RUNS, 100) });
  });
});

// ---- Partner Center's status moves ----

const pairs: Array<{ status: Status; substatus: Substatus }> = (Object.keys(SUBSTATUSES) as Status[]).flatMap((status) => SUBSTATUSES[status].map((substatus) => ({ status, substatus })));
const anyPair = fc.record({ status: fc.constantFrom<Status>("New", "Active", "Closed"), substatus: fc.constantFrom<Substatus>("Pending", "Received", "Accepted", "Won", "Lost", "Declined", "Expired") });
const validPair = fc.constantFrom(...pairs);

describe("referral status moves", () => {
  test("never into an invalid pair; a closed referral never changes; never back to New once Active", () => {
    fc.assert(fc.property(validPair, anyPair, (from, to) => {
      const allowed = canMove(from, to);
      if (!isValidPair(to.status, to.substatus)) expect(allowed).toBe(false);
      if (isTerminal(from.status) && (to.status !== from.status || to.substatus !== from.substatus)) expect(allowed).toBe(false);
      if (from.status === "Active" && to.status === "New") expect(allowed).toBe(false);
    }), options);
  });

  test("staying put is allowed, and moves compose (a → b → c means a → c)", () => {
    fc.assert(fc.property(validPair, validPair, validPair, (a, b, c) => {
      expect(canMove(a, a)).toBe(true);
      if (canMove(a, b) && canMove(b, c)) expect(canMove(a, c)).toBe(true);
    }), options);
  });
});

// ---- lifecycle ----

const recordState = fc.oneof(
  fc.constantFrom<RecordState>({ type: "opportunity", state: "open" }, { type: "opportunity", state: "won" }, { type: "opportunity", state: "lost" }),
  fc.constantFrom<RecordState>({ type: "lead", state: "open" }, { type: "lead", state: "qualified" }, { type: "lead", state: "disqualified" }),
);

describe("lifecycle decisions", () => {
  test("a move sent to Partner Center is one Partner Center allows; a closed referral is never moved (terminal states win)", () => {
    fc.assert(fc.property(recordState, validPair, fc.option(validPair, { nil: null }), (record, referral, previous) => {
      const decision = decideLifecycle(record, referral as ReferralState, previous as ReferralState | null);
      if (decision.kind === "toPartnerCenter") {
        expect(isTerminal(referral.status)).toBe(false);
        expect(canMove(referral, decision)).toBe(true);
      }
    }), options);
  });

  test("Dynamics 365 follows only a referral that closed since the last sync, and only open records", () => {
    fc.assert(fc.property(recordState, validPair, fc.option(validPair, { nil: null }), (record, referral, previous) => {
      const decision = decideLifecycle(record, referral as ReferralState, previous as ReferralState | null);
      if (decision.kind === "toDynamics") {
        expect(referral.status).toBe("Closed");
        expect(previous?.status).not.toBe("Closed");
        expect(record.state).toBe("open");
      }
      if (record.state === "open" && referral.status !== "Closed") expect(decision.kind).toBe("none");
    }), options);
  });

  test("a won or lost opportunity closes its open referral with the same outcome", () => {
    fc.assert(fc.property(fc.constantFrom<"won" | "lost">("won", "lost"), validPair.filter((p) => p.status !== "Closed"), (state, referral) => {
      const decision = decideLifecycle({ type: "opportunity", state }, referral as ReferralState, null);
      expect(decision).toMatchObject({ kind: "toPartnerCenter", status: "Closed", substatus: state === "won" ? "Won" : "Lost" });
    }), options);
  });

  test("qualifyRefusal refuses exactly the referrals that can no longer be accepted", () => {
    fc.assert(fc.property(fc.option(validPair, { nil: undefined }), fc.option(fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }), { nil: null }), fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }), (referral, respondBy, now) => {
      const refusal = qualifyRefusal(referral as ReferralState | undefined, respondBy?.toISOString() ?? null, now);
      const expired = referral?.status === "New" && respondBy !== null && respondBy.getTime() <= now.getTime();
      expect(refusal !== null).toBe(!referral || referral.status === "Closed" || expired);
    }), options);
  });

  test("the status reason text is short enough for Partner Center and keeps the reason first", () => {
    fc.assert(fc.property(fc.option(fc.string({ maxLength: 600 }), { nil: null }), fc.option(fc.string({ maxLength: 600 }), { nil: null }), (reason, note) => {
      const text = statusReasonText(reason, note);
      if (text !== null) expect(text.length).toBeLessThanOrEqual(1000);
      if (reason?.trim()) expect(text!.startsWith(reason.trim().slice(0, 1000))).toBe(true);
      if (!reason?.trim() && !note?.trim()) expect(text).toBeNull();
    }), options);
  });
});

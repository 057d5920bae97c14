// Fault injection rules (POST /sandbox/faults): what goes wrong, on which route or event, for what share
// of calls or for the next N. Pure: the HTTP layer and the dispatcher ask which rules fire.
import { invalid } from "./errors.ts";
import { newId } from "./format.ts";

/** Faults on API requests. */
export const REQUEST_FAULTS = ["throttle", "error", "latency", "revoked", "mfa", "forbidden", "status"] as const;
/** Faults on webhook deliveries. */
export const DELIVERY_FAULTS = ["drop", "duplicate", "reorder", "delay", "tamper", "wrongAlgorithm", "foreignCertUrl", "bareSignature"] as const;

export type RequestFaultKind = (typeof REQUEST_FAULTS)[number];
export type DeliveryFaultKind = (typeof DELIVERY_FAULTS)[number];
export type FaultKind = RequestFaultKind | DeliveryFaultKind;

export interface FaultRule {
  id: string;
  kind: FaultKind;
  /**
   * Requests: `*` (every API route), a route key (`GET /v1.0/engagements/referrals/:id`), a route path for
   * any method, or a prefix ending in `*`. Deliveries: `*` or an event name (`referral-updated`).
   */
  route: string;
  /** Share of matching calls that fail, 0..1. */
  probability: number;
  /** Fire for the next N matching calls only; undefined = until cleared. */
  remaining: number | undefined;
  /** `error`/`status`: the HTTP status (default 500 / required). */
  status: number | undefined;
  /** `throttle` and 503 `error`: the Retry-After value in seconds. */
  retryAfterSeconds: number;
  /** `latency`: added before the request is handled; `delay`: how long a delivery is held (sandbox clock). */
  delayMs: number;
  hits: number;
}

export function isDeliveryFault(kind: FaultKind): kind is DeliveryFaultKind {
  return (DELIVERY_FAULTS as readonly string[]).includes(kind);
}

export function readFault(body: unknown): FaultRule {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("a fault is an object: { kind, route?, probability?, count?, status?, retryAfterSeconds?, delayMs? }");
  const input = body as Record<string, unknown>;
  const kinds: readonly string[] = [...REQUEST_FAULTS, ...DELIVERY_FAULTS];
  if (typeof input.kind !== "string" || !kinds.includes(input.kind)) throw invalid(`kind must be one of ${kinds.join(", ")}`, "kind");
  const kind = input.kind as FaultKind;
  const number = (name: string, fallback: number | undefined, check: (n: number) => boolean): number | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !check(value)) throw invalid(`${name} is out of range`, name);
    return value;
  };
  const status = number("status", kind === "error" ? 500 : kind === "throttle" ? 429 : undefined, (n) => Number.isInteger(n) && n >= 400 && n <= 599);
  if (kind === "status" && status === undefined) throw invalid("a status fault needs a status (400-599)", "status");
  if (kind === "error" && status !== undefined && status < 500) throw invalid("an error fault is a 5xx status", "status");
  const latency = number("latencyMs", undefined, (n) => n >= 0);
  return {
    id: newId(),
    kind,
    route: typeof input.route === "string" && input.route.trim() !== "" ? input.route.trim() : "*",
    probability: number("probability", 1, (n) => n >= 0 && n <= 1)!,
    remaining: number("count", undefined, (n) => Number.isInteger(n) && n > 0),
    status,
    retryAfterSeconds: number("retryAfterSeconds", 1, (n) => Number.isInteger(n) && n >= 0)!,
    delayMs: number("delayMs", latency ?? (kind === "latency" ? 1000 : kind === "delay" ? 60_000 : 0), (n) => n >= 0)!,
    hits: 0,
  };
}

function routeMatches(pattern: string, key: string): boolean {
  const p = pattern.toLowerCase();
  const k = key.toLowerCase();
  if (p === "*" || p === k) return true;
  const path = k.slice(k.indexOf(" ") + 1);
  if (p === path) return true;
  if (p.endsWith("*")) {
    const prefix = p.slice(0, -1);
    return k.startsWith(prefix) || path.startsWith(prefix);
  }
  return false;
}

export class FaultBook {
  private rules: FaultRule[] = [];
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  add(rule: FaultRule): FaultRule {
    this.rules.push(rule);
    return { ...rule };
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The request faults that fire for this route key now (each counted and, with `count`, used up): every
   * latency rule, then at most one rule that answers with an error, so one call uses up one error.
   */
  forRequest(routeKey: string): FaultRule[] {
    let answered = false;
    return this.fire((rule) => {
      if (isDeliveryFault(rule.kind) || !routeMatches(rule.route, routeKey)) return false;
      if (rule.kind === "latency") return true;
      if (answered) return false;
      return true;
    }, (rule) => {
      if (rule.kind !== "latency") answered = true;
    });
  }

  /** The delivery faults that fire for this event. */
  forDelivery(eventName: string): FaultRule[] {
    return this.fire((rule) => isDeliveryFault(rule.kind) && (rule.route === "*" || rule.route.toLowerCase() === eventName.toLowerCase() || rule.route.toLowerCase() === "webhook"));
  }

  private fire(matches: (rule: FaultRule) => boolean, onFire: (rule: FaultRule) => void = () => undefined): FaultRule[] {
    const fired: FaultRule[] = [];
    for (const rule of this.rules) {
      if (!matches(rule)) continue;
      if (rule.probability < 1 && this.random() >= rule.probability) continue;
      onFire(rule);
      rule.hits++;
      if (rule.remaining !== undefined) rule.remaining--;
      fired.push({ ...rule });
    }
    this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return fired;
  }
}

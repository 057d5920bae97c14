// The OData subset of GET /referrals (docs §4.3, §10.1.7): $filter (eq/ne/gt/ge/lt/le, and/or/not,
// parentheses, navigation paths, any/all lambdas), $orderby createdDateTime/updatedDateTime, $top, $skip,
// $select, server-driven paging with an opaque $skiptoken. @odata/parser does the parsing; this file turns
// its syntax tree into a small checked expression and evaluates it against stored referrals.
import { defaultParser, type Token } from "@odata/parser";
import { invalid } from "./errors.ts";
import { REFERRAL, resolvePointer, topLevelMembers, type Field, type Json, type JsonObject } from "./schema.ts";

type Comparison = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
type Operand = { kind: "literal"; value: Json; date: number | undefined } | { kind: "path"; variable: string | undefined; segments: string[] };
type Expr =
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "not"; operand: Expr }
  | { kind: "compare"; op: Comparison; left: Operand; right: Operand }
  | { kind: "truthy"; operand: Operand }
  | { kind: "lambda"; quantifier: "any" | "all"; collection: Operand & { kind: "path" }; variable: string; predicate: Expr };

const COMPARISONS: Record<string, Comparison> = {
  EqualsExpression: "eq",
  NotEqualsExpression: "ne",
  GreaterThanExpression: "gt",
  GreaterOrEqualsExpression: "ge",
  LesserThanExpression: "lt",
  LesserOrEqualsExpression: "le",
};

type Scope = Map<string, Field>;

interface PathParts {
  variable: string | undefined;
  segments: string[];
  lambda?: { quantifier: "any" | "all"; variable: string; predicate: Token };
}

function unsupported(node: Token): never {
  throw invalid(`$filter: '${node.raw}' is not supported (supported: eq, ne, gt, ge, lt, le, and, or, not, any, all)`, "$filter");
}

/** Flattens the parser's nested member/path nodes into variable + segments (+ a trailing lambda). */
function collectPath(node: Token, parts: PathParts): void {
  switch (node.type) {
    case "FirstMemberExpression":
    case "MemberExpression":
    case "SingleNavigationExpression":
    case "CommonExpression":
      if (Array.isArray(node.value)) for (const child of node.value as Token[]) collectPath(child, parts);
      else collectPath(node.value as Token, parts);
      return;
    case "LambdaVariableExpression":
      parts.variable = (node.value as { name: string }).name;
      return;
    case "ODataIdentifier":
      parts.segments.push((node.value as { name: string }).name);
      return;
    case "PropertyPathExpression": {
      const value = node.value as Token | { current: Token; next?: Token };
      if ("current" in value) {
        collectPath(value.current, parts);
        if (value.next) collectPath(value.next, parts);
      } else collectPath(value as Token, parts);
      return;
    }
    case "CollectionPathExpression":
    case "CollectionNavigationExpression":
      collectPath(node.value as Token, parts);
      return;
    case "AnyExpression":
    case "AllExpression": {
      const value = node.value as { variable?: Token; predicate?: Token };
      if (!value.variable || !value.predicate) unsupported(node);
      parts.lambda = {
        quantifier: node.type === "AnyExpression" ? "any" : "all",
        variable: (value.variable.value as { name: string }).name,
        predicate: value.predicate,
      };
      return;
    }
    default:
      unsupported(node);
  }
}

function checkedPath(parts: PathParts, scope: Scope, raw: string): { variable: string | undefined; segments: string[]; field: Field } {
  const root = parts.variable === undefined ? REFERRAL : scope.get(parts.variable);
  if (!root) throw invalid(`$filter: unknown lambda variable '${parts.variable}' in '${raw}'`, "$filter");
  if (parts.segments.length === 0) return { variable: parts.variable, segments: [], field: root };
  try {
    const resolved = resolvePointer(`/${parts.segments.join("/")}`, root);
    return { variable: parts.variable, segments: resolved.segments, field: resolved.field };
  } catch {
    throw invalid(`$filter: '${raw}' does not name a property of the referral`, "$filter");
  }
}

function literal(node: Token): Operand {
  const raw = node.raw;
  const edm = node.value as unknown as string;
  if (edm === "null") return { kind: "literal", value: null, date: undefined };
  if (edm === "Edm.String") return { kind: "literal", value: raw.slice(1, -1).replace(/''/g, "'"), date: undefined };
  if (edm === "Edm.Boolean") return { kind: "literal", value: raw.toLowerCase() === "true", date: undefined };
  if (edm === "Edm.DateTimeOffset" || edm === "Edm.Date") return { kind: "literal", value: raw, date: Date.parse(raw) };
  if (/^Edm\.(SByte|Byte|Int16|Int32|Int64|Decimal|Double|Single)$/.test(edm)) return { kind: "literal", value: Number(raw.replace(/[mMlLdDfF]$/, "")), date: undefined };
  return { kind: "literal", value: raw, date: undefined }; // Edm.Guid and the rest: compare as text
}

function operand(node: Token, scope: Scope): Operand {
  if (node.type === "Literal") return literal(node);
  if (node.type === "ParenExpression" || node.type === "BoolParenExpression") return operand(node.value as Token, scope);
  const parts: PathParts = { variable: undefined, segments: [] };
  collectPath(node, parts);
  if (parts.lambda) unsupported(node);
  const path = checkedPath(parts, scope, node.raw);
  return { kind: "path", variable: path.variable, segments: path.segments };
}

function compile(node: Token, scope: Scope): Expr {
  switch (node.type) {
    case "AndExpression":
    case "OrExpression": {
      const value = node.value as { left: Token; right: Token };
      return { kind: node.type === "AndExpression" ? "and" : "or", left: compile(value.left, scope), right: compile(value.right, scope) };
    }
    case "NotExpression":
      return { kind: "not", operand: compile(node.value as Token, scope) };
    case "BoolParenExpression":
    case "ParenExpression":
    case "LambdaPredicateExpression":
      return compile(node.value as Token, scope);
    case "MethodCallExpression":
      return unsupported(node);
    default: {
      const op = COMPARISONS[node.type];
      if (op) {
        const value = node.value as { left: Token; right: Token };
        return { kind: "compare", op, left: operand(value.left, scope), right: operand(value.right, scope) };
      }
      const parts: PathParts = { variable: undefined, segments: [] };
      collectPath(node, parts);
      const path = checkedPath(parts, scope, node.raw);
      if (!parts.lambda) return { kind: "truthy", operand: { kind: "path", variable: path.variable, segments: path.segments } };
      if (path.field.kind !== "array") throw invalid(`$filter: '${node.raw}': ${parts.lambda.quantifier}() needs a collection`, "$filter");
      const inner = new Map(scope).set(parts.lambda.variable, path.field.of);
      return {
        kind: "lambda",
        quantifier: parts.lambda.quantifier,
        collection: { kind: "path", variable: path.variable, segments: path.segments },
        variable: parts.lambda.variable,
        predicate: compile(parts.lambda.predicate, inner),
      };
    }
  }
}

export type Filter = (referral: JsonObject) => boolean;

/** Parses a `$filter` value; throws 400 `invalidRequest` on syntax errors, unknown properties and unsupported functions. */
export function parseFilter(text: string): Filter {
  let tree: Token;
  try {
    tree = defaultParser.filter(text);
  } catch (error) {
    throw invalid(`$filter is not valid OData: ${(error as Error).message}`, "$filter");
  }
  const expr = compile(tree, new Map());
  return (referral) => evaluate(expr, referral, new Map());
}

function lookup(operandValue: Operand, root: JsonObject, vars: Map<string, Json>): Json | undefined {
  if (operandValue.kind === "literal") return operandValue.value;
  let current: Json | undefined = operandValue.variable === undefined ? root : vars.get(operandValue.variable);
  for (const segment of operandValue.segments) {
    if (current === null || current === undefined || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = current[segment];
  }
  return current;
}

function compare(op: Comparison, left: Json | undefined, right: Json | undefined, date: number | undefined): boolean {
  const l = left ?? null;
  const r = right ?? null;
  if (l === null || r === null) {
    if (op === "eq") return l === r;
    if (op === "ne") return l !== r;
    return false;
  }
  let a: string | number | boolean;
  let b: string | number | boolean;
  if (date !== undefined && typeof l === "string") {
    a = Date.parse(l);
    b = date;
  } else if (typeof l === "number" || typeof r === "number") {
    a = Number(l);
    b = Number(r);
  } else if (typeof l === "string" && typeof r === "string") {
    // Enum names and e-mail addresses are compared without regard to case (see README: unverified).
    a = l.toLowerCase();
    b = r.toLowerCase();
  } else if (typeof l === "boolean" || typeof r === "boolean") {
    a = String(l).toLowerCase();
    b = String(r).toLowerCase();
  } else return false;
  switch (op) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
  }
}

function evaluate(expr: Expr, root: JsonObject, vars: Map<string, Json>): boolean {
  switch (expr.kind) {
    case "and":
      return evaluate(expr.left, root, vars) && evaluate(expr.right, root, vars);
    case "or":
      return evaluate(expr.left, root, vars) || evaluate(expr.right, root, vars);
    case "not":
      return !evaluate(expr.operand, root, vars);
    case "truthy":
      return lookup(expr.operand, root, vars) === true;
    case "compare": {
      const date = expr.right.kind === "literal" ? expr.right.date : expr.left.kind === "literal" ? expr.left.date : undefined;
      if (expr.left.kind === "literal" && expr.right.kind === "path") {
        const flipped: Record<Comparison, Comparison> = { eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" };
        return compare(flipped[expr.op], lookup(expr.right, root, vars), lookup(expr.left, root, vars), date);
      }
      return compare(expr.op, lookup(expr.left, root, vars), lookup(expr.right, root, vars), date);
    }
    case "lambda": {
      const collection = lookup(expr.collection, root, vars);
      const items = Array.isArray(collection) ? collection : [];
      const test = (item: Json) => evaluate(expr.predicate, root, new Map(vars).set(expr.variable, item));
      return expr.quantifier === "any" ? items.some(test) : items.every(test);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Query options and paging

export const ORDERABLE = ["createdDateTime", "updatedDateTime"] as const;

export interface ListState {
  filter: string | undefined;
  orderby: string | undefined;
  select: string | undefined;
  /** Items still to return under `$top`; undefined = no `$top`. */
  remaining: number | undefined;
  skip: number;
  /** Sort key of the last item already returned (keyset paging, stable under concurrent inserts). */
  after: { values: string[]; seq: number } | undefined;
}

export interface ListQuery {
  state: ListState;
  filter: Filter;
  order: Array<{ member: (typeof ORDERABLE)[number]; descending: boolean }>;
  select: string[] | undefined;
}

export interface Stored {
  seq: number;
  referral: JsonObject;
}

function nonNegativeInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw invalid(`${name} must be a non-negative integer`, name);
  return Number(value);
}

/** Reads `$filter`, `$orderby`, `$top`, `$skip`, `$select` and `$skiptoken` (option names case-insensitive). */
export function parseListQuery(rawQuery: Record<string, unknown>): ListQuery {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawQuery)) {
    const text = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
    query[key.toLowerCase()] = text;
  }
  let state: ListState;
  if (query.$skiptoken !== undefined) {
    state = decodeSkipToken(query.$skiptoken);
  } else {
    const top = nonNegativeInteger("$top", query.$top);
    state = {
      filter: query.$filter,
      orderby: query.$orderby,
      select: query.$select,
      remaining: top,
      skip: nonNegativeInteger("$skip", query.$skip) ?? 0,
      after: undefined,
    };
    if (query.$count !== undefined && !/^(true|false)$/i.test(query.$count)) throw invalid("$count must be true or false", "$count");
  }
  const filter = state.filter === undefined || state.filter.trim() === "" ? () => true : parseFilter(state.filter);
  const order: ListQuery["order"] = [];
  for (const clause of (state.orderby ?? "").split(",").map((c) => c.trim()).filter(Boolean)) {
    const match = /^([A-Za-z/]+)(?:\s+(asc|desc))?$/i.exec(clause);
    const member = match && ORDERABLE.find((m) => m.toLowerCase() === match[1]!.toLowerCase());
    if (!match || !member) throw invalid(`$orderby supports ${ORDERABLE.join(" and ")} with asc or desc; got '${clause}'`, "$orderby");
    order.push({ member, descending: (match[2] ?? "asc").toLowerCase() === "desc" });
  }
  let select: string[] | undefined;
  if (state.select !== undefined && state.select.trim() !== "") {
    const members = topLevelMembers();
    select = state.select.split(",").map((name) => {
      const canonical = members.find((m) => m.toLowerCase() === name.trim().toLowerCase());
      if (!canonical) throw invalid(`$select: '${name.trim()}' is not a property of the referral`, "$select");
      return canonical;
    });
  }
  return { state, filter, order, select };
}

function sortValues(stored: Stored, order: ListQuery["order"]): string[] {
  return order.map(({ member }) => String(stored.referral[member] ?? ""));
}

function compareKeys(a: { values: string[]; seq: number }, b: { values: string[]; seq: number }, order: ListQuery["order"]): number {
  for (let i = 0; i < order.length; i++) {
    // ISO timestamps in one format sort as text.
    const diff = a.values[i]! < b.values[i]! ? -1 : a.values[i]! > b.values[i]! ? 1 : 0;
    if (diff !== 0) return order[i]!.descending ? -diff : diff;
  }
  return a.seq - b.seq;
}

export interface ListPage {
  items: JsonObject[];
  count: number;
  next: ListState | undefined;
}

/** Filters, orders and pages `records`; `pageSize` is the server page size (100 in Partner Center). */
export function runListQuery(records: Iterable<Stored>, query: ListQuery, pageSize: number): ListPage {
  const matches = [...records].filter((record) => query.filter(record.referral));
  const keyed = matches.map((record) => ({ record, key: { values: sortValues(record, query.order), seq: record.seq } }));
  keyed.sort((a, b) => compareKeys(a.key, b.key, query.order));
  const { state } = query;
  let start = 0;
  if (state.after) {
    const after = state.after;
    start = keyed.findIndex((entry) => compareKeys(entry.key, after, query.order) > 0);
    if (start < 0) start = keyed.length;
  } else start = Math.min(state.skip, keyed.length);
  const limit = Math.min(pageSize, state.remaining ?? Number.POSITIVE_INFINITY);
  const page = keyed.slice(start, start + limit);
  const remaining = state.remaining === undefined ? undefined : state.remaining - page.length;
  const more = start + page.length < keyed.length && (remaining === undefined || remaining > 0);
  const last = page[page.length - 1];
  const items = page.map(({ record }) => (query.select ? project(record.referral, query.select) : record.referral));
  return {
    items,
    count: matches.length,
    next: more && last ? { ...state, remaining, skip: 0, after: last.key } : undefined,
  };
}

function project(referral: JsonObject, select: string[]): JsonObject {
  const out: JsonObject = {};
  for (const name of select) if (name in referral) out[name] = referral[name]!;
  return out;
}

export function encodeSkipToken(state: ListState): string {
  return Buffer.from(JSON.stringify(state), "utf8").toString("base64url");
}

function decodeSkipToken(token: string): ListState {
  try {
    const state = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ListState;
    if (typeof state !== "object" || state === null || typeof state.skip !== "number") throw new Error("shape");
    return state;
  } catch {
    throw invalid("$skiptoken is not valid", "$skiptoken");
  }
}

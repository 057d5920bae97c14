// OData query options ($select, $filter, $orderby, $expand, $top, $count) parsed with @odata/parser
// and evaluated against stored rows. $filter supports eq, ne, gt, ge, lt, le, and, or, not, parentheses,
// contains, startswith, endswith, null, and one level of single-valued navigation (parentaccountid/name).
import { defaultParser, type Token } from "@odata/parser";
import type { Metadata, NavigationDef, TableDef, ColumnDef } from "./metadata.ts";
import { DataverseError, ErrorCodes, odataError, unknownProperty } from "./errors.ts";
import { isLookupType, isRef, type Row, type Value } from "./values.ts";

export interface OrderBy {
  property: Property;
  descending: boolean;
}

export interface ExpandSpec {
  navigation: NavigationDef;
  options: QueryOptions;
}

export interface QueryOptions {
  select?: string[];
  filter?: (row: Row) => boolean;
  orderBy: OrderBy[];
  top?: number;
  expand: ExpandSpec[];
  count: boolean;
}

/** A property a query names: how to read it from a row, and what type it has. */
export interface Property {
  name: string;
  column?: ColumnDef;
  read(row: Row): Value | undefined;
}

/** Finds rows of another table; the store behind it is the engine's. */
export type RowLookup = (table: string, id: string) => Row | undefined;

type Kind = "string" | "number" | "boolean" | "guid" | "datetime" | "null" | "any";

function kindOf(column: ColumnDef | undefined): Kind {
  switch (column?.type) {
    case undefined: return "any";
    case "String": case "Memo": case "EntityName": case "MultiSelectPicklist": return "string";
    case "Integer": case "BigInt": case "Decimal": case "Double": case "Money": case "Picklist": case "State": case "Status": return "number";
    case "Boolean": return "boolean";
    case "DateTime": return "datetime";
    default: return "guid";
  }
}

const EDM_NAMES: Record<Kind, string> = { string: "Edm.String", number: "Edm.Int32", boolean: "Edm.Boolean", guid: "Edm.Guid", datetime: "Edm.DateTimeOffset", null: "null", any: "Edm.Untyped" };

interface Literal {
  kind: Kind;
  value: string | number | boolean | null;
}

function literal(token: Token): Literal {
  const type = token.value as string;
  const raw = token.raw;
  if (type === "null") return { kind: "null", value: null };
  if (type === "Edm.String") return { kind: "string", value: raw.slice(1, -1).replace(/''/g, "'") };
  if (type === "Edm.Boolean") return { kind: "boolean", value: raw === "true" };
  if (type === "Edm.Guid") return { kind: "guid", value: raw.toLowerCase() };
  if (type === "Edm.DateTimeOffset" || type === "Edm.Date") return { kind: "datetime", value: Date.parse(type === "Edm.Date" ? `${raw}T00:00:00Z` : raw) };
  if (/^Edm\.(SByte|Byte|Int16|Int32|Int64|Decimal|Double|Single)$/.test(type)) return { kind: "number", value: Number(raw) };
  throw odataError(`The literal '${raw}' of type '${type}' is not supported in $filter.`);
}

function comparable(value: Value | undefined, kind: Kind): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (isRef(value)) return value.id.toLowerCase();
  if (kind === "datetime") return Date.parse(String(value).length === 10 ? `${String(value)}T00:00:00Z` : String(value));
  if (kind === "string") return String(value).toLowerCase();
  return value;
}

const OPERATORS: Record<string, string> = {
  EqualsExpression: "Equal", NotEqualsExpression: "NotEqual", LesserThanExpression: "LessThan", LesserOrEqualsExpression: "LessThanOrEqual",
  GreaterThanExpression: "GreaterThan", GreaterOrEqualsExpression: "GreaterThanOrEqual",
};

function compare(op: string, a: string | number | boolean | null, b: string | number | boolean | null): boolean {
  if (op === "EqualsExpression") return a === b;
  if (op === "NotEqualsExpression") return a !== b;
  if (a === null || b === null) return false; // SQL semantics: comparisons with null are false
  switch (op) {
    case "LesserThanExpression": return a < b;
    case "LesserOrEqualsExpression": return a <= b;
    case "GreaterThanExpression": return a > b;
    default: return a >= b;
  }
}

function unwrap(token: Token): Token {
  let t = token;
  while (t.type === "CommonExpression" || t.type === "BoolParenExpression" || t.type === "ParenExpression") t = t.value as Token;
  return t;
}

function isMember(token: Token): boolean {
  const t = unwrap(token);
  return t.type === "FirstMemberExpression" || t.type === "MemberExpression";
}

export class QueryCompiler {
  private readonly meta: Metadata;
  private readonly lookupRow: RowLookup;

  constructor(meta: Metadata, lookupRow: RowLookup) {
    this.meta = meta;
    this.lookupRow = lookupRow;
  }

  /** A property by name as a query may write it: a column, `_x_value` of a lookup, or nav/column. */
  property(table: TableDef, path: string): Property {
    const parts = path.split("/");
    if (parts.length === 2) {
      const nav = table.navigation.get(parts[0]!);
      if (!nav || nav.kind !== "single") throw unknownProperty(table.logicalName, parts[0]!);
      const target = this.meta.table(nav.referencedTable);
      const inner = this.property(target, parts[1]!);
      return {
        name: path,
        ...(inner.column ? { column: inner.column } : {}),
        read: (row) => {
          const ref = row[nav.referencingAttribute];
          if (!isRef(ref) || ref.logicalName !== nav.referencedTable) return null;
          const related = this.lookupRow(ref.logicalName, ref.id);
          return related ? inner.read(related) : null;
        },
      };
    }
    if (parts.length > 2) throw new DataverseError(400, ErrorCodes.NotSupported, `Only one level of navigation is supported in '${path}'.`);
    const lookupMatch = /^_(.+)_value$/.exec(path);
    if (lookupMatch) {
      const column = table.columns.get(lookupMatch[1]!);
      if (!column || !isLookupType(column.type)) throw unknownProperty(table.logicalName, path);
      return { name: path, column, read: (row) => row[column.logicalName] };
    }
    const column = table.columns.get(path);
    if (!column || !column.validForRead) throw unknownProperty(table.logicalName, path);
    return { name: path, column, read: (row) => row[column.logicalName] };
  }

  parseFilter(table: TableDef, text: string): (row: Row) => boolean {
    let ast: Token;
    try {
      ast = defaultParser.filter(text);
    } catch (error) {
      throw odataError(`Syntax error in $filter '${text}': ${(error as Error).message}.`);
    }
    return this.compileFilter(table, ast);
  }

  private compileFilter(table: TableDef, token: Token): (row: Row) => boolean {
    const t = unwrap(token);
    const v = t.value as { left: Token; right: Token; method: string; parameters: Token[] };
    switch (t.type) {
      case "AndExpression": {
        const left = this.compileFilter(table, v.left);
        const right = this.compileFilter(table, v.right);
        return (row) => left(row) && right(row);
      }
      case "OrExpression": {
        const left = this.compileFilter(table, v.left);
        const right = this.compileFilter(table, v.right);
        return (row) => left(row) || right(row);
      }
      case "NotExpression": {
        const inner = this.compileFilter(table, t.value as Token);
        return (row) => !inner(row);
      }
      case "MethodCallExpression": {
        const method = v.method;
        if (!["contains", "startswith", "endswith"].includes(method)) {
          throw new DataverseError(400, ErrorCodes.NotSupported, `The function '${method}' is not supported by the Dataverse sandbox.`);
        }
        const [memberToken, valueToken] = v.parameters;
        if (!memberToken || !valueToken || !isMember(memberToken) || unwrap(valueToken).type !== "Literal") {
          throw odataError(`The function '${method}' needs a column and a string literal.`);
        }
        const property = this.property(table, unwrap(memberToken).raw);
        const needle = literal(unwrap(valueToken));
        if (needle.kind !== "string" || kindOf(property.column) !== "string") {
          throw odataError(`No function signature for the function with name '${method}' matches the specified arguments.`);
        }
        const text = String(needle.value).toLowerCase();
        return (row) => {
          const value = property.read(row);
          if (typeof value !== "string") return false;
          const hay = value.toLowerCase();
          return method === "contains" ? hay.includes(text) : method === "startswith" ? hay.startsWith(text) : hay.endsWith(text);
        };
      }
      default: {
        const op = OPERATORS[t.type];
        if (!op) throw new DataverseError(400, ErrorCodes.NotSupported, `The expression '${t.raw}' is not supported by the Dataverse sandbox.`);
        let memberToken = v.left;
        let literalToken = v.right;
        let swapped = false;
        if (!isMember(memberToken)) {
          [memberToken, literalToken] = [literalToken, memberToken];
          swapped = true;
        }
        if (!isMember(memberToken) || unwrap(literalToken).type !== "Literal") {
          throw new DataverseError(400, ErrorCodes.NotSupported, `Comparisons must be between a column and a literal: '${t.raw}'.`);
        }
        const property = this.property(table, unwrap(memberToken).raw);
        const kind = kindOf(property.column);
        const lit = literal(unwrap(literalToken));
        const compatible = lit.kind === "null" || kind === "any" || lit.kind === kind || (kind === "guid" && lit.kind === "string") || (kind === "datetime" && lit.kind === "string");
        if (!compatible) {
          throw odataError(`A binary operator with incompatible types was detected. Found operand types '${EDM_NAMES[kind]}' and '${EDM_NAMES[lit.kind]}' for operator kind '${op}'.`);
        }
        const right = lit.kind === "string" && kind === "datetime" ? Date.parse(String(lit.value)) : lit.kind === "string" ? String(lit.value).toLowerCase() : lit.value;
        return (row) => {
          const left = comparable(property.read(row), kind === "any" ? (typeof right === "string" ? "string" : "any") : kind);
          return swapped ? compare(t.type, right, left) : compare(t.type, left, right);
        };
      }
    }
  }

  /** Parses the query options of a request (or of an $expand item) for `table`. */
  parse(table: TableDef, options: Map<string, string>): QueryOptions {
    for (const key of options.keys()) {
      if (key === "$skip") throw new DataverseError(400, ErrorCodes.NotSupported, "The query parameter $skip is not supported");
      if (key.startsWith("$") && !["$select", "$filter", "$orderby", "$expand", "$top", "$count", "$skiptoken", "$apply", "$format"].includes(key)) {
        throw odataError(`The query parameter ${key} is not supported`);
      }
      if (key === "$apply") throw new DataverseError(400, ErrorCodes.NotSupported, "$apply is not supported by the Dataverse sandbox.");
    }
    const result: QueryOptions = { orderBy: [], expand: [], count: options.get("$count") === "true" };
    const select = options.get("$select");
    if (select !== undefined) {
      result.select = select.split(",").map((s) => s.trim()).filter(Boolean);
      for (const name of result.select) {
        const column = table.columns.get(name);
        if (column && isLookupType(column.type)) continue; // Dataverse accepts a lookup's logical name in $select
        this.property(table, name);
      }
    }
    const filter = options.get("$filter");
    if (filter !== undefined) result.filter = this.parseFilter(table, filter);
    const orderby = options.get("$orderby");
    if (orderby !== undefined) result.orderBy = this.parseOrderBy(table, orderby);
    const top = options.get("$top");
    if (top !== undefined) {
      if (!/^\d+$/.test(top)) throw odataError(`Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`);
      result.top = Number(top);
    }
    const expand = options.get("$expand");
    if (expand !== undefined) result.expand = this.parseExpand(table, expand);
    return result;
  }

  private parseOrderBy(table: TableDef, text: string): OrderBy[] {
    let ast: Token;
    try {
      ast = defaultParser.query(`$orderby=${text}`);
    } catch (error) {
      throw odataError(`Syntax error in $orderby '${text}': ${(error as Error).message}.`);
    }
    const option = (ast.value as { options: Token[] }).options[0]!;
    return this.orderByFromToken(table, option);
  }

  private orderByFromToken(table: TableDef, option: Token): OrderBy[] {
    return (option.value as { items: Token[] }).items.map((item) => {
      const { expr, direction } = item.value as { expr: Token; direction: number };
      return { property: this.property(table, unwrap(expr).raw), descending: direction === -1 };
    });
  }

  private parseExpand(table: TableDef, text: string): ExpandSpec[] {
    let ast: Token;
    try {
      ast = defaultParser.query(`$expand=${text}`);
    } catch (error) {
      throw odataError(`Syntax error in $expand '${text}': ${(error as Error).message}.`);
    }
    return this.expandFromToken(table, (ast.value as { options: Token[] }).options[0]!);
  }

  private expandFromToken(table: TableDef, expandToken: Token): ExpandSpec[] {
    return (expandToken.value as { items: Token[] }).items.map((item) => {
      const { path, options } = item.value as { path: Token; options?: Token[] };
      const name = path.raw;
      const navigation = table.navigation.get(name);
      if (!navigation) throw unknownProperty(table.logicalName, name);
      const target = this.meta.table(navigation.kind === "collection" ? navigation.referencingTable : navigation.referencedTable);
      const nested: QueryOptions = { orderBy: [], expand: [], count: false };
      for (const option of options ?? []) {
        switch (option.type) {
          case "Select":
            nested.select = (option.value as { items: Token[] }).items.map((i) => i.raw);
            for (const s of nested.select) {
              const column = target.columns.get(s);
              if (!(column && isLookupType(column.type))) this.property(target, s);
            }
            break;
          case "Filter":
            nested.filter = this.compileFilter(target, option.value as Token);
            break;
          case "OrderBy":
            nested.orderBy = this.orderByFromToken(target, option);
            break;
          case "Top":
            nested.top = Number((option.value as Token).raw);
            break;
          case "Expand":
            nested.expand = this.expandFromToken(target, option);
            break;
          default:
            throw new DataverseError(400, ErrorCodes.NotSupported, `The $expand option '${option.raw}' is not supported by the Dataverse sandbox.`);
        }
      }
      if (navigation.kind === "single" && (nested.filter || nested.orderBy.length || nested.top !== undefined)) {
        throw odataError(`Only $select and $expand are allowed when expanding the single-valued navigation property '${name}'.`);
      }
      return { navigation, options: nested };
    });
  }
}

/** Sorts rows by $orderby (nulls first ascending, as SQL Server does). Stable: ties keep store order. */
export function sortRows(rows: Row[], orderBy: OrderBy[]): Row[] {
  if (!orderBy.length) return rows;
  return [...rows].sort((a, b) => {
    for (const { property, descending } of orderBy) {
      const kind = kindOf(property.column);
      const x = comparable(property.read(a), kind);
      const y = comparable(property.read(b), kind);
      if (x === y) continue;
      const order = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return descending ? -order : order;
    }
    return 0;
  });
}

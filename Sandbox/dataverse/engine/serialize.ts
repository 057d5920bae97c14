// Rows as the Web API shows them: `@odata.etag`, lookups as `_x_value`, annotations when the caller
// asks with `Prefer: odata.include-annotations`, and $expand of single- and collection-valued
// navigation properties (1:N, and N:N through their intersect table).
import type { Metadata, NavigationDef, TableDef } from "./metadata.ts";
import { sortRows, type ExpandSpec } from "./query.ts";
import { formattedValue, isLookupType, isRef, lookupValueName, type Row, type Value } from "./values.ts";

export const FORMATTED = "OData.Community.Display.V1.FormattedValue";
export const NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty";
export const LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname";

/** Which annotations a `Prefer: odata.include-annotations="…"` value asks for. */
export function annotationFilter(prefer: string | undefined): ((name: string) => boolean) | undefined {
  const match = /odata\.include-annotations\s*=\s*"?([^";]+)"?/i.exec(prefer ?? "");
  if (!match) return undefined;
  const patterns = match[1]!.split(",").map((p) => p.trim()).filter(Boolean);
  return (name) => patterns.some((p) => p === "*" || p === name || (p.endsWith(".*") && name.startsWith(p.slice(0, -1))));
}

export interface SerializeContext {
  meta: Metadata;
  lookupRow: (table: string, id: string) => Row | undefined;
  relatedRows: (table: string, column: string, id: string) => Row[];
  annotations?: (name: string) => boolean;
}

export function etagOf(row: Row): string {
  return `W/"${String(row.versionnumber ?? 0)}"`;
}

function currencySymbol(ctx: SerializeContext, row: Row): string | undefined {
  const ref = row.transactioncurrencyid;
  if (!isRef(ref)) return undefined;
  const currency = ctx.lookupRow("transactioncurrency", ref.id);
  return typeof currency?.currencysymbol === "string" ? currency.currencysymbol : undefined;
}

function primaryNameOf(ctx: SerializeContext, ref: { id: string; logicalName: string }): string | null {
  const table = ctx.meta.tables.get(ref.logicalName);
  const row = ctx.lookupRow(ref.logicalName, ref.id);
  if (!table || !row) return null;
  const name = row[table.primaryName];
  return typeof name === "string" ? name : null;
}

export function serializeRow(table: TableDef, row: Row, options: { select?: string[]; expand?: ExpandSpec[] }, ctx: SerializeContext): Record<string, unknown> {
  const out: Record<string, unknown> = { "@odata.etag": etagOf(row) };
  const wanted = ctx.annotations;
  let names: string[];
  if (options.select?.length) {
    const selected = new Set(options.select.map((s) => s.replace(/^_(.+)_value$/, "$1")));
    selected.add(table.primaryId);
    names = [...selected];
  } else {
    names = [...table.columns.values()].filter((c) => c.validForRead).map((c) => c.logicalName);
  }
  for (const name of names) {
    const column = table.columns.get(name);
    if (!column || !column.validForRead) continue;
    const value: Value = row[name] ?? null;
    if (isLookupType(column.type)) {
      const key = lookupValueName(name);
      if (isRef(value) && wanted) {
        const nav = ctx.meta.navigationFor(table, name, value.logicalName);
        const display = primaryNameOf(ctx, value);
        if (wanted(FORMATTED) && display !== null) out[`${key}@${FORMATTED}`] = display;
        if (wanted(NAVIGATION) && nav) out[`${key}@${NAVIGATION}`] = nav.name;
        if (wanted(LOOKUP_LOGICAL_NAME)) out[`${key}@${LOOKUP_LOGICAL_NAME}`] = value.logicalName;
      }
      out[key] = isRef(value) ? value.id : null;
      continue;
    }
    if (wanted?.(FORMATTED) && value !== null) {
      const formatted = formattedValue(column, value, { currencySymbol: currencySymbol(ctx, row) });
      if (formatted !== undefined) out[`${name}@${FORMATTED}`] = formatted;
    }
    out[name] = value;
  }
  for (const spec of options.expand ?? []) {
    const nav = spec.navigation;
    if (nav.kind === "single") {
      const ref = row[nav.referencingAttribute];
      const targetTable = ctx.meta.table(nav.referencedTable);
      const related = isRef(ref) && ref.logicalName === nav.referencedTable ? ctx.lookupRow(ref.logicalName, ref.id) : undefined;
      out[nav.name] = related ? serializeRow(targetTable, related, spec.options, ctx) : null;
    } else {
      const targetTable = ctx.meta.table(nav.kind === "manyToMany" ? nav.referencedTable : nav.referencingTable);
      let related = nav.kind === "manyToMany" ? associatedRows(ctx, nav, String(row[table.primaryId])) : ctx.relatedRows(nav.referencingTable, nav.referencingAttribute, String(row[table.primaryId]));
      if (spec.options.filter) related = related.filter(spec.options.filter);
      related = sortRows(related, spec.options.orderBy);
      if (spec.options.top !== undefined) related = related.slice(0, spec.options.top);
      out[nav.name] = related.map((r) => serializeRow(targetTable, r, spec.options, ctx));
    }
  }
  return out;
}

/** The rows an N:N navigation property reaches from `id`, through its intersect table. */
export function associatedRows(ctx: Pick<SerializeContext, "lookupRow" | "relatedRows">, nav: NavigationDef, id: string): Row[] {
  const { otherAttribute } = nav.intersect!;
  return ctx.relatedRows(nav.referencingTable, nav.referencingAttribute, id).flatMap((link) => {
    const ref = link[otherAttribute];
    const other = isRef(ref) ? ctx.lookupRow(nav.referencedTable, ref.id) : undefined;
    return other ? [other] : [];
  });
}

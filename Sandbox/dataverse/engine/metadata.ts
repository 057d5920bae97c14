// Table metadata the sandbox serves: the standard tables (standard-tables.ts) merged with the
// solution's schema as scripts/solution/model.ts reads it from Solution/. Nothing here hard-codes a
// name of the solution: custom tables, columns, choices, keys and relationships all come from the model.
import { createHash } from "node:crypto";
import type { SchemaModel, ColumnModel, OptionSetModel } from "../../../scripts/solution/model.ts";
import { STANDARD_MANY_TO_MANY, STANDARD_TABLES, type AttributeType, type StandardColumn, type StandardTable } from "../standard-tables.ts";

export type { AttributeType };

export interface OptionDef {
  value: number;
  label: string;
  labels: Record<string, string>;
  /** Status options: the state they belong to. */
  state?: number;
}

export interface ColumnDef {
  logicalName: string;
  schemaName: string;
  type: AttributeType;
  isCustom: boolean;
  requiredLevel: string;
  validForCreate: boolean;
  validForUpdate: boolean;
  validForRead: boolean;
  maxLength?: number;
  format?: string;
  options?: OptionDef[];
  optionSetName?: string;
  isGlobalOptionSet?: boolean;
  defaultValue?: number | boolean;
  targets?: string[];
  displayName: string;
  isPrimaryId: boolean;
  isPrimaryName: boolean;
}

export interface NavigationDef {
  name: string;
  kind: "single" | "collection" | "manyToMany";
  relationship: string;
  /** manyToMany: the intersect table, this side's and the other side's column in it (referencingTable is the intersect table, referencedTable the other side). */
  intersect?: { attribute: string; otherAttribute: string };
  /** The table holding the lookup column. */
  referencingTable: string;
  referencingAttribute: string;
  /** The table the lookup points to. */
  referencedTable: string;
  cascadeDelete: "Cascade" | "RemoveLink" | "Restrict";
}

export interface KeyDef {
  name: string;
  attributes: string[];
  displayName: string;
}

export interface TableDef {
  logicalName: string;
  schemaName: string;
  entitySetName: string;
  primaryId: string;
  primaryName: string;
  objectTypeCode: number;
  ownership: string;
  isCustom: boolean;
  isActivity: boolean;
  displayName: string;
  collectionName: string;
  metadataId: string;
  columns: Map<string, ColumnDef>;
  keys: KeyDef[];
  /** Navigation properties by name (case-sensitive, as in the Web API). */
  navigation: Map<string, NavigationDef>;
}

/** A stable GUID derived from a name, so ids agree across resets, runs and machines. */
export function stableId(name: string): string {
  const hex = createHash("sha1").update(name).digest("hex");
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const SOLUTION_TYPES: Record<string, AttributeType> = {
  nvarchar: "String", ntext: "Memo", bit: "Boolean", picklist: "Picklist", datetime: "DateTime", lookup: "Lookup",
  primarykey: "Uniqueidentifier", uniqueidentifier: "Uniqueidentifier", int: "Integer", bigint: "BigInt", owner: "Owner",
  state: "State", status: "Status", money: "Money", decimal: "Decimal", float: "Double", multiselectpicklist: "MultiSelectPicklist",
  customer: "Customer",
};

/** Targets of the system lookups every table has; custom lookups take theirs from the solution's relationships. */
const SYSTEM_LOOKUP_TARGETS: Record<string, string[]> = {
  createdby: ["systemuser"], modifiedby: ["systemuser"], createdonbehalfby: ["systemuser"], modifiedonbehalfby: ["systemuser"],
  owninguser: ["systemuser"], owningteam: ["team"], owningbusinessunit: ["businessunit"], organizationid: ["organization"],
  ownerid: ["systemuser", "team"], transactioncurrencyid: ["transactioncurrency"],
};

const READ_ONLY_SYSTEM = new Set(["createdon", "modifiedon", "createdby", "modifiedby", "createdonbehalfby", "modifiedonbehalfby", "owninguser", "owningteam", "owningbusinessunit", "organizationid", "versionnumber"]);

function label(labels: Record<string, string>, fallback: string): string {
  return labels["1033"] ?? Object.values(labels)[0] ?? fallback;
}

function optionsFromModel(set: OptionSetModel, type: AttributeType): OptionDef[] {
  return set.options.map((o) => ({
    value: o.value,
    label: label(o.label, String(o.value)),
    labels: o.label,
    // The model keeps status values without their state; new tables have Active (1 → 0) and Inactive (2 → 1).
    ...(type === "Status" ? { state: o.value === 2 ? 1 : 0 } : {}),
  }));
}

function columnFromModel(table: string, c: ColumnModel): ColumnDef {
  const type = SOLUTION_TYPES[c.type];
  if (!type) throw new Error(`${table}.${c.logicalName}: column type ${c.type} is not known to the Dataverse sandbox`);
  const def: ColumnDef = {
    logicalName: c.logicalName,
    schemaName: c.schemaName,
    type,
    isCustom: c.isCustom,
    requiredLevel: c.requiredLevel,
    validForCreate: c.validForCreate && !READ_ONLY_SYSTEM.has(c.logicalName),
    validForUpdate: c.validForUpdate && !READ_ONLY_SYSTEM.has(c.logicalName),
    validForRead: true,
    displayName: label(c.displayName, c.schemaName),
    isPrimaryId: type === "Uniqueidentifier" && c.type === "primarykey",
    isPrimaryName: c.isPrimaryName,
  };
  if (c.maxLength !== undefined) def.maxLength = c.maxLength;
  if (c.format) def.format = type === "DateTime" ? (c.format === "date" ? "DateOnly" : "DateAndTime") : c.format;
  if (c.optionSet) {
    def.options = optionsFromModel(c.optionSet, type);
    def.optionSetName = c.optionSet.name;
    def.isGlobalOptionSet = c.optionSet.isGlobal;
  }
  if (c.defaultValue !== undefined && c.defaultValue !== -1) def.defaultValue = type === "Boolean" ? c.defaultValue === 1 : c.defaultValue;
  else if (type === "Boolean") def.defaultValue = false;
  if (SYSTEM_LOOKUP_TARGETS[c.logicalName] && (type === "Lookup" || type === "Owner")) def.targets = SYSTEM_LOOKUP_TARGETS[c.logicalName];
  return def;
}

function columnFromStandard(table: StandardTable, logicalName: string, c: StandardColumn): ColumnDef {
  const def: ColumnDef = {
    logicalName,
    schemaName: logicalName,
    type: c.type,
    isCustom: false,
    requiredLevel: c.requiredLevel ?? "none",
    validForCreate: !c.readOnly,
    validForUpdate: !c.readOnly,
    validForRead: !c.writeOnly,
    displayName: c.displayName ?? logicalName,
    isPrimaryId: false,
    isPrimaryName: logicalName === table.primaryName,
  };
  if (c.maxLength !== undefined) def.maxLength = c.maxLength;
  if (c.format) def.format = c.format;
  if (c.options) {
    def.options = c.options.map(([value, text, state]) => ({ value, label: text, labels: { "1033": text }, ...(state !== undefined ? { state } : {}) }));
    def.optionSetName = `${table.logicalName}_${logicalName}`;
    def.isGlobalOptionSet = false;
  }
  if (c.defaultValue !== undefined) def.defaultValue = c.defaultValue;
  if (c.targets) def.targets = c.targets;
  return def;
}

function systemColumns(table: StandardTable): Record<string, StandardColumn> {
  const set = table.entitySetName;
  const user = (relationship: string): StandardColumn => ({ type: "Lookup", targets: ["systemuser"], relationships: { systemuser: relationship }, readOnly: true });
  const columns: Record<string, StandardColumn> = {
    createdon: { type: "DateTime", format: "DateAndTime", readOnly: true },
    modifiedon: { type: "DateTime", format: "DateAndTime", readOnly: true },
    createdby: user(`lk_${table.logicalName}_createdby`),
    modifiedby: user(`lk_${table.logicalName}_modifiedby`),
    createdonbehalfby: user(`lk_${table.logicalName}_createdonbehalfby`),
    modifiedonbehalfby: user(`lk_${table.logicalName}_modifiedonbehalfby`),
    versionnumber: { type: "BigInt", readOnly: true },
  };
  if (table.ownership === "UserOwned") {
    columns.ownerid = { type: "Owner", targets: ["systemuser", "team"], relationships: { systemuser: `user_${set}`, team: `team_${set}` }, navigation: { systemuser: "ownerid", team: "ownerid" }, requiredLevel: "systemrequired" };
    columns.owninguser = user(`user_owner_${set}`);
    columns.owningteam = { type: "Lookup", targets: ["team"], relationships: { team: `team_owner_${set}` }, readOnly: true };
    columns.owningbusinessunit = { type: "Lookup", targets: ["businessunit"], relationships: { businessunit: `business_unit_${set}` }, readOnly: true };
  } else if (table.ownership === "OrgOwned") {
    columns.organizationid = { type: "Lookup", targets: ["organization"], relationships: { organization: `organization_${set}` }, readOnly: true };
  }
  return columns;
}

interface PendingRelationship {
  name: string;
  referencingTable: string;
  referencingAttribute: string;
  referencedTable: string;
  /** Single-valued navigation property name on the referencing table. */
  navigation: string;
  cascadeDelete: NavigationDef["cascadeDelete"];
}

export class Metadata {
  readonly tables = new Map<string, TableDef>();
  readonly bySet = new Map<string, TableDef>();
  readonly schema: SchemaModel;

  constructor(schema: SchemaModel) {
    this.schema = schema;
    const relationships: PendingRelationship[] = [];

    for (const std of STANDARD_TABLES) {
      const table = this.newTable({
        logicalName: std.logicalName, schemaName: std.schemaName, entitySetName: std.entitySetName, primaryId: std.primaryId,
        primaryName: std.primaryName, objectTypeCode: std.objectTypeCode, ownership: std.ownership, isCustom: false,
        isActivity: std.isActivity ?? false, displayName: std.displayName, collectionName: std.collectionName,
      });
      table.columns.set(std.primaryId, {
        logicalName: std.primaryId, schemaName: std.primaryId, type: "Uniqueidentifier", isCustom: false, requiredLevel: "systemrequired",
        validForCreate: true, validForUpdate: false, validForRead: true, displayName: std.primaryId, isPrimaryId: true, isPrimaryName: false,
      });
      for (const [name, c] of Object.entries({ ...std.columns, ...systemColumns(std) })) {
        table.columns.set(name, columnFromStandard(std, name, c));
        for (const [target, relationship] of Object.entries(c.relationships ?? {})) {
          const polymorphic = (c.targets ?? []).length > 1 && c.type !== "Owner";
          relationships.push({
            name: relationship, referencingTable: std.logicalName, referencingAttribute: name, referencedTable: target,
            navigation: c.navigation?.[target] ?? (polymorphic ? `${name}_${target}` : name), cascadeDelete: c.cascadeDelete ?? "RemoveLink",
          });
        }
      }
      for (const key of std.keys ?? []) table.keys.push({ name: key.name, attributes: key.attributes, displayName: key.name });
    }

    for (const model of schema.tables) {
      let table = this.tables.get(model.logicalName);
      if (!table) {
        if (!model.isNew) throw new Error(`the solution extends ${model.logicalName}, which standard-tables.ts does not define`);
        if (!model.entitySetName || !model.primaryIdAttribute || !model.primaryNameAttribute) throw new Error(`${model.logicalName}: the solution names no entity set, primary id or primary name`);
        table = this.newTable({
          logicalName: model.logicalName, schemaName: model.schemaName, entitySetName: model.entitySetName, primaryId: model.primaryIdAttribute,
          primaryName: model.primaryNameAttribute, objectTypeCode: 10000 + this.tables.size, ownership: model.ownership ?? "UserOwned",
          isCustom: true, isActivity: false, displayName: label(model.displayName, model.schemaName), collectionName: label(model.collectionName, model.schemaName),
        });
      }
      for (const c of model.columns) {
        const def = columnFromModel(model.logicalName, c);
        table.columns.set(def.logicalName, def);
        if (!model.isNew) continue;
        // System lookups of a new table: the standard relationships Dataverse makes for every table.
        const targets = SYSTEM_LOOKUP_TARGETS[def.logicalName];
        if (targets && (def.type === "Lookup" || def.type === "Owner")) {
          for (const target of targets) {
            relationships.push({
              name: def.logicalName === "ownerid" ? `${target === "team" ? "team" : "user"}_${model.logicalName}` : `lk_${model.logicalName}_${def.logicalName}`,
              referencingTable: model.logicalName, referencingAttribute: def.logicalName, referencedTable: target, navigation: def.logicalName, cascadeDelete: "RemoveLink",
            });
          }
        }
      }
      if (!table.columns.has("versionnumber")) {
        table.columns.set("versionnumber", { logicalName: "versionnumber", schemaName: "VersionNumber", type: "BigInt", isCustom: false, requiredLevel: "none", validForCreate: false, validForUpdate: false, validForRead: true, displayName: "Version Number", isPrimaryId: false, isPrimaryName: false });
      }
      for (const key of model.keys) table.keys.push({ name: key.logicalName, attributes: key.attributes, displayName: label(key.displayName, key.name) });
    }

    for (const r of schema.relationships) {
      const referencing = this.tables.get(r.referencingEntity);
      const column = referencing?.columns.get(r.referencingAttribute);
      if (!referencing || !column) throw new Error(`relationship ${r.name}: ${r.referencingEntity}.${r.referencingAttribute} is not defined`);
      column.targets = [...new Set([...(column.targets ?? []), r.referencedEntity])];
      relationships.push({
        name: r.name, referencingTable: r.referencingEntity, referencingAttribute: r.referencingAttribute, referencedTable: r.referencedEntity,
        navigation: column.schemaName, cascadeDelete: r.cascadeDelete === "Cascade" ? "Cascade" : r.cascadeDelete === "Restrict" ? "Restrict" : "RemoveLink",
      });
    }

    for (const r of relationships) {
      const referencing = this.tables.get(r.referencingTable);
      const referenced = this.tables.get(r.referencedTable);
      if (!referencing || !referenced) continue; // a target the sandbox does not model
      const base = { relationship: r.name, referencingTable: r.referencingTable, referencingAttribute: r.referencingAttribute, referencedTable: r.referencedTable, cascadeDelete: r.cascadeDelete };
      if (!referencing.navigation.has(r.navigation) || r.referencingAttribute !== "ownerid") referencing.navigation.set(r.navigation, { ...base, name: r.navigation, kind: "single" });
      referenced.navigation.set(r.name, { ...base, name: r.name, kind: "collection" });
    }

    for (const m of STANDARD_MANY_TO_MANY) {
      for (const [own, ownAttribute, other, otherAttribute] of [[m.entity1, m.attribute1, m.entity2, m.attribute2], [m.entity2, m.attribute2, m.entity1, m.attribute1]] as const) {
        this.table(own).navigation.set(m.name, {
          name: m.name, kind: "manyToMany", relationship: m.name, referencingTable: m.intersect, referencingAttribute: ownAttribute, referencedTable: other,
          cascadeDelete: "Cascade", intersect: { attribute: ownAttribute, otherAttribute },
        });
      }
    }
  }

  private newTable(t: Omit<TableDef, "columns" | "keys" | "navigation" | "metadataId">): TableDef {
    const table: TableDef = { ...t, metadataId: stableId(`entity:${t.logicalName}`), columns: new Map(), keys: [], navigation: new Map() };
    this.tables.set(t.logicalName, table);
    this.bySet.set(t.entitySetName, table);
    return table;
  }

  table(logicalName: string): TableDef {
    const table = this.tables.get(logicalName);
    if (!table) throw new Error(`no table ${logicalName}`);
    return table;
  }

  /** The single-valued navigation property that reads a lookup column pointing at `target`. */
  navigationFor(table: TableDef, column: string, target: string): NavigationDef | undefined {
    for (const nav of table.navigation.values()) {
      if (nav.kind === "single" && nav.referencingAttribute === column && nav.referencedTable === target) return nav;
    }
    return undefined;
  }

  /** Lookups elsewhere that point at `table` (for cascades on delete). */
  referencesTo(table: string): NavigationDef[] {
    return [...this.tables.get(table)?.navigation.values() ?? []].filter((n) => n.kind === "collection");
  }
}

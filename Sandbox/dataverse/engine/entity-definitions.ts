// Metadata as the Web API shows it: EntityDefinitions(LogicalName='x'), its Attributes and Keys,
// with enough of each AttributeMetadata to tell whether a column exists, its type and its choices.
import type { ColumnDef, Metadata, TableDef } from "./metadata.ts";
import { stableId } from "./metadata.ts";

const TYPE_NAMES: Record<ColumnDef["type"], { attributeType: string; typeName: string; odataType: string }> = {
  String: { attributeType: "String", typeName: "StringType", odataType: "StringAttributeMetadata" },
  Memo: { attributeType: "Memo", typeName: "MemoType", odataType: "MemoAttributeMetadata" },
  Integer: { attributeType: "Integer", typeName: "IntegerType", odataType: "IntegerAttributeMetadata" },
  BigInt: { attributeType: "BigInt", typeName: "BigIntType", odataType: "BigIntAttributeMetadata" },
  Decimal: { attributeType: "Decimal", typeName: "DecimalType", odataType: "DecimalAttributeMetadata" },
  Double: { attributeType: "Double", typeName: "DoubleType", odataType: "DoubleAttributeMetadata" },
  Money: { attributeType: "Money", typeName: "MoneyType", odataType: "MoneyAttributeMetadata" },
  Boolean: { attributeType: "Boolean", typeName: "BooleanType", odataType: "BooleanAttributeMetadata" },
  DateTime: { attributeType: "DateTime", typeName: "DateTimeType", odataType: "DateTimeAttributeMetadata" },
  Picklist: { attributeType: "Picklist", typeName: "PicklistType", odataType: "PicklistAttributeMetadata" },
  State: { attributeType: "State", typeName: "StateType", odataType: "StateAttributeMetadata" },
  Status: { attributeType: "Status", typeName: "StatusType", odataType: "StatusAttributeMetadata" },
  Lookup: { attributeType: "Lookup", typeName: "LookupType", odataType: "LookupAttributeMetadata" },
  Owner: { attributeType: "Owner", typeName: "OwnerType", odataType: "LookupAttributeMetadata" },
  Customer: { attributeType: "Customer", typeName: "CustomerType", odataType: "LookupAttributeMetadata" },
  Uniqueidentifier: { attributeType: "Uniqueidentifier", typeName: "UniqueidentifierType", odataType: "UniqueIdentifierAttributeMetadata" },
  EntityName: { attributeType: "EntityName", typeName: "EntityNameType", odataType: "EntityNameAttributeMetadata" },
  MultiSelectPicklist: { attributeType: "Virtual", typeName: "MultiSelectPicklistType", odataType: "MultiSelectPicklistAttributeMetadata" },
};

/** The metadata cast segment for a column type, e.g. Microsoft.Dynamics.CRM.PicklistAttributeMetadata. */
export function metadataTypeOf(column: ColumnDef): string {
  return TYPE_NAMES[column.type].odataType;
}

export function label(text: string, labels: Record<string, string> = { "1033": text }): Record<string, unknown> {
  const localized = Object.entries(labels).map(([lang, l]) => ({ Label: l, LanguageCode: Number(lang), IsManaged: true, MetadataId: stableId(`label:${lang}:${l}`), HasChanged: null }));
  return { LocalizedLabels: localized, UserLocalizedLabel: localized.find((l) => l.LanguageCode === 1033) ?? localized[0] ?? null };
}

const REQUIRED: Record<string, string> = { none: "None", systemrequired: "SystemRequired", applicationrequired: "ApplicationRequired", required: "ApplicationRequired", recommended: "Recommended" };

export function entityDefinition(table: TableDef): Record<string, unknown> {
  return {
    MetadataId: table.metadataId,
    LogicalName: table.logicalName,
    SchemaName: table.schemaName,
    EntitySetName: table.entitySetName,
    LogicalCollectionName: table.entitySetName,
    PrimaryIdAttribute: table.primaryId,
    PrimaryNameAttribute: table.primaryName,
    ObjectTypeCode: table.objectTypeCode,
    IsCustomEntity: table.isCustom,
    IsActivity: table.isActivity,
    OwnershipType: table.ownership,
    IsOptimisticConcurrencyEnabled: true,
    DisplayName: label(table.displayName),
    DisplayCollectionName: label(table.collectionName),
  };
}

export function attributeDefinition(table: TableDef, column: ColumnDef, options: { optionSet?: boolean } = {}): Record<string, unknown> {
  const names = TYPE_NAMES[column.type];
  const out: Record<string, unknown> = {
    "@odata.type": `#Microsoft.Dynamics.CRM.${names.odataType}`,
    MetadataId: stableId(`attribute:${table.logicalName}.${column.logicalName}`),
    LogicalName: column.logicalName,
    SchemaName: column.schemaName,
    EntityLogicalName: table.logicalName,
    AttributeType: names.attributeType,
    AttributeTypeName: { Value: names.typeName },
    IsCustomAttribute: column.isCustom,
    IsPrimaryId: column.isPrimaryId,
    IsPrimaryName: column.isPrimaryName,
    IsValidForCreate: column.validForCreate,
    IsValidForUpdate: column.validForUpdate,
    IsValidForRead: column.validForRead,
    RequiredLevel: { Value: REQUIRED[column.requiredLevel] ?? "None", CanBeChanged: true, ManagedPropertyLogicalName: "canmodifyrequirementlevelsettings" },
    DisplayName: label(column.displayName),
  };
  if (column.maxLength !== undefined) out.MaxLength = column.maxLength;
  if (column.format) out[column.type === "DateTime" ? "Format" : "FormatName"] = column.type === "DateTime" ? column.format : { Value: column.format };
  if (column.targets) out.Targets = column.targets;
  if (column.defaultValue !== undefined && typeof column.defaultValue === "number") out.DefaultFormValue = column.defaultValue;
  if (options.optionSet && column.options) {
    out.OptionSet = {
      Name: column.optionSetName,
      IsGlobal: column.isGlobalOptionSet ?? false,
      OptionSetType: column.type === "Boolean" ? "Boolean" : column.type === "State" ? "State" : column.type === "Status" ? "Status" : "Picklist",
      Options: column.options.map((o) => ({ Value: o.value, Label: label(o.label, o.labels), ...(o.state !== undefined ? { State: o.state } : {}) })),
    };
  }
  return out;
}

export function keyDefinition(table: TableDef, key: TableDef["keys"][number]): Record<string, unknown> {
  return {
    MetadataId: stableId(`key:${table.logicalName}.${key.name}`),
    LogicalName: key.name,
    SchemaName: key.name,
    EntityLogicalName: table.logicalName,
    KeyAttributes: key.attributes,
    DisplayName: label(key.displayName),
    EntityKeyIndexStatus: "Active",
  };
}

/** Keeps only the $select-ed properties of a metadata object (MetadataId always stays, as Dataverse does). */
export function selectProperties(item: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  if (!select?.length) return item;
  const out: Record<string, unknown> = {};
  if (item["@odata.type"]) out["@odata.type"] = item["@odata.type"];
  for (const name of ["MetadataId", ...select]) if (name in item) out[name] = item[name];
  return out;
}

export function allTables(meta: Metadata): TableDef[] {
  return [...meta.tables.values()];
}

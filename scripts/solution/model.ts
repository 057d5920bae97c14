// The schema the solution defines, as plain data: tables, columns, choices, relationships,
// environment variables, roles and forms. The name generator, the tests and the Dataverse
// sandbox all read the schema through this one module.
import { type SolutionSource, solutionManifest } from "./source.ts";
import { child, childElements, descendants, labelsOf, parseXml, path, text, type Element } from "./xml.ts";

export type Labels = Record<string, string>;

export interface OptionModel {
  value: number;
  /** Partner Center's name for the value (ExternalValue), e.g. "ProofOfConceptOrDemo"; "" when none. */
  externalValue: string;
  label: Labels;
  description: Labels;
}

export interface OptionSetModel {
  name: string;
  isGlobal: boolean;
  displayName: Labels;
  description: Labels;
  options: OptionModel[];
}

export interface ColumnModel {
  schemaName: string;
  logicalName: string;
  type: string;
  format?: string;
  maxLength?: number;
  requiredLevel: string;
  isCustom: boolean;
  isPrimaryName: boolean;
  validForCreate: boolean;
  validForUpdate: boolean;
  /** Global choice name, or the embedded option set of a Yes/No, state or status column. */
  optionSet?: OptionSetModel;
  defaultValue?: number;
  displayName: Labels;
  description: Labels;
}

export interface KeyModel {
  name: string;
  logicalName: string;
  attributes: string[];
  displayName: Labels;
}

export interface TableModel {
  schemaName: string;
  logicalName: string;
  /** True for tables the solution creates; false for system tables it only adds columns to. */
  isNew: boolean;
  entitySetName?: string;
  ownership?: "UserOwned" | "OrgOwned";
  primaryIdAttribute?: string;
  primaryNameAttribute?: string;
  displayName: Labels;
  collectionName: Labels;
  description: Labels;
  columns: ColumnModel[];
  keys: KeyModel[];
}

export interface RelationshipModel {
  name: string;
  referencingEntity: string;
  referencedEntity: string;
  referencingAttribute: string;
  cascadeDelete: string;
  description: Labels;
}

export interface EnvironmentVariableModel {
  schemaName: string;
  type: "String" | "Number" | "Boolean" | "JSON" | "DataSource" | "Secret";
  typeCode: number;
  defaultValue?: string;
  displayName: Labels;
  description: Labels;
}

export interface RoleModel {
  id: string;
  name: string;
  privileges: Array<{ name: string; level: string }>;
}

export interface FormControlModel {
  id: string;
  classId: string;
  dataFieldName?: string;
  label: Labels;
  disabled: boolean;
}

export interface FormModel {
  table: string;
  formType: string;
  formId: string;
  name: Labels;
  tabs: Array<{ name: string; label: Labels; sections: Array<{ name: string; label: Labels; controls: FormControlModel[] }> }>;
}

export interface SchemaModel {
  uniqueName: string;
  version: string;
  prefix: string;
  optionValuePrefix: number;
  tables: TableModel[];
  optionSets: OptionSetModel[];
  relationships: RelationshipModel[];
  environmentVariables: EnvironmentVariableModel[];
  roles: RoleModel[];
  forms: FormModel[];
}

const ENV_TYPES: Record<number, EnvironmentVariableModel["type"]> = {
  100000000: "String", 100000001: "Number", 100000002: "Boolean", 100000003: "JSON", 100000004: "DataSource", 100000005: "Secret",
};

function readOptionSet(el: Element): OptionSetModel {
  const options: OptionModel[] = [];
  const optionsEl = child(el, "options");
  for (const option of optionsEl ? childElements(optionsEl, "option") : []) {
    options.push({
      value: Number(option.getAttribute("value")),
      externalValue: option.getAttribute("ExternalValue") ?? "",
      label: labelsOf(child(option, "labels")),
      description: labelsOf(child(option, "Descriptions")),
    });
  }
  const states = child(el, "states");
  for (const state of states ? childElements(states, "state") : []) {
    options.push({ value: Number(state.getAttribute("value")), externalValue: state.getAttribute("invariantname") ?? "", label: labelsOf(child(state, "labels")), description: {} });
  }
  const statuses = child(el, "statuses");
  for (const status of statuses ? childElements(statuses, "status") : []) {
    options.push({ value: Number(status.getAttribute("value")), externalValue: "", label: labelsOf(child(status, "labels")), description: {} });
  }
  return {
    name: el.getAttribute("Name") ?? "",
    isGlobal: text(child(el, "IsGlobal")) === "1",
    displayName: labelsOf(child(el, "displaynames")),
    description: labelsOf(child(el, "Descriptions")),
    options,
  };
}

function readColumn(el: Element, globals: Map<string, OptionSetModel>): ColumnModel {
  const logicalName = text(child(el, "LogicalName")) ?? "";
  const optionSetName = text(child(el, "OptionSetName"));
  const embedded = child(el, "optionset");
  const optionSet = embedded ? readOptionSet(embedded) : optionSetName ? globals.get(optionSetName) : undefined;
  if (optionSetName && !optionSet) throw new Error(`column ${logicalName} uses choice ${optionSetName}, which the solution does not define`);
  const maxLength = text(child(el, "MaxLength"));
  const format = text(child(el, "Format"));
  const defaultValue = text(child(el, "AppDefaultValue"));
  return {
    schemaName: el.getAttribute("PhysicalName") ?? logicalName,
    logicalName,
    type: text(child(el, "Type")) ?? "",
    ...(format ? { format } : {}),
    ...(maxLength ? { maxLength: Number(maxLength) } : {}),
    requiredLevel: text(child(el, "RequiredLevel")) ?? "none",
    isCustom: text(child(el, "IsCustomField")) === "1",
    isPrimaryName: (text(child(el, "DisplayMask")) ?? "").split("|").includes("PrimaryName"),
    validForCreate: text(child(el, "ValidForCreateApi")) !== "0",
    validForUpdate: text(child(el, "ValidForUpdateApi")) !== "0",
    ...(optionSet ? { optionSet } : {}),
    ...(defaultValue !== undefined && defaultValue !== "" ? { defaultValue: Number(defaultValue) } : {}),
    displayName: labelsOf(child(el, "displaynames")),
    description: labelsOf(child(el, "Descriptions")),
  };
}

function readForm(table: string, formType: string, systemform: Element): FormModel {
  const form = child(systemform, "form");
  const tabs: FormModel["tabs"] = [];
  for (const tab of form ? descendants(form, "tab") : []) {
    const sections: FormModel["tabs"][number]["sections"] = [];
    for (const section of descendants(tab, "section")) {
      const controls: FormControlModel[] = descendants(section, "cell").flatMap((cell) =>
        childElements(cell, "control").map((control) => ({
          id: control.getAttribute("id") ?? "",
          classId: (control.getAttribute("classid") ?? "").toUpperCase(),
          ...(control.getAttribute("datafieldname") ? { dataFieldName: control.getAttribute("datafieldname") ?? "" } : {}),
          label: labelsOf(child(cell, "labels")),
          disabled: control.getAttribute("disabled") === "true",
        })),
      );
      sections.push({ name: section.getAttribute("name") ?? "", label: labelsOf(child(section, "labels")), controls });
    }
    tabs.push({ name: tab.getAttribute("name") ?? "", label: labelsOf(child(tab, "labels")), sections });
  }
  return {
    table,
    formType,
    formId: (text(child(systemform, "formid")) ?? "").replace(/[{}]/g, "").toLowerCase(),
    name: labelsOf(child(systemform, "LocalizedNames")),
    tabs,
  };
}

export function readSchema(source: SolutionSource): SchemaModel {
  const manifest = solutionManifest(source);
  const optionSets = source.optionSets.map((f) => readOptionSet(f.doc.documentElement as unknown as Element));
  const globals = new Map(optionSets.map((o) => [o.name, o]));

  const tables: TableModel[] = source.entities.map(({ entity }) => {
    const root = entity.doc.documentElement as unknown as Element;
    const info = path(root, "EntityInfo", "entity");
    if (!info) throw new Error(`${entity.path}: no <EntityInfo><entity>`);
    const schemaName = text(child(root, "Name")) ?? "";
    const attributes = child(info, "attributes");
    const columns = attributes ? childElements(attributes, "attribute").map((a) => readColumn(a, globals)) : [];
    const keysEl = child(info, "EntityKeys");
    const keys: KeyModel[] = keysEl
      ? childElements(keysEl, "EntityKey").map((k) => ({
          name: text(child(k, "Name")) ?? "",
          logicalName: text(child(k, "LogicalName")) ?? "",
          attributes: childElements(child(k, "EntityKeyAttributes") ?? k, "AttributeName").map((a) => a.textContent ?? ""),
          displayName: labelsOf(child(k, "displaynames")),
        }))
      : [];
    const isNew = child(info, "LocalizedNames") !== undefined;
    const ownership = text(child(info, "OwnershipTypeMask"));
    const entitySetName = text(child(info, "EntitySetName"));
    const primaryId = columns.find((c) => c.type === "primarykey");
    const primaryName = columns.find((c) => c.isPrimaryName);
    return {
      schemaName,
      logicalName: schemaName.toLowerCase(),
      isNew,
      ...(entitySetName ? { entitySetName } : {}),
      ...(ownership === "UserOwned" || ownership === "OrgOwned" ? { ownership } : {}),
      ...(primaryId ? { primaryIdAttribute: primaryId.logicalName } : {}),
      ...(primaryName ? { primaryNameAttribute: primaryName.logicalName } : {}),
      displayName: labelsOf(child(info, "LocalizedNames")),
      collectionName: labelsOf(child(info, "LocalizedCollectionNames")),
      description: labelsOf(child(info, "Descriptions")),
      columns,
      keys,
    };
  });

  const relationships: RelationshipModel[] = source.relationships.flatMap((f) =>
    childElements(f.doc.documentElement as unknown as Element, "EntityRelationship").map((r) => ({
      name: r.getAttribute("Name") ?? "",
      referencingEntity: (text(child(r, "ReferencingEntityName")) ?? "").toLowerCase(),
      referencedEntity: (text(child(r, "ReferencedEntityName")) ?? "").toLowerCase(),
      referencingAttribute: (text(child(r, "ReferencingAttributeName")) ?? "").toLowerCase(),
      cascadeDelete: text(child(r, "CascadeDelete")) ?? "",
      description: labelsOf(path(r, "RelationshipDescription", "Descriptions")),
    })),
  );

  const environmentVariables: EnvironmentVariableModel[] = source.copiedFiles
    .filter((f) => /^environmentvariabledefinitions\/[^/]+\/environmentvariabledefinition\.xml$/.test(f.path))
    .map((f) => {
      const root = parseXml(f.content.toString("utf8"), f.path).documentElement as unknown as Element;
      const typeCode = Number(text(child(root, "type")));
      const type = ENV_TYPES[typeCode];
      if (!type) throw new Error(`${f.path}: unknown environment variable type ${typeCode}`);
      const defaultValue = text(child(root, "defaultvalue"));
      return {
        schemaName: root.getAttribute("schemaname") ?? "",
        type,
        typeCode,
        ...(defaultValue !== undefined ? { defaultValue } : {}),
        displayName: labelsOf(child(root, "displayname")),
        description: labelsOf(child(root, "description")),
      };
    });

  const roles: RoleModel[] = source.roles.map((f) => {
    const root = f.doc.documentElement as unknown as Element;
    const privileges = child(root, "RolePrivileges");
    return {
      id: (root.getAttribute("id") ?? "").replace(/[{}]/g, "").toLowerCase(),
      name: root.getAttribute("name") ?? "",
      privileges: privileges ? childElements(privileges, "RolePrivilege").map((p) => ({ name: p.getAttribute("name") ?? "", level: p.getAttribute("level") ?? "" })) : [],
    };
  });

  const forms: FormModel[] = source.entities.flatMap((entity) =>
    entity.forms.flatMap((f) => childElements(f.doc.documentElement as unknown as Element, "systemform").map((sf) => readForm(entity.folder.toLowerCase(), f.formType, sf))),
  );

  return { ...manifest, tables, optionSets, relationships, environmentVariables, roles, forms };
}

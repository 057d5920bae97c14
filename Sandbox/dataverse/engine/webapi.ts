// The Web API's HTTP rules over the engine (dataverse.md §9): routes, Prefer, ETags and conditional
// requests, upsert, alternate keys, paging, actions and metadata. A request and its answer are plain
// objects, so the fastify handler and the $batch parts share this code and none of it does I/O.
import { randomUUID } from "node:crypto";
import type { TableDef, ColumnDef, NavigationDef } from "./metadata.ts";
import { stableId } from "./metadata.ts";
import { DataverseError, ErrorCodes, accessDenied, badRequest, errorBody, notFound, odataError, segmentNotFound, unknownProperty } from "./errors.ts";
import type { Caller, Engine, Operation } from "./engine.ts";
import { sortRows, type QueryOptions } from "./query.ts";
import { annotationFilter, associatedRows, etagOf, serializeRow, type SerializeContext } from "./serialize.ts";
import { allTables, attributeDefinition, entityDefinition, keyDefinition, metadataTypeOf, selectProperties } from "./entity-definitions.ts";
import { coerceInput, isLookupType, isRef, type Row } from "./values.ts";

export interface ApiRequest {
  method: string;
  /** Path and query, e.g. /api/data/v9.2/accounts?$top=1 (absolute URLs of the org are accepted too). */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body, if any. */
  body?: unknown;
  caller: Caller;
  /** A transaction to join (a $batch change set). */
  op?: Operation;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export const MAX_PAGE_SIZE = 5000;
const MAX_COUNT = 5000;

interface Prefer {
  returnRepresentation: boolean;
  annotations?: (name: string) => boolean;
  annotationsRaw?: string;
  maxPageSize?: number;
}

export function parsePrefer(header: string | undefined): Prefer {
  const text = header ?? "";
  const prefer: Prefer = { returnRepresentation: /(^|[,;\s])return\s*=\s*representation/i.test(text) };
  const annotations = annotationFilter(text);
  if (annotations) {
    prefer.annotations = annotations;
    prefer.annotationsRaw = /odata\.include-annotations\s*=\s*("[^"]*"|[^,;\s]+)/i.exec(text)?.[1];
  }
  const page = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
  if (page) prefer.maxPageSize = Math.min(Number(page[1]), MAX_PAGE_SIZE);
  return prefer;
}

/** Splits `name(key)/rest` at the first top-level parenthesis, honouring quotes in the key. */
function splitSegment(path: string): { name: string; key?: string; rest?: string } {
  const open = path.indexOf("(");
  const slash = path.indexOf("/");
  if (open < 0 || (slash >= 0 && slash < open)) {
    return slash < 0 ? { name: path } : { name: path.slice(0, slash), rest: path.slice(slash + 1) };
  }
  let quoted = false;
  for (let i = open + 1; i < path.length; i++) {
    const ch = path[i];
    if (ch === "'") quoted = !quoted;
    else if (ch === ")" && !quoted) {
      const rest = path.slice(i + 1).replace(/^\//, "");
      return { name: path.slice(0, open), key: path.slice(open + 1, i), ...(rest ? { rest } : {}) };
    }
  }
  throw odataError(`Bad Request - Error in query syntax: unbalanced parentheses in '${path}'.`);
}

/** A table-like definition over metadata objects, so $filter on EntityDefinitions and Attributes reuses the query compiler. */
function syntheticTable(name: string, properties: Record<string, ColumnDef["type"]>): TableDef {
  const columns = new Map<string, ColumnDef>();
  for (const [property, type] of Object.entries(properties)) {
    columns.set(property, { logicalName: property, schemaName: property, type, isCustom: false, requiredLevel: "none", validForCreate: false, validForUpdate: false, validForRead: true, displayName: property, isPrimaryId: false, isPrimaryName: false });
  }
  return { logicalName: name, schemaName: name, entitySetName: name, primaryId: "MetadataId", primaryName: "LogicalName", objectTypeCode: 0, ownership: "None", isCustom: false, isActivity: false, displayName: name, collectionName: name, metadataId: stableId(name), columns, keys: [], navigation: new Map() };
}

const ENTITY_METADATA = syntheticTable("EntityMetadata", {
  MetadataId: "Uniqueidentifier", LogicalName: "String", SchemaName: "String", EntitySetName: "String", LogicalCollectionName: "String", PrimaryIdAttribute: "String",
  PrimaryNameAttribute: "String", ObjectTypeCode: "Integer", IsCustomEntity: "Boolean", IsActivity: "Boolean", OwnershipType: "String", IsOptimisticConcurrencyEnabled: "Boolean",
});
const ATTRIBUTE_METADATA = syntheticTable("AttributeMetadata", {
  MetadataId: "Uniqueidentifier", LogicalName: "String", SchemaName: "String", EntityLogicalName: "String", AttributeType: "String", IsCustomAttribute: "Boolean",
  IsPrimaryId: "Boolean", IsPrimaryName: "Boolean", IsValidForCreate: "Boolean", IsValidForUpdate: "Boolean", IsValidForRead: "Boolean", MaxLength: "Integer",
});

export class WebApi {
  private readonly engine: Engine;
  readonly baseUrl: string;
  readonly apiRoot: string;

  constructor(engine: Engine, baseUrl: string) {
    this.engine = engine;
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.apiRoot = `${this.baseUrl}/api/data/v9.2`;
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const prefer = parsePrefer(request.headers.prefer);
    try {
      return await this.route(request, prefer);
    } catch (error) {
      if (error instanceof DataverseError) return this.error(error, prefer);
      throw error;
    }
  }

  error(error: DataverseError, prefer: Prefer = { returnRepresentation: false }): ApiResponse {
    return { status: error.status, headers: { "odata-version": "4.0", ...error.headers, "content-type": "application/json; odata.metadata=minimal" }, body: errorBody(error, Boolean(prefer.annotations)) };
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
    return { status, headers: { "odata-version": "4.0", "content-type": "application/json; odata.metadata=minimal", ...headers }, body };
  }

  private noContent(headers: Record<string, string> = {}): ApiResponse {
    return { status: 204, headers: { "odata-version": "4.0", ...headers } };
  }

  private serializeContext(prefer: Prefer): SerializeContext {
    return {
      meta: this.engine.meta,
      lookupRow: (table, id) => this.engine.get(table, id),
      relatedRows: (table, column, id) => this.engine.relatedRows(table, column, id),
      ...(prefer.annotations ? { annotations: prefer.annotations } : {}),
    };
  }

  private preferenceApplied(prefer: Prefer, extra: string[] = []): Record<string, string> {
    const applied = [...extra];
    if (prefer.annotationsRaw) applied.push(`odata.include-annotations=${prefer.annotationsRaw}`);
    return applied.length ? { "preference-applied": applied.join(",") } : {};
  }

  private async route(request: ApiRequest, prefer: Prefer): Promise<ApiResponse> {
    const url = new URL(request.url, this.baseUrl);
    const match = /^\/api\/data\/v9\.[0-2]\/?(.*)$/i.exec(url.pathname);
    if (!match) throw segmentNotFound(url.pathname);
    const path = decodeURIComponent(match[1]!);
    const query = new Map<string, string>();
    for (const [k, v] of url.searchParams) query.set(k, v);
    const method = request.method.toUpperCase();

    if (path === "") {
      if (method !== "GET") throw this.methodNotAllowed(method, "the service document");
      return this.json(200, {
        "@odata.context": `${this.apiRoot}/$metadata`,
        value: allTables(this.engine.meta).map((t) => ({ name: t.entitySetName, kind: "EntitySet", url: t.entitySetName })),
      });
    }
    const segment = splitSegment(path);
    const name = segment.name.replace(/^Microsoft\.Dynamics\.CRM\./, "");
    if (name === "$metadata") throw new DataverseError(501, ErrorCodes.NotSupported, "The Dataverse sandbox does not serve $metadata; use EntityDefinitions.");
    if (name === "WhoAmI") {
      if (method !== "GET") throw this.methodNotAllowed(method, "WhoAmI");
      return this.json(200, {
        "@odata.context": `${this.apiRoot}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: request.caller.businessUnitId, UserId: request.caller.userId, OrganizationId: this.engine.org.id,
      });
    }
    if (name === "WinOpportunity" || name === "LoseOpportunity") {
      if (method !== "POST") throw this.methodNotAllowed(method, name);
      await this.write(request, (op) => this.engine.closeOpportunity(op, name === "WinOpportunity" ? "Win" : "Lose", this.bodyObject(request)));
      return this.noContent();
    }
    if (name === "RetrieveEnvironmentVariableValue") return this.retrieveEnvironmentVariableValue(segment.key ?? "");
    if (name === "EntityDefinitions") return this.entityDefinitions(segment, query);

    const table = this.engine.tableBySet(segment.name);
    if (!table) throw segmentNotFound(segment.name);
    if (segment.key === undefined) {
      if (segment.rest === "$count" && method === "GET") return { status: 200, headers: { "odata-version": "4.0", "content-type": "text/plain" }, body: String(Math.min(this.readable(request, table, this.engine.rows(table.logicalName)).length, MAX_COUNT)) };
      if (segment.rest) throw segmentNotFound(segment.rest);
      if (method === "GET") return this.list(table, this.readable(request, table, this.engine.rows(table.logicalName)), query, prefer, `${table.entitySetName}`, url);
      if (method === "POST") return this.create(request, table, query, prefer);
      throw this.methodNotAllowed(method, table.entitySetName);
    }
    const located = this.engine.parseKey(table, segment.key);
    const id = this.engine.locate(table, located);
    if (segment.rest) return this.subResource(request, table, id, located, segment.rest, query, prefer, url);
    switch (method) {
      case "GET": {
        if (!id) throw notFound(table.logicalName, located.id ?? segment.key);
        return this.retrieve(request, table, id, query, prefer);
      }
      case "PATCH":
        return this.upsert(request, table, id, located, query, prefer);
      case "DELETE": {
        if (!id) throw notFound(table.logicalName, located.id ?? segment.key);
        await this.write(request, (op) => this.engine.delete(op, table, id, { ...(request.headers["if-match"] ? { ifMatch: request.headers["if-match"] } : {}) }));
        return this.noContent();
      }
      default:
        throw this.methodNotAllowed(method, table.entitySetName);
    }
  }

  private methodNotAllowed(method: string, what: string): DataverseError {
    return new DataverseError(405, ErrorCodes.NotSupported, `The HTTP method '${method}' is not allowed on ${what}.`);
  }

  private bodyObject(request: ApiRequest): Record<string, unknown> {
    if (typeof request.body !== "object" || request.body === null || Array.isArray(request.body)) throw badRequest("The request needs a JSON object body.", ErrorCodes.ODataError);
    return request.body as Record<string, unknown>;
  }

  private write<T>(request: ApiRequest, work: (op: Operation) => Promise<T>): Promise<T> {
    return this.engine.transaction(request.caller, work, {
      ...(request.op ? { op: request.op } : {}),
      bypassSteps: /^true$/i.test(request.headers["mscrm.bypasscustompluginexecution"] ?? ""),
      correlationId: request.headers["x-ms-correlation-request-id"] ?? randomUUID(),
      ...(request.headers["x-ms-client-request-id"] ? { requestId: request.headers["x-ms-client-request-id"] } : {}),
    });
  }

  private entityUrl(table: TableDef, id: string): string {
    return `${this.apiRoot}/${table.entitySetName}(${id})`;
  }

  private contextUrl(table: TableDef, select: string[] | undefined, entity: boolean): string {
    const projection = select?.length ? `(${select.join(",")})` : "";
    return `${this.apiRoot}/$metadata#${table.entitySetName}${projection}${entity ? "/$entity" : ""}`;
  }

  // ------------------------------------------------------------ reads

  /** The rows the caller may read (interactive users: those owned in their business unit). */
  private readable(request: ApiRequest, table: TableDef, rows: Row[]): Row[] {
    return rows.filter((row) => this.engine.canRead(request.caller, table, row));
  }

  /** The row, or 403 when the caller may not read it. */
  private readableRow(request: ApiRequest, table: TableDef, id: string): Row {
    const row = this.engine.get(table.logicalName, id)!;
    if (!this.engine.canRead(request.caller, table, row)) throw accessDenied(table, row, id, request.caller.userId);
    return row;
  }

  private retrieve(request: ApiRequest, table: TableDef, id: string, query: Map<string, string>, prefer: Prefer): ApiResponse {
    const options = this.engine.compiler.parse(table, query);
    const row = this.readableRow(request, table, id);
    const etag = etagOf(row);
    const ifNoneMatch = request.headers["if-none-match"];
    if (ifNoneMatch && ifNoneMatch !== "null" && !options.expand.length && !prefer.annotations && (ifNoneMatch === etag || ifNoneMatch === "*")) {
      return { status: 304, headers: { "odata-version": "4.0", etag } };
    }
    const body = { "@odata.context": this.contextUrl(table, options.select, true), ...serializeRow(table, row, options, this.serializeContext(prefer)) };
    return this.json(200, body, { etag, ...this.preferenceApplied(prefer) });
  }

  private list(table: TableDef, source: Row[], query: Map<string, string>, prefer: Prefer, contextPath: string, url: URL): ApiResponse {
    const options: QueryOptions = this.engine.compiler.parse(table, query);
    let rows = options.filter ? source.filter(options.filter) : source;
    rows = sortRows(rows, options.orderBy);
    const total = rows.length;
    const pageSize = prefer.maxPageSize ?? MAX_PAGE_SIZE;
    // "If you include both, $top is ignored" (§9): with odata.maxpagesize, paging wins.
    if (options.top !== undefined && prefer.maxPageSize === undefined) rows = rows.slice(0, options.top);
    let offset = 0;
    const token = query.get("$skiptoken");
    if (token) {
      const found = /offset(?:=|%3d|%253d)(?:"|%22|%2522)(\d+)/i.exec(token);
      if (!found) throw odataError(`The $skiptoken '${token}' is not valid.`);
      offset = Number(found[1]);
    }
    const page = rows.slice(offset, offset + pageSize);
    const ctx = this.serializeContext(prefer);
    const body: Record<string, unknown> = { "@odata.context": `${this.apiRoot}/$metadata#${contextPath}${options.select?.length ? `(${options.select.join(",")})` : ""}` };
    if (options.count) {
      body["@odata.count"] = Math.min(total, MAX_COUNT);
      if (prefer.annotations?.("Microsoft.Dynamics.CRM.totalrecordcount")) {
        body["@Microsoft.Dynamics.CRM.totalrecordcount"] = Math.min(total, MAX_COUNT);
        body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = total > MAX_COUNT;
      }
    }
    body.value = page.map((row) => serializeRow(table, row, options, ctx));
    if (offset + pageSize < rows.length) {
      const next = new URL(url.toString().replace(/^https?:\/\/[^/]+/, this.baseUrl));
      next.searchParams.delete("$skiptoken");
      const pageNumber = Math.floor(offset / pageSize) + 2;
      const cookie = encodeURIComponent(encodeURIComponent(`<cookie page="${pageNumber - 1}" offset="${offset + pageSize}"></cookie>`));
      next.searchParams.set("$skiptoken", `<cookie pagenumber="${pageNumber}" pagingcookie="${cookie}" istracking="False" />`);
      body["@odata.nextLink"] = next.toString();
    }
    const applied = prefer.maxPageSize !== undefined ? [`odata.maxpagesize=${prefer.maxPageSize}`] : [];
    return this.json(200, body, this.preferenceApplied(prefer, applied));
  }

  private async subResource(request: ApiRequest, table: TableDef, id: string | undefined, located: { id?: string; key?: Row }, rest: string, query: Map<string, string>, prefer: Prefer, url: URL): Promise<ApiResponse> {
    const method = request.method.toUpperCase();
    const action = rest.replace(/^Microsoft\.Dynamics\.CRM\./, "");
    if (!id) throw notFound(table.logicalName, located.id ?? JSON.stringify(located.key));
    if (action === "QualifyLead" && table.logicalName === "lead") {
      if (method !== "POST") throw this.methodNotAllowed(method, "QualifyLead");
      const created = await this.write(request, (op) => this.engine.qualifyLead(op, id, this.bodyObject(request)));
      return this.json(200, {
        "@odata.context": `${this.apiRoot}/$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`,
        value: created.map((ref) => {
          const def = this.engine.meta.table(ref.logicalName);
          return { "@odata.type": `#Microsoft.Dynamics.CRM.${ref.logicalName}`, [def.primaryId]: ref.id };
        }),
      });
    }
    const ref = /^([A-Za-z0-9_]+)(?:\(([^)]*)\))?\/\$ref$/.exec(rest);
    const refNav = ref ? table.navigation.get(ref[1]!) : undefined;
    if (ref && refNav?.kind === "manyToMany") return this.associate(request, table, id, refNav, ref[2], query);
    const nav = table.navigation.get(rest);
    if (nav && method === "GET") {
      if (nav.kind === "manyToMany") {
        const target = this.engine.meta.table(nav.referencedTable);
        this.readableRow(request, table, id);
        const rows = this.readable(request, target, associatedRows(this.serializeContext(prefer), nav, id));
        return this.list(target, rows, query, prefer, `${target.entitySetName}`, url);
      }
      if (nav.kind === "collection") {
        const target = this.engine.meta.table(nav.referencingTable);
        this.readableRow(request, table, id);
        const rows = this.readable(request, target, this.engine.relatedRows(nav.referencingTable, nav.referencingAttribute, id));
        return this.list(target, rows, query, prefer, `${target.entitySetName}`, url);
      }
      const ref = this.readableRow(request, table, id)[nav.referencingAttribute];
      if (!isRef(ref)) return this.noContent();
      return this.retrieve(request, this.engine.meta.table(ref.logicalName), ref.id, query, prefer);
    }
    const column = table.columns.get(rest) ?? (/^_(.+)_value$/.test(rest) ? table.columns.get(rest.slice(1, -6)) : undefined);
    if (!column || !column.validForRead) throw unknownProperty(table.logicalName, rest);
    if (method === "GET") {
      const value = this.readableRow(request, table, id)[column.logicalName];
      if (value === null || value === undefined) return this.noContent();
      return this.json(200, { "@odata.context": `${this.apiRoot}/$metadata#${table.entitySetName}(${id})/${rest}`, value: isRef(value) ? value.id : value });
    }
    if (method === "PUT" || method === "DELETE") {
      if (isLookupType(column.type)) throw new DataverseError(501, ErrorCodes.NotSupported, "Use PATCH with @odata.bind to change a lookup in the Dataverse sandbox.");
      const raw = method === "DELETE" ? null : this.bodyObject(request).value;
      const value = coerceInput(table, column, raw === undefined ? null : raw);
      await this.write(request, (op) => this.engine.update(op, table, id, { values: { [column.logicalName]: value }, named: [column.logicalName] }));
      return this.noContent();
    }
    throw this.methodNotAllowed(method, rest);
  }

  // ------------------------------------------------------------ writes

  /**
   * Associate (POST …/<N:N>/$ref with `{ "@odata.id": "<url of the other row>" }`) and disassociate
   * (DELETE …/<N:N>(<other id>)/$ref, or …/<N:N>/$ref?$id=<url>): a row of the intersect table.
   */
  private async associate(request: ApiRequest, table: TableDef, id: string, nav: NavigationDef, keyInPath: string | undefined, query: Map<string, string>): Promise<ApiResponse> {
    const method = request.method.toUpperCase();
    const other = this.engine.meta.table(nav.referencedTable);
    const { attribute, otherAttribute } = nav.intersect!;
    const intersect = this.engine.meta.table(nav.referencingTable);
    const otherIdFrom = (reference: string | undefined): string => {
      const match = reference === undefined ? null : /(?:^|\/)([A-Za-z0-9_]+)\(([^)]+)\)$/.exec(reference.trim());
      if (!match || match[1] !== other.entitySetName) throw badRequest(`The reference must name a row of ${other.entitySetName}: ${String(reference)}.`, ErrorCodes.ODataError);
      const otherId = this.engine.locate(other, this.engine.parseKey(other, match[2]!));
      if (!otherId) throw notFound(other.logicalName, match[2]!);
      return otherId;
    };
    this.readableRow(request, table, id);
    const links = () => this.engine.relatedRows(intersect.logicalName, attribute, id);
    if (method === "POST" && keyInPath === undefined) {
      const odataId = this.bodyObject(request)["@odata.id"];
      const otherId = otherIdFrom(typeof odataId === "string" ? odataId : undefined);
      if (links().some((l) => isRef(l[otherAttribute]) && l[otherAttribute].id === otherId)) throw new DataverseError(400, ErrorCodes.DuplicateRecord, "Cannot insert duplicate key.");
      await this.write(request, (op) => this.engine.create(op, intersect, {
        values: { [attribute]: { id, logicalName: table.logicalName }, [otherAttribute]: { id: otherId, logicalName: other.logicalName } },
        named: [attribute, otherAttribute],
      }));
      return this.noContent();
    }
    if (method === "DELETE") {
      const otherId = keyInPath !== undefined ? otherIdFrom(`${other.entitySetName}(${keyInPath})`) : otherIdFrom(query.get("$id"));
      const link = links().find((l) => isRef(l[otherAttribute]) && l[otherAttribute].id === otherId);
      if (link) await this.write(request, (op) => this.engine.delete(op, intersect, String(link[intersect.primaryId])));
      return this.noContent();
    }
    throw this.methodNotAllowed(method, `${nav.name}/$ref`);
  }

  private async representation(table: TableDef, id: string, query: Map<string, string>, prefer: Prefer, status: number): Promise<ApiResponse> {
    const options = this.engine.compiler.parse(table, query);
    const row = this.engine.get(table.logicalName, id)!;
    const body = { "@odata.context": this.contextUrl(table, options.select, true), ...serializeRow(table, row, options, this.serializeContext(prefer)) };
    return this.json(status, body, { "odata-entityid": this.entityUrl(table, id), etag: etagOf(row), ...this.preferenceApplied(prefer, ["return=representation"]) });
  }

  private async create(request: ApiRequest, table: TableDef, query: Map<string, string>, prefer: Prefer): Promise<ApiResponse> {
    const input = this.engine.inputFromJson(table, this.bodyObject(request), "create");
    if (prefer.returnRepresentation) this.engine.compiler.parse(table, query); // refuse a bad $select before writing
    const id = await this.write(request, (op) => this.engine.create(op, table, input));
    if (prefer.returnRepresentation) return this.representation(table, id, query, prefer, 201);
    return this.noContent({ "odata-entityid": this.entityUrl(table, id) });
  }

  private async upsert(request: ApiRequest, table: TableDef, id: string | undefined, located: { id?: string; key?: Row }, query: Map<string, string>, prefer: Prefer): Promise<ApiResponse> {
    const ifMatch = request.headers["if-match"];
    const ifNoneMatch = request.headers["if-none-match"];
    if (prefer.returnRepresentation) this.engine.compiler.parse(table, query);
    if (id) {
      if (ifNoneMatch === "*") throw new DataverseError(412, "", "A record with matching key values already exists.");
      const input = this.engine.inputFromJson(table, this.bodyObject(request), "update");
      await this.write(request, (op) => this.engine.update(op, table, id, input, { ...(ifMatch ? { ifMatch } : {}) }));
      if (prefer.returnRepresentation) return this.representation(table, id, query, prefer, 200);
      return this.noContent({ "odata-entityid": this.entityUrl(table, id) });
    }
    if (ifMatch) throw notFound(table.logicalName, located.id ?? Object.values(located.key ?? {}).join(","));
    const input = this.engine.inputFromJson(table, this.bodyObject(request), "create");
    if (located.id) {
      input.values[table.primaryId] = located.id;
    } else {
      for (const [name, value] of Object.entries(located.key ?? {})) {
        const column = table.columns.get(name)!;
        input.values[name] = isRef(value) ? value : coerceInput(table, column, value);
        input.named.push(name);
      }
    }
    const newId = await this.write(request, (op) => this.engine.create(op, table, input));
    if (prefer.returnRepresentation) return this.representation(table, newId, query, prefer, 201);
    return this.noContent({ "odata-entityid": this.entityUrl(table, newId) });
  }

  // ------------------------------------------------------------ functions and metadata

  private retrieveEnvironmentVariableValue(key: string): ApiResponse {
    const match = /^DefinitionSchemaName\s*=\s*'((?:[^']|'')*)'$/.exec(key.trim());
    if (!match) throw badRequest("RetrieveEnvironmentVariableValue needs DefinitionSchemaName='<schema name>'.", ErrorCodes.ODataError);
    const schemaName = match[1]!.replace(/''/g, "'");
    const definition = this.engine.rows("environmentvariabledefinition").find((d) => String(d.schemaname).toLowerCase() === schemaName.toLowerCase());
    if (!definition) throw new DataverseError(404, ErrorCodes.ObjectDoesNotExist, `Environment variable definition '${schemaName}' was not found.`);
    const value = this.engine.relatedRows("environmentvariablevalue", "environmentvariabledefinitionid", String(definition.environmentvariabledefinitionid))[0]?.value;
    return this.json(200, {
      "@odata.context": `${this.apiRoot}/$metadata#Microsoft.Dynamics.CRM.RetrieveEnvironmentVariableValueResponse`,
      Value: typeof value === "string" ? value : (definition.defaultvalue ?? null),
    });
  }

  private entityDefinitions(segment: { key?: string; rest?: string }, query: Map<string, string>): ApiResponse {
    const meta = this.engine.meta;
    const select = query.get("$select")?.split(",").map((s) => s.trim()).filter(Boolean);
    const expand = query.get("$expand")?.split(",").map((s) => s.trim()) ?? [];
    if (segment.key === undefined) {
      if (segment.rest) throw segmentNotFound(segment.rest);
      const filter = query.get("$filter");
      let tables = allTables(meta).map((t) => ({ table: t, item: entityDefinition(t) }));
      if (filter) {
        const predicate = this.engine.compiler.parseFilter(ENTITY_METADATA, filter);
        tables = tables.filter((t) => predicate(t.item as Row));
      }
      return this.json(200, {
        "@odata.context": `${this.apiRoot}/$metadata#EntityDefinitions${select ? `(${select.join(",")})` : ""}`,
        value: tables.map(({ table, item }) => this.entityWithExpand(table, item, select, expand)),
      });
    }
    const byName = /^LogicalName\s*=\s*'([^']*)'$/.exec(segment.key.trim());
    const table = byName ? meta.tables.get(byName[1]!) : allTables(meta).find((t) => t.metadataId === segment.key!.trim().toLowerCase());
    if (!table) throw new DataverseError(404, ErrorCodes.ObjectDoesNotExist, `Could not find an entity with the specified key: ${segment.key}.`);
    if (!segment.rest) {
      return this.json(200, { "@odata.context": `${this.apiRoot}/$metadata#EntityDefinitions${select ? `(${select.join(",")})` : ""}/$entity`, ...this.entityWithExpand(table, entityDefinition(table), select, expand) });
    }
    const rest = splitSegment(segment.rest);
    if (rest.name === "Keys") {
      return this.json(200, { "@odata.context": `${this.apiRoot}/$metadata#EntityDefinitions('${table.metadataId}')/Keys`, value: table.keys.map((k) => selectProperties(keyDefinition(table, k), select)) });
    }
    if (rest.name !== "Attributes") throw segmentNotFound(rest.name);
    const cast = rest.rest?.replace(/^Microsoft\.Dynamics\.CRM\./, "");
    const withOptionSet = expand.some((e) => e.startsWith("OptionSet") || e.startsWith("GlobalOptionSet"));
    if (rest.key === undefined) {
      let columns = [...table.columns.values()];
      if (cast) columns = columns.filter((c) => metadataTypeOf(c) === cast);
      let items = columns.map((c) => attributeDefinition(table, c, { optionSet: withOptionSet }));
      const filter = query.get("$filter");
      if (filter) {
        const predicate = this.engine.compiler.parseFilter(ATTRIBUTE_METADATA, filter);
        items = items.filter((i) => predicate(i as Row));
      }
      // An expanded OptionSet comes back beside the $select-ed properties, as on a single attribute.
      const kept = select ? [...select, ...(withOptionSet ? ["OptionSet"] : [])] : undefined;
      return this.json(200, { "@odata.context": `${this.apiRoot}/$metadata#EntityDefinitions('${table.metadataId}')/Attributes`, value: items.map((i) => selectProperties(i, kept)) });
    }
    const attributeName = /^LogicalName\s*=\s*'([^']*)'$/.exec(rest.key.trim())?.[1];
    const column = attributeName ? table.columns.get(attributeName) : [...table.columns.values()].find((c) => stableId(`attribute:${table.logicalName}.${c.logicalName}`) === rest.key!.trim().toLowerCase());
    if (!column || (cast && metadataTypeOf(column) !== cast)) {
      throw new DataverseError(404, ErrorCodes.ObjectDoesNotExist, `Could not find an attribute with the specified key: ${rest.key} on entity ${table.logicalName}.`);
    }
    return this.json(200, {
      "@odata.context": `${this.apiRoot}/$metadata#EntityDefinitions('${table.metadataId}')/Attributes/$entity`,
      ...selectProperties(attributeDefinition(table, column, { optionSet: withOptionSet }), select ? [...select, ...(withOptionSet ? ["OptionSet"] : [])] : undefined),
    });
  }

  private entityWithExpand(table: TableDef, item: Record<string, unknown>, select: string[] | undefined, expand: string[]): Record<string, unknown> {
    const out = selectProperties(item, select);
    for (const e of expand) {
      const name = e.replace(/\(.*\)$/, "");
      const nestedSelect = /\(\$select=([^)]*)\)/.exec(e)?.[1]?.split(",");
      if (name === "Attributes") out.Attributes = [...table.columns.values()].map((c) => selectProperties(attributeDefinition(table, c), nestedSelect));
      else if (name === "Keys") out.Keys = table.keys.map((k) => selectProperties(keyDefinition(table, k), nestedSelect));
      else throw unknownProperty("EntityMetadata", name);
    }
    return out;
  }
}

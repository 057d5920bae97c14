// The in-memory Dataverse: rows, write rules, state models and the event pipeline that runs webhook
// steps (pre-validation 10, pre-operation 20, the operation, post-operation 40; asynchronous steps
// queued for after the commit). No I/O: synchronous steps are delivered through the injected
// StepInvoker, asynchronous ones handed to onAsync after the transaction commits.
import { randomUUID } from "node:crypto";
import type { Metadata, TableDef, NavigationDef } from "./metadata.ts";
import { Journal, Store } from "./store.ts";
import { DataverseError, ErrorCodes, badRequest, notFound, odataError } from "./errors.ts";
import { QueryCompiler } from "./query.ts";
import { coerceInput, GUID, isLookupType, isRef, type EntityRef, type Row, type Value } from "./values.ts";
import { checkStateChange, resolveStatus, stateName } from "./state-models.ts";
import {
  buildDelivery, dataContractEntity, entityReference, findSteps, optionSetValue,
  type Delivery, type MessageExecution, type Organization, type RegisteredStep,
} from "./steps.ts";

export interface Caller {
  /** The systemuser the operation runs as (UserId). */
  userId: string;
  aadObjectId?: string;
  /** Who made the call (InitiatingUserId); differs from userId when impersonating (CallerObjectId). */
  initiatingUserId: string;
  initiatingAadObjectId?: string;
  businessUnitId: string;
  /**
   * How far the caller reads user-owned rows: interactive users only those owned in their own business
   * unit (a Business Unit read privilege); application users and SYSTEM everything (absent).
   */
  readScope?: "businessUnit";
}

export interface StepInvoker {
  /** Delivers a synchronous step; throws a DataverseError to cancel the operation. */
  deliverSync(delivery: Delivery): Promise<void>;
}

export interface EngineOptions {
  meta: Metadata;
  org: Organization & { businessUnitId: string };
  invoker?: StepInvoker;
  /** Receives asynchronous deliveries once their operation has committed. */
  onAsync?: (deliveries: Delivery[]) => void;
  /** Also run Update steps when Win, Lose and QualifyLead change a record's state (default false; see README). */
  stateChangesFireUpdate?: boolean;
  now?: () => number;
}

/** One write transaction: a journal to roll back, and the asynchronous deliveries to send after commit. */
export class Operation {
  readonly journal = new Journal();
  readonly asyncQueue: Delivery[] = [];
  readonly caller: Caller;
  readonly correlationId: string;
  readonly requestId: string | null;
  bypassSteps: boolean;
  parent: MessageExecution | undefined;
  constructor(caller: Caller, options: { correlationId?: string; requestId?: string | null; bypassSteps?: boolean } = {}) {
    this.caller = caller;
    this.correlationId = options.correlationId ?? randomUUID();
    this.requestId = options.requestId ?? null;
    this.bypassSteps = options.bypassSteps ?? false;
  }
}

export interface EntityInput {
  values: Row;
  /** Column names the request named (for filtering attributes and the step Target). */
  named: string[];
}

/** Serialises writes: a change set, or an operation waiting on a synchronous step, holds the lock. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return acquired;
  }
}

const COMPUTED_FULLNAME = new Set(["lead", "contact", "systemuser"]);

function fullName(row: Row): string {
  return [row.firstname, row.lastname].filter((p) => typeof p === "string" && p).join(" ");
}

function sameKeyValue(a: Value | undefined, b: Value | undefined): boolean {
  if (isRef(a) || isRef(b)) return isRef(a) && isRef(b) && a.id === b.id;
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

export class Engine {
  readonly meta: Metadata;
  readonly store = new Store();
  readonly org: EngineOptions["org"];
  readonly compiler: QueryCompiler;
  private readonly options: EngineOptions;
  private readonly mutex = new Mutex();

  constructor(options: EngineOptions) {
    this.options = options;
    this.meta = options.meta;
    this.org = options.org;
    this.compiler = new QueryCompiler(this.meta, (table, id) => this.store.get(table, id));
  }

  now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  tableBySet(set: string): TableDef | undefined {
    return this.meta.bySet.get(set);
  }

  // ---------------------------------------------------------------- reads

  get(table: string, id: string): Row | undefined {
    return this.store.get(table, id);
  }

  rows(table: string): Row[] {
    return this.store.all(table);
  }

  /** The business unit of a user (the owner of a row owns it in that unit). */
  businessUnitOf(owner: EntityRef): EntityRef | undefined {
    if (owner.logicalName !== "systemuser") return undefined;
    const unit = this.store.get("systemuser", owner.id)?.businessunitid;
    return isRef(unit) ? { id: unit.id, logicalName: "businessunit" } : undefined;
  }

  /** Whether the caller may read the row: a user-owned row owned in another business unit is not for a business-unit reader. */
  canRead(caller: Caller, table: TableDef, row: Row): boolean {
    if (caller.readScope !== "businessUnit" || table.ownership !== "UserOwned") return true;
    return !isRef(row.owningbusinessunit) || row.owningbusinessunit.id === caller.businessUnitId;
  }

  /** Rows of `table` whose lookup `column` points at `id`. */
  relatedRows(table: string, column: string, id: string): Row[] {
    return this.store.all(table).filter((r) => isRef(r[column]) && (r[column] as EntityRef).id === id);
  }

  primaryNameOf(ref: EntityRef): string | null {
    const table = this.meta.tables.get(ref.logicalName);
    const row = this.store.get(ref.logicalName, ref.id);
    const name = table && row ? row[table.primaryName] : null;
    return typeof name === "string" ? name : null;
  }

  /** Parses the key segment of `set(<key>)`: a GUID, or alternate key columns `a='x',b=1`. */
  parseKey(table: TableDef, text: string): { id?: string; key?: Row } {
    const trimmed = text.trim();
    if (GUID.test(trimmed)) return { id: trimmed.toLowerCase() };
    const parts: string[] = [];
    let current = "";
    let quoted = false;
    for (let i = 0; i < trimmed.length; i++) {
      const ch = trimmed[i]!;
      if (ch === "'") {
        if (quoted && trimmed[i + 1] === "'") { current += "''"; i++; continue; }
        quoted = !quoted;
      }
      if (ch === "," && !quoted) { parts.push(current); current = ""; continue; }
      current += ch;
    }
    parts.push(current);
    const key: Row = {};
    for (const part of parts) {
      const eq = part.indexOf("=");
      if (eq < 0) throw odataError(`Bad Request - Error in query syntax: the key '${text}' is not valid.`);
      let name = part.slice(0, eq).trim();
      const raw = part.slice(eq + 1).trim();
      let value: Value;
      if (/^'.*'$/s.test(raw)) value = raw.slice(1, -1).replace(/''/g, "'");
      else if (GUID.test(raw)) value = raw.toLowerCase();
      else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
      else if (raw === "true" || raw === "false") value = raw === "true";
      else if (raw === "null") value = null;
      else throw odataError(`Bad Request - Error in query syntax: the key value ${raw} is not valid.`);
      const lookup = /^_(.+)_value$/.exec(name);
      if (lookup) {
        name = lookup[1]!;
        const column = table.columns.get(name);
        if (!column || !isLookupType(column.type) || typeof value !== "string") throw odataError(`The key property '${part}' is not valid for ${table.logicalName}.`);
        value = { id: value, logicalName: column.targets?.[0] ?? "" };
      }
      if (name === table.primaryId && parts.length === 1 && typeof value === "string") return { id: value.toLowerCase() };
      key[name] = value;
    }
    const names = Object.keys(key).sort();
    const match = table.keys.find((k) => [...k.attributes].sort().join(",") === names.join(","));
    if (!match) {
      throw badRequest(`The key attribute(s) ${names.join(", ")} are not an alternate key of ${table.logicalName}. Alternate keys: ${table.keys.map((k) => k.attributes.join("+")).join("; ") || "none"}.`);
    }
    return { key };
  }

  /** The id of the row `set(<key>)` names, or undefined when there is none. */
  locate(table: TableDef, located: { id?: string; key?: Row }): string | undefined {
    if (located.id) return this.store.get(table.logicalName, located.id) ? located.id : undefined;
    const key = located.key ?? {};
    const row = this.store.all(table.logicalName).find((r) => Object.entries(key).every(([k, v]) => sameKeyValue(r[k], v)));
    return row ? String(row[table.primaryId]) : undefined;
  }

  /** `/accounts(<id>)`, `accounts(<key>)` or an absolute URL of the org, as in `x@odata.bind`. */
  resolveReference(url: string): EntityRef {
    const path = url.replace(/^https?:\/\/[^/]+/i, "").replace(/^\/?api\/data\/v9\.\d\//i, "").replace(/^\//, "");
    const match = /^([A-Za-z0-9_]+)\((.+)\)$/.exec(decodeURIComponent(path));
    const table = match ? this.tableBySet(match[1]!) : undefined;
    if (!match || !table) throw badRequest(`The URI '${url}' in the @odata.bind annotation does not name a record.`, ErrorCodes.ODataError);
    const located = this.parseKey(table, match[2]!);
    const id = this.locate(table, located);
    if (!id) throw notFound(table.logicalName, located.id ?? match[2]!);
    return { id, logicalName: table.logicalName };
  }

  // ---------------------------------------------------------------- request bodies

  /** A request body as column values, checked against the table's columns the way the Web API checks them. */
  inputFromJson(table: TableDef, json: unknown, purpose: "create" | "update"): EntityInput {
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw badRequest("The request body must be a JSON object.", ErrorCodes.ODataError);
    const values: Row = {};
    const named: string[] = [];
    for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
      if (key.startsWith("@")) continue;
      const at = key.indexOf("@");
      if (at > 0) {
        const annotation = key.slice(at + 1);
        const name = key.slice(0, at);
        if (annotation !== "odata.bind") continue;
        const nav = table.navigation.get(name);
        if (!nav || nav.kind !== "single") {
          throw odataError(`An undeclared property '${name}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`);
        }
        const column = table.columns.get(nav.referencingAttribute)!;
        if (raw === null) {
          values[column.logicalName] = null;
        } else {
          if (typeof raw !== "string") throw odataError(`The value of '${key}' must be a URL string.`);
          const ref = this.resolveReference(raw);
          if (!(column.targets ?? [nav.referencedTable]).includes(ref.logicalName)) {
            throw badRequest(`The navigation property '${name}' cannot refer to a ${ref.logicalName}.`, ErrorCodes.ODataError);
          }
          values[column.logicalName] = ref;
        }
        named.push(column.logicalName);
        continue;
      }
      const nav = table.navigation.get(key);
      if (nav && !table.columns.has(key)) {
        throw new DataverseError(400, ErrorCodes.NotSupported, `Deep insert through '${key}' is not supported by the Dataverse sandbox; create the related record and bind it with '${key}@odata.bind'.`);
      }
      const column = table.columns.get(key);
      if (!column) {
        if (/^_.+_value$/.test(key)) throw odataError("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.");
        throw odataError(`The property '${key}' does not exist on type 'Microsoft.Dynamics.CRM.${table.logicalName}'. Make sure to only use property names that are defined by the type.`);
      }
      const allowed = purpose === "create" ? column.validForCreate : column.validForUpdate;
      if (!allowed && !(purpose === "update" && column.isPrimaryId)) continue; // Dataverse ignores read-only columns
      if (column.isPrimaryId && purpose === "update") continue;
      values[key] = coerceInput(table, column, raw);
      named.push(key);
    }
    return { values, named };
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Runs `work` as one transaction: holds the write lock, rolls back on error, and after commit hands
   * the asynchronous deliveries on. Passing `op` joins a transaction already open (a change set).
   */
  async transaction<T>(caller: Caller, work: (op: Operation) => Promise<T>, options: { op?: Operation; correlationId?: string; bypassSteps?: boolean; requestId?: string } = {}): Promise<T> {
    if (options.op) return work(options.op);
    const release = await this.mutex.lock();
    const op = new Operation(caller, options);
    try {
      const result = await work(op);
      this.commit(op);
      return result;
    } catch (error) {
      this.store.rollback(op.journal);
      throw error;
    } finally {
      release();
    }
  }

  /** Opens a transaction the caller commits or rolls back itself (a $batch change set). */
  async begin(caller: Caller, options: { correlationId?: string; bypassSteps?: boolean } = {}): Promise<{ op: Operation; commit(): void; rollback(): void }> {
    const release = await this.mutex.lock();
    const op = new Operation(caller, options);
    return {
      op,
      commit: () => { this.commit(op); release(); },
      rollback: () => { this.store.rollback(op.journal); release(); },
    };
  }

  private commit(op: Operation): void {
    op.journal.entries.length = 0;
    const queued = op.asyncQueue.splice(0);
    if (queued.length) this.options.onAsync?.(queued);
  }

  /** Writes that are not requests (system jobs, seeding): no steps, no journal. */
  systemPut(table: string, row: Row): void {
    const def = this.meta.table(table);
    const id = String(row[def.primaryId]);
    const existing = this.store.get(table, id);
    this.store.put(table, id, { ...existing, ...row, versionnumber: this.store.nextVersion() });
  }

  systemRemove(table: string, id: string): void {
    this.store.remove(table, id);
  }

  // ---------------------------------------------------------------- event pipeline

  private execution(op: Operation, message: string, table: TableDef, id: string, extra: Partial<MessageExecution>): MessageExecution {
    return {
      message, table, primaryId: id, changedAttributes: [], inputParameters: [], outputParameters: [],
      correlationId: op.correlationId, depth: 1, userId: op.caller.userId, initiatingUserId: op.caller.initiatingUserId,
      ...(op.caller.aadObjectId ? { userAadObjectId: op.caller.aadObjectId } : {}),
      ...(op.caller.initiatingAadObjectId ? { initiatingUserAadObjectId: op.caller.initiatingAadObjectId } : {}),
      businessUnitId: op.caller.businessUnitId, requestId: op.requestId, operationCreatedOn: this.now(),
      ...(op.parent ? { parent: op.parent } : {}),
      ...extra,
    };
  }

  /**
   * Runs one message through the pipeline. `main` does the write and returns what the post-operation
   * context needs (the row after, output parameters).
   */
  private async pipeline<T>(op: Operation, exec: MessageExecution, main: () => Promise<{ result: T; post?: Row; target?: unknown; output?: MessageExecution["outputParameters"] }>): Promise<T> {
    const steps = op.bypassSteps ? [] : findSteps(this.store, exec.message, exec.table.logicalName, exec.changedAttributes);
    const lookupName = (r: EntityRef): string | null => this.primaryNameOf(r);
    const deliverSync = async (step: RegisteredStep, context: MessageExecution): Promise<void> => {
      if (!this.options.invoker) return;
      await this.options.invoker.deliverSync(buildDelivery(this.meta, this.org, context, step, lookupName));
    };
    for (const step of steps.filter((s) => s.mode === 0 && (s.stage === 10 || s.stage === 20))) await deliverSync(step, exec);
    const previousParent = op.parent;
    op.parent = exec;
    let outcome: Awaited<ReturnType<typeof main>>;
    try {
      outcome = await main();
    } finally {
      op.parent = previousParent;
    }
    const after: MessageExecution = {
      ...exec,
      ...(outcome.post ? { post: outcome.post } : {}),
      ...(outcome.target !== undefined ? { inputParameters: exec.inputParameters.map((p) => (p.key === "Target" ? { key: "Target", value: outcome.target } : p)) } : {}),
      outputParameters: outcome.output ?? exec.outputParameters,
    };
    for (const step of steps.filter((s) => s.stage === 40)) {
      if (step.mode === 0) {
        await deliverSync(step, after);
        continue;
      }
      const jobId = randomUUID();
      const delivery = buildDelivery(this.meta, this.org, after, step, lookupName, jobId);
      this.store.put("asyncoperation", jobId, this.newRow("asyncoperation", jobId, op.caller, {
        name: step.name, operationtype: 1, messagename: exec.message, primaryentitytype: exec.table.logicalName,
        correlationid: op.correlationId, depth: exec.depth, retrycount: 0, statecode: 0, statuscode: 0,
        owningextensionid: { id: step.id, logicalName: "sdkmessageprocessingstep" },
      }), op.journal);
      op.asyncQueue.push(delivery);
    }
    return outcome.result;
  }

  private target(table: TableDef, id: string, row: Row, attributes: string[]): unknown {
    return dataContractEntity(this.meta, table, id, row, [...new Set([...attributes, table.primaryId])], { typed: true, formatted: false });
  }

  // ---------------------------------------------------------------- create, update, delete

  private newRow(table: string, id: string, caller: Caller, values: Row): Row {
    const def = this.meta.table(table);
    const now = this.nowIso();
    const row: Row = {};
    for (const column of def.columns.values()) {
      if (column.defaultValue !== undefined) row[column.logicalName] = column.defaultValue;
      else row[column.logicalName] = null;
    }
    row[def.primaryId] = id;
    if (def.columns.has("statecode")) row.statecode = 0;
    if (def.columns.has("statuscode")) row.statuscode = def.columns.get("statuscode")?.options?.find((o) => o.state === 0)?.value ?? 1;
    const user = { id: caller.userId, logicalName: "systemuser" };
    Object.assign(row, { createdon: now, modifiedon: now, createdby: user, modifiedby: user });
    if (caller.initiatingUserId !== caller.userId) {
      const onBehalf = { id: caller.initiatingUserId, logicalName: "systemuser" };
      Object.assign(row, { createdonbehalfby: onBehalf, modifiedonbehalfby: onBehalf });
    }
    if (def.columns.has("ownerid")) Object.assign(row, { ownerid: user, owninguser: user, owningbusinessunit: { id: caller.businessUnitId, logicalName: "businessunit" } });
    if (def.columns.has("organizationid")) row.organizationid = { id: this.org.id, logicalName: "organization" };
    Object.assign(row, values);
    if (isRef(row.ownerid) && def.columns.has("owninguser")) {
      row.owninguser = row.ownerid.logicalName === "systemuser" ? row.ownerid : null;
      row.owningteam = row.ownerid.logicalName === "team" ? row.ownerid : null;
      row.owningbusinessunit = this.businessUnitOf(row.ownerid) ?? row.owningbusinessunit ?? null;
    }
    row.versionnumber = this.store.nextVersion();
    return this.computed(def, row);
  }

  /** Columns the platform computes: full names, the exchange rate of the record's currency. */
  private computed(table: TableDef, row: Row): Row {
    if (COMPUTED_FULLNAME.has(table.logicalName)) row.fullname = fullName(row);
    if (table.columns.has("exchangerate") && table.logicalName !== "transactioncurrency" && isRef(row.transactioncurrencyid)) {
      const currency = this.store.get("transactioncurrency", row.transactioncurrencyid.id);
      row.exchangerate = typeof currency?.exchangerate === "number" ? currency.exchangerate : 1;
    }
    return row;
  }

  private checkKeys(table: TableDef, id: string, row: Row): void {
    for (const key of table.keys) {
      if (key.attributes.some((a) => row[a] === null || row[a] === undefined)) continue;
      const clash = this.store.all(table.logicalName).find((r) => String(r[table.primaryId]) !== id && key.attributes.every((a) => sameKeyValue(r[a], row[a])));
      if (clash) {
        throw new DataverseError(412, ErrorCodes.DuplicateRecordEntityKey,
          `A record that has the attribute values ${key.attributes.map((a) => String(isRef(row[a]) ? (row[a] as EntityRef).id : row[a])).join(", ")} already exists. The entity key ${key.displayName} requires that this set of attributes contains unique values. Select unique values and try again.`);
      }
    }
  }

  private baseCurrency(): EntityRef | null {
    const org = this.store.get("organization", this.org.id);
    return isRef(org?.basecurrencyid) ? org.basecurrencyid : null;
  }

  async create(op: Operation, table: TableDef, input: EntityInput, options: { message?: string } = {}): Promise<string> {
    const requested = input.values[table.primaryId];
    const id = typeof requested === "string" ? requested : randomUUID();
    if (this.store.get(table.logicalName, id)) throw new DataverseError(412, ErrorCodes.DuplicateRecord, "Cannot insert duplicate key.");
    const values: Row = { ...input.values };
    const state = checkStateChange(table, id, undefined, {
      ...(typeof values.statecode === "number" ? { statecode: values.statecode } : {}),
      ...(typeof values.statuscode === "number" ? { statuscode: values.statuscode } : {}),
    }, "update");
    Object.assign(values, state);
    if (table.columns.has("transactioncurrencyid") && table.logicalName !== "organization" && !isRef(values.transactioncurrencyid)) {
      const base = this.baseCurrency();
      if (base) values.transactioncurrencyid = base;
    }
    const row = this.newRow(table.logicalName, id, op.caller, values);
    const named = [...new Set([...input.named, table.primaryId])];
    const exec = this.execution(op, options.message ?? "Create", table, id, {
      changedAttributes: named,
      inputParameters: [{ key: "Target", value: this.target(table, id, row, named) }],
    });
    return this.pipeline(op, exec, async () => {
      this.checkKeys(table, id, row);
      this.store.put(table.logicalName, id, row, op.journal);
      const written = Object.keys(row).filter((k) => row[k] !== null);
      return { result: id, post: row, target: this.target(table, id, row, written), output: [{ key: "id", value: id }] };
    });
  }

  /** Update; `via: "message"` is for Win, Lose and QualifyLead, which may set the closing states. */
  async update(op: Operation, table: TableDef, id: string, input: EntityInput, options: { ifMatch?: string; via?: "update" | "message"; fireSteps?: boolean } = {}): Promise<void> {
    const before = this.store.get(table.logicalName, id);
    if (!before) throw notFound(table.logicalName, id);
    if (options.ifMatch && options.ifMatch !== "*" && options.ifMatch !== `W/"${String(before.versionnumber)}"`) {
      throw new DataverseError(412, "", "The version of the existing record doesn't match the RowVersion property provided.");
    }
    const values: Row = { ...input.values };
    const state = checkStateChange(table, id, before, {
      ...(typeof values.statecode === "number" ? { statecode: values.statecode } : {}),
      ...(typeof values.statuscode === "number" ? { statuscode: values.statuscode } : {}),
    }, options.via ?? "update");
    Object.assign(values, state);
    const user = { id: op.caller.userId, logicalName: "systemuser" };
    const system: Row = { modifiedon: this.nowIso(), modifiedby: user, modifiedonbehalfby: op.caller.initiatingUserId !== op.caller.userId ? { id: op.caller.initiatingUserId, logicalName: "systemuser" } : null };
    const after = this.computed(table, { ...before, ...values, ...system, versionnumber: this.store.nextVersion() });
    if (isRef(values.ownerid) && table.columns.has("owninguser")) {
      after.owninguser = values.ownerid.logicalName === "systemuser" ? values.ownerid : null;
      after.owningteam = values.ownerid.logicalName === "team" ? values.ownerid : null;
      after.owningbusinessunit = this.businessUnitOf(values.ownerid) ?? after.owningbusinessunit ?? null;
    }
    const named = [...new Set([...input.named, ...Object.keys(state)])];
    const targetColumns = [...named, "modifiedon", "modifiedby", "modifiedonbehalfby"];
    const exec = this.execution(op, "Update", table, id, {
      changedAttributes: named,
      inputParameters: [{ key: "Target", value: this.target(table, id, { ...values, ...system }, named) }],
      pre: before,
    });
    const work = async (): Promise<{ result: undefined; post: Row; target: unknown }> => {
      this.checkKeys(table, id, after);
      this.store.put(table.logicalName, id, after, op.journal);
      return { result: undefined, post: after, target: this.target(table, id, after, targetColumns) };
    };
    if (options.fireSteps === false) {
      await work();
      return;
    }
    await this.pipeline(op, exec, work);
  }

  async delete(op: Operation, table: TableDef, id: string, options: { ifMatch?: string } = {}): Promise<void> {
    const before = this.store.get(table.logicalName, id);
    if (!before) throw notFound(table.logicalName, id);
    if (options.ifMatch && options.ifMatch !== "*" && options.ifMatch !== `W/"${String(before.versionnumber)}"`) {
      throw new DataverseError(412, "", "The version of the existing record doesn't match the RowVersion property provided.");
    }
    const references: Array<{ nav: NavigationDef; rows: Row[] }> = this.meta.referencesTo(table.logicalName)
      .map((nav) => ({ nav, rows: this.relatedRows(nav.referencingTable, nav.referencingAttribute, id).filter((r) => (r[nav.referencingAttribute] as EntityRef).logicalName === table.logicalName) }))
      .filter((r) => r.rows.length);
    const restricted = references.find((r) => r.nav.cascadeDelete === "Restrict");
    if (restricted) {
      throw new DataverseError(405, ErrorCodes.CannotDeleteDueToAssociation,
        `The object you tried to delete is associated with another object and cannot be deleted. (${restricted.nav.relationship})`);
    }
    const exec = this.execution(op, "Delete", table, id, {
      inputParameters: [{ key: "Target", value: entityReference({ id, logicalName: table.logicalName }) }],
      pre: before,
    });
    await this.pipeline(op, exec, async () => {
      for (const { nav, rows } of references) {
        const referencing = this.meta.table(nav.referencingTable);
        for (const row of rows) {
          const childId = String(row[referencing.primaryId]);
          if (!this.store.get(referencing.logicalName, childId)) continue;
          if (nav.cascadeDelete === "Cascade") await this.delete(op, referencing, childId);
          else this.store.put(referencing.logicalName, childId, { ...row, [nav.referencingAttribute]: null, versionnumber: this.store.nextVersion() }, op.journal);
        }
      }
      this.store.remove(table.logicalName, id, op.journal);
      return { result: undefined };
    });
  }

  // ---------------------------------------------------------------- messages with a state model

  /** WinOpportunity / LoseOpportunity: closes the opportunity and records an opportunityclose activity. */
  async closeOpportunity(op: Operation, outcome: "Win" | "Lose", body: Record<string, unknown>): Promise<void> {
    const opportunities = this.meta.table("opportunity");
    const closes = this.meta.table("opportunityclose");
    const closeJson = body.OpportunityClose;
    if (typeof closeJson !== "object" || closeJson === null) throw badRequest("The parameter 'OpportunityClose' is required.", ErrorCodes.ODataError);
    if (typeof body.Status !== "number") throw badRequest("The parameter 'Status' is required.", ErrorCodes.ODataError);
    const closeInput = this.inputFromJson(closes, closeJson, "create");
    const ref = closeInput.values.opportunityid;
    if (!isRef(ref)) throw badRequest("OpportunityClose must name the opportunity: opportunityid@odata.bind.", ErrorCodes.InvalidArgument);
    const before = this.store.get("opportunity", ref.id);
    if (!before) throw notFound("opportunity", ref.id);
    const state = outcome === "Win" ? 1 : 2;
    const status = resolveStatus(opportunities, ref.id, state, body.Status)!;
    if (before.statecode !== 0) {
      throw badRequest(`The opportunity is already closed (${stateName(opportunities, Number(before.statecode))}); reopen it before closing it again.`, ErrorCodes.InvalidArgument);
    }
    const closeEntity = this.target(closes, typeof closeInput.values.activityid === "string" ? closeInput.values.activityid : "00000000-0000-0000-0000-000000000000", closeInput.values, closeInput.named);
    const exec = this.execution(op, outcome, opportunities, ref.id, {
      inputParameters: [{ key: "OpportunityClose", value: closeEntity }, { key: "Status", value: optionSetValue(status) }],
      pre: before,
    });
    await this.pipeline(op, exec, async () => {
      const closeValues: Row = { subject: outcome === "Win" ? "Opportunity Closed: Won" : "Opportunity Closed: Lost", ...closeInput.values };
      if (!isRef(closeValues.transactioncurrencyid) && isRef(before.transactioncurrencyid)) closeValues.transactioncurrencyid = before.transactioncurrencyid;
      // The close activity is recorded as Completed.
      Object.assign(closeValues, { statecode: 1, statuscode: 2 });
      await this.create(op, closes, { values: closeValues, named: [...new Set([...closeInput.named, "subject", "statecode", "statuscode"])] });
      const actualEnd = typeof closeValues.actualend === "string" ? closeValues.actualend.slice(0, 10) : this.nowIso().slice(0, 10);
      const actualValue = typeof closeValues.actualrevenue === "number" ? closeValues.actualrevenue : outcome === "Win" ? before.estimatedvalue ?? null : before.actualvalue ?? null;
      await this.update(op, opportunities, ref.id, {
        values: { statecode: state, statuscode: status, actualclosedate: actualEnd, actualvalue: actualValue, closeprobability: outcome === "Win" ? 100 : 0 },
        named: ["statecode", "statuscode", "actualclosedate", "actualvalue", "closeprobability"],
      }, { via: "message", fireSteps: this.options.stateChangesFireUpdate === true });
      return { result: undefined, post: this.store.get("opportunity", ref.id)! };
    });
  }

  /** QualifyLead: creates the account, contact and opportunity asked for and qualifies the lead. */
  async qualifyLead(op: Operation, leadId: string, body: Record<string, unknown>): Promise<EntityRef[]> {
    const leads = this.meta.table("lead");
    const before = this.store.get("lead", leadId);
    if (!before) throw notFound("lead", leadId);
    for (const flag of ["CreateAccount", "CreateContact", "CreateOpportunity"]) {
      if (typeof body[flag] !== "boolean") throw badRequest(`The parameter '${flag}' is required and must be a boolean.`, ErrorCodes.ODataError);
    }
    if (typeof body.Status !== "number") throw badRequest("The parameter 'Status' is required.", ErrorCodes.ODataError);
    const status = resolveStatus(leads, leadId, 1, body.Status)!;
    if (before.statecode !== 0) {
      throw badRequest(`The lead is ${stateName(leads, Number(before.statecode))}. Only an open lead can be qualified.`, ErrorCodes.InvalidArgument);
    }
    const bound = (name: string): EntityRef | null => {
      const url = body[`${name}@odata.bind`];
      const inline = body[name];
      if (typeof url === "string") return this.resolveReference(url);
      if (inline && typeof inline === "object") {
        const record = inline as Record<string, unknown>;
        const type = typeof record["@odata.type"] === "string" ? String(record["@odata.type"]).replace(/^#?Microsoft\.Dynamics\.CRM\./, "") : undefined;
        const table = type ? this.meta.tables.get(type) : undefined;
        const id = table ? record[table.primaryId] : undefined;
        if (table && typeof id === "string") return this.resolveReference(`/${table.entitySetName}(${id})`);
        throw badRequest(`The parameter '${name}' must name a record with @odata.type and its id.`, ErrorCodes.ODataError);
      }
      return null;
    };
    const currency = bound("OpportunityCurrencyId");
    const customer = bound("OpportunityCustomerId");
    if (customer && customer.logicalName !== "account" && customer.logicalName !== "contact") throw badRequest("OpportunityCustomerId must be an account or a contact.", ErrorCodes.InvalidArgument);
    const leadRef = { id: leadId, logicalName: "lead" };
    const exec = this.execution(op, "QualifyLead", leads, leadId, {
      inputParameters: [
        { key: "LeadId", value: entityReference(leadRef) },
        { key: "CreateAccount", value: body.CreateAccount },
        { key: "CreateContact", value: body.CreateContact },
        { key: "CreateOpportunity", value: body.CreateOpportunity },
        { key: "Status", value: optionSetValue(status) },
        { key: "OpportunityCurrencyId", value: entityReference(currency) },
        { key: "OpportunityCustomerId", value: entityReference(customer) },
        { key: "SourceCampaignId", value: null },
      ],
      pre: before,
    });
    return this.pipeline(op, exec, async () => {
      const created: EntityRef[] = [];
      const copy = (names: string[]): Row => Object.fromEntries(names.filter((n) => before[n] !== null && before[n] !== undefined).map((n) => [n, before[n]!]));
      const make = async (table: string, values: Row): Promise<EntityRef> => {
        const def = this.meta.table(table);
        const id = await this.create(op, def, { values, named: Object.keys(values) });
        const ref = { id, logicalName: table };
        created.push(ref);
        return ref;
      };
      let account: EntityRef | null = null;
      let contact: EntityRef | null = null;
      let opportunity: EntityRef | null = null;
      if (body.CreateAccount === true) {
        if (typeof before.companyname !== "string" || !before.companyname) throw badRequest("The lead has no Company Name, so no account can be created from it.", ErrorCodes.InvalidArgument);
        account = await make("account", { name: before.companyname, ...copy(["address1_line1", "address1_city", "address1_postalcode", "address1_country", "telephone1", "emailaddress1", "websiteurl", "transactioncurrencyid"]), originatingleadid: leadRef });
      }
      if (body.CreateContact === true) {
        if (!before.lastname && !before.firstname) throw badRequest("The lead has no name, so no contact can be created from it.", ErrorCodes.InvalidArgument);
        contact = await make("contact", { ...copy(["firstname", "lastname", "jobtitle", "emailaddress1", "telephone1", "address1_city", "address1_country", "transactioncurrencyid"]), ...(account ? { parentcustomerid: account } : {}), originatingleadid: leadRef });
      }
      if (body.CreateOpportunity === true) {
        const opportunityCustomer = customer ?? account ?? contact ?? (isRef(before.parentaccountid) ? before.parentaccountid : null) ?? (isRef(before.parentcontactid) ? before.parentcontactid : null);
        const parentAccount = account ?? (opportunityCustomer?.logicalName === "account" ? opportunityCustomer : isRef(before.parentaccountid) ? before.parentaccountid : null);
        const parentContact = contact ?? (opportunityCustomer?.logicalName === "contact" ? opportunityCustomer : isRef(before.parentcontactid) ? before.parentcontactid : null);
        const currencyRef = currency ?? (isRef(before.transactioncurrencyid) ? before.transactioncurrencyid : null);
        opportunity = await make("opportunity", {
          name: typeof before.subject === "string" && before.subject ? before.subject : String(before.fullname ?? "Opportunity"),
          ...(typeof before.estimatedamount === "number" ? { estimatedvalue: before.estimatedamount } : {}),
          ...copy(["estimatedclosedate", "description"]),
          ...(opportunityCustomer ? { customerid: opportunityCustomer } : {}),
          ...(parentAccount ? { parentaccountid: parentAccount } : {}),
          ...(parentContact ? { parentcontactid: parentContact } : {}),
          ...(currencyRef ? { transactioncurrencyid: currencyRef } : {}),
          originatingleadid: leadRef,
        });
      }
      await this.update(op, leads, leadId, {
        values: {
          statecode: 1, statuscode: status,
          ...(opportunity ? { qualifyingopportunityid: opportunity } : {}),
          ...(account ? { parentaccountid: account } : {}),
          ...(contact ? { parentcontactid: contact } : {}),
        },
        named: ["statecode", "statuscode", ...(opportunity ? ["qualifyingopportunityid"] : []), ...(account ? ["parentaccountid"] : []), ...(contact ? ["parentcontactid"] : [])],
      }, { via: "message", fireSteps: this.options.stateChangesFireUpdate === true });
      return {
        result: created,
        post: this.store.get("lead", leadId)!,
        output: [{ key: "CreatedEntities", value: created.map((r) => entityReference(r)) }],
      };
    });
  }
}

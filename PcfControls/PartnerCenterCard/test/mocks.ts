// Test doubles that implement the real ComponentFramework interfaces (so they type-check against
// @types/powerapps-component-framework), for the Jest tests and the browser harness alike. No Node or
// Jest APIs here: test/browser/harness.ts bundles this file into the page.
import type { IInputs } from "../generated/ManifestTypes";

type Entity = ComponentFramework.WebApi.Entity;
type Metadata = ComponentFramework.PropertyHelper.FieldPropertyMetadata.Metadata;
type OptionMetadata = ComponentFramework.PropertyHelper.OptionMetadata;

// ---------------------------------------------------------------- parameters (bound columns, inputs)

export interface FieldOptions {
  logicalName?: string;
  readable?: boolean;
  editable?: boolean;
  formatted?: string;
}

function metadata(options: FieldOptions): Metadata {
  return {
    DisplayName: options.logicalName ?? "",
    LogicalName: options.logicalName ?? "",
    RequiredLevel: 0,
    IsSecured: options.readable === false || options.editable === false,
    SourceType: 0,
    Description: "",
  };
}

function base(options: FieldOptions, type: string) {
  return {
    error: false,
    errorMessage: "",
    type,
    security: { readable: options.readable ?? true, editable: options.editable ?? true, secured: options.readable === false || options.editable === false },
    ...(options.formatted !== undefined ? { formatted: options.formatted } : {}),
  };
}

export function twoOptions(raw: boolean, options: FieldOptions = {}): ComponentFramework.PropertyTypes.TwoOptionsProperty {
  const yesNo: [OptionMetadata, OptionMetadata] = [
    { Label: "No", Value: 0, Color: "" },
    { Label: "Yes", Value: 1, Color: "" },
  ];
  return { ...base(options, "TwoOptions"), raw, attributes: { ...metadata(options), Options: yesNo, DefaultValue: false } };
}

export function optionSet(raw: number | null, choices: ReadonlyArray<{ value: number; label: { "1033": string } }>, options: FieldOptions = {}): ComponentFramework.PropertyTypes.OptionSetProperty {
  const Options = choices.map((c) => ({ Label: c.label["1033"], Value: c.value, Color: "" }));
  return { ...base(options, "OptionSet"), raw, attributes: { ...metadata(options), Options, DefaultValue: -1 } };
}

export function text(raw: string | null, options: FieldOptions = {}, type = "SingleLine.Text"): ComponentFramework.PropertyTypes.StringProperty {
  return { ...base(options, type), raw, attributes: { ...metadata(options), MaxLength: 4000, ImeMode: 0, Format: "text" } };
}

export function dateTime(raw: Date | null, options: FieldOptions = {}): ComponentFramework.PropertyTypes.DateTimeProperty {
  return { ...base(options, "DateAndTime.DateAndTime"), raw, attributes: { ...metadata(options), Behavior: 1, Format: "datetime", ImeMode: 0 } };
}

export function wholeNumber(raw: number | null): ComponentFramework.PropertyTypes.WholeNumberProperty {
  return { error: false, errorMessage: "", type: "Whole.None", raw };
}

/** An input the form editor left empty (no column, no static value). */
export function emptyInput(type = "SingleLine.Text"): ComponentFramework.PropertyTypes.StringProperty {
  return { error: false, errorMessage: "", type, raw: null };
}

/** A bound property the form editor did not bind: no column metadata, no value. */
export function unbound<T extends ComponentFramework.PropertyTypes.Property>(type: string): T {
  return { error: false, errorMessage: "", type, raw: null } as T;
}

// ---------------------------------------------------------------- Web API: an in-memory table store

export interface WebApiCall {
  method: "retrieveRecord" | "retrieveMultipleRecords" | "createRecord" | "updateRecord" | "deleteRecord";
  entityType: string;
  id?: string;
  options?: string;
}

/** The error shape Xrm.WebApi rejects with. */
export interface WebApiError {
  errorCode: number;
  message: string;
}

interface Condition {
  column: string;
  value: string;
}

function parseQuery(options: string | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  for (const part of (options ?? "").replace(/^\?/, "").split("&")) {
    const at = part.indexOf("=");
    if (at > 0) query[part.slice(0, at)] = decodeURIComponent(part.slice(at + 1));
  }
  return query;
}

function parseFilter(filter: string | undefined): { conditions: Condition[]; any: boolean } {
  if (!filter) return { conditions: [], any: false };
  const conditions = [...filter.matchAll(/(\w+) eq (?:'([^']*)'|([\w.-]+))/g)].map((m) => ({ column: m[1]!, value: (m[2] ?? m[3]!).toLowerCase() }));
  return { conditions, any: / or /.test(filter) };
}

const lower = (value: unknown): string => String(value ?? "").toLowerCase();
/** Rows travel as JSON, as they do over the wire (and jsdom has no structuredClone). */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MockWebApi implements ComponentFramework.WebApi {
  readonly calls: WebApiCall[] = [];
  private readonly tables = new Map<string, Entity[]>();
  private readonly failures = new Map<string, WebApiError>();
  private delayMs = 0;

  constructor(tables: Record<string, Entity[]> = {}) {
    for (const [name, rows] of Object.entries(tables)) this.tables.set(name, rows.map((r) => ({ ...r })));
  }

  /** Makes every call on this table reject, as Dataverse does on a missing privilege or an outage. */
  fail(entityType: string, error: WebApiError = { errorCode: 0x80040220, message: "Principal user is missing the Read privilege on Partner Center Sync Event" }): this {
    this.failures.set(entityType, error);
    return this;
  }

  /** Answers after this many milliseconds (to see loading states). */
  delay(ms: number): this {
    this.delayMs = ms;
    return this;
  }

  rows(entityType: string): Entity[] {
    return this.tables.get(entityType) ?? [];
  }

  setRows(entityType: string, rows: Entity[]): void {
    this.tables.set(entityType, rows.map((r) => ({ ...r })));
  }

  private async answer<T>(call: WebApiCall, produce: () => T): Promise<T> {
    this.calls.push(call);
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.failures.get(call.entityType);
    if (failure) throw failure;
    return produce();
  }

  private idColumn(entityType: string): string {
    return `${entityType}id`;
  }

  retrieveRecord(entityType: string, id: string, options?: string): Promise<Entity> {
    return this.answer({ method: "retrieveRecord", entityType, id, ...(options !== undefined ? { options } : {}) }, () => {
      const row = this.rows(entityType).find((r) => lower(r[this.idColumn(entityType)]) === lower(id));
      if (!row) throw { errorCode: 0x80040217, message: `${entityType} With Id = ${id} Does Not Exist` } satisfies WebApiError;
      return clone(row);
    });
  }

  retrieveMultipleRecords(entityType: string, options?: string, maxPageSize?: number): Promise<ComponentFramework.WebApi.RetrieveMultipleResponse> {
    return this.answer({ method: "retrieveMultipleRecords", entityType, ...(options !== undefined ? { options } : {}) }, () => {
      const query = parseQuery(options);
      const { conditions, any } = parseFilter(query.$filter);
      const matches = (row: Entity): boolean => {
        if (conditions.length === 0) return true;
        const test = (c: Condition): boolean => lower(row[c.column]) === c.value;
        return any ? conditions.some(test) : conditions.every(test);
      };
      let rows = this.rows(entityType).filter(matches);
      const order = query.$orderby?.split(",").map((s) => s.trim().split(/\s+/) as [string, string?]);
      if (order) {
        rows = [...rows].sort((a, b) => {
          for (const [column, direction] of order) {
            const x = String(a[column] ?? "");
            const y = String(b[column] ?? "");
            if (x !== y) return (x < y ? -1 : 1) * (direction === "desc" ? -1 : 1);
          }
          return 0;
        });
      }
      const top = Math.min(Number(query.$top ?? Infinity), maxPageSize ?? Infinity);
      return { entities: clone(rows.slice(0, top)), nextLink: "" };
    });
  }

  createRecord(entityType: string, data: Entity): Promise<ComponentFramework.LookupValue> {
    return this.answer({ method: "createRecord", entityType }, () => {
      const id = `00000000-0000-4000-8000-${String(this.calls.length).padStart(12, "0")}`;
      this.tables.set(entityType, [...this.rows(entityType), { ...data, [this.idColumn(entityType)]: id }]);
      return { id, entityType, name: "" };
    });
  }

  updateRecord(entityType: string, id: string, data: Entity): Promise<ComponentFramework.LookupValue> {
    return this.answer({ method: "updateRecord", entityType, id }, () => {
      const row = this.rows(entityType).find((r) => lower(r[this.idColumn(entityType)]) === lower(id));
      if (!row) throw { errorCode: 0x80040217, message: "Does Not Exist" } satisfies WebApiError;
      Object.assign(row, data);
      return { id, entityType, name: "" };
    });
  }

  deleteRecord(entityType: string, id: string): Promise<ComponentFramework.LookupValue> {
    return this.answer({ method: "deleteRecord", entityType, id }, () => {
      this.tables.set(entityType, this.rows(entityType).filter((r) => lower(r[this.idColumn(entityType)]) !== lower(id)));
      return { id, entityType, name: "" };
    });
  }
}

// ---------------------------------------------------------------- the rest of the context

export class MockNavigation implements ComponentFramework.Navigation {
  readonly opened: ComponentFramework.NavigationApi.EntityFormOptions[] = [];
  readonly urls: string[] = [];
  openAlertDialog(): Promise<void> {
    return Promise.resolve();
  }
  openConfirmDialog(): Promise<ComponentFramework.NavigationApi.ConfirmDialogResponse> {
    return Promise.resolve({ confirmed: true });
  }
  openErrorDialog(): Promise<void> {
    return Promise.resolve();
  }
  openFile(): Promise<void> {
    return Promise.resolve();
  }
  openForm(options: ComponentFramework.NavigationApi.EntityFormOptions): Promise<ComponentFramework.NavigationApi.OpenFormSuccessResponse> {
    this.opened.push(options);
    return Promise.resolve({ savedEntityReference: [] });
  }
  openUrl(url: string): void {
    this.urls.push(url);
  }
  openWebResource(): void {
    // not used by the card
  }
}

export class MockResources implements ComponentFramework.Resources {
  private readonly strings: Record<string, string>;
  constructor(strings: Record<string, string>) {
    this.strings = strings;
  }
  getResource(_id: string, _success: (data: string) => void, failure: () => void): void {
    failure();
  }
  /** Like the platform: a missing key comes back as the key. */
  getString(id: string): string {
    return this.strings[id] ?? id;
  }
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** Formats as the platform would for a user in UTC with the ISO date format: stable in every test. */
export class MockFormatting implements ComponentFramework.Formatting {
  formatCurrency(value: number, precision = 2, symbol = ""): string {
    return `${symbol}${value.toFixed(precision)}`;
  }
  formatDecimal(value: number, precision = 2): string {
    return value.toFixed(precision);
  }
  formatDateAsFilterStringInUTC(value: Date): string {
    return value.toISOString().slice(0, 10);
  }
  formatDateLong(value: Date): string {
    return value.toUTCString();
  }
  formatDateLongAbbreviated(value: Date): string {
    return value.toUTCString();
  }
  formatDateShort(value: Date, includeTime?: boolean): string {
    const date = `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
    return includeTime ? `${date} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}` : date;
  }
  formatDateYearMonth(value: Date): string {
    return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}`;
  }
  formatInteger(value: number): string {
    return String(Math.round(value));
  }
  formatLanguage(value: number): string {
    return value === 1043 ? "Nederlands" : "English";
  }
  formatTime(value: Date): string {
    return `${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}`;
  }
  getWeekOfYear(value: Date): number {
    const start = Date.UTC(value.getUTCFullYear(), 0, 1);
    return Math.ceil(((value.getTime() - start) / 86_400_000 + new Date(start).getUTCDay() + 1) / 7);
  }
}

export class MockMode implements ComponentFramework.Mode {
  allocatedHeight = -1;
  allocatedWidth: number;
  isControlDisabled: boolean;
  isVisible = true;
  label = "Partner Center";
  /** The model-driven runtime's record context (not in the published typings). */
  contextInfo: { entityId: string; entityTypeName: string; entityRecordName: string };
  trackedResize = false;
  constructor(options: { allocatedWidth: number; isControlDisabled: boolean; entityId: string | null; entityRecordName: string; entityTypeName?: string }) {
    this.allocatedWidth = options.allocatedWidth;
    this.isControlDisabled = options.isControlDisabled;
    this.contextInfo = { entityId: options.entityId ?? "", entityTypeName: options.entityTypeName ?? "opportunity", entityRecordName: options.entityRecordName };
  }
  setControlState(): boolean {
    return true;
  }
  setFullScreen(): void {
    // not used by the card
  }
  trackContainerResize(value: boolean): void {
    this.trackedResize = value;
  }
}

export class MockClient implements ComponentFramework.Client {
  disableScroll = false;
  private readonly formFactor: number;
  constructor(formFactor: number) {
    this.formFactor = formFactor;
  }
  getFormFactor(): number {
    return this.formFactor;
  }
  getClient(): string {
    return "Web";
  }
  isOffline(): boolean {
    return false;
  }
  isNetworkAvailable(): boolean {
    return true;
  }
}

export class MockUserSettings implements ComponentFramework.UserSettings {
  dateFormattingInfo = {} as ComponentFramework.UserSettingApi.DateFormattingInfo;
  isRTL = false;
  languageId: number;
  numberFormattingInfo = {} as ComponentFramework.UserSettingApi.NumberFormattingInfo;
  securityRoles: string[] = [];
  userId = "{3C3C7E4B-0000-0000-0000-000000000001}";
  userName = "Sam Seller";
  constructor(languageId: number) {
    this.languageId = languageId;
  }
  getTimeZoneOffsetMinutes(): number {
    return 0;
  }
}

const notUsed = (what: string) => (): never => {
  throw new Error(`the card does not use ${what}`);
};

export const mockDevice: ComponentFramework.Device = {
  captureAudio: notUsed("device.captureAudio"),
  captureImage: notUsed("device.captureImage"),
  captureVideo: notUsed("device.captureVideo"),
  getBarcodeValue: notUsed("device.getBarcodeValue"),
  getCurrentPosition: notUsed("device.getCurrentPosition"),
  pickFile: notUsed("device.pickFile"),
};

export const mockFactory: ComponentFramework.Factory = {
  getPopupService: notUsed("factory.getPopupService"),
  requestRender: () => undefined,
};

// ---------------------------------------------------------------- context.utils and the tables' metadata

/** XrmEnum.AttributeTypeCode: the number getEntityMetadata gives as an attribute's AttributeType. */
export const AttributeTypeCode = {
  Boolean: 0, Customer: 1, DateTime: 2, Decimal: 3, Double: 4, Integer: 5, Lookup: 6, Memo: 7, Money: 8, Owner: 9, Picklist: 11, State: 12, Status: 13,
  String: 14, Uniqueidentifier: 15, BigInt: 18,
} as const;

/** One column in the mock's metadata: its type, and a lookup's tables. */
export interface ColumnDefinition {
  type: keyof typeof AttributeTypeCode;
  targets?: string[];
}
/** Tables by logical name, their columns by logical name. */
export type MetadataCatalog = Record<string, Record<string, ColumnDefinition>>;

/** The standard columns the card may ask about (the seed variables' defaults and their neighbours). */
export const STANDARD_METADATA: MetadataCatalog = {
  opportunity: {
    opportunityid: { type: "Uniqueidentifier" }, name: { type: "String" }, estimatedvalue: { type: "Money" }, estimatedclosedate: { type: "DateTime" },
    parentaccountid: { type: "Lookup", targets: ["account"] }, parentcontactid: { type: "Lookup", targets: ["contact"] },
    transactioncurrencyid: { type: "Lookup", targets: ["transactioncurrency"] }, description: { type: "Memo" }, budgetamount: { type: "Money" },
  },
  account: {
    accountid: { type: "Uniqueidentifier" }, name: { type: "String" }, address1_country: { type: "String" }, address1_city: { type: "String" },
    primarycontactid: { type: "Lookup", targets: ["contact"] }, numberofemployees: { type: "Integer" }, industrycode: { type: "Picklist" },
  },
  contact: { contactid: { type: "Uniqueidentifier" }, emailaddress1: { type: "String" } },
  transactioncurrency: { transactioncurrencyid: { type: "Uniqueidentifier" }, isocurrencycode: { type: "String" } },
  environmentvariablevalue: { environmentvariablevalueid: { type: "Uniqueidentifier" }, value: { type: "Memo" } },
};

/**
 * The attributes getEntityMetadata resolves with, as the Client API's collections answer: get(name)
 * (null when the column was not asked for or does not exist), getAll(), getLength(), forEach.
 */
class AttributeCollection {
  private readonly items: Array<Record<string, unknown>>;
  constructor(items: Array<Record<string, unknown>>) {
    this.items = items;
  }
  get(name: string): Record<string, unknown> | null {
    return this.items.find((item) => item.LogicalName === name) ?? null;
  }
  getAll(): Array<Record<string, unknown>> {
    return [...this.items];
  }
  getLength(): number {
    return this.items.length;
  }
  forEach(delegate: (item: Record<string, unknown>, index: number) => void): void {
    this.items.forEach(delegate);
  }
}

/**
 * context.utils: privileges are all granted unless `denied` names the table (environmentvariablevalue
 * for a seller, who cannot change settings). getEntityMetadata answers from the catalog the way the
 * platform does: the table's metadata with only the asked attributes that exist (AttributeType as
 * XrmEnum.AttributeTypeCode, a lookup's Targets), a rejection for a table that does not exist. It
 * caches nothing and counts every question in `metadataCalls`.
 */
export class MockUtils implements ComponentFramework.Utility {
  readonly metadataCalls: Array<{ entityName: string; attributes: string[] }> = [];
  private readonly catalog: MetadataCatalog;
  private readonly denied: readonly string[];
  constructor(options: { denied?: readonly string[]; metadata?: MetadataCatalog } = {}) {
    this.denied = options.denied ?? [];
    this.catalog = options.metadata ?? STANDARD_METADATA;
  }

  getEntityMetadata(entityName: string, attributes: string[] = []): Promise<ComponentFramework.PropertyHelper.EntityMetadata> {
    this.metadataCalls.push({ entityName, attributes: [...attributes] });
    const table = this.catalog[entityName];
    if (!table) return Promise.reject(Object.assign(new Error(`Could not find an entity with name ${entityName}`), { errorCode: 2147746327 }));
    const items = attributes.filter((name) => table[name]).map((name) => {
      const column = table[name]!;
      return {
        LogicalName: name,
        EntityLogicalName: entityName,
        DisplayName: name,
        AttributeType: AttributeTypeCode[column.type],
        ...(column.type === "Lookup" ? { Targets: [...(column.targets ?? [])] } : {}),
      };
    });
    return Promise.resolve({ LogicalName: entityName, Attributes: new AttributeCollection(items) });
  }

  hasEntityPrivilege(entityTypeName: string): boolean {
    return !this.denied.includes(entityTypeName);
  }

  lookupObjects = notUsed("utils.lookupObjects");
}

/** The standard metadata with a customer's tables and columns added. */
export function withMetadata(extra: MetadataCatalog): MetadataCatalog {
  const catalog: MetadataCatalog = {};
  for (const table of new Set([...Object.keys(STANDARD_METADATA), ...Object.keys(extra)])) catalog[table] = { ...STANDARD_METADATA[table], ...extra[table] };
  return catalog;
}

export const mockCopilot: ComponentFramework.Copilot = {
  executeEvent: notUsed("copilot.executeEvent"),
  executePrompt: notUsed("copilot.executePrompt"),
};

export interface ContextOptions {
  parameters: IInputs;
  strings: Record<string, string>;
  languageId?: number;
  formFactor?: number;
  allocatedWidth?: number;
  isControlDisabled?: boolean;
  /** The record's id; null = a new, unsaved record. */
  entityId?: string | null;
  /** The form's table (default opportunity; "lead" puts the card in lead mode). */
  entityTypeName?: string;
  entityRecordName?: string;
  /** null = the host offers no Web API. */
  webAPI?: MockWebApi | null;
  navigation?: MockNavigation;
  /** Tables the user has no privilege on (context.utils.hasEntityPrivilege answers false). */
  deniedPrivileges?: string[];
  /** What context.utils.getEntityMetadata knows (default: STANDARD_METADATA). */
  metadata?: MetadataCatalog;
}

export class MockContext implements ComponentFramework.Context<IInputs> {
  client: MockClient;
  device = mockDevice;
  factory = mockFactory;
  formatting = new MockFormatting();
  mode: MockMode;
  navigation: MockNavigation;
  resources: MockResources;
  userSettings: MockUserSettings;
  utils: MockUtils;
  webAPI: ComponentFramework.WebApi;
  parameters: IInputs;
  updatedProperties: string[] = [];
  events = {};
  copilot = mockCopilot;

  constructor(options: ContextOptions) {
    this.client = new MockClient(options.formFactor ?? 1);
    this.mode = new MockMode({
      allocatedWidth: options.allocatedWidth ?? 720,
      isControlDisabled: options.isControlDisabled ?? false,
      entityId: options.entityId === undefined ? "{6F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0}" : options.entityId,
      entityRecordName: options.entityRecordName ?? "Contoso: 500 Copilot seats",
      ...(options.entityTypeName ? { entityTypeName: options.entityTypeName } : {}),
    });
    this.navigation = options.navigation ?? new MockNavigation();
    this.resources = new MockResources(options.strings);
    this.userSettings = new MockUserSettings(options.languageId ?? 1033);
    this.utils = new MockUtils({ ...(options.deniedPrivileges ? { denied: options.deniedPrivileges } : {}), ...(options.metadata ? { metadata: options.metadata } : {}) });
    // A host without the WebAPI feature hands the control null here.
    this.webAPI = (options.webAPI === undefined ? new MockWebApi() : options.webAPI) as ComponentFramework.WebApi;
    this.parameters = options.parameters;
  }
}

// ---------------------------------------------------------------- the relay's client API

export interface RelayRequest {
  method: string;
  url: string;
  authorization: string | null;
}

export interface RelayScript {
  /** Status of the POST that starts a run (default 202). */
  startStatus?: number;
  /** States the run passes through, one per poll; the last one repeats. */
  states?: Array<"queued" | "running" | "succeeded" | "failed" | "dead">;
  /** error text of a failed or dead run. */
  error?: string;
  /** Throw as fetch does when the host cannot be reached. */
  unreachable?: boolean;
}

function jsonResponse(status: number, body: unknown): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: () => "application/json" },
    json: () => Promise.resolve(body),
    text: () => Promise.resolve(JSON.stringify(body)),
  } as unknown as Response;
}

/** A fetch that plays the relay's client API from a script, and records what it was asked. */
export function createRelayFake(script: RelayScript = {}): { fetch: (input: string, init?: RequestInit) => Promise<Response>; requests: RelayRequest[] } {
  const requests: RelayRequest[] = [];
  const states = script.states ?? ["queued", "running", "succeeded"];
  let poll = 0;
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    requests.push({ method: init?.method ?? "GET", url: input, authorization: headers.Authorization ?? null });
    if (script.unreachable) throw new TypeError("Failed to fetch");
    const url = new URL(input);
    const start = /\/api\/opportunities\/([^/]+)\/(sync|retry)$/.exec(url.pathname);
    if (start && init?.method === "POST") {
      const status = script.startStatus ?? 202;
      return status < 300 ? jsonResponse(status, { runId: `run-${start[2]}-1` }) : jsonResponse(status, { message: "The relay could not queue the run" });
    }
    const run = /\/api\/runs\/([^/]+)$/.exec(url.pathname);
    if (run) {
      const state = states[Math.min(poll, states.length - 1)]!;
      poll += 1;
      return jsonResponse(200, { runId: decodeURIComponent(run[1]!), state, ...(state === "failed" || state === "dead" ? { error: script.error ?? "Partner Center answered 400: details.dealValue must be greater than 0" } : {}) });
    }
    return jsonResponse(404, { message: "not found" });
  };
  return { fetch, requests };
}

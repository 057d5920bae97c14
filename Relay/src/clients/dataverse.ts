// The relay's Dataverse Web API client (dataverse.md §9). Each request kind lives in its own file as a
// DataverseRequest (what to send, how to read the answer); this class sends them one by one or
// together in a $batch over DataverseHttp (headers, token, concurrency bound, retries).
//
//   const client = new DataverseClient({ orgUrl, getToken: tokens.getToken, agent: createAgent({ extraCaPem, connections: 8 }) });
//   const opportunity = await client.retrieve(Opportunity.entitySetName, { [Opportunity.columns.referralIdentifier]: id });
//   const result = await client.update(Opportunity.entitySetName, opportunity.opportunityid, changes, { ifMatch: opportunity["@odata.etag"] });
//   if (!result.updated) … re-read and re-diff
import { DataverseHttp, type DataverseHttpOptions } from "./dataverse-http.ts";
import type { DataverseRequest } from "./dataverse-request.ts";
import type { RecordKey, Row } from "./dataverse-query.ts";
import { retrieveMultipleRequest, retrieveRequest, type MultipleQuery, type Page, type RetrieveOptions, type RetrievedRow } from "./dataverse-retrieve.ts";
import { createRequest, type CreateOptions, type CreateResult } from "./dataverse-create.ts";
import { updateRequest, upsertRequest, type UpdateOptions, type UpdateResult, type UpsertOptions, type UpsertResult } from "./dataverse-update.ts";
import { deleteRequest, type DeleteOptions, type DeleteResult } from "./dataverse-delete.ts";
import { actionRequest, whoAmIRequest, type ActionOptions, type WhoAmI } from "./dataverse-actions.ts";
import { batchRequest, type BatchOptions, type BatchOutcomes } from "./dataverse-batch.ts";

export type DataverseClientOptions = DataverseHttpOptions;

export class DataverseClient {
  readonly #http: DataverseHttp;

  constructor(options: DataverseClientOptions) {
    this.#http = new DataverseHttp(options);
  }

  /** `https://<org>/api/data/v9.2`. */
  get apiRoot(): string {
    return this.#http.apiRoot;
  }

  get maxConcurrency(): number {
    return this.#http.maxConcurrency;
  }

  /** Requests on the wire now. */
  get inFlight(): number {
    return this.#http.inFlight;
  }

  /** Sends one request built by any of the `…Request` builders and reads its answer. */
  async send<T>(request: DataverseRequest<T>): Promise<T> {
    return request.read(await this.#http.send(request));
  }

  /** One record by id or alternate key, with its `@odata.etag`; undefined when there is no such record. */
  retrieve<T extends Row = Row>(entitySet: string, key: RecordKey, options?: RetrieveOptions): Promise<RetrievedRow<T> | undefined> {
    return this.send(retrieveRequest<T>(entitySet, key, options));
  }

  /** Every row of a query, page by page (`@odata.nextLink` followed unchanged, same `odata.maxpagesize`). */
  async *retrieveMultiple<T extends Row = Row>(entitySet: string, query: MultipleQuery = {}): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages<T>(entitySet, query)) yield* page.value;
  }

  /** The pages of a query, for callers that work a page at a time. */
  async *pages<T extends Row = Row>(entitySet: string, query: MultipleQuery = {}): AsyncGenerator<Page<T>, void, undefined> {
    let nextLink: string | undefined;
    do {
      const page: Page<T> = await this.send(retrieveMultipleRequest<T>(entitySet, query, nextLink));
      yield page;
      nextLink = page.nextLink;
    } while (nextLink);
  }

  /** Creates a record; answers its id (from OData-EntityId), and the row with returnRepresentation. */
  create<T extends Row = Row>(entitySet: string, body: Record<string, unknown>, options?: CreateOptions): Promise<CreateResult<T>> {
    return this.send(createRequest<T>(entitySet, body, options));
  }

  /**
   * Updates an existing record with If-Match (the row's ETag, or `*` by default so nothing is created).
   * `{ updated: false, reason: "changed" }` means someone else changed it: re-read and re-diff.
   */
  update<T extends Row = Row>(entitySet: string, key: RecordKey, changes: Record<string, unknown>, options?: UpdateOptions): Promise<UpdateResult<T>> {
    return this.send(updateRequest<T>(entitySet, key, changes, options));
  }

  /** Creates or updates the record with this id or alternate key. */
  upsert<T extends Row = Row>(entitySet: string, key: RecordKey, body: Record<string, unknown>, options?: UpsertOptions): Promise<UpsertResult<T>> {
    return this.send(upsertRequest<T>(entitySet, key, body, options));
  }

  delete(entitySet: string, key: RecordKey, options?: DeleteOptions): Promise<DeleteResult> {
    return this.send(deleteRequest(entitySet, key, options));
  }

  /** An action: `executeAction("WinOpportunity", { Status, OpportunityClose })`, or bound with `{ bound: { entitySet, key } }`. */
  executeAction<T = unknown>(name: string, body?: Record<string, unknown>, options?: ActionOptions): Promise<T | undefined> {
    return this.send(actionRequest<T>(name, body, options));
  }

  whoAmI(): Promise<WhoAmI> {
    return this.send(whoAmIRequest());
  }

  /**
   * Several requests in one round trip. Pass requests from the builders (`retrieveRequest`,
   * `updateRequest`, …); outcomes come back in the same order, typed per request.
   * With `changeSet: true` they are applied together or not at all.
   */
  async batch<const R extends readonly DataverseRequest<unknown>[]>(requests: R, options: BatchOptions = {}): Promise<BatchOutcomes<R>> {
    return this.send(batchRequest(requests, this.#http.apiRoot, options));
  }

  /** Closes the connection pool if the client made its own. */
  close(): Promise<void> {
    return this.#http.close();
  }
}

export { DataverseError, DataverseErrorCodes } from "./dataverse-errors.ts";
export type { DataverseRequestEvent, TokenSource } from "./dataverse-http.ts";
export type { DataverseRequest, RawResponse } from "./dataverse-request.ts";
export { anyOf, literal, type AlternateKey, type Expand, type QueryOptions, type RecordKey, type Row } from "./dataverse-query.ts";
export { retrieveMultipleRequest, retrieveRequest, type MultipleQuery, type Page, type RetrieveOptions, type RetrievedRow } from "./dataverse-retrieve.ts";
export { createRequest, type CreateOptions, type CreateResult } from "./dataverse-create.ts";
export { updateRequest, upsertRequest, type UpdateOptions, type UpdateResult, type UpsertOptions, type UpsertResult } from "./dataverse-update.ts";
export { deleteRequest, type DeleteOptions, type DeleteResult } from "./dataverse-delete.ts";
export { actionRequest, whoAmIRequest, type ActionOptions, type WhoAmI } from "./dataverse-actions.ts";
export type { BatchOptions, BatchOutcome, BatchOutcomes } from "./dataverse-batch.ts";

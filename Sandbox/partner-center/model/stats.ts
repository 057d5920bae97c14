// Counters for GET /sandbox/stats: API requests by route and status, webhook deliveries and their outcomes.
// Benchmarks read the call counts here.

export interface DeliveryCounters {
  /** Events that matched the registration and were queued (duplicates included). */
  queued: number;
  /** HTTP attempts made. */
  attempts: number;
  delivered: number;
  failedAttempts: number;
  /** Deliveries given up after the last attempt. */
  givenUp: number;
  dropped: number;
  duplicated: number;
  pending: number;
}

const emptyCounters = (): DeliveryCounters => ({ queued: 0, attempts: 0, delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0, duplicated: 0, pending: 0 });

export class Stats {
  private requests: Record<string, Record<string, number>> = {};
  private deliveries = emptyCounters();
  private byEvent: Record<string, DeliveryCounters> = {};
  /** Referral changes that produced no delivery because no registration listened for them. */
  private unsubscribed = 0;
  private since = Date.now();

  reset(): void {
    this.requests = {};
    this.deliveries = emptyCounters();
    this.byEvent = {};
    this.unsubscribed = 0;
    this.since = Date.now();
  }

  request(routeKey: string, status: number): void {
    const route = (this.requests[routeKey] ??= {});
    route[status] = (route[status] ?? 0) + 1;
  }

  delivery(eventName: string, counter: keyof DeliveryCounters, delta = 1): void {
    this.deliveries[counter] += delta;
    const event = (this.byEvent[eventName] ??= emptyCounters());
    event[counter] += delta;
  }

  notSubscribed(): void {
    this.unsubscribed++;
  }

  snapshot() {
    let total = 0;
    for (const statuses of Object.values(this.requests)) for (const count of Object.values(statuses)) total += count;
    return {
      since: new Date(this.since).toISOString(),
      requests: { total, byRoute: structuredClone(this.requests) },
      deliveries: { ...this.deliveries, notSubscribed: this.unsubscribed, byEvent: structuredClone(this.byEvent) },
    };
  }
}

import { inject, injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { TYPES } from '../../container/identifiers';
import type { ExposedFamily, ExposedMetric, ExposedType, ExposedValue } from './exposed-metric';

/** prom-client's default buckets, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Methods kept as label values; anything else is counted as OTHER so junk methods add no series. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}

/** The endpoint label of every request that matched no route. */
export const UNMATCHED_ENDPOINT = '<unmatched>';

/** Counts and duration buckets of one (method, endpoint, status) combination. */
class RequestCell {
  count = 0;
  sum = 0;
  /** Non-cumulative: bucketCounts[i] counts durations in (bucket[i-1], bucket[i]]; the last slot is +Inf. */
  readonly bucketCounts = new Float64Array(DURATION_BUCKETS.length + 1);

  constructor(
    readonly method: string,
    readonly status: string,
  ) {}

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    let index = 0;
    while (index < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[index]) index++;
    this.bucketCounts[index]++;
  }
}

/**
 * The request recorder of one route template. The server resolves it once, when the route is
 * registered; per request it costs two small-map lookups and no label hashing.
 */
export class RouteRecorder {
  readonly cells = new Map<string, RequestCell>();
  readonly inProgress = new Map<string, number>();

  constructor(readonly endpoint: string) {}

  /** A request of this route started. `method` must come from methodLabel(). */
  begin(method: string): void {
    this.inProgress.set(method, (this.inProgress.get(method) ?? 0) + 1);
  }

  /** The request was answered with `status` after `seconds`. */
  end(method: string, status: number, seconds: number): void {
    this.leave(method);
    const key = method + status;
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new RequestCell(method, String(status))));
    cell.observe(seconds);
  }

  /** The request ended without an answer (client gone): it leaves the in-progress count only. */
  abort(method: string): void {
    this.leave(method);
  }

  private leave(method: string): void {
    this.inProgress.set(method, (this.inProgress.get(method) ?? 1) - 1);
  }
}

class RequestFamily implements ExposedMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: ExposedType,
    private readonly values: () => ExposedValue[],
  ) {}

  get(): ExposedFamily {
    return { name: this.name, help: this.help, type: this.type, values: this.values() };
  }

  reset(): void {
    // Request history is cumulative by contract; nothing to reset.
  }
}

/**
 * `http_requests_total`, `http_request_duration_seconds` and `http_requests_in_progress`,
 * stored per route and rendered only when scraped.
 */
@injectable()
export class HttpRequestMetrics {
  private readonly routes = new Map<string, RouteRecorder>();

  constructor(@inject(TYPES.Registry) registry: Registry) {
    const families = [
      new RequestFamily('http_requests_total', 'HTTP requests answered, by method, route template and status', 'counter', () => this.totals()),
      new RequestFamily('http_request_duration_seconds', 'HTTP request duration, by method, route template and status', 'histogram', () => this.durations()),
      new RequestFamily('http_requests_in_progress', 'HTTP requests being handled, by method and route template', 'gauge', () => this.inProgress()),
    ];
    for (const family of families) registry.registerMetric(family as never);
  }

  /** The recorder for a route template; the same object for the same template. */
  route(endpoint: string): RouteRecorder {
    let recorder = this.routes.get(endpoint);
    if (!recorder) this.routes.set(endpoint, (recorder = new RouteRecorder(endpoint)));
    return recorder;
  }

  private totals(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { endpoint, cells } of this.routes.values()) {
      for (const cell of cells.values()) values.push({ value: cell.count, labels: { method: cell.method, endpoint, status: cell.status } });
    }
    return values;
  }

  private durations(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { endpoint, cells } of this.routes.values()) {
      for (const cell of cells.values()) {
        const labels = { method: cell.method, endpoint, status: cell.status };
        let cumulative = 0;
        for (let i = 0; i < DURATION_BUCKETS.length; i++) {
          cumulative += cell.bucketCounts[i];
          values.push({ metricName: 'http_request_duration_seconds_bucket', value: cumulative, labels: { ...labels, le: DURATION_BUCKETS[i] } });
        }
        values.push({ metricName: 'http_request_duration_seconds_bucket', value: cell.count, labels: { ...labels, le: '+Inf' } });
        values.push({ metricName: 'http_request_duration_seconds_sum', value: cell.sum, labels });
        values.push({ metricName: 'http_request_duration_seconds_count', value: cell.count, labels });
      }
    }
    return values;
  }

  private inProgress(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { endpoint, inProgress } of this.routes.values()) {
      for (const [method, count] of inProgress) values.push({ value: count, labels: { method, endpoint } });
    }
    return values;
  }
}

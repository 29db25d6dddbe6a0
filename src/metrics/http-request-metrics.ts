import { inject, injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { TYPES } from '../../container/identifiers';
import type { ExposedFamily, ExposedMetric, ExposedType, ExposedValue } from './exposed-metric';
import { formatLabels } from './exposition';

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

const TOTAL = 'http_requests_total';
const BUCKET = 'http_request_duration_seconds_bucket';
const SUM = 'http_request_duration_seconds_sum';
const COUNT = 'http_request_duration_seconds_count';
const BUCKET_BOUNDS = [...DURATION_BUCKETS.map(String), '+Inf'];

/**
 * Counts and duration buckets of one (method, endpoint, status) combination, and their sample
 * lines: rendered when a scrape asks, again only if a request ended since (the request count is
 * the version), so a scrape formats only the combinations that saw traffic.
 */
class RequestCell {
  count = 0;
  sum = 0;
  /** Non-cumulative: bucketCounts[i] counts durations in (bucket[i-1], bucket[i]]; the last slot is +Inf. */
  readonly bucketCounts = new Float64Array(DURATION_BUCKETS.length + 1);
  readonly labels: Readonly<Record<'method' | 'endpoint' | 'status', string>>;
  /** `method="GET",endpoint="/x",status="200"`, escaped once. */
  private readonly labelText: string;
  private renderedCount = -1;
  private totalLine = '';
  private durationLines = '';

  constructor(method: string, endpoint: string, status: string) {
    this.labels = { method, endpoint, status };
    this.labelText = formatLabels(this.labels).slice(1, -1);
  }

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    let index = 0;
    while (index < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[index]) index++;
    this.bucketCounts[index]++;
  }

  renderedTotal(): string {
    this.render();
    return this.totalLine;
  }

  renderedDurations(): string {
    this.render();
    return this.durationLines;
  }

  private render(): void {
    if (this.renderedCount === this.count) return;
    this.renderedCount = this.count;
    const labels = this.labelText;
    this.totalLine = `${TOTAL}{${labels}} ${this.count}\n`;
    const lines: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < BUCKET_BOUNDS.length; i++) {
      cumulative += this.bucketCounts[i];
      lines.push(`${BUCKET}{${labels},le="${BUCKET_BOUNDS[i]}"} ${cumulative}\n`);
    }
    lines.push(`${SUM}{${labels}} ${this.sum}\n${COUNT}{${labels}} ${this.count}\n`);
    // join() makes one flat string, which every scrape copies as a block; `+=` would leave a rope
    // of small pieces that each scrape walks again.
    this.durationLines = lines.join('');
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
    if (!cell) this.cells.set(key, (cell = new RequestCell(method, this.endpoint, String(status))));
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

/** One of the three families, read from the recorders when scraped. */
class RequestFamily implements ExposedMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: ExposedType,
    private readonly values: () => ExposedValue[],
    private readonly renderedSamples?: () => string[],
  ) {}

  get(): ExposedFamily {
    const { name, help, type, values } = this;
    if (!this.renderedSamples) return { name, help, type, values: values() };
    // /metrics writes the rendered samples; `values` is built only for a reader of the structured form.
    return { name, help, type, renderedSamples: this.renderedSamples(), get values() { return values(); } };
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
      new RequestFamily(TOTAL, 'HTTP requests answered, by method, route template and status', 'counter', () => this.totals(), () => this.cellLines((cell) => cell.renderedTotal())),
      new RequestFamily('http_request_duration_seconds', 'HTTP request duration, by method, route template and status', 'histogram', () => this.durations(), () => this.cellLines((cell) => cell.renderedDurations())),
      // A few series per route: formatted from values by serialize().
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

  private cellLines(lines: (cell: RequestCell) => string): string[] {
    const pieces: string[] = [];
    for (const { cells } of this.routes.values()) for (const cell of cells.values()) pieces.push(lines(cell));
    return pieces;
  }

  private totals(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { cells } of this.routes.values()) for (const cell of cells.values()) values.push({ value: cell.count, labels: cell.labels });
    return values;
  }

  private durations(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { cells } of this.routes.values()) {
      for (const { labels, bucketCounts, count, sum } of cells.values()) {
        let cumulative = 0;
        for (let i = 0; i < BUCKET_BOUNDS.length; i++) {
          cumulative += bucketCounts[i];
          values.push({ metricName: BUCKET, value: cumulative, labels: { ...labels, le: BUCKET_BOUNDS[i] } });
        }
        values.push({ metricName: SUM, value: sum, labels }, { metricName: COUNT, value: count, labels });
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

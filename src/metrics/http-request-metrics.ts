import { inject, injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { TYPES } from '../tokens';
import { registerExposedMetric, type ExposedFamily, type ExposedValue } from './exposed-metric';
import { formatLabels } from './exposition';
import { NativeHistogram } from './native-histogram';
import { encodeHistogramMetric, encodeValueMetric } from './protobuf-exposition';

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
const IN_PROGRESS = 'http_requests_in_progress';
const BUCKET_BOUNDS = [...DURATION_BUCKETS.map(String), '+Inf'];
const EMPTY: Buffer = Buffer.alloc(0);

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
  /** The same durations in exponential buckets, for the protobuf exposition. */
  readonly native = new NativeHistogram();
  readonly labels: Readonly<Record<'method' | 'endpoint' | 'status', string>>;
  /** `method="GET",endpoint="/x",status="200"`, escaped once. */
  private readonly labelText: string;
  private renderedCount = -1;
  private totalLine = EMPTY;
  private durationLines = EMPTY;
  /** The protobuf encodings, versioned by the request count like the lines. */
  private encodedCount = -1;
  private encodedTotalMetric = EMPTY;
  private encodedDurationMetric = EMPTY;

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
    this.native.observe(seconds);
  }

  /** This cell's bytes of one family in one format, rendered or encoded again only once a request ended since. */
  piece(family: 'total' | 'durations', format: 'text' | 'protobuf'): Buffer {
    if (format === 'text') {
      this.render();
      return family === 'total' ? this.totalLine : this.durationLines;
    }
    this.encode();
    return family === 'total' ? this.encodedTotalMetric : this.encodedDurationMetric;
  }

  private encode(): void {
    if (this.encodedCount === this.count) return;
    this.encodedCount = this.count;
    this.encodedTotalMetric = encodeValueMetric('counter', this.labels, this.count);
    let cumulative = 0;
    const points = DURATION_BUCKETS.map((le, i) => ({ value: (cumulative += this.bucketCounts[i]!), labels: { le } }));
    this.encodedDurationMetric = encodeHistogramMetric(this.labels, { points, sum: this.sum, count: this.count, native: this.native });
  }

  private render(): void {
    if (this.renderedCount === this.count) return;
    this.renderedCount = this.count;
    const labels = this.labelText;
    this.totalLine = Buffer.from(`${TOTAL}{${labels}} ${this.count}\n`);
    const lines: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < BUCKET_BOUNDS.length; i++) {
      cumulative += this.bucketCounts[i];
      lines.push(`${BUCKET}{${labels},le="${BUCKET_BOUNDS[i]}"} ${cumulative}\n`);
    }
    lines.push(`${SUM}{${labels}} ${this.sum}\n${COUNT}{${labels}} ${this.count}\n`);
    // Encoded once here: every scrape until the next request of this combination copies the bytes.
    this.durationLines = Buffer.from(lines.join(''));
  }
}

/** Requests of one (method, route template) being handled, and its sample line, rendered when the count changed. */
class InProgressCell {
  count = 0;
  private readonly labelText: string;
  private renderedCount = NaN;
  private line = EMPTY;
  private encodedCount = NaN;
  private encodedMetric = EMPTY;

  constructor(readonly method: string, readonly endpoint: string) {
    this.labelText = formatLabels({ method, endpoint });
  }

  rendered(): Buffer {
    if (this.renderedCount !== this.count) {
      this.renderedCount = this.count;
      this.line = Buffer.from(`${IN_PROGRESS}${this.labelText} ${this.count}\n`);
    }
    return this.line;
  }

  encoded(): Buffer {
    if (this.encodedCount !== this.count) {
      this.encodedCount = this.count;
      this.encodedMetric = encodeValueMetric('gauge', { method: this.method, endpoint: this.endpoint }, this.count);
    }
    return this.encodedMetric;
  }
}

/**
 * The request recorder of one route template. The server resolves it once, when the route is
 * registered; per request it costs two small-map lookups and no label hashing.
 */
export class RouteRecorder {
  private readonly cellsByKey = new Map<string, RequestCell>();
  private readonly inProgressByMethod = new Map<string, InProgressCell>();
  /** Both again as arrays, in order of first use: a scrape walks them without allocating an iterator. */
  readonly cells: RequestCell[] = [];
  readonly inProgress: InProgressCell[] = [];

  constructor(readonly endpoint: string) {}

  /** A request of this route started. `method` must come from methodLabel(). */
  begin(method: string): void {
    this.inProgressOf(method).count++;
  }

  /** The request was answered with `status` after `seconds`. */
  end(method: string, status: number, seconds: number): void {
    this.inProgressOf(method).count--;
    const key = method + status;
    let cell = this.cellsByKey.get(key);
    if (!cell) {
      cell = new RequestCell(method, this.endpoint, String(status));
      this.cellsByKey.set(key, cell);
      this.cells.push(cell);
    }
    cell.observe(seconds);
  }

  /** The request ended without an answer (client gone): it leaves the in-progress count only. */
  abort(method: string): void {
    this.inProgressOf(method).count--;
  }

  private inProgressOf(method: string): InProgressCell {
    let cell = this.inProgressByMethod.get(method);
    if (!cell) {
      cell = new InProgressCell(method, this.endpoint);
      this.inProgressByMethod.set(method, cell);
      this.inProgress.push(cell);
    }
    return cell;
  }
}

type WriteRendered = (write: (bytes: Buffer) => void) => void;

/**
 * One of the three families, in `registry`: its samples are written straight from the recorders'
 * rendered lines, or their encoded protobuf metrics.
 */
function registerRequestFamily(registry: Registry, type: 'counter' | 'gauge' | 'histogram', name: string, help: string, labelNames: readonly string[], values: () => ExposedValue[], writeRenderedSamples: WriteRendered, writeEncodedMetrics: WriteRendered): void {
  // /metrics writes the rendered samples; `values` is built only for a reader of the structured form.
  const exposedFamily = (): ExposedFamily => ({ name, help, type, writeRenderedSamples, writeEncodedMetrics, get values() { return values(); } });
  registerExposedMetric(type, { name, help, labelNames, buckets: type === 'histogram' ? [...DURATION_BUCKETS] : undefined, registers: [registry], exposedFamily });
}

/**
 * `http_requests_total`, `http_request_duration_seconds` and `http_requests_in_progress`,
 * stored per route and rendered only when scraped.
 */
@injectable()
export class HttpRequestMetrics {
  private readonly routes = new Map<string, RouteRecorder>();
  private readonly recorders: RouteRecorder[] = [];

  constructor(@inject(TYPES.Registry) registry: Registry) {
    const requestLabels = ['method', 'endpoint', 'status'];
    const cellPieces = (family: 'total' | 'durations', format: 'text' | 'protobuf') => (write: (piece: Buffer) => void) => {
      for (const { cells } of this.recorders) for (const cell of cells) write(cell.piece(family, format));
    };
    registerRequestFamily(registry, 'counter', TOTAL, 'HTTP requests answered, by method, route template and status', requestLabels, () => this.totals(), cellPieces('total', 'text'), cellPieces('total', 'protobuf'));
    registerRequestFamily(registry, 'histogram', 'http_request_duration_seconds', 'HTTP request duration, by method, route template and status', requestLabels, () => this.durations(), cellPieces('durations', 'text'), cellPieces('durations', 'protobuf'));
    registerRequestFamily(registry, 'gauge', IN_PROGRESS, 'HTTP requests being handled, by method and route template', ['method', 'endpoint'], () => this.inProgress(), (write) => {
      for (const { inProgress } of this.recorders) for (const cell of inProgress) write(cell.rendered());
    }, (write) => {
      for (const { inProgress } of this.recorders) for (const cell of inProgress) write(cell.encoded());
    });
  }

  /** The recorder for a route template; the same object for the same template. */
  route(endpoint: string): RouteRecorder {
    let recorder = this.routes.get(endpoint);
    if (!recorder) {
      recorder = new RouteRecorder(endpoint);
      this.routes.set(endpoint, recorder);
      this.recorders.push(recorder);
    }
    return recorder;
  }

  private totals(): ExposedValue[] {
    return this.recorders.flatMap(({ cells }) => cells.map((cell) => ({ value: cell.count, labels: cell.labels })));
  }

  private durations(): ExposedValue[] {
    const values: ExposedValue[] = [];
    for (const { cells } of this.recorders) {
      for (const { labels, bucketCounts, count, sum, native } of cells) {
        let cumulative = 0;
        for (let i = 0; i < BUCKET_BOUNDS.length; i++) {
          cumulative += bucketCounts[i];
          values.push({ metricName: BUCKET, value: cumulative, labels: { ...labels, le: BUCKET_BOUNDS[i] } });
        }
        values.push({ metricName: SUM, value: sum, labels }, { metricName: COUNT, value: count, labels, nativeHistogram: native });
      }
    }
    return values;
  }

  private inProgress(): ExposedValue[] {
    return this.recorders.flatMap(({ inProgress }) => inProgress.map(({ method, endpoint, count }) => ({ value: count, labels: { method, endpoint } })));
  }
}

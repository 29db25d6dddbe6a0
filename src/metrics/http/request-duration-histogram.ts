import { performance } from 'node:perf_hooks';
import type { Histogram, LabelValues, MetricObjectWithValues, MetricValueWithName, ObserveDataWithExemplar, Registry } from 'prom-client';
import { readFamilyFrom } from '../exposed-metric';
import { requestDurationFamily, requestDurationValues } from './request-duration-family';
import type { RequestLabels, RequestSeries } from './request-series';

export type RequestLabel = keyof RequestLabels;
const LABEL_NAMES: readonly RequestLabel[] = ['method', 'endpoint', 'status'];

/** Where the request series are kept (HttpRequestMetrics): a series counts in http_requests_total too. */
export interface RequestSeriesStore {
  /** Calls `visit` with every series, in the order they are exposed. */
  forEachSeries(visit: (series: RequestSeries) => void): void;
  /** The series of these labels, made (empty) if there is none. */
  seriesOf(labels: RequestLabels): RequestSeries;
  removeSeries(labels: RequestLabels): void;
  removeAllSeries(): void;
}

/**
 * `http_request_duration_seconds`: prom-client's Histogram interface over the request series, so
 * the registry holds it as any histogram and prom-client's own readers get its samples, while
 * /metrics reads the series' renderings (request-duration-family.ts). Observing through it records
 * a request answered, in http_requests_total too, as the route recorders do.
 */
export class RequestDurationHistogram implements Histogram<RequestLabel> {
  readonly name = 'http_request_duration_seconds';
  readonly type = 'histogram';
  /** How prom-client's cluster mode merges the family across workers (its default). */
  readonly aggregator = 'sum';

  constructor(
    readonly help: string,
    private readonly store: RequestSeriesStore,
    registry: Registry,
  ) {
    registry.registerMetric(this);
    readFamilyFrom(this, { get: requestDurationFamily(this.name, help, (visit) => store.forEachSeries(visit)) });
  }

  observe(value: number): void;
  observe(labels: LabelValues<RequestLabel>, value: number): void;
  observe(observeData: ObserveDataWithExemplar<RequestLabel>): void;
  observe(first: number | LabelValues<RequestLabel> | ObserveDataWithExemplar<RequestLabel>, second?: number): void {
    if (typeof first === 'number') return this.record({}, first);
    if (second === undefined && 'value' in first && typeof first.value === 'number') return this.record(first.labels ?? {}, first.value);
    this.record(first as LabelValues<RequestLabel>, second);
  }

  startTimer(labels: LabelValues<RequestLabel> = {}): (labels?: LabelValues<RequestLabel>) => number {
    const startedMs = performance.now();
    return (endLabels = {}) => {
      const seconds = (performance.now() - startedMs) / 1000;
      this.record({ ...labels, ...endLabels }, seconds);
      return seconds;
    };
  }

  zero(labels: LabelValues<RequestLabel>): void {
    this.store.seriesOf(requestLabels(labels));
  }

  labels(...values: string[]): Histogram.Internal<RequestLabel>;
  labels(labels: LabelValues<RequestLabel>): Histogram.Internal<RequestLabel>;
  labels(...values: [LabelValues<RequestLabel>] | string[]): Histogram.Internal<RequestLabel> {
    const labels = labelsOf(values);
    return { observe: (value) => this.record(labels, value), startTimer: () => this.startTimer(labels) };
  }

  remove(...values: string[]): void;
  remove(labels: LabelValues<RequestLabel>): void;
  remove(...values: [LabelValues<RequestLabel>] | string[]): void {
    this.store.removeSeries(requestLabels(labelsOf(values)));
  }

  /** `registry.resetMetrics()`: every request series goes, as prom-client's metrics drop theirs. */
  reset(): void {
    this.store.removeAllSeries();
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<RequestLabel>>> {
    const values = requestDurationValues(this.name, (visit) => this.store.forEachSeries(visit)).map(({ value, labels, metricName }) => ({ value, labels, metricName }));
    // prom-client's typings call `type` an enum and list `collect`; its metrics' get() answers the type's name, and no collect.
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values } as unknown as MetricObjectWithValues<MetricValueWithName<RequestLabel>>;
  }

  private record(labels: LabelValues<RequestLabel>, seconds: number | undefined): void {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw new TypeError(`${this.name}: ${String(seconds)} is not a duration`);
    this.store.seriesOf(requestLabels(labels)).observe(seconds);
  }
}

/** Labels given as an object or as values in LABEL_NAMES order, as prom-client takes them. */
function labelsOf(values: [LabelValues<RequestLabel>] | string[]): LabelValues<RequestLabel> {
  const [first] = values;
  if (typeof first === 'object') return first;
  if (values.length !== LABEL_NAMES.length) throw new Error(`http_request_duration_seconds takes ${LABEL_NAMES.length} label values (${LABEL_NAMES.join(', ')}), not ${values.length}`);
  return { method: values[0] as string, endpoint: values[1] as string, status: values[2] as string };
}

function requestLabels(labels: LabelValues<RequestLabel>): RequestLabels {
  const names = Object.keys(labels);
  if (names.length !== LABEL_NAMES.length || !LABEL_NAMES.every((name) => labels[name] !== undefined)) {
    throw new Error(`http_request_duration_seconds has labels {${LABEL_NAMES.join(',')}}, not {${names.join(',')}}`);
  }
  return { method: String(labels.method), endpoint: String(labels.endpoint), status: String(labels.status) };
}

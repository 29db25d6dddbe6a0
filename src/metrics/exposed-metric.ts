import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NativeHistogram } from './native-histogram';

export const EXPOSED_TYPES = ['counter', 'gauge', 'histogram', 'summary'] as const;
export type ExposedType = (typeof EXPOSED_TYPES)[number];

/** Label values as prom-client types them. */
export type ExposedLabels = Readonly<Partial<Record<string, string | number>>>;

export interface ExposedValue {
  readonly value: number;
  readonly labels: ExposedLabels;
  /** Sample name when it differs from the family name (histogram `_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
  /**
   * On a histogram's `_count` sample: the series' native histogram, recorded from the same
   * observations as its classic buckets. Only the protobuf exposition can carry it.
   */
  readonly nativeHistogram?: NativeHistogram;
}

/** A family as /metrics reads it. Treated as an immutable value: the exposition may reuse its rendering. */
export interface ExposedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: ExposedType;
  readonly values: readonly ExposedValue[];
  /**
   * Writes the samples already rendered, for a family that keeps them so (the request metrics:
   * thousands of samples a scrape): UTF-8 pieces of whole lines, each ending in a newline, passed
   * to `write` in order, as they are when the exposition is written. The exposition uses them
   * instead of formatting `values`; both must describe the same samples, valid in either format
   * (a counter's name then ends in `_total`).
   */
  readonly writeRenderedSamples?: (write: (lines: Buffer) => void) => void;
  /**
   * The same for the protobuf exposition: each series already encoded as a `metric` field of its
   * MetricFamily (protobuf-exposition.ts encodeValueMetric, encodeHistogramMetric).
   */
  readonly writeEncodedMetrics?: (write: (metric: Buffer) => void) => void;
}

/** A metric whose family /metrics reads as it is, without a promise. */
export interface ExposedMetric {
  exposedFamily(): ExposedFamily;
}

export function isExposedMetric(metric: object): metric is ExposedMetric {
  return 'exposedFamily' in metric && typeof metric.exposedFamily === 'function';
}

/** What prom-client's get() answers. */
export type PromClientFamily = Awaited<ReturnType<Histogram['get']>>;

/**
 * prom-client's reading as /metrics reads it. prom-client's typings call `type` an enum; at run
 * time it is the type's name.
 */
export function exposedFamilyOf({ name, help, type, values }: PromClientFamily): ExposedFamily {
  const typeName = String(type);
  if (!isExposedType(typeName)) throw new Error(`metric ${name} has type ${typeName}, which the exposition does not know`);
  return { name, help, type: typeName, values };
}

function isExposedType(type: string): type is ExposedType {
  return EXPOSED_TYPES.some((known) => known === type);
}

const NO_LABELS: ExposedLabels = Object.freeze({});

type PromClientMetricClass = new (...args: any[]) => { get(): Promise<PromClientFamily>; reset(): void };

/**
 * A prom-client metric class whose samples are kept by its owner, not in prom-client's label map:
 * prom-client's readers (`registry.metrics()`, `getMetricsAsJSON()`, `get()`) and /metrics see
 * the same samples.
 */
function exposedMetricClass<Base extends PromClientMetricClass>(base: Base) {
  return class extends base implements ExposedMetric {
    readonly exposedFamily: () => ExposedFamily;
    private readonly resetSamples: (() => void) | undefined;

    constructor(...args: any[]) {
      super(...args);
      const config: ExposedMetricConfiguration = args[0];
      this.exposedFamily = config.exposedFamily;
      this.resetSamples = config.resetSamples;
    }

    /** `registry.resetMetrics()`; prom-client's constructor calls it too, while the owner has no samples yet. */
    override reset(): void {
      super.reset();
      this.resetSamples?.();
    }

    /** What `registry.metrics()` reads instead of get() when a metric has it; Histogram's get() reads it too. */
    getForPromString() {
      const { name, help, type, values } = this.exposedFamily();
      // Histogram's get() moves `sharedLabels` into `labels`; ours are all in `labels` already.
      // `aggregator`: how prom-client's cluster mode merges the family across workers (its default).
      return Promise.resolve({ name, help, type, aggregator: 'sum' as const, values: values.map((value) => ({ ...value, sharedLabels: NO_LABELS })) });
    }

    override async get(): Promise<PromClientFamily> {
      // Copies: getMetricsAsJSON() with default labels replaces the labels of the values it gets.
      return { ...(await super.get()), values: this.exposedFamily().values.map(({ value, labels, metricName }) => ({ value, labels, metricName })) };
    }
  };
}

const EXPOSED_METRIC_CLASSES = { counter: exposedMetricClass(Counter), gauge: exposedMetricClass(Gauge), histogram: exposedMetricClass(Histogram) };

export interface ExposedMetricConfiguration {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  /** A histogram's bucket bounds, as prom-client's Histogram takes them. */
  readonly buckets?: number[];
  readonly registers: Registry[];
  /** The family as it is now: read by /metrics at every scrape, by prom-client when asked. */
  readonly exposedFamily: () => ExposedFamily;
  /** What `registry.resetMetrics()` does to the samples; nothing when left out. */
  readonly resetSamples?: () => void;
}

/** Registers a prom-client metric of `type` that reads its samples from `config.exposedFamily`. */
export function registerExposedMetric(type: keyof typeof EXPOSED_METRIC_CLASSES, config: ExposedMetricConfiguration): ExposedMetric {
  return new EXPOSED_METRIC_CLASSES[type](config);
}

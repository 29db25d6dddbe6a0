import type { Histogram } from 'prom-client';
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

/** Anything read as a family: our own metrics, or a prom-client metric's reading made an ExposedFamily. */
export interface FamilySource {
  get(): ExposedFamily | Promise<ExposedFamily>;
}

/**
 * How /metrics reads a registered metric instead of its prom-client get(), by metric: the family
 * as its owner keeps it (counts rendered once, no promise), or a reading reused across scrapes.
 * The metric stays in the registry as it is, so prom-client's own readers read it as always.
 */
const familySources = new WeakMap<object, FamilySource>();

export function readFamilyFrom(metric: object, source: FamilySource): void {
  familySources.set(metric, source);
}

export function familySourceOf(metric: object): FamilySource | undefined {
  return familySources.get(metric);
}

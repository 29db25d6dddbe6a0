/**
 * The shape prom-client's Registry stores and calls `get()` on. Our own metric types implement
 * it so they live in the same injected Registry as prom-client's default process metrics.
 */
export type ExposedType = 'counter' | 'gauge' | 'histogram';

export interface ExposedValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** Sample name when it differs from the family name (histogram `_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
}

/** What a metric's get() returns. Treated as an immutable value: serialize() may reuse its rendering. */
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
}

export interface ExposedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: ExposedType;
  /** prom-client's Registry reads these when merging registries (cluster mode); unused otherwise. */
  readonly aggregator: 'sum';
  get(): ExposedFamily | Promise<ExposedFamily>;
  reset(): void;
}

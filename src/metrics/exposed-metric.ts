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

export interface ExposedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: ExposedType;
  readonly values: readonly ExposedValue[];
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

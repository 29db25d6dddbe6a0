import type { Registry } from 'prom-client';
import type { ExposedFamily, ExposedValue } from '../exposed-metric';
import { formatLabels } from '../exposition';
import { registerOwnFamily } from '../own-family';
import { encodeValueMetric } from '../protobuf-exposition';
import { RenderedPieces } from './rendered-pieces';

/** A series that counts something; its count is the sample's value. */
export interface CountingSeries {
  readonly id: number;
  readonly count: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface CountFamilyConfiguration<Series extends CountingSeries> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registry: Registry;
  /** Calls `visit` with every series of the family, in the order they are exposed. */
  readonly forEachSeries: (visit: (series: Series) => void) => void;
}

/**
 * A counter or gauge family of counting series (requests answered, requests in progress), in
 * `registry`: /metrics copies each series' rendered line, or encoded protobuf metric, made again
 * only when its count moved.
 */
export function registerCountFamily<Series extends CountingSeries>(type: 'counter' | 'gauge', { name, help, labelNames, registry, forEachSeries }: CountFamilyConfiguration<Series>): void {
  const lines = new RenderedPieces<Series>(({ labels, count }) => Buffer.from(`${name}${formatLabels(labels)} ${count}\n`));
  const metrics = new RenderedPieces<Series>(({ labels, count }) => encodeValueMetric(type, labels, count));
  const family: ExposedFamily = {
    name,
    help,
    type,
    writeRenderedSamples: (write) => forEachSeries((series) => write(lines.of(series))),
    writeEncodedMetrics: (write) => forEachSeries((series) => write(metrics.of(series))),
    // Built only for a reader of the structured form (prom-client's readers, a source selection).
    get values() {
      const values: ExposedValue[] = [];
      forEachSeries(({ labels, count }) => values.push({ value: count, labels }));
      return values;
    },
  };
  registerOwnFamily(type, { name, help, labelNames, registry, family: () => family });
}

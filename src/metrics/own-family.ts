import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { readFamilyFrom, type ExposedFamily, type ExposedLabels, type ExposedValue } from './exposed-metric';

export interface OwnFamilyConfiguration {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registry: Registry;
  /** The family as it is now: read by /metrics at every scrape. */
  readonly family: () => ExposedFamily;
}

/**
 * Registers a prom-client Counter or Gauge for a family its owner keeps itself (a source's
 * snapshot, the request counts), as client_golang's Collector does: /metrics reads the family
 * from the owner, without a promise; prom-client's own readers (`registry.metrics()`,
 * `getMetricsAsJSON()`) read the metric, whose collect() copies the same samples into it through
 * its public methods when they do.
 */
export function registerOwnFamily(type: 'counter' | 'gauge' | 'histogram', configuration: OwnFamilyConfiguration): void {
  if (type === 'histogram') return registerOwnHistogram(configuration);
  const { name, help, labelNames, registry, family } = configuration;
  const registers = [registry];
  const metric =
    type === 'counter'
      ? new Counter({ name, help, labelNames, registers, collect() { refill(this, family().values, (labels, value) => this.inc(labels, value)); } })
      : new Gauge({ name, help, labelNames, registers, collect() { refill(this, family().values, (labels, value) => this.set(labels, value)); } });
  readFamilyFrom(metric, { get: family });
}

function refill(metric: Counter | Gauge, values: readonly ExposedValue[], put: (labels: ExposedLabels, value: number) => void): void {
  metric.reset();
  // reset() leaves a 0 sample in a metric without labels, which the family may not have.
  metric.remove({});
  for (const { labels, value } of values) put(labels, value);
}

/**
 * A histogram family a source reports whole (its `_bucket`, `_sum` and `_count` samples, as a
 * queries file's HISTOGRAM columns give them). prom-client's Histogram can only observe values, not
 * take counts, so the registry gets an object of its own Metric shape through registerMetric():
 * prom-client's readers get the samples from get(), /metrics reads the family from its owner.
 */
function registerOwnHistogram({ name, help, registry, family }: OwnFamilyConfiguration): void {
  const read = () => ({ name, help, type: 'histogram', aggregator: 'sum', values: family().values.map(({ labels, value, metricName }) => ({ labels, value, metricName })) });
  // The source replaces the whole family after each collection: nothing of it is this object's to reset.
  const metric = { name, help, type: 'histogram', aggregator: 'sum', get: async () => read(), reset: () => undefined };
  registry.registerMetric(metric as unknown as Metric);
  readFamilyFrom(metric, { get: family });
}

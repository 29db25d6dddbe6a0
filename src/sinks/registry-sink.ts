import { inject, injectable, multiInject } from 'inversify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { TYPES } from '../tokens';
import type { Logger } from '../logger';
import { SnapshotFamily } from '../metrics/snapshot-family';
import { familyOwnersOf } from '../metrics/source-selection';
import { ReportedOnce } from '../report-once';
import type { ExposedValue } from '../metrics/exposed-metric';
import type { CollectionSink, EngineOptions } from '../collection';
import type { CollectionResult, MetricDescriptor, MetricSource, Sample } from '../source';

interface OwnedFamily {
  readonly descriptor: MetricDescriptor;
  readonly family: SnapshotFamily;
  readonly labelNames: readonly string[];
}

/**
 * Writes collection results into the injected Registry: each source's own families, replaced
 * whole after every collection (and emptied when it fails, so Prometheus marks the series stale),
 * and the collector_* families that say how each source is doing.
 */
@injectable()
export class RegistrySink implements CollectionSink {
  private readonly families = new Map<string, Map<string, OwnedFamily>>();
  /** Each source and the array of descriptors its families were last made from. */
  private readonly described = new Map<string, { readonly source: MetricSource; metrics: readonly MetricDescriptor[] }>();
  /** Keyed by the problem, which can carry the sample's value: bounded. */
  private readonly reportedRejects = new ReportedOnce();
  private readonly up: Gauge<'source'>;
  private readonly duration: Gauge<'source'>;
  private readonly errors: Counter<'source'>;
  private readonly lastSuccess: Gauge<'source'>;
  private readonly timeout: Gauge<'source'>;

  constructor(
    @inject(TYPES.Registry) private readonly registry: Registry,
    @multiInject(TYPES.MetricSource) sources: readonly MetricSource[],
    @inject(TYPES.Logger) private readonly logger: Logger,
    @inject(TYPES.EngineOptions) engineOptions: EngineOptions,
  ) {
    const registers = [registry];
    this.up = new Gauge({ name: 'collector_up', help: '1 if the last collection of the source succeeded, else 0', labelNames: ['source'], registers });
    this.duration = new Gauge({ name: 'collector_duration_seconds', help: 'How long the last collection of the source took', labelNames: ['source'], registers });
    this.errors = new Counter({ name: 'collector_errors_total', help: 'Failed collections of the source', labelNames: ['source'], registers });
    this.lastSuccess = new Gauge({ name: 'collector_last_success_timestamp_seconds', help: 'Unix time of the last successful collection of the source', labelNames: ['source'], registers });
    // The engine's timeout, so alerts compare collector_duration_seconds with it without a copy of the setting.
    this.timeout = new Gauge({ name: 'collector_timeout_seconds', help: 'How long a collection of the source may take before it fails (COLLECTION_TIMEOUT_SECONDS)', labelNames: ['source'], registers });
    const owners = familyOwnersOf(registry);
    for (const name of ['collector_up', 'collector_duration_seconds', 'collector_errors_total', 'collector_last_success_timestamp_seconds', 'collector_timeout_seconds']) owners.ownBySourceLabel(name);

    for (const source of sources) {
      const owned = new Map<string, OwnedFamily>();
      this.describe(source.name, owned, source.metrics);
      this.described.set(source.name, { source, metrics: source.metrics });
      this.families.set(source.name, owned);
      // Exposed from the start, so rate() and absent() work before the first failure or success.
      this.errors.inc({ source: source.name }, 0);
      this.up.set({ source: source.name }, 0);
      this.timeout.set({ source: source.name }, engineOptions.timeoutMs / 1000);
      this.showDownValues(owned);
    }
  }

  apply(result: CollectionResult): void {
    const owned = this.families.get(result.source);
    if (!owned) return;
    this.followFamilies(result.source, owned);
    const source = { source: result.source };
    if (!result.ok && result.standby) {
      // Another replica shows this shared source: nothing of it here, not even collector_up 0 to alert on.
      for (const { family } of owned.values()) family.replace([]);
      for (const gauge of [this.up, this.duration, this.lastSuccess]) gauge.remove(source);
      return;
    }
    this.duration.set(source, result.durationSeconds);
    if (result.ok) {
      this.replaceSamples(result.source, owned, result.samples);
      this.up.set(source, 1);
      this.lastSuccess.set(source, result.timestamp / 1000);
    } else {
      this.showDownValues(owned);
      this.up.set(source, 0);
      this.errors.inc(source);
    }
  }

  /** Registers the families of `metrics` not yet registered (or registered with another type or labels), and removes those no longer described. */
  private describe(sourceName: string, owned: Map<string, OwnedFamily>, metrics: readonly MetricDescriptor[]): void {
    const wanted = new Map(metrics.map((descriptor) => [descriptor.name, descriptor]));
    for (const [name, { descriptor }] of owned) {
      const next = wanted.get(name);
      if (next && next.type === descriptor.type && String(next.labelNames ?? []) === String(descriptor.labelNames ?? [])) continue;
      this.registry.removeSingleMetric(name);
      owned.delete(name);
    }
    const owners = familyOwnersOf(this.registry);
    for (const descriptor of metrics) {
      if (owned.has(descriptor.name)) continue;
      const labelNames = descriptor.labelNames ?? [];
      const family = new SnapshotFamily(descriptor.name, descriptor.help, descriptor.type, labelNames, this.registry);
      owned.set(descriptor.name, { descriptor, family, labelNames });
      owners.own(descriptor.name, sourceName);
    }
  }

  /** A source whose families changed (a reloaded queries file) is described anew before its samples are taken. */
  private followFamilies(sourceName: string, owned: Map<string, OwnedFamily>): void {
    const described = this.described.get(sourceName)!;
    if (described.source.metrics === described.metrics) return;
    described.metrics = described.source.metrics;
    try {
      this.describe(sourceName, owned, described.metrics);
    } catch (error) {
      this.reportRejectOnce(sourceName, '', `families could not be registered: ${(error as Error).message}`);
    }
  }

  private replaceSamples(sourceName: string, owned: Map<string, OwnedFamily>, samples: readonly Sample[]): void {
    const grouped = new Map<string, ExposedValue[]>();
    for (const sample of samples) {
      const target = owned.get(sample.name);
      const problem = target ? rejectReason(target, sample) : 'is not declared by the source';
      if (problem) {
        this.reportRejectOnce(sourceName, sample.name, problem);
        continue;
      }
      let values = grouped.get(sample.name);
      if (!values) grouped.set(sample.name, (values = []));
      values.push({ value: sample.value, labels: sample.labels ?? {}, metricName: sample.metricName });
    }
    for (const [name, { family }] of owned) family.replace(grouped.get(name) ?? []);
  }

  private showDownValues(owned: Map<string, OwnedFamily>): void {
    for (const { descriptor, family } of owned.values()) {
      family.replace(descriptor.valueWhileDown === undefined ? [] : [{ value: descriptor.valueWhileDown, labels: {} }]);
    }
  }

  private reportRejectOnce(source: string, name: string, problem: string): void {
    const key = `${source}\0${name}\0${problem}`;
    if (!this.reportedRejects.firstTime(key)) return;
    this.logger.warn(`source ${source}: sample ${JSON.stringify(name)} ${problem}; dropped (reported once)`);
  }
}

function rejectReason({ descriptor, labelNames }: OwnedFamily, sample: Sample): string | undefined {
  if (typeof sample.value !== 'number') return `has a value that is not a number (${String(sample.value)})`;
  if (!descriptor.asReported && !Number.isFinite(sample.value)) return `has a non-finite value (${String(sample.value)})`;
  if (!descriptor.asReported && descriptor.type === 'counter' && sample.value < 0) return `is a counter with a negative value (${sample.value})`;
  const labels = sample.labels ?? {};
  const keys = Object.keys(labels);
  // A histogram's bucket samples carry `le` besides the family's labels.
  const expected = descriptor.type === 'histogram' && sample.metricName?.endsWith('_bucket') ? [...labelNames, 'le'] : labelNames;
  if (keys.length !== expected.length || !expected.every((label) => typeof labels[label] === 'string')) {
    return `has labels {${keys.join(',')}} instead of {${expected.join(',')}}`;
  }
  return undefined;
}

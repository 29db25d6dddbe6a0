import type { Registry } from 'prom-client';
import type { ExposedFamily, ExposedValue } from './exposed-metric';
import { registerOwnFamily } from './own-family';

/**
 * A metric family whose whole set of series is replaced at once, by the sink, after each
 * collection of the source that owns it. Counter families here mirror the source's own
 * cumulative counter: the value is exposed as the source reports it. A histogram family holds
 * its `_bucket`, `_sum` and `_count` samples, as the source reports them.
 */
export class SnapshotFamily {
  private family: ExposedFamily;

  constructor(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', labelNames: readonly string[], registry: Registry) {
    this.family = { name, help, type, values: [] };
    registerOwnFamily(type, { name, help, labelNames, registry, family: () => this.family });
  }

  replace(values: readonly ExposedValue[]): void {
    this.family = { ...this.family, values };
  }
}

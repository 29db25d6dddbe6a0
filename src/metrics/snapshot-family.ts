import type { ExposedMetric, ExposedFamily, ExposedType, ExposedValue } from './exposed-metric';

/**
 * A metric family whose whole set of series is replaced at once, by the sink, after each
 * collection of the source that owns it. Counter families here mirror the source's own
 * cumulative counter: the value is exposed as the source reports it.
 */
export class SnapshotFamily implements ExposedMetric {
  readonly aggregator = 'sum';
  private family: ExposedFamily;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Exclude<ExposedType, 'histogram'>,
  ) {
    this.family = { name, help, type, values: [] };
  }

  replace(values: readonly ExposedValue[]): void {
    this.family = { name: this.name, help: this.help, type: this.type, values };
  }

  get(): ExposedFamily {
    return this.family;
  }

  reset(): void {
    this.replace([]);
  }
}

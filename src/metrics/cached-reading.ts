import { performance } from 'node:perf_hooks';
import type { ExposedFamily, ExposedMetric } from './exposed-metric';

/**
 * A prom-client metric whose reading is reused by later scrapes until it is stale: older than
 * `maxAgeMs`, or marked changed by its owner. prom-client builds a new family at every get() (and
 * its process metrics read /proc); at thousands of scrapes a second that work and its garbage were
 * a visible share of /metrics latency (bench/). While fresh, the family is returned as it is,
 * without a promise, so the scrape does not wait a turn for it either.
 */
export class CachedReading implements ExposedMetric {
  readonly aggregator = 'sum';
  private family: ExposedFamily | undefined;
  private pending: Promise<ExposedFamily> | undefined;
  private readAtMs = 0;

  constructor(
    private readonly metric: ExposedMetric,
    /** Infinity: reused until changed() is called. */
    private readonly maxAgeMs = Infinity,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get name() {
    return this.metric.name;
  }

  get help() {
    return this.metric.help;
  }

  get type() {
    return this.metric.type;
  }

  /** The metric changed: the next scrape reads it again. */
  changed(): void {
    this.family = undefined;
    this.pending = undefined;
  }

  get(): ExposedFamily | Promise<ExposedFamily> {
    const now = this.nowMs();
    if (now - this.readAtMs >= this.maxAgeMs) this.changed();
    if (this.family) return this.family;
    if (this.pending) return this.pending; // scrapes arriving during a read share it
    this.readAtMs = now;
    const pending = Promise.resolve(this.metric.get()).then(
      (family) => {
        if (this.pending === pending) this.family = family;
        return family;
      },
      (error: unknown) => {
        if (this.pending === pending) this.pending = undefined; // a failed read is not kept
        throw error;
      },
    );
    this.pending = pending;
    return pending;
  }

  reset(): void {
    this.changed();
    this.metric.reset();
  }
}

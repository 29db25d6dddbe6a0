import { performance } from 'node:perf_hooks';
import type { Metric } from 'prom-client';
import { exposedFamilyOf, readFamilyFrom, type ExposedFamily, type FamilySource } from './exposed-metric';

/**
 * A metric's reading, reused by later scrapes until it is stale: older than `maxAgeMs`, or marked
 * changed by its owner. prom-client builds a new family at every get() (and its process metrics
 * read /proc); at thousands of scrapes a second that work and its garbage were a visible share of
 * /metrics latency (bench/). While fresh, the family is returned as it is, without a promise, so
 * the scrape does not wait a turn for it either.
 */
export class CachedReading {
  private family: ExposedFamily | undefined;
  private pending: Promise<ExposedFamily> | undefined;
  private readAtMs = 0;

  constructor(
    private readonly source: FamilySource,
    /** Infinity: reused until changed() is called. */
    private readonly maxAgeMs = Infinity,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

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
    const pending = Promise.resolve(this.source.get()).then(
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
}

/**
 * Lets /metrics reuse readings of `metric` (see CachedReading); the reading is returned for its
 * changed(). `adapt` adds to each reading what prom-client does not have (native histograms).
 */
export function reuseReadings(metric: Metric, maxAgeMs = Infinity, nowMs?: () => number, adapt: (family: ExposedFamily) => ExposedFamily = (family) => family): CachedReading {
  const reading = new CachedReading({ get: async () => adapt(exposedFamilyOf(await metric.get())) }, maxAgeMs, nowMs);
  readFamilyFrom(metric, reading);
  return reading;
}

import { Gauge, Registry } from 'prom-client';
import { createRegistry } from '../../src/metrics/registry';
import { CachedReading, reusedReadingOf, reuseReadings } from '../../src/metrics/cached-reading';
import type { ExposedFamily } from '../../src/metrics/exposed-metric';

/** A metric that counts its reads and answers what `next` says. */
function countingMetric(next: () => ExposedFamily | Promise<ExposedFamily>) {
  const metric = { name: 'm', help: 'h', type: 'gauge' as const, aggregator: 'sum' as const, reads: 0, resets: 0 };
  return Object.assign(metric, {
    get: () => (metric.reads++, next()),
    reset: () => void metric.resets++,
  });
}

const family = (value: number): ExposedFamily => ({ name: 'm', help: 'h', type: 'gauge', values: [{ value, labels: {} }] });

describe('CachedReading', () => {
  it('serves one reading to every scrape within its age, without a promise once read, and reads again after', async () => {
    let now = 0;
    let value = 1;
    const metric = countingMetric(async () => family(value));
    const reading = new CachedReading(metric, 1000, () => now);
    const first = reading.get();
    expect(reading.get()).toBe(first); // a scrape during the read shares it
    expect(await first).toEqual(family(1));
    value = 2;
    now = 999;
    expect(reading.get()).toEqual(family(1));
    expect(metric.reads).toBe(1);
    now = 1000;
    expect(await reading.get()).toEqual(family(2));
    expect(metric.reads).toBe(2);
  });

  it('reads again after changed(), however young the reading', async () => {
    let value = 1;
    const metric = countingMetric(() => family(value));
    const reading = new CachedReading(metric);
    expect(await reading.get()).toEqual(family(1));
    value = 2;
    expect(reading.get()).toEqual(family(1));
    reading.changed();
    expect(await reading.get()).toEqual(family(2));
    expect(metric.reads).toBe(2);
  });

  it('keeps no failed read, thrown or rejected: the next scrape tries again', async () => {
    let outcome: 'throw' | 'reject' | 'read' = 'throw';
    const metric = countingMetric(() => {
      if (outcome === 'throw') throw new Error('read threw');
      return outcome === 'reject' ? Promise.reject(new Error('read rejected')) : family(3);
    });
    const reading = new CachedReading(metric);
    expect(() => reading.get()).toThrow('read threw');
    outcome = 'reject';
    await expect(reading.get()).rejects.toThrow('read rejected');
    outcome = 'read';
    expect(await reading.get()).toEqual(family(3));
    expect(metric.reads).toBe(3);
  });

  it('does not let a read that was overtaken by changed() replace the newer one', async () => {
    let resolveSlow: (family: ExposedFamily) => void = () => undefined;
    let reads = 0;
    const metric = countingMetric(() => (++reads === 1 ? new Promise<ExposedFamily>((resolve) => (resolveSlow = resolve)) : family(2)));
    const reading = new CachedReading(metric);
    const slow = reading.get();
    reading.changed();
    expect(await reading.get()).toEqual(family(2));
    resolveSlow(family(1));
    await slow;
    expect(reading.get()).toEqual(family(2));
  });

  it('leaves the metric in the registry as it is, read afresh by prom-client, reset included', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'wrapped', help: 'w', registers: [registry] });
    const reading = reuseReadings(gauge);
    expect(reusedReadingOf(gauge)).toBe(reading);
    gauge.set(5);
    expect(await registry.metrics()).toContain('wrapped 5');
    expect(await reading.get()).toEqual({ name: 'wrapped', help: 'w', type: 'gauge', values: [{ value: 5, labels: {} }] });
    gauge.reset();
    expect(await registry.metrics()).toContain('wrapped 0');
    reading.changed();
    expect(await reading.get()).toEqual({ name: 'wrapped', help: 'w', type: 'gauge', values: [{ value: 0, labels: {} }] });
  });
});

describe('the service registry', () => {
  it('shares each reading of the process and Node.js metrics for one second', async () => {
    let now = 0;
    const registry = createRegistry({ epochMs: () => now, monotonicMs: () => now });
    const cpu = reusedReadingOf(registry.getSingleMetric('process_cpu_seconds_total')!)!;
    const first = await cpu.get();
    now = 999;
    expect(await cpu.get()).toBe(first);
    now = 1000;
    expect(await cpu.get()).not.toBe(first);
  });
});

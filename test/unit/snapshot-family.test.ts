import { Counter, Gauge, Registry } from 'prom-client';
import { Exposition } from '../../src/metrics/exposition';
import { SnapshotFamily } from '../../src/metrics/snapshot-family';

describe('SnapshotFamily', () => {
  it('is a prom-client metric whose get() answers the samples last put in', async () => {
    const registry = new Registry();
    const family = new SnapshotFamily('room_celsius', 'Temperature', 'gauge', ['room'], registry);
    family.replace([{ value: 21.5, labels: { room: 'kitchen' } }]);
    const metric = registry.getSingleMetric('room_celsius');
    expect(metric).toBeInstanceOf(Gauge);
    expect(await metric!.get()).toEqual({ name: 'room_celsius', help: 'Temperature', type: 'gauge', aggregator: 'sum', values: [{ value: 21.5, labels: { room: 'kitchen' } }] });
    family.replace([]);
    expect((await metric!.get()).values).toEqual([]);
  });

  it('answers its last snapshot to /metrics and prom-client alike, whatever else was done to the metric', async () => {
    const registry = new Registry();
    const family = new SnapshotFamily('jobs_done_total', 'Jobs', 'counter', [], registry);
    family.replace([{ value: 7, labels: {} }]);
    const exposition = new Exposition(registry);
    const scrape = async () => exposition.serialize(await exposition.readFamilies(() => undefined), 'prometheus');
    const metric = registry.getSingleMetric('jobs_done_total');
    expect(metric).toBeInstanceOf(Counter);
    registry.resetMetrics();
    (metric as Counter).inc(5);
    expect(await scrape()).toBe('# HELP jobs_done_total Jobs\n# TYPE jobs_done_total counter\njobs_done_total 7\n');
    expect(await registry.metrics()).toBe(await scrape());
    // An empty family without labels has no sample, not the 0 prom-client keeps for one.
    family.replace([]);
    expect(await scrape()).toBe('');
    expect(await registry.metrics()).not.toMatch(/^jobs_done_total /m);
  });
});

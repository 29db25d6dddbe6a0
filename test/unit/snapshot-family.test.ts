import { Gauge, Registry } from 'prom-client';
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

  it('is emptied by registry.resetMetrics() until it is replaced again, for prom-client and /metrics alike', async () => {
    const registry = new Registry();
    const family = new SnapshotFamily('jobs_done_total', 'Jobs', 'counter', [], registry);
    family.replace([{ value: 7, labels: {} }]);
    const exposition = new Exposition(registry);
    const scrape = async () => exposition.serialize(await exposition.readFamilies(() => undefined), 'prometheus');
    expect(await scrape()).toContain('\njobs_done_total 7\n');
    registry.resetMetrics();
    expect(await scrape()).toBe('');
    expect(await registry.metrics()).not.toContain('jobs_done_total 7');
    family.replace([{ value: 8, labels: {} }]);
    expect(await scrape()).toContain('\njobs_done_total 8\n');
  });
});

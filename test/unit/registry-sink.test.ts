import { Registry } from 'prom-client';
import { EMPTY } from 'rxjs';
import { createLogger } from '../../src/logger';
import { RegistrySink } from '../../src/sinks/registry-sink';
import type { CollectionResult, MetricSource, Sample } from '../../src/source';
import { sampleValue } from '../support/http';
import { scrapeRegistry as scrape } from '../support/metrics';

const redis: MetricSource = {
  name: 'redis',
  metrics: [
    { name: 'redis_status', help: '1 up, 0 down', type: 'gauge', valueWhileDown: 0 },
    { name: 'redis_keys_total', help: 'keys', type: 'gauge' },
    { name: 'redis_cache_hits_total', help: 'hits', type: 'counter' },
    { name: 'redis_db_keys', help: 'keys per db', type: 'gauge', labelNames: ['db'] },
  ],
  collect: () => EMPTY,
};

const app: MetricSource = { name: 'app', metrics: [], collect: () => EMPTY };

const ok = (samples: Sample[], timestamp = 1_700_000_000_000): CollectionResult => ({ source: 'redis', ok: true, samples, timestamp, durationSeconds: 0.002 });
const failed: CollectionResult = { source: 'redis', ok: false, error: 'connect ECONNREFUSED', timestamp: 1_700_000_015_000, durationSeconds: 0.001 };

describe('RegistrySink', () => {
  let registry: Registry;
  let sink: RegistrySink;
  let logged: string[];

  beforeEach(() => {
    registry = new Registry();
    logged = [];
    sink = new RegistrySink(registry, [redis], createLogger('info', (line) => logged.push(line)), { intervalMs: 15_000, timeoutMs: 7_500 });
  });

  it('starts with the source down, its errors at 0 and only its down-values shown', async () => {
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(0);
    expect(sampleValue(samples, 'collector_errors_total', { source: 'redis' })).toBe(0);
    expect(sampleValue(samples, 'redis_status')).toBe(0);
    expect(sampleValue(samples, 'redis_keys_total')).toBeUndefined();
  });

  it('collector_timeout_seconds: the engine\'s collection timeout for every source, from the start and whatever the results', async () => {
    const own = new Registry();
    const twoSources = new RegistrySink(own, [redis, app], createLogger('info', () => undefined), { intervalMs: 60_000, timeoutMs: 10_000 });
    const timeouts = async () => {
      const samples = await scrape(own);
      return ['redis', 'app'].map((source) => sampleValue(samples, 'collector_timeout_seconds', { source }));
    };
    expect(await timeouts()).toEqual([10, 10]);
    twoSources.apply(ok([{ name: 'redis_status', value: 1 }]));
    twoSources.apply({ ...failed, source: 'app' });
    expect(await timeouts()).toEqual([10, 10]);
    // A standby replica keeps it too: it is this replica's configuration, and alone it alerts on nothing.
    twoSources.apply({ source: 'redis', ok: false, standby: true, error: 'standby', timestamp: 1_700_000_015_000, durationSeconds: 0 });
    expect(await timeouts()).toEqual([10, 10]);
  });

  it('a standby result (another replica holds the election) shows nothing of the source, not even collector_up or its down-values', async () => {
    sink.apply(ok([{ name: 'redis_status', value: 1 }, { name: 'redis_keys_total', value: 42 }]));
    sink.apply({ source: 'redis', ok: false, standby: true, error: 'standby', timestamp: 1_700_000_015_000, durationSeconds: 0 });
    const samples = await scrape(registry);
    for (const name of ['redis_status', 'redis_keys_total', 'collector_up', 'collector_duration_seconds', 'collector_last_success_timestamp_seconds']) {
      expect(sampleValue(samples, name)).toBeUndefined();
    }
    expect(sampleValue(samples, 'collector_errors_total', { source: 'redis' })).toBe(0);
    sink.apply(ok([{ name: 'redis_status', value: 1 }]));
    expect(sampleValue(await scrape(registry), 'collector_up', { source: 'redis' })).toBe(1);
  });

  it('exposes a successful collection, mirroring counters as given', async () => {
    sink.apply(ok([
      { name: 'redis_status', value: 1 },
      { name: 'redis_keys_total', value: 42 },
      { name: 'redis_cache_hits_total', value: 123456 },
      { name: 'redis_db_keys', labels: { db: 'db0' }, value: 40 },
      { name: 'redis_db_keys', labels: { db: 'db1' }, value: 2 },
    ]));
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'redis_keys_total')).toBe(42);
    expect(sampleValue(samples, 'redis_cache_hits_total')).toBe(123456);
    expect(sampleValue(samples, 'redis_db_keys', { db: 'db1' })).toBe(2);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(1);
    expect(sampleValue(samples, 'collector_duration_seconds', { source: 'redis' })).toBe(0.002);
    expect(sampleValue(samples, 'collector_last_success_timestamp_seconds', { source: 'redis' })).toBe(1_700_000_000);
  });

  it('removes the source series on failure instead of serving old values, and keeps the last success time', async () => {
    sink.apply(ok([{ name: 'redis_status', value: 1 }, { name: 'redis_keys_total', value: 42 }]));
    sink.apply(failed);
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'redis_keys_total')).toBeUndefined();
    expect(sampleValue(samples, 'redis_status')).toBe(0);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(0);
    expect(sampleValue(samples, 'collector_errors_total', { source: 'redis' })).toBe(1);
    expect(sampleValue(samples, 'collector_last_success_timestamp_seconds', { source: 'redis' })).toBe(1_700_000_000);
  });

  it('drops a series the source stopped reporting', async () => {
    sink.apply(ok([{ name: 'redis_db_keys', labels: { db: 'db0' }, value: 1 }, { name: 'redis_db_keys', labels: { db: 'db1' }, value: 1 }]));
    sink.apply(ok([{ name: 'redis_db_keys', labels: { db: 'db0' }, value: 3 }]));
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'redis_db_keys', { db: 'db1' })).toBeUndefined();
    expect(sampleValue(samples, 'redis_db_keys', { db: 'db0' })).toBe(3);
  });

  it('drops invalid samples, keeps the valid ones and says so once per problem', async () => {
    const garbage: Sample[] = [
      { name: 'redis_keys_total', value: NaN },
      { name: 'redis_cache_hits_total', value: -1 },
      { name: 'redis_db_keys', value: 5 },
      { name: 'not_declared', value: 1 },
      { name: 'redis_status', value: 1 },
    ];
    sink.apply(ok(garbage));
    sink.apply(ok(garbage));
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'redis_status')).toBe(1);
    expect(sampleValue(samples, 'redis_keys_total')).toBeUndefined();
    expect(sampleValue(samples, 'redis_cache_hits_total')).toBeUndefined();
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(1);
    expect(logged).toHaveLength(4);
    expect(logged.join('')).toMatch(/redis_keys_total.*non-finite/);
    expect(logged.join('')).toMatch(/redis_cache_hits_total.*negative/);
    expect(logged.join('')).toMatch(/redis_db_keys.*labels \{\} instead of \{db\}/);
    expect(logged.join('')).toMatch(/not_declared.*not declared/);
  });

  it('ignores results of sources it does not know', () => {
    expect(() => sink.apply({ ...failed, source: 'nope' })).not.toThrow();
  });
  it('follows a source whose families change (a reloaded queries file): new ones registered, gone ones removed, NaN and histograms as reported', async () => {
    const own = new Registry();
    const changing: { name: string; metrics: MetricSource['metrics']; collect: MetricSource['collect'] } = { name: 'database', metrics: [{ name: 'pg_a', help: 'a', type: 'gauge', asReported: true }], collect: () => EMPTY };
    const follower = new RegistrySink(own, [changing], createLogger('info', (line) => logged.push(line)), { intervalMs: 15_000, timeoutMs: 7_500 });
    const result = (samples: Sample[]): CollectionResult => ({ source: 'database', ok: true, samples, timestamp: 1_700_000_000_000, durationSeconds: 0.002 });
    follower.apply(result([{ name: 'pg_a', value: NaN }]));
    expect(sampleValue(await scrape(own), 'pg_a')).toBeNaN();
    changing.metrics = [{ name: 'pg_h', help: 'h', type: 'histogram', labelNames: ['route'], asReported: true }];
    follower.apply(
      result([
        { name: 'pg_h', metricName: 'pg_h_bucket', labels: { route: 'api', le: '1' }, value: 3 },
        { name: 'pg_h', metricName: 'pg_h_bucket', labels: { route: 'api', le: '+Inf' }, value: 4 },
        { name: 'pg_h', metricName: 'pg_h_sum', labels: { route: 'api' }, value: 2.5 },
        { name: 'pg_h', metricName: 'pg_h_count', labels: { route: 'api' }, value: 4 },
      ]),
    );
    expect(own.getSingleMetric('pg_a')).toBeUndefined();
    expect([...(await scrape(own))].filter(([series]) => series.startsWith('pg_'))).toEqual([
      ['pg_h_bucket{route="api",le="1"}', 3],
      ['pg_h_bucket{route="api",le="+Inf"}', 4],
      ['pg_h_sum{route="api"}', 2.5],
      ['pg_h_count{route="api"}', 4],
    ]);
    expect((await own.getSingleMetric('pg_h')!.get()).type).toBe('histogram');
    expect(logged).toEqual([]);
  });
});

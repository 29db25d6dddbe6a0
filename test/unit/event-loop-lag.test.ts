import { collectDefaultMetrics, Registry } from 'prom-client';
import { createRegistry, DEFAULT_COLLECTORS } from '../../src/metrics/registry';
import { EventLoopLag } from '../../src/metrics/event-loop-lag';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const blockLoop = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
/** Polls until `done` holds: the sampler's own timers decide when, so the test waits for them, not for a fixed time. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await pause(5);
  expect(done()).toBe(true);
}

const LAG_GAUGES = ['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99'].map((statistic) => `nodejs_eventloop_lag${statistic}_seconds`);

describe('EventLoopLag', () => {
  it('does not sample until there is work, then rests after the quiet samples', async () => {
    const lag = new EventLoopLag(5, 3);
    expect(lag.sampling).toBe(false);
    lag.noteWork();
    expect(lag.sampling).toBe(true);
    await until(() => !lag.sampling);
    expect(lag.takeReading().max).toBeGreaterThanOrEqual(0);
  });

  it('samples for as long as work is held, and rests once it is released', async () => {
    const lag = new EventLoopLag(5, 3);
    const release = lag.holdWork();
    await pause(60); // twelve periods: far past the three quiet samples
    expect(lag.sampling).toBe(true);
    release();
    release(); // releasing twice is harmless
    await until(() => !lag.sampling);
  });

  it('records a block while sampling as lag beyond the period, then starts afresh', async () => {
    const lag = new EventLoopLag(10, 3);
    lag.noteWork();
    blockLoop(60);
    await until(() => !lag.sampling);
    expect(lag.takeReading().max).toBeGreaterThanOrEqual(0.045);
    expect(lag.takeReading()).toEqual({ min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 });
  });

  it("serves prom-client's event-loop gauges, reading 0 after a rest", async () => {
    const registry = new Registry();
    const lag = new EventLoopLag();
    lag.register(registry);
    expect(registry.getMetricsAsArray().map((metric) => metric.name)).toEqual(LAG_GAUGES);
    const [json] = await registry.getMetricsAsJSON();
    expect(json).toMatchObject({ name: 'nodejs_eventloop_lag_seconds', type: 'gauge', aggregator: 'average' });
    const max = await registry.getSingleMetric('nodejs_eventloop_lag_max_seconds')!.get();
    expect(max.values).toEqual([{ value: 0, labels: {} }]);
  });
});

describe('createRegistry', () => {
  it("has prom-client's default collectors, in its order, with the event-loop sampler replaced", () => {
    expect(DEFAULT_COLLECTORS.map(([name]) => name)).toEqual(collectDefaultMetrics.metricsList);
    const names = createRegistry().getMetricsAsArray().map((metric) => metric.name);
    expect(names).toEqual(expect.arrayContaining([...LAG_GAUGES, 'process_cpu_seconds_total', 'nodejs_gc_duration_seconds', 'nodejs_heap_space_size_used_bytes']));
    expect(names).not.toContain('nodejs_active_handles_total');
  });
});

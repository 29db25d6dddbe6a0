import { get, parseExposition, sampleValue } from '../support/http';
import { startService, type RunningService } from '../support/service';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the runtime metrics' shared reading lives (container/core.module.ts), so the next scrape reads afresh. */
const FRESH_READING_MS = 1200;

describe('runtime metrics sampled coarsely (issue 11)', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'app' });
  });

  afterAll(() => service.stop());

  it('case 11: a loop blocked for 200 ms shows in nodejs_eventloop_lag_max_seconds through /metrics', async () => {
    await get(service.port, '/metrics'); // a reading resets the event-loop histogram
    await pause(FRESH_READING_MS);
    const blockedUntil = performance.now() + 200;
    while (performance.now() < blockedUntil); // the block itself
    await pause(FRESH_READING_MS);
    const samples = parseExposition((await get(service.port, '/metrics')).body).samples;
    // A sampler whose period is under 200 ms fires at least 100 ms late inside the block.
    expect(sampleValue(samples, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.099);
  });

  it('case 11: a loop at rest shows next to no lag, not the sampling period', async () => {
    await get(service.port, '/metrics');
    await pause(FRESH_READING_MS);
    const samples = parseExposition((await get(service.port, '/metrics')).body).samples;
    // Node's histogram records whole sampling intervals; the lag is what exceeds the period.
    expect(sampleValue(samples, 'nodejs_eventloop_lag_min_seconds')).toBeLessThan(0.05);
    expect(sampleValue(samples, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0);
  });
});

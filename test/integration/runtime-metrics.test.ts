import { defer, of } from 'rxjs';
import { TYPES } from '../../src/tokens';
import { EventLoopLag } from '../../src/metrics/event-loop-lag';
import type { MetricSource } from '../../src/source';
import { get, parseExposition, sampleValue } from '../support/http';
import { eventually, startService, type RunningService } from '../support/service';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the runtime metrics' shared reading lives (container/core.module.ts), so the next scrape reads afresh. */
const FRESH_READING_MS = 1200;
const BLOCK_MS = 200;

function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until); // the block itself
}

/** A source that blocks the loop in the collection after blockNext is set: a block that starts inside a collection, not a request. */
function blockingSource(): MetricSource & { blockNext: boolean; blocked: boolean } {
  const source = {
    name: 'blocking',
    blockNext: false,
    blocked: false,
    metrics: [{ name: 'blocking_collections', help: 'test source', type: 'gauge' as const }],
    collect: () =>
      defer(() => {
        if (source.blockNext) {
          source.blockNext = false;
          blockLoop(BLOCK_MS);
          source.blocked = true;
        }
        return of([{ name: 'blocking_collections', value: 1 }]);
      }),
  };
  return source;
}

const lagMax = async (port: number) => sampleValue(parseExposition((await get(port, '/metrics')).body).samples, 'nodejs_eventloop_lag_max_seconds');

describe('event-loop lag, sampled while there is work (issue 11)', () => {
  let service: RunningService;
  let blocking: ReturnType<typeof blockingSource>;

  beforeAll(async () => {
    blocking = blockingSource();
    service = await startService({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '2' }, (container) => {
      container.bind(TYPES.MetricSource).toConstantValue(blocking);
    });
  });

  afterAll(() => service.stop());

  it('case 11: a loop blocked for 200 ms right after a request shows in nodejs_eventloop_lag_max_seconds', async () => {
    await get(service.port, '/metrics'); // a reading resets the statistics
    await pause(FRESH_READING_MS);
    const lag = service.container.get(TYPES.WorkNotice) as EventLoopLag;
    await eventually(() => (lag.sampling ? undefined : true), 'the sampler at rest');
    await get(service.port, '/metrics'); // work: the sampler runs
    expect(lag.sampling).toBe(true); // armed by the request itself, not by a collection
    blockLoop(BLOCK_MS);
    await pause(FRESH_READING_MS);
    // A sampler whose period is under 200 ms fires at least 100 ms late inside the block.
    expect(await lagMax(service.port)).toBeGreaterThanOrEqual(0.099);
  });

  it('case 11: a loop blocked for 200 ms inside a collection shows too', async () => {
    await get(service.port, '/metrics'); // a reading resets the statistics
    blocking.blockNext = true;
    await eventually(() => (blocking.blocked ? true : undefined), 'the blocking collection');
    await pause(FRESH_READING_MS);
    expect(await lagMax(service.port)).toBeGreaterThanOrEqual(0.099);
  });

  it('case 11: a loop at rest shows next to no lag, not the sampling period', async () => {
    await get(service.port, '/metrics');
    await pause(FRESH_READING_MS);
    const samples = parseExposition((await get(service.port, '/metrics')).body).samples;
    expect(sampleValue(samples, 'nodejs_eventloop_lag_min_seconds')).toBeLessThan(0.05);
    expect(sampleValue(samples, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('case 11: between collections and requests the sampler rests: no timer wakes the process', async () => {
    const lag = service.container.get(TYPES.WorkNotice);
    expect(lag).toBeInstanceOf(EventLoopLag);
    // Within the 2 s collection interval, a second comes with no work at all.
    await eventually(() => ((lag as EventLoopLag).sampling ? undefined : true), 'the sampler at rest');
  });
});

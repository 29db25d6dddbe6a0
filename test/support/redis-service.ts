// What the redis integration test files share: the service's redis collections, and reading a Redis of the test's own.
import Redis from 'ioredis';
import { filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
import { parseRedisInfo, REDIS_METRICS } from '../../streams/redis';
import type { CollectionSuccess } from '../../src/source';
import { sampleValue } from './http';
import { nextResults as nextResultsOf, resultsOf } from './metrics';
import { type RunningService } from './service';

export const TICK = { SOURCES: 'redis', COLLECTION_INTERVAL_SECONDS: '1' };
export const REDIS_SERIES = REDIS_METRICS.map((metric) => metric.name);


// ---- the service under test ----

export const redisResults = (service: RunningService) => resultsOf(service, 'redis');

/** The next `count` collections of the redis source (ticks, whatever their outcome). */
export const nextResults = (service: RunningService, count: number) => nextResultsOf(service, 'redis', count);

/** The `count`-th successful collection from now on. */
export const nextSuccess = (service: RunningService, count = 1) =>
  firstValueFrom(
    redisResults(service).pipe(
      filter((result): result is CollectionSuccess => result.ok),
      take(count),
      toArray(),
      timeout(count * 10_000),
    ),
  ).then((successes) => successes[count - 1]!);

export const nextFailure = (service: RunningService) =>
  firstValueFrom(redisResults(service).pipe(filter((result) => !result.ok), timeout(10_000)));

export function redisValues(samples: Map<string, number>): Record<string, number | undefined> {
  return Object.fromEntries(REDIS_SERIES.map((name) => [name, sampleValue(samples, name)]));
}

/** Sum of keys= over the keyspace lines, read with a client of the test's own. */
export async function keyspaceSum(client: Redis): Promise<number> {
  const keyspace = parseRedisInfo(await client.info('keyspace'))['keyspace'] ?? {};
  return Object.values(keyspace).reduce((sum, line) => sum + Number(/keys=(\d+)/.exec(line)![1]), 0);
}

export const infoField = async (client: Redis, section: string, field: string) => Number(parseRedisInfo(await client.info(section))[section]![field]);

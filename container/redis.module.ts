import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { RedisSource } from '../streams/redis';
import { TYPES } from './identifiers';

/** Source `redis`: INFO over one ioredis connection. */
export function redisModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (config.sources.has('redis')) bind(TYPES.MetricSource).to(RedisSource).inSingletonScope();
  });
}

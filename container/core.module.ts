import { ContainerModule } from 'inversify';
import { systemClock } from '../src/clock';
import type { Config } from '../src/config';
import { HealthState } from '../src/health';
import { EventLoopLag } from '../src/metrics/event-loop-lag';
import { createRegistry } from '../src/metrics/registry';
import { createLogger, type Logger } from '../src/logger';
import { SOLE_REPLICA } from '../src/cluster/election';
import { CollectionEngine } from '../streams/engine';
import { SHARED_SOURCE_NAMES } from '../streams/sources';
import { RegistrySink } from '../src/sinks/registry-sink';
import { TYPES } from '../src/tokens';

/** Configuration, logging, the registry and the collection engine with its sinks. */
export function coreModule(config: Config, logger: Logger = createLogger(config.logLevel)): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Config).toConstantValue(config);
    bind(TYPES.Logger).toConstantValue(logger);
    bind(TYPES.Clock).toConstantValue(systemClock);
    const eventLoopLag = new EventLoopLag();
    bind(TYPES.WorkNotice).toConstantValue(eventLoopLag);
    bind(TYPES.Registry).toDynamicValue(({ get }) => createRegistry(get(TYPES.Clock), eventLoopLag)).inSingletonScope();
    bind(TYPES.EngineOptions).toConstantValue({
      intervalMs: config.collectionIntervalSeconds * 1000,
      timeoutMs: config.collectionTimeoutSeconds * 1000,
      secrets: config.secrets,
      sharedSources: SHARED_SOURCE_NAMES,
    });
    // pg is loaded for the election only when it is on.
    if (config.clusterElection) {
      bind(TYPES.Election)
        .toDynamicValue(({ get }) => get((require('../src/cluster/postgres-election') as typeof import('../src/cluster/postgres-election')).PostgresElection, { autobind: true }))
        .inSingletonScope();
    } else {
      bind(TYPES.Election).toConstantValue(SOLE_REPLICA);
    }
    bind(TYPES.CollectionEngine).to(CollectionEngine).inSingletonScope();
    bind(TYPES.HealthState).to(HealthState).inSingletonScope();
    bind(TYPES.CollectionSink).to(RegistrySink).inSingletonScope();
    bind(TYPES.CollectionSink).toService(TYPES.HealthState);
  });
}

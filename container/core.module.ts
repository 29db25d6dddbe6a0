import { ContainerModule } from 'inversify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { systemClock } from '../src/clock';
import type { Config } from '../src/config';
import { HealthState } from '../src/health';
import { createLogger, type Logger } from '../src/logger';
import { urlSecrets } from '../src/redact';
import { CollectionEngine } from '../streams/engine';
import { RegistrySink } from '../src/sinks/registry-sink';
import { TYPES } from './identifiers';

/**
 * prom-client's default metrics include three gauges named *_total, which promtool rejects;
 * `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` carry the same
 * numbers per type, so the _total ones are dropped.
 */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

/** Configuration, logging, the registry and the collection engine with its sinks. */
export function coreModule(config: Config, logger: Logger = createLogger(config.logLevel)): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Config).toConstantValue(config);
    bind(TYPES.Logger).toConstantValue(logger);
    bind(TYPES.Clock).toConstantValue(systemClock);
    bind(TYPES.Registry).toDynamicValue(createRegistry).inSingletonScope();
    bind(TYPES.EngineOptions).toConstantValue({
      intervalMs: config.collectionIntervalSeconds * 1000,
      timeoutMs: config.collectionTimeoutSeconds * 1000,
      secrets: [config.databaseUrl, config.redisUrl, config.mqttUrl].flatMap(urlSecrets),
    });
    bind(TYPES.CollectionEngine).to(CollectionEngine).inSingletonScope();
    bind(TYPES.HealthState).to(HealthState).inSingletonScope();
    bind(TYPES.CollectionSink).to(RegistrySink).inSingletonScope();
    bind(TYPES.CollectionSink).toService(TYPES.HealthState);
  });
}

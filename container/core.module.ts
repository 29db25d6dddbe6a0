import { ContainerModule } from 'inversify';
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';
import { type Clock, systemClock } from '../src/clock';
import type { Config } from '../src/config';
import { HealthState } from '../src/health';
import { reuseReadings } from '../src/metrics/cached-reading';
import { createLogger, type Logger } from '../src/logger';
import { urlSecrets } from '../src/redact';
import { SOLE_REPLICA } from '../src/cluster/election';
import { CollectionEngine } from '../streams/engine';
import { SHARED_SOURCE_NAMES } from '../streams/sources';
import { RegistrySink } from '../src/sinks/registry-sink';
import { TYPES } from './identifiers';

/**
 * prom-client's default metrics include three gauges named *_total, which promtool rejects;
 * `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` carry the same
 * numbers per type, so the _total ones are dropped.
 */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * How long scrapes share one reading of the process and Node.js metrics. Shorter than any
 * sensible scrape interval, long enough that a burst of scrapes reads /proc and the event-loop
 * histogram once (they cost more than the rest of a scrape together; measured in bench/).
 */
const RUNTIME_READING_MAX_AGE_MS = 1000;

/**
 * prom-client samples the event loop every 10 ms by default: 100 wake-ups a second, about 1 % of
 * a core in an otherwise idle process. Every 100 ms still catches any block of 200 ms or more
 * (test/integration/runtime-metrics.test.ts) at a tenth of the cost.
 */
const EVENT_LOOP_SAMPLING_MS = 100;

/**
 * Node's event-loop histogram records whole sampling intervals, the period included (prom-client
 * passes them on: at rest its min read 10 ms, and would read 100 ms now). These gauges are
 * reported as the lag beyond the period; the standard deviation does not move with it.
 */
const SAMPLED_LAG_METRICS = ['min', 'max', 'mean', 'p50', 'p90', 'p99'].map((statistic) => `nodejs_eventloop_lag_${statistic}_seconds`);

/** Makes every reader of `metric` (prom-client's and /metrics) see the lag beyond the sampling period. */
function reportLagBeyondSampling(metric: Metric): void {
  const periodSeconds = EVENT_LOOP_SAMPLING_MS / 1000;
  const read = metric.get.bind(metric);
  metric.get = async () => {
    const family = await read();
    return { ...family, values: family.values.map((sample) => ({ ...sample, value: Math.max(0, sample.value - periodSeconds) })) };
  };
}

export function createRegistry(clock: Clock = systemClock): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLING_MS });
  for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  for (const name of SAMPLED_LAG_METRICS) reportLagBeyondSampling(registry.getSingleMetric(name)!);
  for (const { name } of registry.getMetricsAsArray()) {
    reuseReadings(registry.getSingleMetric(name)!, RUNTIME_READING_MAX_AGE_MS, () => clock.monotonicMs());
  }
  return registry;
}

/** Configuration, logging, the registry and the collection engine with its sinks. */
export function coreModule(config: Config, logger: Logger = createLogger(config.logLevel)): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Config).toConstantValue(config);
    bind(TYPES.Logger).toConstantValue(logger);
    bind(TYPES.Clock).toConstantValue(systemClock);
    bind(TYPES.Registry).toDynamicValue(({ get }) => createRegistry(get(TYPES.Clock))).inSingletonScope();
    bind(TYPES.EngineOptions).toConstantValue({
      intervalMs: config.collectionIntervalSeconds * 1000,
      timeoutMs: config.collectionTimeoutSeconds * 1000,
      secrets: [config.databaseUrl, config.redisUrl, config.mqttUrl].flatMap(urlSecrets),
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

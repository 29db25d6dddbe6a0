import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Clock, systemClock } from '../clock';
import { reuseReadings } from './cached-reading';
import { EventLoopLag } from './event-loop-lag';

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
 * prom-client's event-loop sampler, left idle: collectDefaultMetrics() always starts it, and at its
 * default period (10 ms) it wakes the process for ever; EventLoopLag serves the same gauges,
 * sampling only while there is work. The longest period a timer takes (about 24.8 days).
 */
const IDLE_EVENT_LOOP_SAMPLING_MS = 2 ** 31 - 1;

const EVENT_LOOP_LAG_PREFIX = 'nodejs_eventloop_lag_';

/**
 * A registry with prom-client's default metrics, in its order, the event-loop gauges served by
 * `eventLoopLag`. The defaults are made by collectDefaultMetrics() in a registry of their own and
 * moved over with registerMetric(), so ours take the place of prom-client's gauges.
 */
export function createRegistry(clock: Clock = systemClock, eventLoopLag: EventLoopLag = new EventLoopLag()): Registry {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults, eventLoopMonitoringPrecision: IDLE_EVENT_LOOP_SAMPLING_MS });
  const registry = new Registry();
  for (const metric of defaults.getMetricsAsArray()) {
    if (LINT_FAILING_DEFAULT_METRICS.includes(metric.name)) continue;
    if (!metric.name.startsWith(EVENT_LOOP_LAG_PREFIX)) registry.registerMetric(defaults.getSingleMetric(metric.name)!);
    else if (registry.getSingleMetric(`${EVENT_LOOP_LAG_PREFIX}seconds`) === undefined) eventLoopLag.register(registry);
  }
  for (const { name } of registry.getMetricsAsArray()) {
    reuseReadings(registry.getSingleMetric(name)!, RUNTIME_READING_MAX_AGE_MS, () => clock.monotonicMs());
  }
  return registry;
}

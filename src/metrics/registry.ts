import { Registry } from 'prom-client';
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

type DefaultCollector = (registry: Registry, config: object) => void;

/**
 * prom-client's default metrics (collectDefaultMetrics.metricsList, in its order), with its
 * event-loop sampler replaced: that one wakes the process every period for ever, EventLoopLag
 * serves the same gauges sampling only while there is work. Listed one by one so a bundler sees
 * them; test/unit/event-loop-lag.test.ts holds the list to prom-client's.
 */
export const DEFAULT_COLLECTORS: ReadonlyArray<readonly [string, DefaultCollector | 'eventLoopLag']> = [
  ['processCpuTotal', require('prom-client/lib/metrics/processCpuTotal')],
  ['processStartTime', require('prom-client/lib/metrics/processStartTime')],
  ['osMemoryHeap', require('prom-client/lib/metrics/osMemoryHeap')],
  ['processOpenFileDescriptors', require('prom-client/lib/metrics/processOpenFileDescriptors')],
  ['processMaxFileDescriptors', require('prom-client/lib/metrics/processMaxFileDescriptors')],
  ['eventLoopLag', 'eventLoopLag'],
  ['processResources', require('prom-client/lib/metrics/processResources')],
  ['processHandles', require('prom-client/lib/metrics/processHandles')],
  ['processRequests', require('prom-client/lib/metrics/processRequests')],
  ['heapSizeAndUsed', require('prom-client/lib/metrics/heapSizeAndUsed')],
  ['heapSpacesSizeAndUsed', require('prom-client/lib/metrics/heapSpacesSizeAndUsed')],
  ['version', require('prom-client/lib/metrics/version')],
  ['gc', require('prom-client/lib/metrics/gc')],
];

export function createRegistry(clock: Clock = systemClock, eventLoopLag: EventLoopLag = new EventLoopLag()): Registry {
  const registry = new Registry();
  for (const [, collector] of DEFAULT_COLLECTORS) {
    if (collector === 'eventLoopLag') eventLoopLag.register(registry);
    else collector(registry, {});
  }
  for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  for (const { name } of registry.getMetricsAsArray()) {
    reuseReadings(registry.getSingleMetric(name)!, RUNTIME_READING_MAX_AGE_MS, () => clock.monotonicMs());
  }
  return registry;
}

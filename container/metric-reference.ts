import { stat } from 'node:fs';
import { createServer } from 'node:net';
import type { Registry } from 'prom-client';
import { loadConfig } from '../streams/config';
import { createLogger } from '../src/logger';
import { exposedFamilyOf, type ExposedFamily } from '../src/metrics/exposed-metric';
import { familyOwnersOf } from '../src/metrics/source-selection';
import { createContainer } from './index';
import { TYPES } from '../src/tokens';

/** One family of /metrics as docs/metrics.md lists it. */
export interface FamilyReference {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly source: string;
  readonly help: string;
}

/** The labels of a histogram's or summary's buckets, which are not the family's own. */
const POINT_LABELS = new Set(['le', 'quantile']);

/**
 * Every family the service registers, read from the registry of a service built with every
 * source and the cluster election on, without starting it (nothing connects): the sources'
 * declared families, and the exporter's own, exercised once (a request, a result of every source)
 * so that each carries its labels.
 */
export async function metricReference(): Promise<FamilyReference[]> {
  const container = createContainer(loadConfig({ CLUSTER_ELECTION: 'true', LOG_LEVEL: 'silent' }), createLogger('silent'));
  const registry: Registry = container.get(TYPES.Registry);
  const sources = container.getAll(TYPES.MetricSource);
  for (const id of [TYPES.CollectionEngine, TYPES.LiveMetrics, TYPES.Election, TYPES.DatabasePool] as const) container.get<unknown>(id);
  const route = container.get(TYPES.HttpRequestMetrics).route('/metrics');
  route.begin('GET');
  route.end('GET', 200, 0.001);
  for (const sink of container.getAll(TYPES.CollectionSink)) {
    for (const { name } of sources) sink.apply({ source: name, ok: true, samples: [], timestamp: 0, durationSeconds: 0 });
  }
  const declared = new Map(sources.flatMap((source) => source.metrics.map((metric) => [metric.name, { labels: metric.labelNames ?? [], source: source.name }] as const)));
  const owners = familyOwnersOf(registry);
  const readings = await readUntilSampled(registry, (name) => !declared.has(name));
  const sourceOrder = [...sources.map(({ name }) => name), EVERY_SOURCE];
  return readings
    .map(({ name, help, type, values }): FamilyReference => {
      const sampled = [...new Set(values.flatMap(({ labels }) => Object.keys(labels)))].filter((label) => !POINT_LABELS.has(label));
      const source = declared.get(name)?.source ?? (owners.labelledBySource(name) ? EVERY_SOURCE : owners.ownerOf(name));
      return { name, type, labels: declared.get(name)?.labels ?? sampled, source, help };
    })
    .sort((a, b) => sourceOrder.indexOf(a.source) - sourceOrder.indexOf(b.source) || a.name.localeCompare(b.name));
}

const EVERY_SOURCE = 'every source';

/**
 * Every family of `registry`, read once each family that `mustSample` names has samples (its
 * labels are read from them). prom-client's runtime families sample what the process is doing:
 * the reading is made with a listening socket open (a libuv handle) and a file-system request
 * pending (a libuv request), and garbage is made until the GC histogram has observed a collection.
 */
async function readUntilSampled(registry: Registry, mustSample: (name: string) => boolean): Promise<ExposedFamily[]> {
  const server = createServer().listen(0, '127.0.0.1');
  try {
    return await readRounds(registry, mustSample);
  } finally {
    server.close();
  }
}

async function readRounds(registry: Registry, mustSample: (name: string) => boolean): Promise<ExposedFamily[]> {
  for (let round = 0; ; round++) {
    stat(__dirname, () => undefined);
    const families = await Promise.all(registry.getMetricsAsArray().map(async ({ name }) => exposedFamilyOf(await registry.getSingleMetric(name)!.get())));
    const empty = families.filter(({ name, values }) => mustSample(name) && values.length === 0).map(({ name }) => name);
    if (empty.length === 0) return families;
    if (round === 1000) throw new Error(`no samples to read the labels of ${empty.join(', ')} from`);
    Array.from({ length: 100_000 }, () => ({ round }));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The unit a family's name ends in, by the Prometheus naming conventions. */
function unitOf(name: string): string {
  const base = name.replace(/_(total|info)$/, '');
  if (base.endsWith('_timestamp_seconds')) return 'Unix time, seconds';
  for (const unit of ['seconds', 'bytes', 'percent', 'ratio', 'per_minute']) if (base.endsWith(`_${unit}`)) return unit.replace('_', ' ');
  return name.endsWith('_info') ? 'always 1' : '—';
}

export const GENERATED_START = '<!-- Generated from the registry by `npm run docs:metrics`; test/unit/metric-reference.test.ts holds it to the registry. -->';
export const GENERATED_END = '<!-- End of the generated reference. -->';

/** The generated tables, one per source, between the two markers. */
export function renderMetricReference(families: readonly FamilyReference[]): string {
  const lines = [GENERATED_START];
  let source: string | undefined;
  for (const family of families) {
    if (family.source !== source) {
      source = family.source;
      lines.push('', `### ${source === EVERY_SOURCE ? 'Every source (one series per source, `source` label)' : `Source \`${source}\``}`, '', '| name | type | labels | unit | meaning |', '|---|---|---|---|---|');
    }
    const labels = family.labels.map((label) => `\`${label}\``).join(', ');
    lines.push(`| \`${family.name}\` | ${family.type} | ${labels} | ${unitOf(family.name)} | ${family.help.replace(/\|/g, '\\|')} |`);
  }
  lines.push('', GENERATED_END);
  return lines.join('\n');
}

/** `document` with its generated part replaced by `reference`. */
export function withReference(document: string, reference: string): string {
  const start = document.indexOf(GENERATED_START);
  const end = document.indexOf(GENERATED_END);
  if (start === -1 || end < start) throw new Error('docs/metrics.md has no generated part (its two marker comments)');
  return document.slice(0, start) + reference + document.slice(end + GENERATED_END.length);
}

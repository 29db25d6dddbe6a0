import type { Registry } from 'prom-client';
import type { ExposedFamily, ExposedMetric } from './exposed-metric';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** OpenMetrics only when the scraper asks for it, as Prometheus does by default. */
export function negotiateFormat(accept: string): ExpositionFormat {
  return accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}

/**
 * Reads every family in the registry. Unlike `registry.metrics()`, which rejects whole when one
 * metric's collect() throws, a failing metric is left out and reported, and the rest is served.
 */
export async function readFamilies(registry: Registry, onError: (name: string, error: unknown) => void): Promise<ExposedFamily[]> {
  const metrics = registry.getMetricsAsArray() as unknown as ExposedMetric[];
  const families: ExposedFamily[] = [];
  for (const metric of metrics) {
    try {
      const family = metric.get();
      families.push(isPromise(family) ? await family : family);
    } catch (error) {
      onError(metric.name, error);
    }
  }
  return families;
}

/**
 * Sample lines already rendered, by family object and format. A family object is an immutable value
 * (a SnapshotFamily hands out the same one until its source's next collection), so between
 * collections a scrape formats none of the sources' samples again.
 */
const renderedSamples = new WeakMap<ExposedFamily, Partial<Record<ExpositionFormat, string>>>();

/** Serializes families in the Prometheus text format 0.0.4 or OpenMetrics 1.0. */
export function serialize(families: readonly ExposedFamily[], format: ExpositionFormat): string {
  return expositionPieces(families, format).join('');
}

/**
 * What serialize() returns, as UTF-8 bytes, for the HTTP reply. Written piece by piece into one
 * buffer: a scrape of a busy application is half a megabyte, and as one string it costs more to
 * allocate, flatten and encode than everything else the scrape does (measured in bench/).
 */
export function serializeToBuffer(families: readonly ExposedFamily[], format: ExpositionFormat): Buffer {
  const pieces = expositionPieces(families, format);
  let bytes = 0;
  for (const piece of pieces) bytes += Buffer.byteLength(piece);
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const piece of pieces) offset += buffer.write(piece, offset);
  return buffer;
}

/** The exposition as pieces of whole lines, in order: the rendered samples are shared, not copied. */
function expositionPieces(families: readonly ExposedFamily[], format: ExpositionFormat): string[] {
  const openMetrics = format === 'openmetrics';
  const pieces: string[] = [];
  for (const family of families) {
    const samples = family.renderedSamples ?? samplesOf(family, format);
    if (samples.length === 0) continue;
    const { name, help, type } = family;
    // OpenMetrics names a counter family without its _total suffix and its sample with it.
    const familyName = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    pieces.push(`# HELP ${familyName} ${escapeHelp(help, openMetrics)}\n# TYPE ${familyName} ${type}\n`);
    for (const piece of samples) pieces.push(piece); // not push(...samples): a spread of 100 000 pieces overflows the stack
  }
  if (openMetrics) pieces.push('# EOF\n');
  return pieces;
}

function samplesOf(family: ExposedFamily, format: ExpositionFormat): readonly string[] {
  const { name, type, values } = family;
  if (values.length === 0) return [];
  let rendered = renderedSamples.get(family);
  if (!rendered) renderedSamples.set(family, (rendered = {}));
  if (rendered[format] === undefined) {
    const counterName = format === 'openmetrics' && type === 'counter' ? `${name.replace(/_total$/, '')}_total` : name;
    let lines = '';
    for (const { metricName, labels, value } of values) lines += `${metricName ?? counterName}${formatLabels(labels)} ${formatValue(value)}\n`;
    rendered[format] = lines;
  }
  return [rendered[format]];
}

/** `{a="1",b="x"}` with values escaped, or '' for no labels. */
export function formatLabels(labels: Readonly<Record<string, string | number>>): string {
  let text = '';
  for (const key in labels) {
    text += `${text === '' ? '' : ','}${key}="${escapeLabelValue(String(labels[key]))}"`;
  }
  return text === '' ? '' : `{${text}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return /[\\\n"]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
}

function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

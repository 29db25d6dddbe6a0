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

/** Serializes families in the Prometheus text format 0.0.4 or OpenMetrics 1.0. */
export function serialize(families: readonly ExposedFamily[], format: ExpositionFormat): string {
  const openMetrics = format === 'openmetrics';
  const lines: string[] = [];
  for (const { name, help, type, values } of families) {
    if (values.length === 0) continue;
    // OpenMetrics names a counter family without its _total suffix and its sample with it.
    const familyName = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    lines.push(`# HELP ${familyName} ${escapeHelp(help, openMetrics)}`, `# TYPE ${familyName} ${type}`);
    for (const { metricName, labels, value } of values) {
      const sampleName = metricName ?? (openMetrics && type === 'counter' ? `${familyName}_total` : name);
      lines.push(`${sampleName}${formatLabels(labels)} ${formatValue(value)}`);
    }
  }
  if (openMetrics) lines.push('# EOF');
  return lines.join('\n') + '\n';
}

function formatLabels(labels: Readonly<Record<string, string | number>>): string {
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

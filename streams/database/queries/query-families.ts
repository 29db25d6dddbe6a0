import type { MetricDescriptor, Sample } from '../../../src/source';
import { builtInPrefixOf, familyName, METRIC_NAME } from './family-names';
import type { ColumnMapping, QueryNamespace } from './queries-file';
import { decodeSqlValue, goParseFloat, parseNumberArray, toCount, toFloat, toLabel, type SqlValue } from './sql-values';

/** A query's result as PostgreSQL's text: column names and types, rows of text (null for NULL). */
export interface TextResult {
  readonly fields: readonly { readonly name: string; readonly dataTypeID: number }[];
  readonly rows: readonly (readonly (string | null)[])[];
}

/** What one namespace's result makes: its samples, the families of columns the file does not declare, and the metrics left out, each with why. */
export interface NamespaceSeries {
  readonly samples: Sample[];
  readonly undeclared: MetricDescriptor[];
  readonly skipped: string[];
}

const HISTOGRAM_PARTS = ['_bucket', '_sum', '_count'];

/** The families the file declares for a namespace, as the source describes them. */
export function declaredFamilies({ namespace, columns }: QueryNamespace): MetricDescriptor[] {
  const labelNames = columns.filter(({ usage }) => usage === 'LABEL').map(({ column }) => column);
  return columns.flatMap(({ column, usage, description }): MetricDescriptor[] => {
    if (usage === 'LABEL' || usage === 'DISCARD') return [];
    const name = familyName(namespace, column, usage);
    // OpenMetrics, which Prometheus asks for first, names a counter's sample <family>_total: a
    // COUNTER not named so is typed gauge, so that its series keeps postgres_exporter's name.
    const type = usage === 'HISTOGRAM' ? 'histogram' : usage === 'COUNTER' && name.endsWith('_total') ? 'counter' : 'gauge';
    // prom-client requires a help text; postgres_exporter leaves it empty when the file has no description.
    return [{ name, help: description || `Column ${column} of ${namespace}, from the queries file`, type, labelNames, asReported: true }];
  });
}

/**
 * The series of one result, derived as postgres_exporter 0.11's queryNamespaceMapping does: per
 * row, one series per metric column, labelled by every LABEL column; a column the file does not
 * declare is a series too (postgres_exporter's untyped "Unknown metric") when its value is a
 * number. A metric whose value does not convert is left out; a histogram whose arrays do not
 * parse fails the whole result (throws), as there.
 */
export function namespaceSeries(definition: QueryNamespace, result: TextResult): NamespaceSeries {
  const { namespace, columns } = definition;
  const byColumn = new Map<string, ColumnMapping>(columns.map((mapping) => [mapping.column, mapping]));
  const histogramParts = new Set(columns.filter(({ usage }) => usage === 'HISTOGRAM').flatMap(({ column }) => HISTOGRAM_PARTS.map((part) => column + part)));
  const labelColumns = columns.filter(({ usage }) => usage === 'LABEL').map(({ column }) => column);
  const index = new Map(result.fields.map(({ name }, position) => [name, position]));
  const samples: Sample[] = [];
  const undeclared = new Map<string, MetricDescriptor>();
  const skipped = new Set<string>();
  for (const row of result.rows) {
    const values = row.map((text, position) => decodeSqlValue(text, result.fields[position].dataTypeID));
    // A LABEL column the query does not return reads the first column, as a missing map key reads index 0 there.
    const labels = Object.fromEntries(labelColumns.map((label) => [label, toLabel(values[index.get(label) ?? 0])]));
    result.fields.forEach(({ name }, position) => {
      const mapping = byColumn.get(name);
      if (histogramParts.has(name) || mapping?.usage === 'LABEL' || mapping?.usage === 'DISCARD') return;
      const family = mapping ? familyName(namespace, name, mapping.usage) : `${namespace}_${name}`;
      if (mapping?.usage === 'HISTOGRAM') {
        const histogram = histogramSamples(family, name, values, index, labels);
        if (typeof histogram === 'string') skipped.add(histogram);
        else samples.push(...histogram);
        return;
      }
      const value = toFloat(values[position]);
      if (value === undefined) {
        skipped.add(`column ${name} is not a number`);
        return;
      }
      if (!mapping && (!METRIC_NAME.test(family) || builtInPrefixOf(family))) {
        skipped.add(`column ${name} is not declared and would make ${JSON.stringify(family)}, which cannot be one of the file's families`);
        return;
      }
      if (!mapping) undeclared.set(family, { name: family, help: `Unknown metric from ${namespace}`, type: 'gauge', labelNames: labelColumns, asReported: true });
      samples.push({ name: family, labels, value });
    });
  }
  return { samples, undeclared: [...undeclared.values()], skipped: [...skipped] };
}

const int64 = (text: string) => (/^[+-]?\d+$/.test(text) ? Number(text) : undefined);

/** A histogram row: bounds in `<column>`, cumulative counts in `_bucket`, `_sum`, `_count`; a string says which part is missing. */
function histogramSamples(family: string, column: string, values: readonly SqlValue[], index: ReadonlyMap<string, number>, labels: Record<string, string>): Sample[] | string {
  const bounds = parseNumberArray(values[index.get(column)!], goParseFloat);
  if (!bounds) throw new Error(`column ${column} is not an array of bucket bounds`);
  const countsAt = index.get(`${column}_bucket`);
  if (countsAt === undefined) return `histogram ${column} has no column ${column}_bucket`;
  const counts = parseNumberArray(values[countsAt], int64);
  if (!counts) throw new Error(`column ${column}_bucket is not an array of whole numbers`);
  const sumAt = index.get(`${column}_sum`);
  const sum = sumAt === undefined ? undefined : toFloat(values[sumAt]);
  if (sum === undefined) return `histogram ${column} has no number in ${column}_sum`;
  const countAt = index.get(`${column}_count`);
  const count = countAt === undefined ? undefined : toCount(values[countAt]);
  if (count === undefined) return `histogram ${column} has no whole number in ${column}_count`;
  // Bounds beyond the counts are dropped; a repeated bound keeps its last count.
  const buckets = new Map<number, number>();
  bounds.slice(0, counts.length).forEach((bound, position) => buckets.set(bound, counts[position]));
  if (!buckets.has(Infinity)) buckets.set(Infinity, count);
  const bucketSamples = [...buckets].sort(([a], [b]) => a - b).map(([bound, value]): Sample => ({ name: family, metricName: `${family}_bucket`, labels: { ...labels, le: leText(bound) }, value }));
  return [...bucketSamples, { name: family, metricName: `${family}_sum`, labels, value: sum }, { name: family, metricName: `${family}_count`, labels, value: count }];
}

function leText(bound: number): string {
  return bound === Infinity ? '+Inf' : bound === -Infinity ? '-Inf' : String(bound);
}

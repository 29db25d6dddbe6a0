/** The column usages of postgres_exporter's queries file. */
export const COLUMN_USAGES = ['LABEL', 'COUNTER', 'GAUGE', 'MAPPEDMETRIC', 'DURATION', 'HISTOGRAM', 'DISCARD'] as const;
export type ColumnUsage = (typeof COLUMN_USAGES)[number];

/** postgres_exporter's name of a column's family: `<namespace>_<column>`, DURATION with `_milliseconds`. */
export function familyName(namespace: string, column: string, usage: ColumnUsage): string {
  return usage === 'DURATION' ? `${namespace}_${column}_milliseconds` : `${namespace}_${column}`;
}

/** A metric name, as Prometheus' text format allows it. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Prefixes of the exporter's own families (its sources' and its process's): a family of the file
 * may not start with one, so it never takes the name of a built-in family, now or in a later version.
 */
export const BUILT_IN_PREFIXES = ['app_', 'cluster_', 'collector_', 'database_', 'http_', 'iotflow_', 'mqtt_', 'nodejs_', 'process_', 'redis_', 'stream_', 'system_'];

/** The built-in prefix `family` starts with, if any. */
export function builtInPrefixOf(family: string): string | undefined {
  return BUILT_IN_PREFIXES.find((prefix) => family.startsWith(prefix));
}

/** The column usages of postgres_exporter's queries file. */
export const COLUMN_USAGES = ['LABEL', 'COUNTER', 'GAUGE', 'MAPPEDMETRIC', 'DURATION', 'HISTOGRAM', 'DISCARD'] as const;
export type ColumnUsage = (typeof COLUMN_USAGES)[number];

/** postgres_exporter's name of a column's family: `<namespace>_<column>`, DURATION with `_milliseconds`. */
export function familyName(namespace: string, column: string, usage: ColumnUsage): string {
  return usage === 'DURATION' ? `${namespace}_${column}_milliseconds` : `${namespace}_${column}`;
}

import { performance } from 'node:perf_hooks';
import { Client, Pool, type PoolConfig } from './pg';
import { Counter, Histogram, type Registry } from 'prom-client';
import { reuseReadings, type CachedReading } from '../metrics/cached-reading';
import type { ExposedFamily } from '../metrics/exposed-metric';
import { NativeHistogram } from '../metrics/native-histogram';

export const QUERY_OPERATIONS = ['select', 'insert', 'update', 'delete', 'other'] as const;
export type QueryOperation = (typeof QUERY_OPERATIONS)[number];

/** Query durations are mostly milliseconds, so the buckets start lower than the HTTP ones. */
const QUERY_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Statement keywords that name an operation; TABLE and VALUES are shorthands for a SELECT. */
const OPERATION_KEYWORDS: ReadonlyMap<string, QueryOperation> = new Map([
  ['select', 'select'],
  ['table', 'select'],
  ['values', 'select'],
  ['insert', 'insert'],
  ['update', 'update'],
  ['delete', 'delete'],
]);

const WORD = /[A-Za-z_]\w*/y;

/**
 * The operation of a statement, from its first keyword: select, insert, update, delete or other.
 * Leading whitespace, `--` and `/* … *\/` comments and opening parentheses are skipped. A statement
 * with common table expressions starts with WITH and counts as other, whatever follows them
 * (`WITH … SELECT` included), as does any other statement (BEGIN, EXPLAIN, COPY, MERGE).
 */
export function operationOf(sql: string): QueryOperation {
  let i = 0;
  while (i < sql.length) {
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (sql[i] === '(' || /\s/.test(sql[i]!)) {
      i++;
    } else break;
  }
  WORD.lastIndex = i;
  return OPERATION_KEYWORDS.get(WORD.exec(sql)?.[0].toLowerCase() ?? '') ?? 'other';
}

/** The SQL text of a `query()` call's first argument: a string, a QueryConfig or a Submittable. */
function sqlTextOf(query: unknown): string {
  if (typeof query === 'string') return query;
  const text = (query as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

/** `database_queries_total` and `database_query_duration_seconds` of one registry. */
export class QueryMetrics {
  private readonly queries: Counter<'operation'>;
  private readonly duration: Histogram<'operation'>;
  /** The two families as scrapes read them: read again only after a query was recorded. */
  private readonly readings: CachedReading[];
  /** The durations again in exponential buckets, by operation, for the protobuf exposition. */
  private readonly nativeDurations = new Map<string, NativeHistogram>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.queries = new Counter({ name: 'database_queries_total', help: 'Queries run through the instrumented PostgreSQL pool, by operation', labelNames: ['operation'], registers });
    this.duration = new Histogram({
      name: 'database_query_duration_seconds',
      help: 'Duration of the queries run through the instrumented PostgreSQL pool, by operation',
      labelNames: ['operation'],
      buckets: QUERY_DURATION_BUCKETS,
      registers,
    });
    // Every operation is exposed from the start, so rate() works before its first query.
    for (const operation of QUERY_OPERATIONS) {
      this.queries.inc({ operation }, 0);
      this.duration.zero({ operation });
      this.nativeDurations.set(operation, new NativeHistogram());
    }
    this.readings = [reuseReadings(this.queries), reuseReadings(this.duration, Infinity, undefined, (family) => this.withNativeHistograms(family))];
  }

  /** Starts timing one query; the returned function records it once, whatever its outcome. */
  begin(sql: string): () => void {
    const operation = operationOf(sql);
    const startedMs = performance.now();
    let recorded = false;
    return () => {
      if (recorded) return;
      recorded = true;
      this.queries.inc({ operation });
      const seconds = (performance.now() - startedMs) / 1000;
      this.duration.observe({ operation }, seconds);
      this.nativeDurations.get(operation)?.observe(seconds);
      for (const reading of this.readings) reading.changed();
    };
  }

  private withNativeHistograms(family: ExposedFamily): ExposedFamily {
    const values = family.values.map((value) => (value.metricName?.endsWith('_count') ? { ...value, nativeHistogram: this.nativeDurations.get(String(value.labels.operation)) } : value));
    return { ...family, values };
  }
}

/** One QueryMetrics per registry: every instrumented pool of a registry shares the two families. */
const metricsByRegistry = new WeakMap<Registry, QueryMetrics>();

export function queryMetricsFor(registry: Registry): QueryMetrics {
  let metrics = metricsByRegistry.get(registry);
  if (!metrics) metricsByRegistry.set(registry, (metrics = new QueryMetrics(registry)));
  return metrics;
}

/**
 * A pg Client class whose every query is counted and timed: the promise, callback and
 * Submittable (cursor, stream) forms alike. Pools use it for their clients, so queries through
 * `pool.query()` and through a checked-out `pool.connect()` client are both counted.
 */
function instrumentedClientClass(metrics: QueryMetrics): typeof Client {
  return class InstrumentedClient extends Client {
    // pg's query() has a dozen overloads; this one wrapper serves them all and returns what super does.
    override query(...args: any[]): any {
      const record = metrics.begin(sqlTextOf(args[0]));
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as (...results: unknown[]) => void;
        args[last] = (...results: unknown[]) => (record(), callback(...results));
      } else if (typeof args[0]?.submit === 'function') {
        // pg ends every submitted query with handleReadyForQuery, or handleError on a lost connection.
        const submittable = args[0] as Record<'handleReadyForQuery' | 'handleError', (...a: unknown[]) => unknown>;
        for (const hook of ['handleReadyForQuery', 'handleError'] as const) {
          const original = submittable[hook];
          submittable[hook] = function (this: unknown, ...hookArgs: unknown[]) {
            record();
            return original.apply(this, hookArgs);
          };
        }
      }
      const result = super.query(...(args as [string]));
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(record, record);
      return result;
    }
  };
}

/**
 * A pg Pool whose queries are counted in `database_queries_total{operation}` and timed in
 * `database_query_duration_seconds{operation}` of `registry`. This is the library's export for
 * an embedding application: pass the exporter's registry to have its queries on /metrics.
 */
export function createInstrumentedPool(config: PoolConfig, registry: Registry): Pool {
  return new Pool({ ...config, Client: instrumentedClientClass(queryMetricsFor(registry)) });
}

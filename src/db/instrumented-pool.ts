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
const OPERATION_KEYWORDS: Readonly<Record<string, QueryOperation>> = {
  select: 'select',
  table: 'select',
  values: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
};

/** Keywords that can start the statement after a WITH clause; MERGE is one, counted as other. */
const MAIN_STATEMENT_KEYWORDS = new Set([...Object.keys(OPERATION_KEYWORDS), 'merge']);

/** The opening tag of a dollar-quoted body: `$$` or `$name$`. */
const DOLLAR_QUOTE_TAG = /^\$(?:[A-Za-z_]\w*)?\$/;

type Token = { readonly kind: 'word'; readonly word: string } | { readonly kind: 'punct'; readonly char: string };

/**
 * The SQL tokens that matter for telling the operation: words (lower-cased) and punctuation.
 * Whitespace, comments (nested block comments included), string literals, quoted identifiers and
 * dollar-quoted bodies are skipped, so a keyword or parenthesis inside them counts for nothing.
 */
function* sqlTokens(sql: string): Generator<Token> {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      // E'…' strings escape with backslashes; all quoted text also escapes by doubling the quote.
      const backslashEscapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < n) {
        if (backslashEscapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && DOLLAR_QUOTE_TAG.test(sql.slice(i, i + 64))) {
      const tag = DOLLAR_QUOTE_TAG.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end === -1 ? n : end + tag.length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[\w$\u0080-\uffff]/.test(sql[i])) i++;
      yield { kind: 'word', word: sql.slice(start, i).toLowerCase() };
    } else {
      i++;
      yield { kind: 'punct', char: c };
    }
  }
}

/**
 * The operation of a statement, from its first keyword: select, insert, update, delete or other.
 * Leading whitespace, comments and parentheses are skipped; for `WITH … AS (…)` the statement
 * after the common table expressions decides (a data-modifying CTE inside does not).
 */
export function operationOf(sql: string): QueryOperation {
  const tokens = sqlTokens(sql);
  let first = tokens.next();
  while (!first.done && first.value.kind === 'punct' && first.value.char === '(') first = tokens.next();
  if (first.done || first.value.kind !== 'word') return 'other';
  if (first.value.word !== 'with') return OPERATION_KEYWORDS[first.value.word] ?? 'other';

  // Inside WITH: at depth 0, a word right after WITH [RECURSIVE] or a comma is a CTE's name.
  let depth = 0;
  let expectName = true;
  for (const token of tokens) {
    if (token.kind === 'punct') {
      if (token.char === '(') depth++;
      else if (token.char === ')') depth--;
      else if (token.char === ',' && depth === 0) expectName = true;
      continue;
    }
    if (depth !== 0) continue;
    if (expectName) {
      if (token.word !== 'recursive') expectName = false;
      continue;
    }
    if (MAIN_STATEMENT_KEYWORDS.has(token.word)) return OPERATION_KEYWORDS[token.word] ?? 'other';
  }
  return 'other';
}

/** The SQL text of a `query()` call's first argument: a string, a QueryConfig or a Submittable. */
function sqlTextOf(query: unknown): string {
  if (typeof query === 'string') return query;
  const text = (query as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

/**
 * Statements whose operation is remembered, the oldest forgotten first: the sources run the same
 * few statements every collection, and tokenizing them each time was a tenth of a collection's
 * CPU in the pool. Long statements are not kept (an application's generated bulk INSERTs).
 */
const REMEMBERED_STATEMENTS = 256;
const REMEMBERED_STATEMENT_MAX_LENGTH = 4096;

/** `database_queries_total` and `database_query_duration_seconds` of one registry. */
export class QueryMetrics {
  private readonly queries: Counter<'operation'>;
  private readonly duration: Histogram<'operation'>;
  /** The two families as scrapes read them: read again only after a query was recorded. */
  private readonly readings: CachedReading[];
  /** The durations again in exponential buckets, by operation, for the protobuf exposition. */
  private readonly nativeDurations = new Map<string, NativeHistogram>();
  private readonly operations = new Map<string, QueryOperation>();

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
    const operation = this.operationOf(sql);
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

  private operationOf(sql: string): QueryOperation {
    const remembered = this.operations.get(sql);
    if (remembered !== undefined) return remembered;
    const operation = operationOf(sql);
    if (sql.length <= REMEMBERED_STATEMENT_MAX_LENGTH) {
      if (this.operations.size >= REMEMBERED_STATEMENTS) this.operations.delete(this.operations.keys().next().value!);
      this.operations.set(sql, operation);
    }
    return operation;
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

import type { MetricDescriptor, Sample } from '../../../src/source';
import type { QueryNamespace } from './queries-file';
import { namespaceSeries, type TextResult } from './query-families';
import type { Version } from './server-version';

/** Runs one SQL text with a server-side statement timeout; rejects with the server's error. */
export type RunQuery = (sql: string, statementTimeoutMs: number) => Promise<TextResult>;

/** What the runner needs of its surroundings, so it can be tested without a clock or a logger of its own. */
export interface RunContext {
  readonly run: RunQuery;
  readonly nowMs: number;
  /** Milliseconds this collection may still spend on queries. */
  readonly remainingMs: () => number;
  readonly serverVersion: Version;
  readonly maxSeries: number;
  readonly warn: (message: string) => void;
}

interface NamespaceState {
  cached?: { readonly atMs: number; readonly samples: readonly Sample[] };
  /** The last failure logged, so a lasting one is logged once, and again after a recovery. */
  reportedFailure?: string;
  reportedSkips: Set<string>;
  reportedCap: boolean;
  reportedRepeat: boolean;
  readonly tally: NamespaceTally;
  undeclared: Map<string, MetricDescriptor>;
}

/** Failed runs and series dropped (over the cap, or repeating an earlier row's labels) of one namespace: counters, kept across reloads of the file by their owner. */
export interface NamespaceTally {
  errors: number;
  dropped: number;
}

/** Below this, a query is not started: it would be cut off before it could answer. */
export const MIN_QUERY_BUDGET_MS = 50;

/**
 * Runs the namespaces of a queries file, one after the other, each on its own: a failing query
 * (a syntax error, a missing extension, a permission, a timeout) takes only its own series away,
 * is logged once until it recovers and counted. `cache_seconds` keeps a result (a failure too, as
 * postgres_exporter does) that long; `runonserver` skips a namespace on servers out of its range;
 * a namespace's series past `maxSeries` are dropped and counted.
 */
export class QueryRunner {
  private readonly states = new Map<string, NamespaceState>();

  constructor(
    readonly namespaces: readonly QueryNamespace[],
    tallyOf: (namespace: string) => NamespaceTally,
  ) {
    for (const { namespace } of namespaces) {
      this.states.set(namespace, { reportedSkips: new Set(), reportedCap: false, reportedRepeat: false, tally: tallyOf(namespace), undeclared: new Map() });
    }
  }

  async collect(context: RunContext): Promise<Sample[]> {
    const samples: Sample[] = [];
    for (const definition of this.namespaces) {
      if (definition.runOnServer && !definition.runOnServer.includes(context.serverVersion)) continue;
      const state = this.states.get(definition.namespace)!;
      // Kept strictly longer than cache_seconds, as postgres_exporter compares.
      if (!state.cached || context.nowMs - state.cached.atMs > definition.cacheSeconds * 1000) {
        state.cached = { atMs: context.nowMs, samples: await this.runNamespace(definition, state, context) };
      }
      samples.push(...state.cached.samples);
    }
    return samples;
  }

  /** Families of columns the file does not declare, seen in results so far. */
  get undeclaredFamilies(): MetricDescriptor[] {
    return [...this.states.values()].flatMap((state) => [...state.undeclared.values()]);
  }

  private async runNamespace(definition: QueryNamespace, state: NamespaceState, context: RunContext): Promise<readonly Sample[]> {
    const { namespace } = definition;
    let series;
    try {
      const budget = Math.floor(context.remainingMs());
      if (budget < MIN_QUERY_BUDGET_MS) throw new Error('not run: the collection timeout was used up by the queries before it');
      series = namespaceSeries(definition, await context.run(definition.query, budget));
    } catch (error) {
      state.tally.errors++;
      const message = (error as Error).message;
      if (message !== state.reportedFailure) context.warn(`queries file: namespace ${namespace} failed, its series are left out until it succeeds: ${message}`);
      state.reportedFailure = message;
      return [];
    }
    if (state.reportedFailure !== undefined) context.warn(`queries file: namespace ${namespace} succeeds again`);
    state.reportedFailure = undefined;
    for (const problem of series.skipped) {
      if (state.reportedSkips.has(problem)) continue;
      state.reportedSkips.add(problem);
      context.warn(`queries file: namespace ${namespace}: ${problem}; that metric is left out (reported once)`);
    }
    for (const family of series.undeclared) state.undeclared.set(family.name, family);
    return this.capped(namespace, series.samples, state, context);
  }

  /**
   * The samples Prometheus can take: a row that repeats an earlier row's labels would expose the
   * same series twice (the scrape's sample for it is refused as a duplicate, and postgres_exporter
   * fails the whole scrape), so the first row's series is kept; past the cap, the rest are dropped.
   * Both are counted in database_queries_series_dropped_total and said once.
   */
  private capped(namespace: string, samples: Sample[], state: NamespaceState, context: RunContext): Sample[] {
    const kept: Sample[] = [];
    const exposed = new Set<string>();
    const series = new Set<string>();
    const dropped = new Set<string>();
    const repeated = new Set<string>();
    for (const sample of samples) {
      const identity = `${sample.metricName ?? sample.name}\0${JSON.stringify(sample.labels ?? {})}`;
      // A histogram's _bucket, _sum and _count samples are one series: keyed without `le`.
      const labels = Object.entries(sample.labels ?? {}).filter(([name]) => sample.metricName === undefined || name !== 'le');
      const key = `${sample.name}\0${JSON.stringify(labels)}`;
      if (exposed.has(identity)) {
        if (!state.reportedRepeat) {
          state.reportedRepeat = true;
          context.warn(`queries file: namespace ${namespace} returned more than one row for ${sample.name}${JSON.stringify(Object.fromEntries(labels))}; the first row's series is kept, the others are dropped and counted in database_queries_series_dropped_total (reported once)`);
        }
        repeated.add(key);
      } else if (series.has(key) || series.size < context.maxSeries) {
        series.add(key);
        exposed.add(identity);
        kept.push(sample);
      } else dropped.add(key);
    }
    state.tally.dropped += dropped.size + repeated.size;
    if (dropped.size > 0 && !state.reportedCap) {
      state.reportedCap = true;
      context.warn(`queries file: namespace ${namespace} returned more than ${context.maxSeries} series (DATABASE_QUERIES_MAX_SERIES); the rest are dropped and counted in database_queries_series_dropped_total`);
    }
    return kept;
  }
}

import type { MetricDescriptor, Sample } from '../../../src/source';
import { declaredFamilies } from './query-families';
import type { QueriesFileState } from './queries-file-state';
import { QueryRunner, type NamespaceTally, type RunContext } from './query-runner';

/** The families that say how the queries file is doing. */
export const QUERIES_FILE_METRICS: readonly MetricDescriptor[] = [
  { name: 'database_queries_file_reloads_total', help: 'Reloads of DATABASE_QUERIES_FILE on SIGHUP, by result: success, or failure (the file before stays in force)', type: 'counter', labelNames: ['result'] },
  { name: 'database_queries_file_loaded_timestamp_seconds', help: 'Unix time at which the queries file in force was read', type: 'gauge' },
  { name: 'database_queries_errors_total', help: 'Runs of a queries-file namespace that failed (its series left out), by namespace', type: 'counter', labelNames: ['namespace'] },
  { name: 'database_queries_series_dropped_total', help: 'Series of a queries-file namespace dropped beyond DATABASE_QUERIES_MAX_SERIES or repeating an earlier row\'s labels, by namespace', type: 'counter', labelNames: ['namespace'] },
];

/**
 * The `database` source's series from the queries file: the file in force (a reload takes effect
 * at the next collection), its namespaces' runs, and the families it makes. `families` is a new
 * array whenever they change, so the registry follows.
 */
export class CustomQueries {
  private runner: QueryRunner;
  private readonly tallies = new Map<string, NamespaceTally>();
  private describedFamilies: readonly MetricDescriptor[] = [];
  private describedKey = '';

  constructor(private readonly state: QueriesFileState) {
    this.runner = this.runnerOf();
  }

  /** The families of the file in force, those of columns it does not declare seen so far, and QUERIES_FILE_METRICS. */
  get families(): readonly MetricDescriptor[] {
    const current = [...QUERIES_FILE_METRICS, ...this.runner.namespaces.flatMap(declaredFamilies), ...this.runner.undeclaredFamilies];
    const key = current.map(({ name, type, labelNames }) => `${name}:${type}:${String(labelNames ?? [])}`).join(' ');
    if (key !== this.describedKey) (this.describedKey = key), (this.describedFamilies = current);
    return this.describedFamilies;
  }

  async collect(context: RunContext): Promise<Sample[]> {
    if (this.runner.namespaces !== this.state.current.namespaces) this.runner = this.runnerOf();
    const samples = await this.runner.collect(context);
    const { success, failure } = this.state.reloadCounts;
    samples.push(
      { name: 'database_queries_file_reloads_total', labels: { result: 'success' }, value: success },
      { name: 'database_queries_file_reloads_total', labels: { result: 'failure' }, value: failure },
      { name: 'database_queries_file_loaded_timestamp_seconds', value: this.state.loadedAtSeconds },
    );
    for (const { namespace } of this.runner.namespaces) {
      const { errors, dropped } = this.tallyOf(namespace);
      samples.push({ name: 'database_queries_errors_total', labels: { namespace }, value: errors }, { name: 'database_queries_series_dropped_total', labels: { namespace }, value: dropped });
    }
    return samples;
  }

  private runnerOf(): QueryRunner {
    return new QueryRunner(this.state.current.namespaces, (namespace) => this.tallyOf(namespace));
  }

  private tallyOf(namespace: string): NamespaceTally {
    let tally = this.tallies.get(namespace);
    if (!tally) this.tallies.set(namespace, (tally = { errors: 0, dropped: 0 }));
    return tally;
  }
}

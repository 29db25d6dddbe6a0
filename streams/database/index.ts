import { inject, injectable, optional } from 'inversify';
import { DatabaseError, type PoolClient } from '../../src/db/pg';
import { TYPES } from '../../src/tokens';
import type { Config } from '../../src/config';
import { DATABASE_SETTINGS, type DatabaseSettings, QUERIES_FILE } from './settings';
import { collectorPoolConfig, type DatabasePool } from '../../src/db/database-pool';
import { PooledSource } from '../../src/db/pooled-source';
import type { Logger } from '../../src/logger';
import type { Clock } from '../../src/clock';
import { CustomQueries } from './queries/custom-queries';
import type { QueriesFileState } from './queries/queries-file-state';
import { runTextQuery } from './queries/text-query';
import { versionOf } from './queries/server-version';
import type { MetricDescriptor, Sample } from '../../src/source';
import { countRows, type Query } from './row-counts';
import { parseServerStats, SERVER_METRICS, SERVER_SQL, serverSamples, type ServerStats } from './server';
import { MAX_TABLES, parseTableListing, TABLE_METRICS, TABLES_SQL, tableSamples, type TableRows } from './tables';

export const DATABASE_METRICS: readonly MetricDescriptor[] = [
  ...SERVER_METRICS,
  ...TABLE_METRICS,
  { name: 'database_collection_queries', help: 'Queries the last collection of the database source sent to PostgreSQL', type: 'gauge' },
];

/** Every sample of one collection; `tables` is absent when the table part failed. */
export function databaseSamples(server: ServerStats, tables: TableRows | undefined, queries: number): Sample[] {
  return [...serverSamples(server), { name: 'database_collection_queries', value: queries }, ...(tables ? tableSamples(tables) : [])];
}

/** Names seen in the last collection, so a lasting condition is logged once, and again if it comes back. */
class LastingNames {
  private last = new Set<string>();

  /** The names of `current` not in the last collection's. */
  newSince(current: readonly string[]): string[] {
    const fresh = current.filter((name) => !this.last.has(name));
    this.last = new Set(current);
    return fresh;
  }
}

/**
 * Source `database`: PostgreSQL connections, transactions and table row counts on one connection
 * of the shared, instrumented DatabasePool, in three round trips per collection: the server
 * figures, the table listing (catalog only) and one statement with every exact count. The server
 * figures stand on their own: a failure of the table part leaves out the table series only, and a
 * locked table its own row count only (see countRows). With DATABASE_QUERIES_FILE, the file's
 * namespaces follow on the same connection, one round trip each when due, and one more restores
 * the statement_timeout (see customSamples).
 */
@injectable()
export class DatabaseSource extends PooledSource {
  readonly name = 'database';
  /** The series of DATABASE_QUERIES_FILE, when one is set. */
  private readonly custom?: CustomQueries;
  private described?: { readonly custom: readonly MetricDescriptor[]; readonly all: readonly MetricDescriptor[] };
  /** DB_TABLES entries reported missing; one is reported again if it comes and goes. */
  private readonly missingTables = new LastingNames();
  private reportedTruncation = false;
  /** Tables reported locked, reported again if they are locked again after a count. */
  private readonly lockedTables = new LastingNames();
  /** The last failure of the table part reported, so a lasting one is logged once. */
  private reportedTableFailure?: string;
  /** Whether the last collection's role could see every session; a change is logged once. */
  private connectionsVisible = true;

  constructor(
    @inject(TYPES.DatabasePool) database: DatabasePool,
    @inject(DATABASE_SETTINGS.token) private readonly config: Config & DatabaseSettings,
    @inject(TYPES.Logger) private readonly logger: Logger,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(QUERIES_FILE) @optional() queriesFile?: QueriesFileState,
  ) {
    super(database);
    if (queriesFile) this.custom = new CustomQueries(queriesFile);
  }

  /** DATABASE_METRICS, and the queries file's families: a new array when those change. */
  get metrics(): readonly MetricDescriptor[] {
    if (!this.custom) return DATABASE_METRICS;
    const custom = this.custom.families;
    if (this.described?.custom !== custom) this.described = { custom, all: [...DATABASE_METRICS, ...custom] };
    return this.described.all;
  }

  protected async collectOn(client: PoolClient): Promise<Sample[]> {
    const startedMs = this.clock.monotonicMs();
    let queries = 0;
    const query: Query = (sql, values) => (queries++, client.query(sql, values));
    const server = parseServerStats((await query(SERVER_SQL)).rows[0]);
    this.reportVisibility(server);
    let tables: TableRows | undefined;
    try {
      tables = await this.tableRows(query, server.database);
      this.reportedTableFailure = undefined;
    } catch (error) {
      // A server-side error (a table dropped meanwhile, a count past the statement timeout) costs the table series only.
      if (!(error instanceof DatabaseError)) throw error;
      const message = this.database.describe(error);
      if (message !== this.reportedTableFailure) this.logger.warn(`database_table_rows left out: ${message}`);
      this.reportedTableFailure = message;
    }
    const custom = this.custom ? await this.customSamples(client, server, startedMs, () => queries++) : [];
    return [...databaseSamples(server, tables, queries), ...custom];
  }

  /**
   * The queries file's series. Each query runs with the pool's lock_timeout and a statement_timeout
   * of what is left of the collection's statement budget, so the file never costs the built-in
   * series; the session's own statement_timeout is restored after.
   */
  private async customSamples(client: PoolClient, server: ServerStats, startedMs: number, counted: () => void): Promise<Sample[]> {
    const budgetMs = Number(collectorPoolConfig(this.config).statement_timeout);
    const samples = await this.custom!.collect({
      run: (sql, statementTimeoutMs) => (counted(), runTextQuery(client, sql, statementTimeoutMs, (error) => this.database.describe(error))),
      nowMs: this.clock.monotonicMs(),
      remainingMs: () => budgetMs - (this.clock.monotonicMs() - startedMs),
      serverVersion: versionOf(server.versionNum),
      maxSeries: this.config.databaseQueriesMaxSeries,
      warn: (message) => this.logger.warn(message),
    });
    counted();
    await client.query('RESET statement_timeout');
    return samples;
  }

  private reportVisibility({ role, connections }: ServerStats): void {
    const visible = connections.counts !== undefined;
    if (visible === this.connectionsVisible) return;
    this.connectionsVisible = visible;
    if (visible) this.logger.info(`role "${role}" now sees every session in pg_stat_activity: the connection gauges are back`);
    else {
      this.logger.warn(
        `role "${role}" lacks the privileges of pg_read_all_stats, so pg_stat_activity hides other roles' sessions: ` +
          `database_connections_total, _active, _idle and _idle_in_transaction are left out (database_connections_visible 0); GRANT pg_monitor TO the role to count them`,
      );
    }
  }

  private async tableRows(query: Query, database: string): Promise<TableRows> {
    const listing = parseTableListing((await query(TABLES_SQL, [this.config.dbTables, MAX_TABLES + 1])).rows[0]);
    for (const name of this.missingTables.newSince(listing.missing)) {
      this.logger.warn(`DB_TABLES names table "${name}", which does not exist in database "${database}"; it is left out, the other tables are counted`);
    }
    if (listing.tables.length > MAX_TABLES && !this.reportedTruncation) {
      this.reportedTruncation = true;
      this.logger.warn(`database "${database}" has more than ${MAX_TABLES} user tables; database_table_rows covers the first ${MAX_TABLES} by name (set DB_TABLES to choose)`);
    }
    const limits = { maxExactRows: this.config.dbExactCountMaxRows, budgetRows: this.config.dbExactCountBudgetRows };
    const { counted, locked } = await countRows(query, listing.tables.slice(0, MAX_TABLES), limits);
    for (const label of this.lockedTables.newSince(locked)) {
      this.logger.warn(`table "${label}" in database "${database}" is locked (waited lock_timeout); database_table_rows leaves it out until it can be counted, the other tables are counted`);
    }
    return counted;
  }
}

import { inject, injectable } from 'inversify';
import { DatabaseError, type PoolClient } from '../../src/db/pg';
import { TYPES } from '../../src/tokens';
import type { Config } from '../../src/config';
import { DATABASE_SETTINGS, type DatabaseSettings } from './settings';
import type { DatabasePool } from '../../src/db/database-pool';
import { PooledSource } from '../../src/db/pooled-source';
import type { Logger } from '../../src/logger';
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
 * locked table its own row count only (see countRows).
 */
@injectable()
export class DatabaseSource extends PooledSource {
  readonly name = 'database';
  readonly metrics = DATABASE_METRICS;
  /** DB_TABLES entries reported missing; one is reported again if it comes and goes. */
  private readonly missingTables = new LastingNames();
  private reportedTruncation = false;
  /** Tables reported locked, reported again if they are locked again after a count. */
  private readonly lockedTables = new LastingNames();
  /** The last failure of the table part reported, so a lasting one is logged once. */
  private reportedTableFailure?: string;

  constructor(
    @inject(TYPES.DatabasePool) database: DatabasePool,
    @inject(DATABASE_SETTINGS.token) private readonly config: Config & DatabaseSettings,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    super(database);
  }

  protected async collectOn(client: PoolClient): Promise<Sample[]> {
    let queries = 0;
    const query: Query = (sql, values) => (queries++, client.query(sql, values));
    const server = parseServerStats((await query(SERVER_SQL)).rows[0]);
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
    return databaseSamples(server, tables, queries);
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

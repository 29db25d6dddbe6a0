import type { ServiceIdentifier } from 'inversify';
import type { SettingsGroup, SettingsReader } from '../../src/settings';
import type { QueriesFileState } from './queries/queries-file-state';

export interface DatabaseSettings {
  /** Tables counted by `database_table_rows`; empty means every user table (at most 500). */
  readonly dbTables: readonly string[];
  readonly dbExactCountMaxRows: number;
  /** Rows (by the planner's estimates) the exact counts of one collection may scan in all. */
  readonly dbExactCountBudgetRows: number;
  /** A postgres_exporter queries file (`--extend.query-path`) whose series the database source adds; undefined: none. */
  readonly databaseQueriesFile: string | undefined;
  /** Series one namespace of the queries file may make in a collection; the rest are dropped and counted. */
  readonly databaseQueriesMaxSeries: number;
}

/** The queries file in force, bound only when `DATABASE_QUERIES_FILE` is set and the source enabled; SIGHUP reloads it. */
export const QUERIES_FILE = Symbol.for('QueriesFile') as ServiceIdentifier<QueriesFileState>;

export const DATABASE_SETTINGS = {
  title: 'database source',
  token: Symbol.for('DatabaseSettings'),
  settings: [
    { name: 'DB_TABLES', defaultText: 'every user table, at most 500', meaning: 'comma-separated tables for database_table_rows (schema.table outside public)' },
    { name: 'DB_EXACT_COUNT_MAX_ROWS', default: '100000', meaning: 'a table is counted exactly only if its estimated count reads at most this many rows' },
    { name: 'DB_EXACT_COUNT_BUDGET_ROWS', default: '200000', meaning: 'rows the exact counts of one collection may read in all (0: estimates only)' },
    { name: 'DATABASE_QUERIES_FILE', meaning: "a postgres_exporter queries file (--extend.query-path format) whose series the source adds; SIGHUP reloads it" },
    { name: 'DATABASE_QUERIES_MAX_SERIES', default: '1000', meaning: 'series one namespace of the queries file may make per collection; the rest are dropped and counted' },
  ],
  load: (read: SettingsReader): DatabaseSettings => ({
    dbTables: read.list('DB_TABLES'),
    dbExactCountMaxRows: read.integer('DB_EXACT_COUNT_MAX_ROWS', 0, Number.MAX_SAFE_INTEGER),
    dbExactCountBudgetRows: read.integer('DB_EXACT_COUNT_BUDGET_ROWS', 0, Number.MAX_SAFE_INTEGER),
    databaseQueriesFile: read.given('DATABASE_QUERIES_FILE'),
    databaseQueriesMaxSeries: read.integer('DATABASE_QUERIES_MAX_SERIES', 1, 1_000_000),
  }),
} satisfies SettingsGroup<DatabaseSettings>;

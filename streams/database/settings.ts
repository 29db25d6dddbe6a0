import type { SettingsGroup, SettingsReader } from '../../src/settings';

export interface DatabaseSettings {
  /** Tables counted by `database_table_rows`; empty means every user table (at most 500). */
  readonly dbTables: readonly string[];
  readonly dbExactCountMaxRows: number;
  /** Rows (by the planner's estimates) the exact counts of one collection may scan in all. */
  readonly dbExactCountBudgetRows: number;
}

export const DATABASE_SETTINGS = {
  title: 'database source',
  token: Symbol.for('DatabaseSettings'),
  settings: [
    { name: 'DB_TABLES', defaultText: 'every user table, at most 500', meaning: 'comma-separated tables for database_table_rows (schema.table outside public)' },
    { name: 'DB_EXACT_COUNT_MAX_ROWS', default: '100000', meaning: 'a table is counted exactly only if its estimated count reads at most this many rows' },
    { name: 'DB_EXACT_COUNT_BUDGET_ROWS', default: '200000', meaning: 'rows the exact counts of one collection may read in all (0: estimates only)' },
  ],
  load: (read: SettingsReader): DatabaseSettings => ({
    dbTables: read.list('DB_TABLES'),
    dbExactCountMaxRows: read.integer('DB_EXACT_COUNT_MAX_ROWS', 0, Number.MAX_SAFE_INTEGER),
    dbExactCountBudgetRows: read.integer('DB_EXACT_COUNT_BUDGET_ROWS', 0, Number.MAX_SAFE_INTEGER),
  }),
} satisfies SettingsGroup<DatabaseSettings>;

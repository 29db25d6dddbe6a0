import { inject, injectable } from 'inversify';
import { DatabaseError, escapeIdentifier, type PoolClient, type QueryResult } from 'pg';
import type { Observable } from 'rxjs';
import { TYPES } from '../container/identifiers';
import type { Config } from '../src/config';
import { describeDatabaseError, type DatabasePool } from '../src/db/database-pool';
import type { Logger } from '../src/logger';
import type { MetricDescriptor, MetricSource, Sample } from './source';

/** Most tables `database_table_rows` covers when DB_TABLES is not set, so cardinality stays bounded. */
export const MAX_TABLES = 500;

export const DATABASE_METRICS: readonly MetricDescriptor[] = [
  { name: 'database_connections_total', help: 'Client connections to the PostgreSQL server (pg_stat_activity, client backends)', type: 'gauge' },
  { name: 'database_connections_active', help: 'Client connections running a statement (state = active)', type: 'gauge' },
  { name: 'database_connections_idle', help: 'Client connections waiting for a command (state = idle)', type: 'gauge' },
  { name: 'database_connections_idle_in_transaction', help: 'Client connections idle inside an open transaction (state = idle in transaction, aborted included)', type: 'gauge' },
  { name: 'database_connections_max', help: 'The server setting max_connections', type: 'gauge' },
  { name: 'database_transactions_total', help: 'Transactions committed or rolled back in the connected database, as counted by PostgreSQL (pg_stat_database)', type: 'counter', labelNames: ['state'] },
  {
    name: 'database_table_rows',
    help: `Rows per table: counted exactly for the smallest tables within DB_EXACT_COUNT_BUDGET_ROWS (each at most DB_EXACT_COUNT_MAX_ROWS), the catalog's estimate for the rest; absent while a table to count is locked`,
    type: 'gauge',
    labelNames: ['table'],
  },
  { name: 'database_collection_queries', help: 'Queries the last collection of the database source sent to PostgreSQL', type: 'gauge' },
  {
    name: 'database_collection_tables',
    help: 'Tables of the last collection by how database_table_rows was taken: exact (counted), estimate (catalog), skipped (locked)',
    type: 'gauge',
    labelNames: ['row_count'],
  },
];

/**
 * Server figures that depend on no table: connections, max_connections and the transactions of
 * the connected database (a sum over every database would fall when one is dropped).
 */
export const SERVER_SQL = `
SELECT current_database() AS database,
       current_setting('max_connections')::float8 AS connections_max,
       connections.*, transactions.*
FROM (SELECT count(*)::float8 AS connections_total,
             count(*) FILTER (WHERE state = 'active')::float8 AS connections_active,
             count(*) FILTER (WHERE state = 'idle')::float8 AS connections_idle,
             count(*) FILTER (WHERE state LIKE 'idle in transaction%')::float8 AS connections_idle_in_transaction
      FROM pg_stat_activity
      WHERE backend_type = 'client backend') AS connections,
     (SELECT coalesce(sum(xact_commit), 0)::float8 AS transactions_committed,
             coalesce(sum(xact_rollback), 0)::float8 AS transactions_rolled_back
      FROM pg_stat_database
      WHERE datname = current_database()) AS transactions`;

/**
 * Per chosen table, what the row-count decision needs, from the catalog and the cumulative
 * statistics only: nothing here opens or locks a table (no pg_relation_size, no
 * pg_partition_tree), so a locked table cannot hold it up, and its cost does not grow with table
 * sizes. $1: DB_TABLES entries ('{}' = every user table), $2: how many tables to fetch.
 * An entry names a table as its label does (`devices`, `audit.events`; `public.devices` works
 * too), literally: case-sensitive, no quoting, so `Odd Name` is the table "Odd Name".
 * A partitioned table is sized by its leaf partitions (found through pg_inherits); the
 * partitions themselves are left out of the default listing, where their parent already counts them.
 */
export const TABLES_SQL = `
WITH RECURSIVE user_tables AS (
  SELECT c.oid, c.relkind, c.relispartition, n.nspname AS schema, c.relname AS name,
         CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END AS label,
         n.nspname || '.' || c.relname AS qualified
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
), chosen AS (
  SELECT DISTINCT ON (label) * FROM user_tables
  WHERE CASE WHEN cardinality($1::text[]) = 0 THEN NOT relispartition ELSE label = ANY ($1::text[]) OR qualified = ANY ($1::text[]) END
  ORDER BY label, schema = 'public' DESC
  LIMIT $2
), tree (root, oid, relkind) AS (
  SELECT oid, oid, relkind FROM chosen
  UNION ALL
  SELECT tree.root, part.oid, part.relkind
  FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid JOIN pg_class part ON part.oid = i.inhrelid
  WHERE tree.relkind = 'p'
), sized AS (
  SELECT t.schema, t.name, t.label, has_table_privilege(t.oid, 'SELECT') AS readable, s.*
  FROM chosen t CROSS JOIN LATERAL (
    SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1 ELSE coalesce(sum(l.reltuples), 0) END::float8 AS reltuples,
           coalesce(sum(l.relpages), 0)::float8 AS relpages,
           coalesce(sum(pg_stat_get_live_tuples(l.oid)), 0)::float8 AS live_tuples,
           coalesce(sum(pg_stat_get_dead_tuples(l.oid)), 0)::float8 AS dead_tuples
    FROM tree JOIN pg_class l ON l.oid = tree.oid
    WHERE tree.root = t.oid AND tree.relkind = 'r'
  ) s
)
SELECT (SELECT coalesce(json_agg(sized ORDER BY label), '[]') FROM sized) AS tables,
       (SELECT coalesce(json_agg(requested ORDER BY requested), '[]')
          FROM unnest($1::text[]) AS requested
         WHERE requested NOT IN (SELECT label FROM user_tables UNION ALL SELECT qualified FROM user_tables)) AS missing`;

/** Size facts of one table (summed over the leaf partitions of a partitioned one). */
export interface TableStats {
  readonly schema: string;
  readonly name: string;
  /** `table` label: schema-qualified unless the schema is public. */
  readonly label: string;
  /** Whether this role may SELECT from it; an unreadable table still gets its estimate. */
  readonly readable: boolean;
  /** pg_class.reltuples at the last VACUUM/ANALYZE; -1 if never (for any leaf). */
  readonly reltuples: number;
  /** pg_class.relpages at the same moment. */
  readonly relpages: number;
  /** Live rows as tracked by the cumulative statistics (pg_stat_get_live_tuples). */
  readonly liveTuples: number;
  /** Dead rows, which a count(*) reads too (pg_stat_get_dead_tuples). */
  readonly deadTuples: number;
}

export interface ServerStats {
  readonly database: string;
  readonly connections: { readonly total: number; readonly active: number; readonly idle: number; readonly idleInTransaction: number; readonly max: number };
  readonly transactions: { readonly committed: number; readonly rolledBack: number };
}

export interface TableListing {
  readonly tables: readonly TableStats[];
  /** DB_TABLES entries that match no table. */
  readonly missing: readonly string[];
}

function finite(row: Readonly<Record<string, unknown>>, column: string): number {
  const value = row[column];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`column ${column} is not a number (${JSON.stringify(value)})`);
  return value;
}

function text(row: Readonly<Record<string, unknown>>, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} is not text (${JSON.stringify(value)})`);
  return value;
}

function list(row: Readonly<Record<string, unknown>>, column: string): readonly Record<string, unknown>[] {
  const value = row[column];
  if (!Array.isArray(value)) throw new Error(`column ${column} is not a list (${JSON.stringify(value)})`);
  return value as Record<string, unknown>[];
}

/** The row of SERVER_SQL, checked and typed. Throws naming the column that is not as expected. */
export function parseServerStats(row: Readonly<Record<string, unknown>>): ServerStats {
  return {
    database: text(row, 'database'),
    connections: {
      total: finite(row, 'connections_total'),
      active: finite(row, 'connections_active'),
      idle: finite(row, 'connections_idle'),
      idleInTransaction: finite(row, 'connections_idle_in_transaction'),
      max: finite(row, 'connections_max'),
    },
    transactions: { committed: finite(row, 'transactions_committed'), rolledBack: finite(row, 'transactions_rolled_back') },
  };
}

/** The row of TABLES_SQL, checked and typed. */
export function parseTableListing(row: Readonly<Record<string, unknown>>): TableListing {
  return {
    tables: list(row, 'tables').map((table) => ({
      schema: text(table, 'schema'),
      name: text(table, 'name'),
      label: text(table, 'label'),
      readable: table.readable === true,
      reltuples: finite(table, 'reltuples'),
      relpages: finite(table, 'relpages'),
      liveTuples: finite(table, 'live_tuples'),
      deadTuples: finite(table, 'dead_tuples'),
    })),
    missing: list(row, 'missing').map(String),
  };
}

/**
 * The row count reported for a table that is not counted: the planner's reltuples once ANALYZE
 * or VACUUM has seen the table with pages; before that (never analyzed, or analyzed while
 * empty) the cumulative statistics' live-row count.
 */
export function estimatedRows(table: TableStats): number {
  return table.reltuples >= 0 && table.relpages > 0 ? table.reltuples : table.liveTuples;
}

/**
 * Rows a count(*) of the table is expected to read: the estimate, or the live and dead rows the
 * statistics track if more (a table that has grown since ANALYZE is not mistaken for a small one).
 */
export function rowsToScan(table: TableStats): number {
  return Math.max(estimatedRows(table), table.liveTuples + table.deadTuples);
}

export interface RowCountPlan {
  /** Tables to count, smallest first. */
  readonly exact: readonly TableStats[];
  /** The estimate of every other table, by label. */
  readonly estimated: ReadonlyMap<string, number>;
}

/**
 * Which tables to count exactly: readable ones of at most `maxExactRows` rows to scan, smallest
 * first, as long as their rows to scan add up to at most `budgetRows`; the rest get their
 * estimate. Decided from catalog facts only, so the plan itself costs no scan.
 */
export function planRowCounts(tables: readonly TableStats[], { maxExactRows, budgetRows }: { maxExactRows: number; budgetRows: number }): RowCountPlan {
  // A stable sort: equal sizes keep the listing's order (by label), so the plan is the same every collection.
  const candidates = tables.filter((table) => table.readable && rowsToScan(table) <= maxExactRows).sort((a, b) => rowsToScan(a) - rowsToScan(b));
  const exact: TableStats[] = [];
  let planned = 0;
  for (const table of candidates) {
    if (planned + rowsToScan(table) > budgetRows) break;
    exact.push(table);
    planned += rowsToScan(table);
  }
  const counted = new Set(exact);
  return {
    exact,
    estimated: new Map(tables.filter((table) => !counted.has(table)).map((table) => [table.label, estimatedRows(table)])),
  };
}

/**
 * One statement counting every listed table: `SELECT <i>, count(*) FROM "schema"."name" UNION ALL …`.
 * Names are quoted as identifiers (quotes doubled), so any table name is just a name.
 */
export function exactCountSql(tables: readonly Pick<TableStats, 'schema' | 'name'>[]): string {
  return tables
    .map(({ schema, name }, index) => `SELECT ${index} AS i, count(*)::float8 AS n FROM ${escapeIdentifier(schema)}.${escapeIdentifier(name)}`)
    .join('\nUNION ALL\n');
}

/** Rows of exactCountSql → count per index. */
export function parseExactCounts(rows: readonly Readonly<Record<string, unknown>>[]): Map<number, number> {
  return new Map(rows.map((row) => [finite(row, 'i'), finite(row, 'n')]));
}

/** database_table_rows of one collection, and how each was taken. */
export interface TableRows {
  readonly rows: ReadonlyMap<string, number>;
  readonly exact: number;
  readonly estimated: number;
  /** Tables left out because they were locked. */
  readonly skipped: number;
}

/** Every sample of one collection; `tables` is absent when the table part failed. */
export function databaseSamples({ connections, transactions }: ServerStats, tables: TableRows | undefined, queries: number): Sample[] {
  const samples: Sample[] = [
    { name: 'database_connections_total', value: connections.total },
    { name: 'database_connections_active', value: connections.active },
    { name: 'database_connections_idle', value: connections.idle },
    { name: 'database_connections_idle_in_transaction', value: connections.idleInTransaction },
    { name: 'database_connections_max', value: connections.max },
    { name: 'database_transactions_total', labels: { state: 'commit' }, value: transactions.committed },
    { name: 'database_transactions_total', labels: { state: 'rollback' }, value: transactions.rolledBack },
    { name: 'database_collection_queries', value: queries },
  ];
  if (!tables) return samples;
  samples.push(
    { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: tables.exact },
    { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: tables.estimated },
    { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: tables.skipped },
  );
  for (const [table, rows] of tables.rows) samples.push({ name: 'database_table_rows', labels: { table }, value: rows });
  return samples;
}

/** SQLSTATE 55P03 lock_not_available: the statement waited lock_timeout for a table. */
function isLockTimeout(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === '55P03';
}

/**
 * Source `database`: PostgreSQL connections, transactions and table row counts on one connection
 * of the shared, instrumented DatabasePool, in three round trips per collection: the server
 * figures, the table listing (catalog only) and one statement with every exact count. The server
 * figures stand on their own: a failure of the table part leaves out the table series only.
 * A locked table costs its own exact count only: the pool's lock_timeout ends the statement, each
 * table is then counted on its own, and the locked one is left out for that round.
 */
@injectable()
export class DatabaseSource implements MetricSource {
  readonly name = 'database';
  readonly metrics = DATABASE_METRICS;
  /** DB_TABLES entries already reported missing; one is reported again if it comes and goes. */
  private reportedMissing = new Set<string>();
  private reportedTruncation = false;
  /** Tables already reported locked, reported again if they are locked again after a count. */
  private reportedLocked = new Set<string>();
  /** The last failure of the table part reported, so a lasting one is logged once. */
  private reportedTableFailure?: string;

  constructor(
    @inject(TYPES.DatabasePool) private readonly database: DatabasePool,
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {}

  collect(): Observable<readonly Sample[]> {
    return this.database.collection((client) => this.collectOn(client));
  }

  stop(): Promise<void> {
    return this.database.end();
  }

  private async collectOn(client: PoolClient): Promise<Sample[]> {
    let queries = 0;
    const query = (sql: string, values?: unknown[]) => (queries++, client.query(sql, values));
    const server = parseServerStats((await query(SERVER_SQL)).rows[0]);
    let tables: TableRows | undefined;
    try {
      tables = await this.tableRows(query, server.database);
      this.reportedTableFailure = undefined;
    } catch (error) {
      // A server-side error (a table dropped meanwhile, a count past the statement timeout) costs the table series only.
      if (!(error instanceof DatabaseError)) throw error;
      const message = describeDatabaseError(error, this.config.databaseUrl);
      if (message !== this.reportedTableFailure) this.logger.warn(`database_table_rows left out: ${message}`);
      this.reportedTableFailure = message;
    }
    return databaseSamples(server, tables, queries);
  }

  private async tableRows(query: (sql: string, values?: unknown[]) => Promise<QueryResult>, database: string): Promise<TableRows> {
    const listing = parseTableListing((await query(TABLES_SQL, [this.config.dbTables, MAX_TABLES + 1])).rows[0]);
    this.reportMissing(listing.missing, database);
    const tables = listing.tables.slice(0, MAX_TABLES);
    if (listing.tables.length > MAX_TABLES && !this.reportedTruncation) {
      this.reportedTruncation = true;
      this.logger.warn(`database "${database}" has more than ${MAX_TABLES} user tables; database_table_rows covers the first ${MAX_TABLES} by name (set DB_TABLES to choose)`);
    }

    const plan = planRowCounts(tables, { maxExactRows: this.config.dbExactCountMaxRows, budgetRows: this.config.dbExactCountBudgetRows });
    const rows = new Map(plan.estimated);
    const locked: string[] = [];
    const countInto = async (batch: readonly TableStats[]) => {
      for (const [index, count] of parseExactCounts((await query(exactCountSql(batch))).rows)) rows.set(batch[index].label, count);
    };
    if (plan.exact.length > 0) {
      try {
        await countInto(plan.exact);
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        // Some table is locked, and the error does not say which: count each on its own.
        for (const table of plan.exact) {
          try {
            await countInto([table]);
          } catch (tableError) {
            if (!isLockTimeout(tableError)) throw tableError;
            locked.push(table.label);
          }
        }
      }
    }
    this.reportLocked(locked, database);
    return { rows, exact: plan.exact.length - locked.length, estimated: plan.estimated.size, skipped: locked.length };
  }

  private reportMissing(missing: readonly string[], database: string): void {
    for (const name of missing) {
      if (!this.reportedMissing.has(name)) {
        this.logger.warn(`DB_TABLES names table "${name}", which does not exist in database "${database}"; it is left out, the other tables are counted`);
      }
    }
    this.reportedMissing = new Set(missing);
  }

  private reportLocked(locked: readonly string[], database: string): void {
    for (const label of locked) {
      if (!this.reportedLocked.has(label)) {
        this.logger.warn(`table "${label}" in database "${database}" is locked (waited lock_timeout); database_table_rows leaves it out until it can be counted, the other tables are counted`);
      }
    }
    this.reportedLocked = new Set(locked);
  }
}

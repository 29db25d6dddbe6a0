import { inject, injectable } from 'inversify';
import { escapeIdentifier, type PoolClient } from 'pg';
import type { Observable } from 'rxjs';
import { TYPES } from '../container/identifiers';
import type { Config } from '../src/config';
import type { DatabasePool } from '../src/db/database-pool';
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
  { name: 'database_transactions_total', help: 'Transactions committed or rolled back, summed over databases, as counted by PostgreSQL (pg_stat_database)', type: 'counter', labelNames: ['state'] },
  {
    name: 'database_table_rows',
    help: `Rows per table: counted exactly up to DB_EXACT_COUNT_MAX_ROWS, the planner's estimate above it`,
    type: 'gauge',
    labelNames: ['table'],
  },
  { name: 'database_collection_queries', help: 'Queries the last collection of the database source sent to PostgreSQL', type: 'gauge' },
];

/**
 * One round trip for everything but the exact counts: server statistics and, per chosen table,
 * what the row-count decision needs. Only catalog and statistics reads, so its cost does not grow
 * with table sizes. $1: DB_TABLES entries ('{}' = every user table), $2: how many tables to fetch.
 * An entry names a table as its label does (`devices`, `audit.events`; `public.devices` works
 * too), literally: case-sensitive, no quoting, so `Odd Name` is the table "Odd Name".
 * A partitioned table is sized by its leaf partitions; the partitions themselves are left out of
 * the default listing, where their parent already counts them.
 */
export const OVERVIEW_SQL = `
WITH connections AS (
  SELECT count(*)::float8 AS connections_total,
         count(*) FILTER (WHERE state = 'active')::float8 AS connections_active,
         count(*) FILTER (WHERE state = 'idle')::float8 AS connections_idle,
         count(*) FILTER (WHERE state LIKE 'idle in transaction%')::float8 AS connections_idle_in_transaction
  FROM pg_stat_activity
  WHERE backend_type = 'client backend'
), transactions AS (
  SELECT coalesce(sum(xact_commit), 0)::float8 AS transactions_committed,
         coalesce(sum(xact_rollback), 0)::float8 AS transactions_rolled_back
  FROM pg_stat_database
), user_tables AS (
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
), sized AS (
  SELECT t.schema, t.name, t.label, has_table_privilege(t.oid, 'SELECT') AS readable, s.*
  FROM chosen t CROSS JOIN LATERAL (
    SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1 ELSE coalesce(sum(l.reltuples), 0) END::float8 AS reltuples,
           coalesce(sum(l.relpages), 0)::float8 AS relpages,
           coalesce(sum(pg_relation_size(l.oid)), 0)::float8 AS bytes,
           coalesce(sum(pg_stat_get_live_tuples(l.oid)), 0)::float8 AS live_tuples
    FROM (SELECT t.oid WHERE t.relkind = 'r'
          UNION ALL
          SELECT relid FROM pg_partition_tree(t.oid) WHERE t.relkind = 'p' AND isleaf) AS leaf (oid)
    JOIN pg_class l ON l.oid = leaf.oid
  ) s
)
SELECT current_database() AS database,
       current_setting('max_connections')::float8 AS connections_max,
       current_setting('block_size')::float8 AS block_size,
       connections.*, transactions.*,
       (SELECT coalesce(json_agg(sized ORDER BY label), '[]') FROM sized) AS tables,
       (SELECT coalesce(json_agg(requested ORDER BY requested), '[]')
          FROM unnest($1::text[]) AS requested
         WHERE requested NOT IN (SELECT label FROM user_tables UNION ALL SELECT qualified FROM user_tables)) AS missing
FROM connections, transactions`;

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
  /** Current size of the heap on disk (pg_relation_size: a file size, no scan). */
  readonly bytes: number;
  /** Live rows as tracked by the cumulative statistics (pg_stat_get_live_tuples). */
  readonly liveTuples: number;
}

export interface Overview {
  readonly database: string;
  readonly blockSize: number;
  readonly connections: { readonly total: number; readonly active: number; readonly idle: number; readonly idleInTransaction: number; readonly max: number };
  readonly transactions: { readonly committed: number; readonly rolledBack: number };
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

/** The row of OVERVIEW_SQL, checked and typed. Throws naming the column that is not as expected. */
export function parseOverview(row: Readonly<Record<string, unknown>>): Overview {
  return {
    database: text(row, 'database'),
    blockSize: finite(row, 'block_size'),
    connections: {
      total: finite(row, 'connections_total'),
      active: finite(row, 'connections_active'),
      idle: finite(row, 'connections_idle'),
      idleInTransaction: finite(row, 'connections_idle_in_transaction'),
      max: finite(row, 'connections_max'),
    },
    transactions: { committed: finite(row, 'transactions_committed'), rolledBack: finite(row, 'transactions_rolled_back') },
    tables: list(row, 'tables').map((table) => ({
      schema: text(table, 'schema'),
      name: text(table, 'name'),
      label: text(table, 'label'),
      readable: table.readable === true,
      reltuples: finite(table, 'reltuples'),
      relpages: finite(table, 'relpages'),
      bytes: finite(table, 'bytes'),
      liveTuples: finite(table, 'live_tuples'),
    })),
    missing: list(row, 'missing').map(String),
  };
}

export type RowCountPlan = { readonly exact: true } | { readonly exact: false; readonly estimate: number };

/** PostgreSQL's MaxHeapTuplesPerPage: (block size − page header) / (tuple header + line pointer). */
export function maxHeapTuplesPerPage(blockSize: number): number {
  return Math.floor((blockSize - 24) / (24 + 4));
}

/**
 * Exact count(*) or the estimate, decided from catalog facts only:
 * - analyzed or vacuumed (reltuples ≥ 0): the planner's estimate, i.e. the row density at that
 *   moment times the table's current size, so a table that has grown since is not mistaken for
 *   a small one. At most `maxExactRows` → counted exactly, above → the estimate.
 * - never analyzed (reltuples = -1, or 0 pages then but some now): the size decides. Counted
 *   exactly only if the heap cannot hold more than `maxExactRows` rows even at the densest
 *   possible packing, so a count never costs more than it would for an analyzed table; else
 *   the cumulative statistics' live-row count stands in for the estimate.
 * A table this role may not read gets the estimate as well.
 */
export function rowCountPlan(table: TableStats, maxExactRows: number, blockSize: number): RowCountPlan {
  const pages = table.bytes / blockSize;
  if (table.reltuples >= 0 && (table.relpages > 0 || pages === 0)) {
    const estimate = table.relpages > 0 ? Math.round((table.reltuples / table.relpages) * pages) : table.reltuples;
    return table.readable && estimate <= maxExactRows ? { exact: true } : { exact: false, estimate };
  }
  const mostRows = pages * maxHeapTuplesPerPage(blockSize);
  return table.readable && mostRows <= maxExactRows ? { exact: true } : { exact: false, estimate: table.liveTuples };
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

/** Every sample of one collection. */
export function databaseSamples(overview: Overview, tableRows: ReadonlyMap<string, number>, queries: number): Sample[] {
  const { connections, transactions } = overview;
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
  for (const [table, rows] of tableRows) samples.push({ name: 'database_table_rows', labels: { table }, value: rows });
  return samples;
}

/**
 * Source `database`: PostgreSQL connections, transactions and table row counts, in at most two
 * round trips per collection (the overview, then one statement with every exact count), on one
 * connection of the shared, instrumented DatabasePool.
 */
@injectable()
export class DatabaseSource implements MetricSource {
  readonly name = 'database';
  readonly metrics = DATABASE_METRICS;
  /** DB_TABLES entries already reported missing; one is reported again if it comes and goes. */
  private reportedMissing = new Set<string>();
  private reportedTruncation = false;

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
    const { rows } = await client.query(OVERVIEW_SQL, [this.config.dbTables, MAX_TABLES + 1]);
    const overview = parseOverview(rows[0]);
    this.reportMissing(overview);
    const tables = overview.tables.slice(0, MAX_TABLES);
    if (overview.tables.length > MAX_TABLES && !this.reportedTruncation) {
      this.reportedTruncation = true;
      this.logger.warn(`database "${overview.database}" has more than ${MAX_TABLES} user tables; database_table_rows covers the first ${MAX_TABLES} by name (set DB_TABLES to choose)`);
    }

    const tableRows = new Map<string, number>();
    const exact: TableStats[] = [];
    for (const table of tables) {
      const plan = rowCountPlan(table, this.config.dbExactCountMaxRows, overview.blockSize);
      if (plan.exact) exact.push(table);
      else tableRows.set(table.label, plan.estimate);
    }
    let queries = 1;
    if (exact.length > 0) {
      queries++;
      const counts = parseExactCounts((await client.query(exactCountSql(exact))).rows);
      for (const [index, rows] of counts) tableRows.set(exact[index].label, rows);
    }
    return databaseSamples(overview, tableRows, queries);
  }

  private reportMissing({ database, missing }: Overview): void {
    for (const name of missing) {
      if (!this.reportedMissing.has(name)) {
        this.logger.warn(`DB_TABLES names table "${name}", which does not exist in database "${database}"; it is left out, the other tables are counted`);
      }
    }
    this.reportedMissing = new Set(missing);
  }
}

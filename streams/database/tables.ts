import type { MetricDescriptor, Sample } from '../../src/source';
import { finite, list, text, type Row } from './columns';

/** Most tables `database_table_rows` covers when DB_TABLES is not set, so cardinality stays bounded. */
export const MAX_TABLES = 500;

/** The table figures: rows per table, and how the last collection took them. */
export const TABLE_METRICS: readonly MetricDescriptor[] = [
  {
    name: 'database_table_rows',
    help: `Rows per table: counted exactly for the smallest tables within DB_EXACT_COUNT_BUDGET_ROWS (each at most DB_EXACT_COUNT_MAX_ROWS), the catalog's estimate for the rest; absent while a table to count is locked`,
    type: 'gauge',
    labelNames: ['table'],
  },
  {
    name: 'database_collection_tables',
    help: 'Tables of the last collection by how database_table_rows was taken: exact (counted), estimate (catalog), skipped (locked)',
    type: 'gauge',
    labelNames: ['row_count'],
  },
];

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

export interface TableListing {
  readonly tables: readonly TableStats[];
  /** DB_TABLES entries that match no table. */
  readonly missing: readonly string[];
}

/** The row of TABLES_SQL, checked and typed. */
export function parseTableListing(row: Row): TableListing {
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

/** database_table_rows of one collection, and how each was taken. */
export interface TableRows {
  readonly rows: ReadonlyMap<string, number>;
  readonly exact: number;
  readonly estimated: number;
  /** Tables left out because they were locked. */
  readonly skipped: number;
}

export function tableSamples(tables: TableRows): Sample[] {
  const samples: Sample[] = [
    { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: tables.exact },
    { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: tables.estimated },
    { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: tables.skipped },
  ];
  for (const [table, rows] of tables.rows) samples.push({ name: 'database_table_rows', labels: { table }, value: rows });
  return samples;
}

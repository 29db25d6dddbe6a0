import { DatabaseError, escapeIdentifier, type QueryResult } from '../../src/db/pg';
import { finite, type Row } from './columns';
import type { TableRows, TableStats } from './tables';

/** A query on the collection's connection (counted by the caller). */
export type Query = (sql: string, values?: unknown[]) => Promise<QueryResult>;

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

/** DB_EXACT_COUNT_MAX_ROWS and DB_EXACT_COUNT_BUDGET_ROWS. */
export interface RowCountLimits {
  readonly maxExactRows: number;
  readonly budgetRows: number;
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
export function planRowCounts(tables: readonly TableStats[], { maxExactRows, budgetRows }: RowCountLimits): RowCountPlan {
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
export function parseExactCounts(rows: readonly Row[]): Map<number, number> {
  return new Map(rows.map((row) => [finite(row, 'i'), finite(row, 'n')]));
}

/** SQLSTATE 55P03 lock_not_available: the statement waited lock_timeout for a table. */
function isLockTimeout(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === '55P03';
}

/**
 * database_table_rows of `tables` as planRowCounts decides, the exact counts in one statement.
 * A locked table costs its own exact count only: the pool's lock_timeout ends the statement,
 * each table is then counted on its own, and the locked ones are left out (their labels in `locked`).
 */
export async function countRows(query: Query, tables: readonly TableStats[], limits: RowCountLimits): Promise<{ readonly counted: TableRows; readonly locked: readonly string[] }> {
  const plan = planRowCounts(tables, limits);
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
  return { counted: { rows, exact: plan.exact.length - locked.length, estimated: plan.estimated.size, skipped: locked.length }, locked };
}

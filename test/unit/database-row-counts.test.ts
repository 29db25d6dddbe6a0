import { estimatedRows, exactCountSql, parseExactCounts, planRowCounts, rowsToScan } from '../../streams/database/row-counts';
import type { TableStats } from '../../streams/database/tables';

const table = (overrides: Partial<TableStats>): TableStats => ({
  schema: 'public',
  name: 't',
  label: 't',
  readable: true,
  reltuples: -1,
  relpages: 0,
  liveTuples: 0,
  deadTuples: 0,
  ...overrides,
});

describe('estimatedRows and rowsToScan', () => {
  it("take the planner's reltuples once the table has been analyzed with pages", () => {
    const analyzed = table({ reltuples: 5000, relpages: 30, liveTuples: 4000, deadTuples: 1000 });
    expect(estimatedRows(analyzed)).toBe(5000);
    expect(rowsToScan(analyzed)).toBe(5000);
  });

  it('take the live rows of the statistics for a table never analyzed, or analyzed while empty', () => {
    expect(estimatedRows(table({ liveTuples: 40 }))).toBe(40);
    expect(estimatedRows(table({ reltuples: 0, relpages: 0, liveTuples: 90_000 }))).toBe(90_000);
  });

  it('count what a scan reads: a table grown since ANALYZE, and dead rows, cost more than the estimate', () => {
    expect(rowsToScan(table({ reltuples: 500, relpages: 5, liveTuples: 500_000 }))).toBe(500_000);
    expect(rowsToScan(table({ liveTuples: 10, deadTuples: 70_000 }))).toBe(70_010);
  });
});

describe('planRowCounts', () => {
  const sized = (label: string, rows: number, overrides: Partial<TableStats> = {}) => table({ label, name: label, reltuples: rows, relpages: Math.max(1, rows / 100), liveTuples: rows, ...overrides });

  it('counts the smallest tables first, as long as their rows fit in the budget, and estimates the rest', () => {
    const tables = [sized('c', 300), sized('a', 100), sized('d', 400), sized('b', 200)];
    const plan = planRowCounts(tables, { maxExactRows: 1000, budgetRows: 650 });
    expect(plan.exact.map(({ label }) => label)).toEqual(['a', 'b', 'c']);
    expect(plan.estimated).toEqual(new Map([['d', 400]]));
  });

  it('estimates a table above DB_EXACT_COUNT_MAX_ROWS whatever the budget, and one this role may not read', () => {
    const plan = planRowCounts([sized('big', 100_000_000), sized('secret', 10, { readable: false }), sized('small', 10)], { maxExactRows: 100_000, budgetRows: Number.MAX_SAFE_INTEGER });
    expect(plan.exact.map(({ label }) => label)).toEqual(['small']);
    expect(plan.estimated).toEqual(new Map([['big', 100_000_000], ['secret', 10]]));
  });

  it('keeps the listing order among equal sizes, so every collection counts the same tables', () => {
    const plan = planRowCounts([sized('x', 100), sized('y', 100), sized('z', 100)], { maxExactRows: 1000, budgetRows: 200 });
    expect(plan.exact.map(({ label }) => label)).toEqual(['x', 'y']);
  });

  it('with a budget of 0 counts only tables with nothing to scan', () => {
    const plan = planRowCounts([table({ label: 'empty' }), sized('one', 1)], { maxExactRows: 1000, budgetRows: 0 });
    expect(plan.exact.map(({ label }) => label)).toEqual(['empty']);
    expect(plan.estimated).toEqual(new Map([['one', 1]]));
  });
});

describe('exactCountSql', () => {
  it('quotes every schema and table name as an identifier', () => {
    const sql = exactCountSql([
      { schema: 'public', name: 'devices' },
      { schema: 'public', name: 'Odd Name' },
      { schema: 'audit', name: 'x"; drop table y; --' },
    ]);
    expect(sql).toBe(
      [
        'SELECT 0 AS i, count(*)::float8 AS n FROM "public"."devices"',
        'SELECT 1 AS i, count(*)::float8 AS n FROM "public"."Odd Name"',
        'SELECT 2 AS i, count(*)::float8 AS n FROM "audit"."x""; drop table y; --"',
      ].join('\nUNION ALL\n'),
    );
  });

  it('parses the counts by index', () => {
    expect(parseExactCounts([{ i: 1, n: 7 }, { i: 0, n: 3 }])).toEqual(new Map([[1, 7], [0, 3]]));
    expect(() => parseExactCounts([{ i: 0, n: '3' }])).toThrow('column n is not a number ("3")');
  });
});

import { DatabaseError } from 'pg';
import { loadConfig } from '../../src/config';
import { CollectionError, collectorPoolConfig, describeDatabaseError, poolWouldQueue } from '../../src/db/database-pool';
import { operationOf } from '../../src/db/instrumented-pool';
import {
  databaseSamples,
  estimatedRows,
  exactCountSql,
  parseExactCounts,
  parseServerStats,
  parseTableListing,
  planRowCounts,
  rowsToScan,
  type TableStats,
} from '../../streams/database';
import { iotflowSamples, missingTablesMessage } from '../../streams/iotflow';

describe('operationOf', () => {
  it.each([
    ['SELECT 1', 'select'],
    ['  \n\tselect * from devices', 'select'],
    ['insert into t values (1)', 'insert'],
    ['UPDATE t SET a = 1', 'update'],
    ['delete from t', 'delete'],
    ['-- a comment\nDELETE FROM t', 'delete'],
    ['/* one /* nested */ comment */ update t set a = 1', 'update'],
    ['/* select */ -- select\n insert into t default values', 'insert'],
    ['(SELECT 1) UNION (SELECT 2)', 'select'],
    ['TABLE devices', 'select'],
    ['VALUES (1), (2)', 'select'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'select'],
    ['with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select * from r', 'select'],
    ['WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved', 'insert'],
    ['WITH a AS (SELECT 1), b AS MATERIALIZED (SELECT 2) UPDATE t SET x = 1', 'update'],
    ['WITH update AS (SELECT 1) DELETE FROM t', 'delete'],
    [`WITH x AS (SELECT ')' AS p, "a)b" FROM t) DELETE FROM t`, 'delete'],
    [`WITH x AS (SELECT E'\\')' AS p) UPDATE t SET a = 1`, 'update'],
    ['WITH x AS (SELECT $$ ) $$, $tag$ ) $tag$, $1) INSERT INTO t VALUES (1)', 'insert'],
    ['WITH x AS (SELECT 1) MERGE INTO t USING x ON true WHEN MATCHED THEN DO NOTHING', 'other'],
    ['BEGIN', 'other'],
    ['EXPLAIN SELECT 1', 'other'],
    ['COPY t FROM STDIN', 'other'],
    ['', 'other'],
    ['-- only a comment', 'other'],
    ['WITH x AS (SELECT 1)', 'other'],
  ])('%j is %s', (sql, operation) => {
    expect(operationOf(sql)).toBe(operation);
  });
});

describe('poolWouldQueue', () => {
  it.each([
    [{ idle: 0, total: 0, waiting: 0, max: 2 }, false],
    [{ idle: 1, total: 1, waiting: 0, max: 2 }, false],
    [{ idle: 0, total: 1, waiting: 0, max: 2 }, false],
    [{ idle: 1, total: 2, waiting: 0, max: 2 }, false],
    [{ idle: 0, total: 2, waiting: 0, max: 2 }, true],
    // Two checkouts in the same tick: the second one claimed the last free slot.
    [{ idle: 1, total: 2, waiting: 1, max: 2 }, true],
    [{ idle: 0, total: 1, waiting: 1, max: 2 }, true],
  ])('%j → %s', (load, expected) => {
    expect(poolWouldQueue(load)).toBe(expected);
  });
});

describe('collectorPoolConfig', () => {
  it('keeps every wait below the collection timeout and names the application', () => {
    const config = loadConfig({ COLLECTION_INTERVAL_SECONDS: '15', COLLECTION_TIMEOUT_SECONDS: '10', DATABASE_URL: 'postgres://u:pw@db:5432/iot' });
    const pool = collectorPoolConfig(config);
    expect(pool).toMatchObject({ max: 2, application_name: 'iotflow-metrics', connectionString: 'postgres://u:pw@db:5432/iot' });
    for (const wait of [pool.statement_timeout, pool.connectionTimeoutMillis, pool.query_timeout]) {
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThan(10_000);
    }
    expect(pool.idleTimeoutMillis).toBeGreaterThan(15_000);
    // A locked table ends a statement long before the statement timeout would.
    expect(pool.lock_timeout).toBe(1000);
  });
});

describe('describeDatabaseError', () => {
  const url = 'postgres://monitor:s%40cret-pw@db.example:5432/iot';

  it('names the server without its password and scrubs both forms of the password from the message', () => {
    const message = describeDatabaseError(new Error('failed for postgres://monitor:s%40cret-pw@db.example, password s@cret-pw'), url);
    expect(message).toContain('db.example:5432/iot');
    expect(message).not.toContain('s%40cret-pw');
    expect(message).not.toContain('s@cret-pw');
  });

  it('spells out an AggregateError (a refused dual-stack connect has an empty message)', () => {
    const refused = new AggregateError([new Error('connect ECONNREFUSED ::1:1'), new Error('connect ECONNREFUSED 127.0.0.1:1')], '');
    expect(describeDatabaseError(refused, url)).toBe(
      'PostgreSQL at postgres://monitor:***@db.example:5432/iot: connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('adds the SQLSTATE of a server error and passes a CollectionError through', () => {
    const serverError = new DatabaseError('canceling statement due to statement timeout', 0, 'error');
    serverError.code = '57014';
    expect(describeDatabaseError(serverError, url)).toMatch(/statement timeout \(SQLSTATE 57014\)$/);
    expect(describeDatabaseError(new CollectionError('table "users" does not exist in database "iot"'), url)).toBe('table "users" does not exist in database "iot"');
  });
});

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

const serverRow = {
  database: 'iot',
  connections_max: 100,
  connections_total: 7,
  connections_active: 2,
  connections_idle: 4,
  connections_idle_in_transaction: 1,
  transactions_committed: 12345,
  transactions_rolled_back: 6,
};

describe('parseServerStats, parseTableListing and databaseSamples', () => {
  it('turns the rows and the row counts into the catalog samples', () => {
    const listing = parseTableListing({
      tables: [{ schema: 'audit', name: 'events', label: 'audit.events', readable: true, reltuples: 10, relpages: 1, live_tuples: 10, dead_tuples: 2 }],
      missing: ['nope'],
    });
    expect(listing).toEqual({
      tables: [{ schema: 'audit', name: 'events', label: 'audit.events', readable: true, reltuples: 10, relpages: 1, liveTuples: 10, deadTuples: 2 }],
      missing: ['nope'],
    });
    const rows = new Map([['audit.events', 11], ['Odd Name', 3]]);
    expect(databaseSamples(parseServerStats(serverRow), { rows, exact: 1, estimated: 1, skipped: 1 }, 3)).toEqual([
      { name: 'database_connections_total', value: 7 },
      { name: 'database_connections_active', value: 2 },
      { name: 'database_connections_idle', value: 4 },
      { name: 'database_connections_idle_in_transaction', value: 1 },
      { name: 'database_connections_max', value: 100 },
      { name: 'database_transactions_total', labels: { state: 'commit' }, value: 12345 },
      { name: 'database_transactions_total', labels: { state: 'rollback' }, value: 6 },
      { name: 'database_collection_queries', value: 3 },
      { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: 1 },
      { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: 1 },
      { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: 1 },
      { name: 'database_table_rows', labels: { table: 'audit.events' }, value: 11 },
      { name: 'database_table_rows', labels: { table: 'Odd Name' }, value: 3 },
    ]);
  });

  it('keeps the server samples when the table part failed', () => {
    expect(databaseSamples(parseServerStats(serverRow), undefined, 2).map(({ name }) => name)).toEqual([
      'database_connections_total',
      'database_connections_active',
      'database_connections_idle',
      'database_connections_idle_in_transaction',
      'database_connections_max',
      'database_transactions_total',
      'database_transactions_total',
      'database_collection_queries',
    ]);
  });

  it('names the column that is not as expected', () => {
    expect(() => parseServerStats({ ...serverRow, connections_max: '100' })).toThrow('column connections_max is not a number ("100")');
    expect(() => parseTableListing({ tables: null, missing: [] })).toThrow('column tables is not a list (null)');
  });
});

describe('iotflow', () => {
  it('maps the query row to the four catalog samples', () => {
    expect(iotflowSamples({ devices_total: 5, devices_active: 3, devices_online: 2, users_total: 4 })).toEqual([
      { name: 'iotflow_devices_total', value: 5 },
      { name: 'iotflow_devices_active', value: 3 },
      { name: 'iotflow_devices_online', value: 2 },
      { name: 'iotflow_users_total', value: 4 },
    ]);
    expect(() => iotflowSamples({ devices_total: 5, devices_active: 3, devices_online: null, users_total: 4 })).toThrow(
      'IoTFlow query column devices_online is not a number (null)',
    );
  });

  it('names the missing tables and the database', () => {
    expect(missingTablesMessage(['users'], 'iot')).toBe('table "users" does not exist in database "iot"');
    expect(missingTablesMessage(['devices', 'users'], 'iot')).toBe('tables "devices", "users" do not exist in database "iot"');
  });
});

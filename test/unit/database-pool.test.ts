import { DatabaseError } from 'pg';
import { loadConfig } from '../../streams/config';
import { CollectionError, collectorPoolConfig, describeDatabaseError, poolWouldQueue } from '../../src/db/database-pool';
import { operationOf } from '../../src/db/instrumented-pool';

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

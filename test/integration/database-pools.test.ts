import { Registry } from 'prom-client';
import { loadConfig } from '../../streams/config';
import { DatabasePool } from '../../src/db/database-pool';
import { createInstrumentedPool } from '../../src/db/instrumented-pool';
import { createLogger } from '../../src/logger';
import { createTestDatabase, databaseUrl, dropTestDatabase, withConnection } from '../support/postgres';
import { eventually } from '../support/service';

describe('DatabasePool', () => {
  let db: string;
  const logLines: string[] = [];
  const logger = createLogger('info', (line) => logLines.push(line));

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    if (db) await dropTestDatabase(db);
  });

  it('fails a checkout at once when both connections are busy, instead of queueing it', async () => {
    // Timeouts far beyond the test's steps (lock_timeout is a tenth of the collection timeout): the two busy connections wait on the lock until released.
    const pool = new DatabasePool(loadConfig({ DATABASE_URL: databaseUrl(db), COLLECTION_INTERVAL_SECONDS: '300', COLLECTION_TIMEOUT_SECONDS: '300' }), new Registry(), logger);
    await withConnection(db, async (admin) => {
      await admin.query('SELECT pg_advisory_lock(4242)');
      const blocked = [0, 1].map(() => pool.withClient((client) => client.query('SELECT pg_advisory_lock_shared(4242), pg_advisory_unlock_shared(4242)')));
      // Both connections are really busy: the server shows them waiting for the lock, under the exporter's name.
      await eventually(async () => {
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'iotflow-metrics' AND wait_event_type = 'Lock'`, [db]);
        return rows[0].n === 2 ? true : undefined;
      }, 'two pool connections waiting for the lock');

      await expect(pool.withClient((client) => client.query('SELECT 1'))).rejects.toThrow(
        'all 2 PostgreSQL connections of the exporter are busy (an earlier collection is still running); collection skipped instead of queued',
      );
      expect(pool.pool.waitingCount).toBe(0);

      await admin.query('SELECT pg_advisory_unlock(4242)');
      await Promise.all(blocked);
    });
    const { rows } = await pool.withClient((client) => client.query('SELECT 1 AS one'));
    expect(rows).toEqual([{ one: 1 }]);
    await pool.end();
    await pool.end();
  });

  it('ends a statement that outlives the collection timeout on the server, and keeps the connection', async () => {
    const pool = new DatabasePool(loadConfig({ DATABASE_URL: databaseUrl(db), COLLECTION_INTERVAL_SECONDS: '1', COLLECTION_TIMEOUT_SECONDS: '1' }), new Registry(), logger);
    const settings = await pool.withClient((client) => client.query(`SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('TimeZone') AS zone`));
    expect(settings.rows[0]).toEqual({ statement_timeout: '800ms', zone: 'UTC' });
    await expect(pool.withClient((client) => client.query('SELECT pg_sleep(30)'))).rejects.toThrow(
      /^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/\w+: canceling statement due to statement timeout \(SQLSTATE 57014\)$/,
    );
    expect(pool.pool.totalCount).toBe(1);
    await pool.end();
  });

  it('fails the work, not the process, when its connection is ended while checked out', async () => {
    const pool = new DatabasePool(loadConfig({ DATABASE_URL: databaseUrl(db) }), new Registry(), logger);
    const work = pool.withClient(async (client) => {
      const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
      // The server ends the session between two queries: pg emits 'error' on the checked-out client.
      await withConnection(db, (admin) => admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]));
      await eventually(async () => {
        const { rows: left } = await withConnection(db, (admin) => admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [rows[0].pid]));
        return left.length === 0 ? true : undefined;
      }, 'the session to end');
      return client.query('SELECT 1');
    });
    await expect(work).rejects.toThrow(/^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/\w+: /);
    const { rows } = await pool.withClient((client) => client.query('SELECT 1 AS one'));
    expect(rows).toEqual([{ one: 1 }]);
    await pool.end();
  });
});

describe('createInstrumentedPool (library export)', () => {
  let db: string;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    if (db) await dropTestDatabase(db);
  });

  it('counts and times every query by operation, whichever way it is issued', async () => {
    const registry = new Registry();
    const pool = createInstrumentedPool({ connectionString: databaseUrl(db), max: 1 }, registry);
    // A second pool on the same registry shares the instruments instead of registering them twice.
    const secondPool = createInstrumentedPool({ connectionString: databaseUrl(db), max: 1 }, registry);
    await pool.query('SELECT 1');
    await pool.query({ text: 'WITH x AS (SELECT 1) SELECT * FROM x' });
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow('relation "no_such_table" does not exist');
    const client = await pool.connect();
    await client.query('CREATE TEMP TABLE probe (a int)');
    await client.query('/* app */ INSERT INTO probe VALUES ($1)', [1]);
    await new Promise<void>((resolve, reject) => client.query('UPDATE probe SET a = 2', (error) => (error ? reject(error) : resolve())));
    await client.query('  -- cleanup\n DELETE FROM probe');
    client.release();
    await secondPool.query('select 2');
    await Promise.all([pool.end(), secondPool.end()]);

    const values = async (name: string) =>
      Object.fromEntries(
        ((await registry.getSingleMetric(name)!.get()).values as { value: number; labels: Record<string, string>; metricName?: string }[])
          .filter((value) => value.metricName === undefined || value.metricName === `${name}_count`)
          .map((value) => [value.labels.operation, value.value]),
      );
    // The CTE counts as other: the operation is the statement's first keyword.
    const expected = { select: 3, insert: 1, update: 1, delete: 1, other: 2 };
    expect(await values('database_queries_total')).toEqual(expected);
    expect(await values('database_query_duration_seconds')).toEqual(expected);
  });
});

import { randomBytes } from 'node:crypto';
import { type Client } from 'pg';
import { sampleValue } from '../support/http';
import { collectionsOf, metricValue, readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { createTestDatabase, dropTestDatabase, POSTGRES_HOST, POSTGRES_PORT, withConnection } from '../support/postgres';
import { eventually, type RunningService } from '../support/service';
import { serviceOnTestDatabase, stopAndDrop, seedIotflowSchema } from '../support/database-service';

describe('database source in a database with more user tables than it covers', () => {
  let db: string;
  let service: RunningService;

  beforeAll(async () => {
    // One statement counts all 500 tables: 0.6-0.9 s on a loaded two-core machine, past the 0.8 s
    // statement timeout a 1 s collection timeout gives. 4 s leave it room; the test is about the 500.
    const roomy = { COLLECTION_INTERVAL_SECONDS: '4', COLLECTION_TIMEOUT_SECONDS: '4' };
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database', ...roomy }, (client) =>
      client.query(`DO $$ BEGIN FOR i IN 1..501 LOOP EXECUTE format('CREATE TABLE %I (a int)', 't' || i); END LOOP; END $$`),
    ));
  });

  afterAll(() => stopAndDrop(service, db));

  it('reports the first 500 by name and says so once', async () => {
    await waitUntilUp(service.port, 'database', 1);
    await collectionsOf(service.port, 'database', 2);
    expect(service.logLines.filter((line) => line.includes('database_table_rows left out'))).toEqual([]);
    const reported = [...(await readSamples(service.port)).keys()].filter((series) => series.startsWith('database_table_rows{'));
    expect(reported).toHaveLength(500);
    expect(reported).not.toContain('database_table_rows{table="t99"}'); // t99 sorts after the 500 others
    expect(service.logLines.filter((line) => line.includes('more than 500 user tables'))).toHaveLength(1);
  });
});

describe('database source while a table is locked', () => {
  let db: string;
  let service: RunningService;

  beforeAll(async () => {
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database,iotflow' }, async (client) => {
      await seedIotflowSchema(client);
      await client.query(`
        INSERT INTO users (username) SELECT 'user' || n FROM generate_series(1, 3) AS n;
        INSERT INTO devices (name, status) VALUES ('a', 'active'), ('b', 'inactive');
        CREATE TABLE readings (a int);
        INSERT INTO readings SELECT generate_series(1, 4);
      `);
    }));
  });

  afterAll(() => stopAndDrop(service, db));

  it('case 3: a locked table leaves connection series and the other tables in place', async () => {
    await withConnection(db, async (locker) => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE devices IN ACCESS EXCLUSIVE MODE');
      // Held through several collections, longer than the collection timeout (1 s).
      await collectionsOf(service.port, 'database', 3);
      const samples = await readSamples(service.port);
      expect(sampleValue(samples, 'collector_up', { source: 'database' })).toBe(1);
      for (const name of ['database_connections_total', 'database_connections_active', 'database_connections_max']) {
        expect({ name, value: sampleValue(samples, name) }).toEqual({ name, value: expect.any(Number) });
      }
      expect(sampleValue(samples, 'database_transactions_total', { state: 'commit' })).toBeGreaterThan(0);
      expect(sampleValue(samples, 'database_transactions_total', { state: 'rollback' })).toEqual(expect.any(Number));
      expect(sampleValue(samples, 'database_table_rows', { table: 'users' })).toBe(3);
      expect(sampleValue(samples, 'database_table_rows', { table: 'readings' })).toBe(4);
      expect(sampleValue(samples, 'database_table_rows', { table: 'devices' })).toBeUndefined();
      expect(sampleValue(samples, 'database_collection_tables', { row_count: 'skipped' })).toBe(1);
      const reports = service.logLines.filter((line) => line.includes('"devices"') && line.includes('lock'));
      expect(reports).toHaveLength(1);
      await locker.query('ROLLBACK');
    });
    await waitForMetric(service.port, 'database_table_rows', { table: 'devices' }, (value) => value === 2, 'devices counted again after the lock');
    await waitUntilUp(service.port, 'iotflow', 1);
  });
});

describe('database source with a table it may read but not count', () => {
  let db: string;
  let service: RunningService;
  const role = `iotflow_metrics_test_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    await withConnection('postgres', (client) => client.query(`CREATE ROLE ${role} LOGIN`));
    // SELECT on the table but no USAGE on its schema: the catalog says readable, the count is refused.
    const seed = (client: Client) =>
      client.query(`CREATE SCHEMA hidden; CREATE TABLE hidden.t (a int); GRANT SELECT ON hidden.t TO ${role};
                    CREATE TABLE open_t (a int); INSERT INTO open_t VALUES (1); GRANT SELECT ON open_t TO ${role}`);
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database' }, seed, (name) => `postgres://${role}@${POSTGRES_HOST}:${POSTGRES_PORT}/${name}`));
  });

  afterAll(async () => {
    await stopAndDrop(service, db);
    await withConnection('postgres', (client) => client.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('case 3: a failing count leaves the connection and transaction series in place, logged once', async () => {
    await waitUntilUp(service.port, 'database', 1);
    await collectionsOf(service.port, 'database', 2);
    const samples = await readSamples(service.port);
    // A LOGIN-only role: the connection counts are left out (see database-least-privilege.test.ts), what it can see stays.
    expect(sampleValue(samples, 'database_connections_visible')).toBe(0);
    expect(sampleValue(samples, 'database_connections_max')).toEqual(expect.any(Number));
    expect(sampleValue(samples, 'database_transactions_total', { state: 'commit' })).toBeGreaterThan(0);
    expect([...samples.keys()].filter((series) => series.startsWith('database_table_rows{'))).toEqual([]);
    const reports = service.logLines.filter((line) => line.includes('database_table_rows left out'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('permission denied for schema hidden (SQLSTATE 42501)');
  });
});

describe('database source with more rows in small tables than the exact-count budget', () => {
  let db: string;
  let service: RunningService;
  /** s01 … s20: table sNN holds NN × 100 rows after ANALYZE, one fewer since, so an estimate and a count differ. */
  const sizes = Array.from({ length: 20 }, (_, index) => ({ name: `s${String(index + 1).padStart(2, '0')}`, analyzed: (index + 1) * 100 }));

  beforeAll(async () => {
    const seed = async (client: Client) => {
      for (const { name, analyzed } of sizes) {
        await client.query(`CREATE TABLE ${name} (a int) WITH (autovacuum_enabled = false); INSERT INTO ${name} SELECT generate_series(1, ${analyzed}); ANALYZE ${name}; DELETE FROM ${name} WHERE a = 1`);
      }
    };
    // 100 + 200 + … + 900 = 4500 rows fit in 5000; adding s10 (1000) would not.
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database', DB_EXACT_COUNT_BUDGET_ROWS: '5000' }, seed));
  });

  afterAll(() => stopAndDrop(service, db));

  it('case 4: counts the smallest tables exactly within the budget, takes the estimate for the rest and says how many of each', async () => {
    const samples = await readSamples(service.port);
    const reported = Object.fromEntries(sizes.map(({ name }) => [name, sampleValue(samples, 'database_table_rows', { table: name })]));
    expect(reported).toEqual(Object.fromEntries(sizes.map(({ name, analyzed }) => [name, analyzed <= 900 ? analyzed - 1 : analyzed])));
    expect(sampleValue(samples, 'database_collection_tables', { row_count: 'exact' })).toBe(9);
    expect(sampleValue(samples, 'database_collection_tables', { row_count: 'estimate' })).toBe(11);
    expect(sampleValue(samples, 'database_collection_tables', { row_count: 'skipped' })).toBe(0);

    // The estimated tables are never scanned; the scans of s01 show the collections' statistics have arrived.
    await withConnection(db, async (client) => {
      const scans = () =>
        client
          .query(`SELECT relname, seq_scan FROM pg_stat_user_tables`)
          .then(({ rows }) => Object.fromEntries(rows.map((row) => [row.relname, Number(row.seq_scan)])) as Record<string, number>);
      const before = await scans();
      await collectionsOf(service.port, 'database', 2);
      const after = await eventually(async () => {
        const now = await scans();
        return now.s01 > before.s01 ? now : undefined;
      }, 'the exact count of s01 in pg_stat_user_tables');
      const scanned = sizes.filter(({ name }) => after[name] > before[name]).map(({ name }) => name);
      expect(scanned).toEqual(sizes.filter(({ analyzed }) => analyzed <= 900).map(({ name }) => name));
    });
  });
});

describe('database_transactions_total when another database is dropped', () => {
  let db: string;
  let other: string | undefined;
  let service: RunningService;

  beforeAll(async () => {
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database' }));
  });

  afterAll(async () => {
    if (other) await dropTestDatabase(other);
    await stopAndDrop(service, db);
  });

  it('case 5: does not fall when another database with transactions in it is dropped', async () => {
    const name = (other = await createTestDatabase());
    await withConnection(name, async (client) => {
      await client.query('CREATE PROCEDURE commit_many(n int) LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP COMMIT; END LOOP; END $$');
      await client.query('CALL commit_many(5000)');
    });
    await withConnection('postgres', (client) =>
      eventually(async () => {
        const { rows } = await client.query('SELECT xact_commit::float8 AS n FROM pg_stat_database WHERE datname = $1', [name]);
        return rows[0]?.n >= 5000 ? true : undefined;
      }, 'the other database\'s 5000 commits in pg_stat_database'),
    );
    await collectionsOf(service.port, 'database', 2);
    const before = (await metricValue(service.port, 'database_transactions_total', { state: 'commit' }))!;

    await dropTestDatabase(name);
    other = undefined;
    await collectionsOf(service.port, 'database', 2);
    expect(await metricValue(service.port, 'database_transactions_total', { state: 'commit' })).toBeGreaterThanOrEqual(before);
  });
});

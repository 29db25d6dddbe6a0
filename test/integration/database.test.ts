import { escapeIdentifier, type Client } from 'pg';
import { get, sampleValue } from '../support/http';
import { collectionsOf, metricValue, readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { databaseUrl, withConnection } from '../support/postgres';
import { eventually, startService, type RunningService } from '../support/service';
import { TABLES, qualified, escapedLabel, expectNoPassword, serviceOnTestDatabase, stopAndDrop, seedIotflowSchema } from '../support/database-service';

describe('database and iotflow sources against PostgreSQL', () => {
  let db: string;
  let service: RunningService;

  beforeAll(async () => {
    const seed = async (client: Client, db: string) => {
      await seedIotflowSchema(client);
      await client.query(`
        INSERT INTO users (username) SELECT 'user' || n FROM generate_series(1, 4) AS n;
        INSERT INTO devices (name, status, last_seen, user_id) VALUES
          ('online active',     'active',      (now() AT TIME ZONE 'UTC') - interval '1 minute', 1),
          ('offline active',    'active',      (now() AT TIME ZONE 'UTC') - interval '2 hours',  1),
          ('never seen active', 'active',      NULL,                                              2),
          ('online inactive',   'inactive',    (now() AT TIME ZONE 'UTC') - interval '30 seconds', 3),
          ('maintenance',       'maintenance', (now() AT TIME ZONE 'UTC') - interval '1 day',     NULL);
        INSERT INTO device_auth (device_id, is_active) VALUES (1, true), (2, false);
        CREATE TABLE "Odd Name" (a int);
        INSERT INTO "Odd Name" SELECT generate_series(1, 3);
        CREATE TABLE y (a int);
        INSERT INTO y VALUES (1);
        CREATE TABLE "x""; drop table y; --" (a int);
        INSERT INTO "x""; drop table y; --" VALUES (1), (2);
        CREATE SCHEMA audit;
        CREATE TABLE audit.events (a int);
        INSERT INTO audit.events SELECT generate_series(1, 7);
        -- Above the threshold of 1000 below: estimated. Autovacuum off, so the statistics stay as ANALYZE left them.
        CREATE TABLE big_readings (id int, payload text) WITH (autovacuum_enabled = false);
        INSERT INTO big_readings SELECT n, 'reading ' || n FROM generate_series(1, 5000) AS n;
        ANALYZE big_readings;
        -- The estimate (5000) and the true count (4000) now differ, so the test sees which one is reported.
        DELETE FROM big_readings WHERE id <= 1000;
      `);
      // Naive timestamps read in this zone would be 9 hours off: the exporter must read them as UTC.
      await client.query(`ALTER DATABASE ${escapeIdentifier(db)} SET TimeZone = 'Asia/Tokyo'`);
    };
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database,iotflow', DB_EXACT_COUNT_MAX_ROWS: '1000' }, seed));
  });

  afterAll(() => stopAndDrop(service, db));

  it('reports every table, odd names included, with exact counts below the threshold, and nothing else happens', async () => {
    const samples = await readSamples(service.port);
    const reported = [...samples.keys()].filter((series) => series.startsWith('database_table_rows{'));
    expect(reported).toHaveLength(TABLES.length);
    await withConnection(db, async (client) => {
      for (const table of TABLES.filter(({ name }) => name !== 'big_readings')) {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${qualified(table)}`);
        expect({ table: table.label, rows: sampleValue(samples, 'database_table_rows', { table: escapedLabel(table.label) }) }).toEqual({ table: table.label, rows: rows[0].n });
      }
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM y`);
      expect(rows[0].n).toBe(1);
    });
  });

  it('reports the planner estimate above the threshold, without a sequential scan of that table', async () => {
    const scans = (client: Client) =>
      client
        .query(`SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname IN ('big_readings', 'Odd Name')`)
        .then(({ rows }) => Object.fromEntries(rows.map((row) => [row.relname, Number(row.seq_scan)])) as Record<string, number>);
    // The test's own count scans big_readings: on a connection of its own, whose end puts the scan
    // in the statistics (a session sends them at most once a second), before the count below starts.
    const { rows } = await withConnection(db, (client) =>
      client.query(`SELECT reltuples, (SELECT count(*)::int FROM big_readings) AS n FROM pg_class WHERE oid = 'big_readings'::regclass`),
    );
    expect(rows[0]).toEqual({ reltuples: 5000, n: 4000 });
    expect(await metricValue(service.port, 'database_table_rows', { table: 'big_readings' })).toBe(5000);
    await withConnection(db, async (client) => {
      const before = await scans(client);
      await collectionsOf(service.port, 'database', 2);
      // The small table's scans show that the collections' statistics have arrived.
      const after = await eventually(async () => {
        const now = await scans(client);
        return now['Odd Name'] > before['Odd Name'] ? now : undefined;
      }, 'the exact count of "Odd Name" in pg_stat_user_tables');
      expect(after['big_readings']).toBe(before['big_readings']);
    });
  });

  it('exports the connection and transaction figures of the server', async () => {
    const samples = await readSamples(service.port);
    await withConnection(db, async (client) => {
      const { rows } = await client.query(`
        SELECT current_setting('max_connections')::int AS max, xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks
        FROM pg_stat_database WHERE datname = current_database()`);
      expect(sampleValue(samples, 'database_connections_max')).toBe(rows[0].max);
      // Mirrors of server counters: never ahead of what the server says now, and not zero.
      expect(sampleValue(samples, 'database_transactions_total', { state: 'commit' })).toBeGreaterThan(0);
      expect(sampleValue(samples, 'database_transactions_total', { state: 'commit' })).toBeLessThanOrEqual(rows[0].commits);
      expect(sampleValue(samples, 'database_transactions_total', { state: 'rollback' })).toBeLessThanOrEqual(rows[0].rollbacks);
    });
    const total = sampleValue(samples, 'database_connections_total')!;
    const active = sampleValue(samples, 'database_connections_active')!;
    const idle = sampleValue(samples, 'database_connections_idle')!;
    const idleInTransaction = sampleValue(samples, 'database_connections_idle_in_transaction')!;
    // The collecting connection itself is active while it reads pg_stat_activity.
    expect(active).toBeGreaterThanOrEqual(1);
    expect(active + idle + idleInTransaction).toBeLessThanOrEqual(total);
    // The server figures, the table listing, one statement with every exact count.
    expect(sampleValue(samples, 'database_collection_queries')).toBe(3);
  });

  it('sees its own idle-in-transaction session', async () => {
    await withConnection(db, async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await waitForMetric(service.port, 'database_connections_idle_in_transaction', {}, (value) => (value ?? 0) >= 1, 'an idle-in-transaction connection');
      await client.query('ROLLBACK');
    });
  });

  it('counts IoTFlow devices and users as inserted, online by last_seen in UTC', async () => {
    await waitUntilUp(service.port, 'iotflow', 1);
    const samples = await readSamples(service.port);
    expect({
      total: sampleValue(samples, 'iotflow_devices_total'),
      active: sampleValue(samples, 'iotflow_devices_active'),
      online: sampleValue(samples, 'iotflow_devices_online'),
      users: sampleValue(samples, 'iotflow_users_total'),
    }).toEqual({ total: 5, active: 3, online: 2, users: 4 });
  });

  it("counts the exporter's own queries in database_queries_total and the duration histogram", async () => {
    const samples = await readSamples(service.port);
    const selects = sampleValue(samples, 'database_queries_total', { operation: 'select' })!;
    expect(selects).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, 'database_query_duration_seconds_count', { operation: 'select' })).toBe(selects);
    expect(sampleValue(samples, 'database_queries_total', { operation: 'delete' })).toBe(0);
    await expectNoPassword(service);
  });

  describe('with DB_TABLES naming a table that does not exist', () => {
    let listed: RunningService;

    beforeAll(async () => {
      listed = await startService({
        SOURCES: 'database',
        DATABASE_URL: databaseUrl(db),
        COLLECTION_INTERVAL_SECONDS: '1',
        COLLECTION_TIMEOUT_SECONDS: '1',
        DB_TABLES: 'public.devices,nope_missing,audit.events,Odd Name',
      });
      await waitUntilUp(listed.port, 'database', 1);
    });

    afterAll(() => listed?.stop());

    it('reports it once, and counts the others', async () => {
      await collectionsOf(listed.port, 'database', 3);
      const samples = await readSamples(listed.port);
      const reported = [...samples.keys()].filter((series) => series.startsWith('database_table_rows{')).sort();
      expect(reported).toEqual(['database_table_rows{table="Odd Name"}', 'database_table_rows{table="audit.events"}', 'database_table_rows{table="devices"}']);
      expect(sampleValue(samples, 'database_table_rows', { table: 'devices' })).toBe(5);
      const reports = listed.logLines.filter((line) => line.includes('nope_missing'));
      expect(reports).toHaveLength(1);
      expect(reports[0]).toContain(`DB_TABLES names table "nope_missing", which does not exist in database "${db}"`);
    });
  });

  describe('when the IoTFlow tables are missing', () => {
    let bare: string;
    let partial: RunningService;

    beforeAll(async () => {
      ({ db: bare, service: partial } = await serviceOnTestDatabase({ SOURCES: 'database,iotflow' }, (client) =>
        client.query('CREATE TABLE devices (id serial, name text, status text, last_seen timestamptz)'),
      ));
    });

    afterAll(() => stopAndDrop(partial, bare));

    it('fails the iotflow source alone, naming the table', async () => {
      await waitUntilUp(partial.port, 'database', 1);
      await waitForMetric(partial.port, 'collector_errors_total', { source: 'iotflow' }, (value) => (value ?? 0) >= 1, 'a failed iotflow collection');
      const samples = await readSamples(partial.port);
      expect(sampleValue(samples, 'collector_up', { source: 'iotflow' })).toBe(0);
      expect(sampleValue(samples, 'iotflow_devices_total')).toBeUndefined();
      expect(sampleValue(samples, 'database_table_rows', { table: 'devices' })).toBe(0);
      const health = JSON.parse((await get(partial.port, '/health')).body);
      expect(health.sources.iotflow.error).toBe(`table "users" does not exist in database "${bare}"`);
      expect(health.sources.database.up).toBe(true);
    });
  });
});

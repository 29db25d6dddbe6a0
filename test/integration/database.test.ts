import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { escapeIdentifier, type Client } from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../../streams/config';
import { DatabasePool } from '../../src/db/database-pool';
import { createInstrumentedPool } from '../../src/db/instrumented-pool';
import { createLogger } from '../../src/logger';
import { get, sampleValue } from '../support/http';
import { collectionsOf, metricValue, readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { createTestDatabase, databaseUrl, dropTestDatabase, POSTGRES_HOST, POSTGRES_PORT, withConnection } from '../support/postgres';
import { eventually, startService, type RunningService } from '../support/service';

const PASSWORD = 'sekret-pw';

/** Tables of the main test database: schema, name, `table` label. The odd names must count like any other. */
const TABLES = [
  { schema: 'public', name: 'users', label: 'users' },
  { schema: 'public', name: 'devices', label: 'devices' },
  { schema: 'public', name: 'device_auth', label: 'device_auth' },
  { schema: 'public', name: 'Odd Name', label: 'Odd Name' },
  { schema: 'public', name: 'x"; drop table y; --', label: 'x"; drop table y; --' },
  { schema: 'public', name: 'y', label: 'y' },
  { schema: 'audit', name: 'events', label: 'audit.events' },
  { schema: 'public', name: 'big_readings', label: 'big_readings' },
];
const qualified = ({ schema, name }: { schema: string; name: string }) => `${escapeIdentifier(schema)}.${escapeIdentifier(name)}`;

/** Label values as they appear in the exposition text (sampleValue matches the text). */
const escapedLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** Fails the test if the password shows anywhere the service writes. */
async function expectNoPassword(service: RunningService): Promise<void> {
  expect((await get(service.port, '/metrics')).body).not.toContain(PASSWORD);
  expect((await get(service.port, '/health')).body).not.toContain(PASSWORD);
  expect(service.logLines.join('')).not.toContain(PASSWORD);
}

/**
 * A test database of its own, filled by `seed`, and a service collecting from it every second
 * (1 s timeout), once its database source is up. The database goes if the service does not start.
 */
async function serviceOnTestDatabase(
  env: Record<string, string>,
  seed?: (client: Client, db: string) => Promise<unknown>,
  url: (db: string) => string = databaseUrl,
): Promise<{ db: string; service: RunningService }> {
  const db = await createTestDatabase();
  try {
    if (seed) await withConnection(db, (client) => seed(client, db));
    const service = await startService({ DATABASE_URL: url(db), COLLECTION_INTERVAL_SECONDS: '1', COLLECTION_TIMEOUT_SECONDS: '1', ...env });
    await waitUntilUp(service.port, 'database', 1).catch(async (error) => {
      await service.stop();
      throw error;
    });
    return { db, service };
  } catch (error) {
    await dropTestDatabase(db);
    throw error;
  }
}

async function stopAndDrop(service: RunningService | undefined, db: string | undefined): Promise<void> {
  await service?.stop();
  if (db) await dropTestDatabase(db);
}

async function seedIotflowSchema(client: Client): Promise<void> {
  await client.query(`
    CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL, email text, is_active boolean DEFAULT true);
    -- last_seen without time zone, written in UTC, as the IoTFlow application does.
    CREATE TABLE devices (id serial PRIMARY KEY, name text NOT NULL, status text, last_seen timestamp, user_id int REFERENCES users);
    CREATE TABLE device_auth (id serial PRIMARY KEY, device_id int REFERENCES devices, is_active boolean);
  `);
}

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

describe('database source without a server', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({
      SOURCES: 'database,iotflow,app',
      DATABASE_URL: databaseUrl('postgres', { port: 1 }),
      COLLECTION_INTERVAL_SECONDS: '1',
      COLLECTION_TIMEOUT_SECONDS: '1',
    });
  });

  afterAll(() => service?.stop());

  it('keeps serving /metrics, says the source is down and counts the failures, without the password', async () => {
    await waitForMetric(service.port, 'collector_errors_total', { source: 'database' }, (value) => (value ?? 0) >= 2, 'two failed database collections');
    const samples = await readSamples(service.port);
    expect(sampleValue(samples, 'collector_up', { source: 'database' })).toBe(0);
    expect(sampleValue(samples, 'collector_up', { source: 'iotflow' })).toBe(0);
    expect(sampleValue(samples, 'collector_up', { source: 'app' })).toBe(1);
    expect(sampleValue(samples, 'database_connections_total')).toBeUndefined();
    // Request-time instruments stay, whatever the source does.
    expect(sampleValue(samples, 'database_queries_total', { operation: 'select' })).toBe(0);
    const health = JSON.parse((await get(service.port, '/health')).body);
    expect(health.sources.database.error).toMatch(/^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres: .*ECONNREFUSED/);
    await expectNoPassword(service);
  });
});

/** A real TCP hop to PostgreSQL that the test can take down and bring back on the same port. */
class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = net.createServer((downstream) => {
      const upstream = net.connect(POSTGRES_PORT, POSTGRES_HOST);
      for (const socket of [downstream, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => (socket === downstream ? upstream : downstream).destroy());
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, POSTGRES_HOST, resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection, as a crashed or unreachable server would. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

describe('database source through a connection that goes away and comes back', () => {
  let db: string;
  let service: RunningService;
  const proxy = new TcpProxy();

  beforeAll(async () => {
    await proxy.open();
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database' }, (client) => client.query('CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)'), (name) =>
      databaseUrl(name, { port: proxy.port }),
    ));
  });

  afterAll(async () => {
    await stopAndDrop(service, db);
    await proxy.close();
  });

  it('goes down with the connection and recovers when it is back, never showing the password', async () => {
    await waitUntilUp(service.port, 'database', 1);
    expect(await metricValue(service.port, 'database_table_rows', { table: 't' })).toBe(2);
    const queriesBefore = (await metricValue(service.port, 'database_queries_total', { operation: 'select' }))!;

    await proxy.close();
    await waitUntilUp(service.port, 'database', 0);
    const down = await readSamples(service.port);
    expect(sampleValue(down, 'database_table_rows', { table: 't' })).toBeUndefined();
    expect(sampleValue(down, 'collector_errors_total', { source: 'database' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(down, 'database_queries_total', { operation: 'select' })).toBeGreaterThanOrEqual(queriesBefore);
    await expectNoPassword(service);

    await proxy.open();
    await waitUntilUp(service.port, 'database', 1);
    expect(await metricValue(service.port, 'database_table_rows', { table: 't' })).toBe(2);
    expect(service.logLines.some((line) => line.includes('source database recovered'))).toBe(true);
    await expectNoPassword(service);
  });
});

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

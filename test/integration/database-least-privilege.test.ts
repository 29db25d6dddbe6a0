import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { CollectionResult } from '../../src/source';
import { get } from '../support/http';
import { metricValue, nextResults, sourceHealth, waitForMetric, waitUntilUp } from '../support/metrics';
import { startPasswordCluster, type PasswordCluster } from '../support/postgres-cluster';
import { eventually, startService, type RunningService } from '../support/service';

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const ROLE = `iotflow_login_only_${randomBytes(4).toString('hex')}`;

/** Sessions the test holds open as the superuser, in known states. */
const IDLE = 3;
const ACTIVE = 2;
const IDLE_IN_TRANSACTION = 2;

/** The connection gauges of one collection, by name; a gauge left out is absent. */
function connectionGauges(result: CollectionResult): Record<string, number> {
  if (!result.ok) throw new Error(`collection failed: ${result.error}`);
  return Object.fromEntries(result.samples.filter(({ name }) => name.startsWith('database_connections')).map(({ name, value }) => [name, value]));
}

/**
 * On a cluster of the test's own, so every session is known: the admin connection (idle), IDLE
 * idle sessions, ACTIVE in pg_sleep, IDLE_IN_TRANSACTION inside an open transaction, and the
 * exporter's one connection (active while it reads pg_stat_activity).
 */
describe('PostgreSQL sources under a LOGIN-only role (no pg_read_all_stats, no SELECT on the IoTFlow tables)', () => {
  let cluster: PasswordCluster;
  let admin: Client;
  const sessions: Client[] = [];
  let service: RunningService | undefined;

  const connectAs = async (user: string): Promise<Client> => {
    const client = new Client({ host: '127.0.0.1', port: cluster.port, user, password: PASSWORD, database: 'postgres' });
    // The sessions in pg_sleep end with the cluster; their errors are expected then.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    cluster = await startPasswordCluster(PASSWORD);
    admin = await connectAs('postgres');
    await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
    await admin.query(`
      CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL);
      CREATE TABLE devices (id serial PRIMARY KEY, name text NOT NULL, status text, last_seen timestamp, user_id int REFERENCES users);
      INSERT INTO users (username) VALUES ('ada'), ('grace');
      INSERT INTO devices (name, status, last_seen, user_id) VALUES ('d1', 'active', now(), 1), ('d2', 'inactive', now(), 2);
    `);
    for (let i = 0; i < IDLE + ACTIVE + IDLE_IN_TRANSACTION; i++) sessions.push(await connectAs('postgres'));
    for (const client of sessions.slice(IDLE, IDLE + ACTIVE)) client.query('SELECT pg_sleep(600)').catch(() => undefined);
    for (const client of sessions.slice(IDLE + ACTIVE)) await client.query('BEGIN; SELECT 1');
    await eventually(async () => {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'`);
      return rows[0]!.n === ACTIVE ? true : undefined;
    }, 'the pg_sleep sessions to be active');
  }, 90_000);

  afterAll(async () => {
    await service?.stop();
    await Promise.all([admin, ...sessions].map((client) => client?.end().catch(() => undefined)));
    // The role goes with the cluster.
    cluster?.remove();
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const startAs = async (sources: string): Promise<RunningService> =>
    (service = await startService({
      DATABASE_URL: `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${cluster.port}/postgres`,
      SOURCES: sources,
      COLLECTION_INTERVAL_SECONDS: '1',
      COLLECTION_TIMEOUT_SECONDS: '1',
    }));

  it('connection gauges of a role without pg_read_all_stats are left out and said so, never the role\'s own sessions as the server\'s', async () => {
    const running = await startAs('database');
    await waitUntilUp(running, 'database', 1);
    const [unprivileged] = await nextResults(running, 'database', 1);
    expect(connectionGauges(unprivileged!)).toEqual({ database_connections_visible: 0, database_connections_max: 100 });
    // Tables it may not SELECT from are not counted: they get the catalog's estimate, and say so.
    expect(unprivileged!.ok && unprivileged!.samples.filter(({ name }) => name === 'database_collection_tables')).toEqual([
      { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: 0 },
      { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: 2 },
      { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: 0 },
    ]);
    const warnings = running.logLines.filter((line) => line.includes('lacks the privileges of pg_read_all_stats'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`GRANT pg_monitor`);
    expect(JSON.parse((await get(running.port, '/health')).body)).toMatchObject({ sources: { database: { up: true } } });

    // Granted pg_monitor: the same role reads the true numbers, and the log says they are back.
    await admin.query(`GRANT pg_monitor TO ${ROLE}`);
    await waitForMetric(running, 'database_connections_visible', {}, (value) => value === 1, 'database_connections_visible 1 after GRANT pg_monitor');
    const [privileged] = await nextResults(running, 'database', 1);
    expect(connectionGauges(privileged!)).toEqual({
      database_connections_visible: 1,
      // The admin connection, the test's sessions and the exporter's own (active while it reads).
      database_connections_total: 1 + IDLE + ACTIVE + IDLE_IN_TRANSACTION + 1,
      database_connections_active: ACTIVE + 1,
      database_connections_idle: 1 + IDLE,
      database_connections_idle_in_transaction: IDLE_IN_TRANSACTION,
      database_connections_max: 100,
    });
    expect(running.logLines.filter((line) => line.includes('lacks the privileges of pg_read_all_stats'))).toHaveLength(1);
    expect(running.logLines.some((line) => line.includes('now sees every session in pg_stat_activity'))).toBe(true);
    await admin.query(`REVOKE pg_monitor FROM ${ROLE}`);
  }, 60_000);

  it('IoTFlow counts of a role without SELECT on its tables are a collector error, never a quiet 0', async () => {
    const running = await startAs('iotflow');
    const error = await eventually(async () => (await sourceHealth(running.port, 'iotflow')).error?.match(/permission denied.*/)?.[0], 'the first failed collection of iotflow');
    expect(error).toMatch(/permission denied for table (devices|users)/);
    expect(await metricValue(running, 'collector_up', { source: 'iotflow' })).toBe(0);
    for (const name of ['iotflow_devices_total', 'iotflow_devices_active', 'iotflow_devices_online', 'iotflow_users_total']) {
      expect(await metricValue(running, name)).toBeUndefined();
    }

    await admin.query(`GRANT SELECT ON devices, users TO ${ROLE}`);
    await waitUntilUp(running, 'iotflow', 1);
    expect(await metricValue(running, 'iotflow_devices_total')).toBe(2);
    expect(await metricValue(running, 'iotflow_users_total')).toBe(2);
  }, 60_000);
});

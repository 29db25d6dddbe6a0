import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get } from '../support/http';
import { createTestDatabase, databaseUrl, dropTestDatabase, withConnection } from '../support/postgres';
import { killProcess } from '../support/processes';
import { eventually, spawnService, type SpawnedService } from '../support/service';
import { scrapeText } from '../support/peer-postgres-exporter';
import { nextMatching, openStream } from '../support/websocket';

/** DATABASE_QUERIES_FILE in the running service: the start, SIGHUP reloads, and the database source's ownership of the series. */
const FLEET = `pg_fleet:
  query: "SELECT status, count(*) AS devices FROM devices GROUP BY status"
  metrics:
    - status: {usage: "LABEL", description: "Device status"}
    - devices: {usage: "GAUGE", description: "Devices by status"}
pg_missing:
  query: "SELECT calls FROM pg_stat_statements"
  metrics:
    - calls: {usage: "COUNTER", description: "needs the extension"}
`;
const WITH_USERS = `${FLEET}pg_users:
  query: "SELECT count(*) AS total FROM users"
  metrics:
    - total: {usage: "GAUGE", description: "Users"}
`;

let database: string;
let directory: string;
let service: SpawnedService | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  directory = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-queries-'));
  await withConnection(database, (client) =>
    client.query(`CREATE TABLE devices (id serial, status text); INSERT INTO devices (status) VALUES ('active'), ('active'), ('inactive');
                  CREATE TABLE users (id serial); INSERT INTO users DEFAULT VALUES;`),
  );
});

afterEach(async () => {
  if (service) await killProcess(service.child);
  service = undefined;
});

afterAll(async () => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  if (database) await dropTestDatabase(database);
});

function start(file: string, env: Record<string, string> = {}): SpawnedService {
  service = spawnService({ DATABASE_URL: databaseUrl(database), SOURCES: 'database,app', DATABASE_QUERIES_FILE: file, COLLECTION_INTERVAL_SECONDS: '1', ...env });
  return service;
}

const waitFor = (port: number, pattern: RegExp, what: string) =>
  eventually(async () => {
    const body = await scrapeText(port);
    return pattern.test(body) ? body : undefined;
  }, what);

describe('DATABASE_QUERIES_FILE', () => {
  it('stops the start with exit 2 naming the file, the line and the problem', async () => {
    const file = path.join(directory, 'broken.yaml');
    writeFileSync(file, FLEET.replace('"GAUGE"', '"GAGE"'));
    const broken = start(file);
    expect(await broken.exited).toBe(2);
    expect(broken.stderr()).toContain(`configuration error: DATABASE_QUERIES_FILE ${file}:5: column devices of pg_fleet has usage "GAGE"; the usages are`);
  });

  it("serves the file's series as the database source's, a failing query costing only its own, counted", async () => {
    const file = path.join(directory, 'fleet.yaml');
    writeFileSync(file, FLEET);
    const port = await start(file).ready;
    const body = await waitFor(port, /database_queries_errors_total\{namespace="pg_missing"\} [1-9]/, 'the failing namespace counted');
    expect(body).toMatch(/^pg_fleet_devices\{status="active"\} 2$/m);
    expect(body).toMatch(/^database_connections_total \d+$/m);
    expect(body).not.toMatch(/^pg_missing_calls/m);
    expect(body).toMatch(/^collector_up\{source="database"\} 1$/m);
    expect((await get(port, '/metrics?collect[]=database')).body).toMatch(/^pg_fleet_devices\{status="inactive"\} 1$/m);
    expect((await get(port, '/metrics?exclude[]=database')).body).not.toMatch(/pg_fleet_devices/);
    const stream = await openStream(port);
    try {
      const [database] = (await nextMatching(stream, (message) => message.source === 'database' && message.up === true)).slice(-1);
      expect(database.metrics).toContainEqual({ name: 'pg_fleet_devices', labels: { status: 'active' }, value: 2 });
    } finally {
      stream.socket.terminate();
    }
    // Logged once, however many collections fail.
    await waitFor(port, /database_queries_errors_total\{namespace="pg_missing"\} [3-9]/, 'more failed runs');
    expect(service!.stderr().match(/namespace pg_missing failed/g)).toHaveLength(1);
  });

  it('reads the file again on SIGHUP; a broken one is refused with one line and the last good one stays', async () => {
    const file = path.join(directory, 'reloaded.yaml');
    writeFileSync(file, FLEET);
    const port = await start(file).ready;
    const loadedAt = Number(/^database_queries_file_loaded_timestamp_seconds (\S+)$/m.exec(await waitFor(port, /^pg_fleet_devices/m, 'the first collection'))![1]);

    writeFileSync(file, WITH_USERS);
    service!.child.kill('SIGHUP');
    const reloaded = await waitFor(port, /^pg_users_total 1$/m, 'the reloaded file in force');
    expect(reloaded).toMatch(/^database_queries_file_reloads_total\{result="success"\} 1$/m);
    expect(Number(/^database_queries_file_loaded_timestamp_seconds (\S+)$/m.exec(reloaded)![1])).toBeGreaterThan(loadedAt);

    writeFileSync(file, `${WITH_USERS}pg_bad:\n  query: [`);
    service!.child.kill('SIGHUP');
    const refused = await waitFor(port, /^database_queries_file_reloads_total\{result="failure"\} 1$/m, 'the refused reload counted');
    expect(refused).toMatch(/^pg_users_total 1$/m);
    expect(service!.stderr()).toMatch(new RegExp(`queries file reload refused, the file loaded before stays in force: ${file}:\\d+: not valid YAML`));
    expect(service!.child.exitCode).toBeNull();
  });

  it('SIGHUP without a queries file is logged and leaves the process running', async () => {
    service = spawnService({ SOURCES: 'app' });
    const port = await service.ready;
    service.child.kill('SIGHUP');
    await eventually(() => (service!.stderr().includes('SIGHUP received: no DATABASE_QUERIES_FILE to reload') ? true : undefined), 'the SIGHUP logged');
    expect((await get(port, '/health')).status).toBe(200);
    expect(service.child.exitCode).toBeNull();
  });

  it('caps the series of one namespace at DATABASE_QUERIES_MAX_SERIES and counts the rest', async () => {
    const file = path.join(directory, 'flood.yaml');
    writeFileSync(file, `pg_flood:\n  query: "SELECT n::text AS n, 1 AS one FROM generate_series(1, 50) AS n"\n  metrics:\n    - n: {usage: "LABEL"}\n    - one: {usage: "GAUGE"}\n`);
    const port = await start(file, { DATABASE_QUERIES_MAX_SERIES: '10' }).ready;
    const body = await waitFor(port, /database_queries_series_dropped_total\{namespace="pg_flood"\} [1-9]/, 'the dropped series counted');
    expect(body.match(/^pg_flood_one\{/gm)).toHaveLength(10);
  });
});

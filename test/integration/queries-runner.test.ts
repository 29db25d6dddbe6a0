import { Client } from 'pg';
import type { PoolClient } from '../../src/db/pg';
import { parseQueriesFile } from '../../streams/database/queries/queries-file';
import { QueryRunner, type NamespaceTally, type RunContext, type RunQuery } from '../../streams/database/queries/query-runner';
import { runTextQuery } from '../../streams/database/queries/text-query';
import { createTestDatabase, dropTestDatabase, POSTGRES_HOST, POSTGRES_PORT } from '../support/postgres';

const FILE = `pg_devices:
  query: "SELECT status, count FROM devices ORDER BY status, count"
  cache_seconds: 10
  metrics:
    - status: {usage: "LABEL"}
    - count: {usage: "GAUGE"}
pg_broken:
  query: "SELECT value FROM appears_later"
  metrics:
    - value: {usage: "GAUGE"}
pg_new:
  query: "SELECT 1 AS value"
  runonserver: ">=99.0.0"
  metrics:
    - value: {usage: "GAUGE"}
`;

let database: string;
let client: Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new Client({ host: POSTGRES_HOST, port: POSTGRES_PORT, user: 'postgres', database });
  await client.connect();
});

beforeEach(async () => {
  await client.query("DROP TABLE IF EXISTS devices, appears_later; CREATE TABLE devices (status text, count int); INSERT INTO devices VALUES ('active', 3), ('inactive', 1)");
});

afterAll(async () => {
  await client?.end();
  if (database) await dropTestDatabase(database);
});

/** The runner on the test database, with a clock the test moves and the SQL it ran recorded. */
function setUp(maxSeries = 1000) {
  const tallies = new Map<string, NamespaceTally>();
  const runner = new QueryRunner(parseQueriesFile('q.yaml', FILE).namespaces, (namespace) => {
    if (!tallies.has(namespace)) tallies.set(namespace, { errors: 0, dropped: 0 });
    return tallies.get(namespace)!;
  });
  const ran: string[] = [];
  const warnings: string[] = [];
  let nowMs = 0;
  const run: RunQuery = (sql, timeoutMs) => (ran.push(sql), runTextQuery(client as unknown as PoolClient, sql, timeoutMs, (error) => (error as Error).message));
  const context = (): RunContext => ({ run, nowMs, remainingMs: () => 5000, serverVersion: [16, 4, 0], maxSeries, warn: (message) => warnings.push(message) });
  return { runner, ran, warnings, tallies, context, advance: (ms: number) => (nowMs += ms) };
}

describe('QueryRunner', () => {
  it("takes only a failing namespace's series away, logs it once until it recovers, and counts each failure", async () => {
    const { runner, warnings, tallies, context, advance } = setUp();
    expect((await runner.collect(context())).map(({ name, labels, value }) => [name, labels, value])).toEqual([
      ['pg_devices_count', { status: 'active' }, 3],
      ['pg_devices_count', { status: 'inactive' }, 1],
    ]);
    advance(1000);
    await runner.collect(context());
    expect(warnings).toEqual(['queries file: namespace pg_broken failed, its series are left out until it succeeds: relation "appears_later" does not exist']);
    expect(tallies.get('pg_broken')!.errors).toBe(2);
    await client.query('CREATE TABLE appears_later (value int); INSERT INTO appears_later VALUES (5)');
    advance(1000);
    expect((await runner.collect(context())).some(({ name }) => name === 'pg_broken_value')).toBe(true);
    expect(warnings[1]).toBe('queries file: namespace pg_broken succeeds again');
  });

  it('runs a namespace again only once cache_seconds have passed (strictly), serving the kept series meanwhile', async () => {
    const { runner, ran, context, advance } = setUp();
    await runner.collect(context());
    await client.query("UPDATE devices SET count = 4 WHERE status = 'active'");
    advance(10_000);
    expect((await runner.collect(context()))[0].value).toBe(3);
    advance(1);
    expect((await runner.collect(context()))[0].value).toBe(4);
    expect(ran.filter((sql) => sql.includes('FROM devices'))).toHaveLength(2);
  });

  it('skips a namespace whose runonserver range leaves the server out', async () => {
    const { runner, ran, context } = setUp();
    await runner.collect(context());
    expect(ran).not.toContain('SELECT 1 AS value');
  });

  it('drops the series past the cap, counts them and says so once', async () => {
    const { runner, warnings, tallies, context, advance } = setUp(1);
    expect(await runner.collect(context())).toHaveLength(1);
    advance(20_000);
    await runner.collect(context());
    expect(tallies.get('pg_devices')!.dropped).toBe(2);
    expect(warnings.filter((message) => message.includes('DATABASE_QUERIES_MAX_SERIES'))).toHaveLength(1);
  });

  it("keeps the first row's series of rows that repeat its labels, drops the others, counts them and says so once", async () => {
    await client.query("INSERT INTO devices VALUES ('active', 7), ('active', 8)");
    const { runner, warnings, tallies, context, advance } = setUp();
    expect((await runner.collect(context())).map(({ labels, value }) => [labels, value])).toEqual([
      [{ status: 'active' }, 3],
      [{ status: 'inactive' }, 1],
    ]);
    advance(20_000);
    await runner.collect(context());
    expect(tallies.get('pg_devices')!.dropped).toBe(2);
    expect(warnings.filter((message) => message.includes('more than one row'))).toEqual([
      'queries file: namespace pg_devices returned more than one row for pg_devices_count{"status":"active"}; the first row\'s series is kept, the others are dropped and counted in database_queries_series_dropped_total (reported once)',
    ]);
  });

  it('does not start a query the collection has no time left for', async () => {
    const { runner, ran, context } = setUp();
    await runner.collect({ ...context(), remainingMs: () => 10 });
    expect(ran).toEqual([]);
  });

  it("ends a query at what is left of the collection's budget, and the failure is the namespace's own", async () => {
    const slow = parseQueriesFile('q.yaml', 'pg_slow:\n  query: "SELECT 1 AS value FROM pg_sleep(5)"\n').namespaces;
    const { context } = setUp();
    const warnings: string[] = [];
    const runner = new QueryRunner(slow, () => ({ errors: 0, dropped: 0 }));
    expect(await runner.collect({ ...context(), remainingMs: () => 200, warn: (message) => warnings.push(message) })).toEqual([]);
    expect(warnings[0]).toMatch(/namespace pg_slow failed.*canceling statement due to statement timeout/);
  });
});

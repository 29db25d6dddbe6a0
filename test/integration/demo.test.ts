import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createFleetDatabase, FLEET_DATABASE_MARK } from '../../demo/fleet-database';
import { PROMETHEUS_BINARY, SCRAPE_JOB } from '../../demo/prometheus';
import { get, sampleValue } from '../support/http';
import { readSamples } from '../support/metrics';
import { sparePort } from '../support/ports';
import { DEMO_READY_TIMEOUT_MS, type RunningDemo, startDemo } from '../support/demo';
import { createTestDatabase, databaseUrl, dropTestDatabase, withConnection } from '../support/postgres';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { eventually, ROOT } from '../support/service';

const hasPrometheus = existsSync(PROMETHEUS_BINARY);

const databaseExists = (name: string) =>
  withConnection('postgres', async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo (the built demo, small: 50 devices, 20 messages/s)', () => {
  let redis: Redis;
  let demo: RunningDemo;

  const scrape = () => readSamples(demo.port);

  beforeAll(async () => {
    // A Redis of its own: the demo's cache traffic would keep the shared Redis's keyspace moving under redis.test.ts.
    const redisPort = await sparePort();
    await startRedisServer(redisPort);
    redis = new Redis(`redis://127.0.0.1:${redisPort}`);
    demo = await startDemo({
      args: ['--devices', '50', '--rate', '20', '--http-rate', '30'],
      prometheus: hasPrometheus,
      // Nothing else set: the machine's PostgreSQL and Mosquitto, as on a fresh machine. A short
      // online window, so devices that disconnect leave the online count within the test.
      env: { COLLECTION_INTERVAL_SECONDS: '1', DEVICE_ONLINE_WINDOW_SECONDS: '3', REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    });
  }, DEMO_READY_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await demo?.cleanUp();
    redis?.disconnect();
    await killAllRedisServers();
  });

  it('case 1: every source is up within one interval, each on a line of its own, and the URLs to open are printed', async () => {
    for (const source of ['system', 'app', 'database', 'iotflow', 'redis', 'mqtt']) expect(demo.output()).toMatch(new RegExp(`^  ${source} +up$`, 'm'));
    const health = JSON.parse((await get(demo.port, '/health')).body) as { status: string; sources: Record<string, { up: boolean }> };
    expect(health.status).toBe('ok');
    for (const suffix of ['/', '/metrics', '/health']) expect(demo.output()).toContain(`http://127.0.0.1:${demo.port}${suffix} `);
    expect(demo.output()).toContain(`ws://127.0.0.1:${demo.port}/stream`);
  });

  it('case 2: the fleet is 50 devices that keep reporting (online count held up, and moving), and telemetry keeps arriving', async () => {
    // Over more than the 3 s online window: a fleet whose reports did not reach last_seen would fall to 0 online.
    const online: number[] = [];
    const telemetry: number[] = [];
    for (let sample = 0; sample < 12; sample++) {
      const samples = await scrape();
      expect(sampleValue(samples, 'iotflow_devices_total')).toBe(50);
      online.push(sampleValue(samples, 'iotflow_devices_online')!);
      telemetry.push(sampleValue(samples, 'iotflow_telemetry_messages_total')!);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Four devices in five are connected, each reporting every ~2 s; every 5 s one leaves and another comes back.
    expect(online[online.length - 1]).toBeGreaterThanOrEqual(30);
    expect(new Set(online).size).toBeGreaterThanOrEqual(2);
    expect(telemetry[telemetry.length - 1]).toBeGreaterThan(telemetry[0]);
  });

  it('case 3: the device API reads through Redis: cache hits and misses, keys under the demo prefix', async () => {
    await eventually(async () => {
      const samples = await scrape();
      return sampleValue(samples, 'redis_cache_hits_total')! > 0 && sampleValue(samples, 'redis_cache_misses_total')! > 0 ? true : undefined;
    }, 'cache hits and misses');
    expect((await redis.keys(`${demo.database}:device:*`)).length).toBeGreaterThan(0);
  });

  it('case 4: the embedding routes are counted under their templates, 404s and 500s included', async () => {
    const count = (method: string, endpoint: string, status: string, samples: Map<string, number>) =>
      sampleValue(samples, 'http_requests_total', { method, endpoint, status }) ?? 0;
    await eventually(
      async () => {
        const samples = await scrape();
        const counts = [
          count('GET', '/api/v1/devices/:id', '200', samples),
          count('GET', '/api/v1/devices/:id', '404', samples),
          count('POST', '/api/v1/devices/:id/telemetry', '202', samples),
          count('POST', '/api/v1/devices/:id/telemetry', '500', samples),
        ];
        return counts.every((value) => value > 0) ? true : undefined;
      },
      'every route and status',
      60,
      500,
    );
    expect([...(await scrape()).keys()].filter((series) => /endpoint="\/api\/v1\/devices\/\d/.test(series))).toEqual([]);
  });

  (hasPrometheus ? it : it.skip)('case 5: with --prometheus, Prometheus scrapes the exporter (up == 1) and loads prometheus/rules/*.yml', async () => {
    expect(demo.output()).toContain(`${demo.prometheusUrl} `);
    const query = encodeURIComponent(`up{job="${SCRAPE_JOB}"}`);
    await eventually(
      async () => {
        const answer = (await (await fetch(`${demo.prometheusUrl}/api/v1/query?query=${query}`)).json()) as { data: { result: { value: [number, string] }[] } };
        return answer.data.result[0]?.value[1] === '1' ? true : undefined;
      },
      'Prometheus to scrape the demo',
      60,
      500,
    );
    // Whatever rule files prometheus/ ships are the ones loaded (none is also an answer).
    const rulesDir = path.join(ROOT, 'prometheus', 'rules');
    const shipped = (existsSync(rulesDir) ? readdirSync(rulesDir) : []).filter((name) => name.endsWith('.yml')).map((name) => path.join(rulesDir, name));
    const rules = (await (await fetch(`${demo.prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { file: string }[] } };
    expect([...new Set(rules.data.groups.map((group) => group.file))].sort()).toEqual(shipped.sort());
  });

  it('case 6: SIGINT stops everything it started: exit 0, its database and cache keys gone, no child left', async () => {
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(demo.child.pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
    if (hasPrometheus) expect(children.length).toBeGreaterThan(0);
    expect(await databaseExists(demo.database)).toBe(true);
    expect(await demo.stop()).toBe(0);
    expect(demo.output()).toContain(`dropped database ${demo.database}`);
    expect(await databaseExists(demo.database)).toBe(false);
    expect(await redis.keys(`${demo.database}:*`)).toEqual([]);
    expect(children.filter(alive)).toEqual([]);
  });
});

describe('npm run demo stopped while it starts', () => {
  it('case 7: SIGINT while the database is being seeded: exit 0 and the database dropped', async () => {
    const database = `iotflow_demo_test_${randomBytes(6).toString('hex')}`;
    // Enough devices that seeding takes a while: the signal arrives in the middle of it.
    const demo = spawn(process.execPath, [path.join(ROOT, 'dist', 'demo', 'main.js'), '--devices', '300000', '--database', database], {
      env: { PATH: process.env.PATH ?? '', PORT: String(await sparePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => ((await databaseExists(database)) ? true : undefined), 'the demo to create its database', 300, 20);
      expect(output).not.toContain('  database  '); // still seeding
      demo.kill('SIGINT');
      expect({ code: await exited, output }).toEqual({ code: 0, output: expect.stringContaining(`dropped database ${database}`) });
      expect(await databaseExists(database)).toBe(false);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
      await dropTestDatabase(database);
    }
  });
});

describe('the fleet database (demo/fleet-database.ts)', () => {
  it('case 8: a database it did not create is refused and left alone, never replaced', async () => {
    const name = await createTestDatabase();
    try {
      await withConnection(name, (client) => client.query('CREATE TABLE precious (a int); INSERT INTO precious VALUES (1)'));
      await expect(createFleetDatabase({ adminUrl: databaseUrl('postgres'), name, devices: 3 })).rejects.toThrow(`database "${name}" exists and was not created by iotflow-metrics`);
      expect(await withConnection(name, async (client) => (await client.query('SELECT a FROM precious')).rows)).toEqual([{ a: 1 }]);
    } finally {
      await dropTestDatabase(name);
    }
  });

  it('case 9: a fleet database of the same name is recreated with the new fleet, and drop removes it', async () => {
    const name = `iotflow_fleet_test_${randomBytes(6).toString('hex')}`;
    const first = await createFleetDatabase({ adminUrl: databaseUrl('postgres'), name, devices: 3 });
    try {
      expect(first.replaced).toBe(false);
      const second = await createFleetDatabase({ adminUrl: databaseUrl('postgres'), name, devices: 7 });
      expect(second.replaced).toBe(true);
      const counts = await withConnection(name, async (client) =>
        (await client.query(`SELECT (SELECT count(*)::int FROM devices) AS devices, (SELECT count(*)::int FROM users) AS users,
                                    (SELECT count(*)::int FROM device_auth) AS auth, shobj_description(d.oid, 'pg_database') AS mark
                             FROM pg_database d WHERE datname = current_database()`)).rows[0],
      );
      expect(counts).toEqual({ devices: 7, users: 2, auth: 7, mark: FLEET_DATABASE_MARK });
      await second.drop();
      expect(await databaseExists(name)).toBe(false);
    } finally {
      await first.drop();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { sampleValue } from '../support/http';
import { readSamples } from '../support/metrics';
import { killAllMosquittos, startMosquitto } from '../support/mosquitto';
import { sparePort } from '../support/ports';
import { DEMO_READY_TIMEOUT_MS, type RunningDemo, startDemo } from '../support/demo';
import { createFleetDatabase } from '../../demo/fleet-database';
import { databaseUrl, dropTestDatabase, withConnection } from '../support/postgres';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { eventually } from '../support/service';

const databaseExists = (name: string) =>
  withConnection('postgres', async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

/** SIGTERM, as a service manager stops it; resolves with the exit code. */
const terminate = (demo: RunningDemo) => (demo.child.kill('SIGTERM'), demo.exited);

/** A client of its own on `port` counting what arrives on `filter`. */
async function countingSubscriber(port: number, filter: string): Promise<{ client: MqttClient; received: () => number }> {
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, properties: { receiveMaximum: 65_535 } });
  let received = 0;
  client.on('message', () => received++);
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, received: () => received };
}

describe('the demo and its database', () => {
  let demo: RunningDemo | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    await demo?.cleanUp();
    redis?.disconnect();
    await killAllRedisServers();
  });

  it('the demo survives its database connections being terminated (pg_terminate_backend): it reconnects, goes on, and cleans up on SIGTERM', async () => {
    const redisPort = await sparePort();
    await startRedisServer(redisPort);
    redis = new Redis(`redis://127.0.0.1:${redisPort}`);
    demo = await startDemo({
      args: ['--devices', '50', '--rate', '20', '--http-rate', '30'],
      env: { COLLECTION_INTERVAL_SECONDS: '1', REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    });
    const running = demo;
    const lastSeen = () => withConnection(running.database, async (client) => Number((await client.query('SELECT extract(epoch FROM max(last_seen)) AS at FROM devices')).rows[0].at));
    const telemetry = async () => sampleValue(await readSamples(running.port), 'iotflow_telemetry_messages_total') ?? 0;
    const deviceReads = async () => sampleValue(await readSamples(running.port), 'http_requests_total', { method: 'GET', endpoint: '/api/v1/devices/:id', status: '200' }) ?? 0;

    for (let round = 1; round <= 2; round++) {
      // Every session on the demo's database: the demo's own pool and the exporter's, idle or busy.
      const terminated = await withConnection('postgres', async (client) => {
        const { rows } = await client.query<{ at: string; count: number }>(
          `SELECT extract(epoch FROM now()) AS at, count(*)::int AS count FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1) AS ended`,
          [running.database],
        );
        return { at: Number(rows[0].at), count: rows[0].count };
      });
      expect(terminated.count).toBeGreaterThan(0);
      const [telemetryBefore, readsBefore] = [await telemetry(), await deviceReads()];
      // Going on: the fleet writes again, the device API reads again, telemetry is still counted.
      await eventually(async () => ((await lastSeen()) > terminated.at ? true : undefined), `round ${round}: devices updated after the termination`, 100, 200);
      await eventually(async () => ((await deviceReads()) > readsBefore ? true : undefined), `round ${round}: device reads after the termination`, 100, 200);
      await eventually(async () => ((await telemetry()) > telemetryBefore ? true : undefined), `round ${round}: telemetry counted after the termination`, 100, 200);
      expect(running.child.exitCode).toBeNull();
    }
    expect(running.output()).toContain('an idle database connection failed');
    expect(running.output()).not.toMatch(/Unhandled|fatal:/);
    expect(await redis.keys(`${running.database}:*`)).not.toEqual([]);

    expect(await terminate(running)).toBe(0);
    expect(running.output()).toContain(`dropped database ${running.database}`);
    expect(await databaseExists(running.database)).toBe(false);
    expect(await redis.keys(`${running.database}:*`)).toEqual([]);
  }, DEMO_READY_TIMEOUT_MS + 90_000);
});

describe('a demo whose database another demo recreated', () => {
  it('the demo leaves the database another demo recreated under its name alone when it exits', async () => {
    const name = `iotflow_demo_test_${randomBytes(6).toString('hex')}`;
    const first = await createFleetDatabase({ adminUrl: databaseUrl('postgres'), name, devices: 3 });
    const second = await createFleetDatabase({ adminUrl: databaseUrl('postgres'), name, devices: 4 });
    try {
      expect(second.replaced).toBe(true);
      expect(await first.drop()).toBe(false);
      expect(await withConnection(name, async (client) => (await client.query('SELECT count(*)::int AS devices FROM devices')).rows[0])).toEqual({ devices: 4 });
      expect(await second.drop()).toBe(true);
      expect(await databaseExists(name)).toBe(false);
    } finally {
      await dropTestDatabase(name);
    }
  });
});

describe('the demo on a broker shared with another exporter', () => {
  let demo: RunningDemo | undefined;
  const subscribers: MqttClient[] = [];

  afterAll(async () => {
    await demo?.cleanUp();
    await Promise.all(subscribers.map((client) => client.endAsync(true)));
    await killAllMosquittos();
  });

  it('the demo counts exactly the telemetry it published, with another subscriber in the default share group', async () => {
    const broker = await startMosquitto({ sysInterval: 1 });
    // Another exporter on the same broker, in the default group; and a plain subscriber: every message the demo published.
    const otherExporter = await countingSubscriber(broker.port, '$share/iotflow-metrics/iotflow/devices/+/telemetry/#');
    const everything = await countingSubscriber(broker.port, 'iotflow/devices/+/telemetry/#');
    subscribers.push(otherExporter.client, everything.client);

    demo = await startDemo({
      args: ['--devices', '50', '--rate', '50', '--http-rate', '5'],
      env: { COLLECTION_INTERVAL_SECONDS: '1', MQTT_URL: `mqtt://127.0.0.1:${broker.port}` },
    });
    const running = demo;
    expect(running.output()).toMatch(/counted in share group iotflow-demo-[0-9a-f]{12}\b/);
    await eventually(() => (everything.received() >= 200 ? true : undefined), 'the fleet to publish 200 messages', 300, 100);
    // While it runs, the exporter's count follows everything the fleet publishes, not a share of it.
    await eventually(
      async () => ((sampleValue(await readSamples(running.port), 'iotflow_telemetry_messages_total') ?? 0) >= 200 ? true : undefined),
      'the exporter to count 200 messages',
      100,
      100,
    );

    expect(await terminate(running)).toBe(0);
    const tally = /telemetry: published (\d+), the exporter counted (\d+): exact/.exec(running.output());
    expect(tally).not.toBeNull();
    const [published, counted] = [Number(tally![1]), Number(tally![2])];
    expect(counted).toBe(published);
    // The plain subscriber has every message; the other exporter, alone in the default group, too.
    await eventually(
      () => (everything.received() === published && otherExporter.received() === published ? true : undefined),
      `both subscribers to have all ${published} messages`,
      50,
      100,
    );
    expect(running.output()).not.toContain('MISCOUNTED');
  }, DEMO_READY_TIMEOUT_MS + 60_000);
});

import { connectAsync, type MqttClient } from 'mqtt';
import { filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
import { measureTelemetryRate } from '../../bench/telemetry-rate';
import { TYPES } from '../../container/identifiers';
import type { CollectionResult } from '../../streams/source';
import { get, parseExposition, sampleValue } from '../support/http';
import { killAllMosquittos, startMosquitto, type Mosquitto } from '../support/mosquitto';
import { eventually, startService, type RunningService } from '../support/service';

// Mosquitto started with sys_interval 1 publishes $SYS every 2 s; the service ticks every second.
const FAST = { SOURCES: 'mqtt', COLLECTION_INTERVAL_SECONDS: '1', MQTT_SYS_INTERVAL_SECONDS: '1' };
const SECRET = 'pw-Qx7%vT';
const urlFor = (port: number) => `mqtt://exporter:${encodeURIComponent(SECRET)}@127.0.0.1:${port}`;

/** The catalog's $SYS topics (Mosquitto 2 names), as this test reads them with a client of its own. */
const CATALOG_SYS_TOPICS: Record<string, string> = {
  mqtt_connections_total: 'clients/total',
  mqtt_connections_active: 'clients/connected',
  mqtt_messages_received_total: 'messages/received',
  mqtt_messages_sent_total: 'messages/sent',
  mqtt_messages_dropped_total: 'publish/messages/dropped',
  mqtt_messages_queued: 'store/messages/count',
  mqtt_subscriptions_total: 'subscriptions/count',
  mqtt_retained_messages: 'retained messages/count',
  mqtt_bytes_received_total: 'bytes/received',
  mqtt_bytes_sent_total: 'bytes/sent',
};

afterAll(killAllMosquittos);

async function scrape(service: RunningService): Promise<Map<string, number>> {
  const response = await get(service.port, '/metrics');
  expect(response.status).toBe(200);
  return parseExposition(response.body).samples;
}

const mqttUp = async (service: RunningService) => sampleValue(await scrape(service), 'collector_up', { source: 'mqtt' });

async function mqttHealth(service: RunningService): Promise<{ up: boolean; error?: string }> {
  return (JSON.parse((await get(service.port, '/health')).body) as { sources: Record<string, { up: boolean; error?: string }> }).sources['mqtt']!;
}

/** The next `count` collections of the mqtt source, whatever their outcome. */
const nextCollections = (service: RunningService, count: number): Promise<CollectionResult[]> =>
  firstValueFrom(
    service.container.get(TYPES.CollectionEngine).results$.pipe(
      filter((result) => result.source === 'mqtt'),
      take(count),
      toArray(),
      timeout(count * 5000),
    ),
  );

async function publishAll(client: MqttClient, topics: readonly string[]): Promise<void> {
  await Promise.all(topics.map((topic, i) => client.publishAsync(topic, JSON.stringify({ seq: i, temperature: 20 }), { qos: 1 })));
}

describe('mqtt source against a Mosquitto of its own', () => {
  let broker: Mosquitto;
  let service: RunningService;
  let client: MqttClient;
  const telemetry = async () => sampleValue(await scrape(service), 'iotflow_telemetry_messages_total');

  beforeAll(async () => {
    broker = await startMosquitto({ sysInterval: 1 });
    service = await startService({ ...FAST, MQTT_URL: urlFor(broker.port) });
    client = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-test-${process.pid}` });
    await eventually(async () => ((await mqttUp(service)) === 1 ? true : undefined), 'the mqtt source to come up');
  });

  afterAll(async () => {
    await client?.endAsync(true);
    await service?.stop();
  });

  it('shows the broker values that $SYS publishes', async () => {
    // Mosquitto publishes $SYS/broker/uptime first in each round, so the values the test's own
    // subscriber holds when the next uptime arrives are those of the round before.
    const observer = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-observer-${process.pid}` });
    const latest = new Map<string, string>();
    const rounds = new Map<number, Map<string, string>>();
    const uptimeOf = (values: Map<string, string>) => Number(/^(\d+) seconds$/.exec(values.get('uptime') ?? '')?.[1]);
    observer.on('message', (topic, payload) => {
      const name = topic.slice('$SYS/broker/'.length);
      if (name === 'uptime' && latest.has('uptime')) rounds.set(uptimeOf(latest), new Map(latest));
      latest.set(name, payload.toString());
    });
    await observer.subscribeAsync('$SYS/#');
    await client.publishAsync('iotflow/test/retained', 'kept', { qos: 1, retain: true });
    try {
      await eventually(
        async () => {
          const samples = await scrape(service);
          const uptime = sampleValue(samples, 'mqtt_broker_uptime_seconds');
          const candidates = [rounds.get(uptime!), uptimeOf(latest) === uptime ? latest : undefined];
          const shown = Object.fromEntries(Object.keys(CATALOG_SYS_TOPICS).map((name) => [name, sampleValue(samples, name)]));
          // The broker's first round predates every client and reads all zeros: wait for a live one.
          if (!(shown['mqtt_connections_active']! >= 3 && shown['mqtt_bytes_sent_total']! > 0)) return undefined;
          const published = (values: Map<string, string> | undefined) =>
            values && Object.fromEntries(Object.entries(CATALOG_SYS_TOPICS).map(([name, topic]) => [name, Number(values.get(topic))]));
          if (candidates.some((values) => JSON.stringify(published(values)) === JSON.stringify(shown))) return true;
          throw new Error(`at uptime ${uptime} /metrics shows ${JSON.stringify(shown)}, $SYS said ${JSON.stringify(published(candidates[0] ?? candidates[1]))}`);
        },
        'the exported broker values to equal one $SYS round',
        100,
        200,
      );
    } finally {
      await observer.endAsync(true);
    }
  });

  it('counts every telemetry message exactly, and nothing outside the filter', async () => {
    const before = (await telemetry())!;
    const device = `exact-${process.pid}`;
    await publishAll(client, [
      ...Array.from({ length: 500 }, () => `iotflow/devices/${device}/telemetry/sensors`),
      ...Array.from({ length: 20 }, () => `iotflow/devices/${device}/status`),
      ...Array.from({ length: 5 }, () => `iotflow/gateways/${device}/telemetry/sensors`),
    ]);
    await eventually(async () => {
      const counted = (await telemetry())! - before;
      if (counted > 500) throw new Error(`counted ${counted} of 500`);
      return counted === 500 ? true : undefined;
    }, 'iotflow_telemetry_messages_total to rise by 500');
    // Two more collections later, still exactly 500: nothing counted twice or late.
    await nextCollections(service, 2);
    expect((await telemetry())! - before).toBe(500);
  });

  it('counts the distinct telemetry topics', async () => {
    const before = sampleValue(await scrape(service), 'mqtt_topics_total')!;
    const topics = Array.from({ length: 12 }, (_, device) => ['sensors', 'metrics', 'events'].map((kind) => `iotflow/devices/distinct-${device}/telemetry/${kind}`)).flat();
    await publishAll(client, [...topics, ...topics]);
    await eventually(async () => ((await scrape(service)).get('mqtt_topics_total') === before + 36 ? true : undefined), 'mqtt_topics_total to rise by 36');
  });

  it('reports down within two ticks when the broker dies, and recovers by itself when it is back', async () => {
    const errorsBefore = sampleValue(await scrape(service), 'collector_errors_total', { source: 'mqtt' })!;
    const counted = (await telemetry())!;
    const logLinesBefore = service.logLines.length;

    await broker.kill();
    const [, second] = await nextCollections(service, 2);
    expect(second).toMatchObject({ ok: false, error: expect.stringMatching(/^disconnected from broker: /) });

    const down = await scrape(service);
    expect(sampleValue(down, 'collector_up', { source: 'mqtt' })).toBe(0);
    expect(sampleValue(down, 'collector_errors_total', { source: 'mqtt' })).toBeGreaterThan(errorsBefore);
    expect([...down.keys()].filter((series) => /^(mqtt_|iotflow_telemetry)/.test(series))).toEqual([]);
    const health = await mqttHealth(service);
    expect(health).toMatchObject({ up: false, error: expect.stringMatching(/^disconnected from broker: /) });
    expect(JSON.stringify(health)).not.toContain(SECRET);

    // A few failed reconnects later, the broker comes back on the same port.
    await nextCollections(service, 3);
    broker = await startMosquitto({ port: broker.port, sysInterval: 1 });
    await eventually(async () => ((await mqttUp(service)) === 1 ? true : undefined), 'the mqtt source to recover', 300, 100);
    const recovered = await scrape(service);
    expect(sampleValue(recovered, 'mqtt_connections_active')).toBeGreaterThanOrEqual(1);
    // Counted by this process, so kept across the reconnect; and the subscription is back.
    expect(sampleValue(recovered, 'iotflow_telemetry_messages_total')).toBe(counted);
    await client.endAsync(true);
    client = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-test-${process.pid}` });
    await publishAll(client, Array.from({ length: 10 }, () => 'iotflow/devices/after-restart/telemetry/events'));
    await eventually(async () => ((await telemetry()) === counted + 10 ? true : undefined), 'telemetry counted after the reconnect');

    // One line down, one line back: no line per reconnect attempt.
    const mqttLines = service.logLines.slice(logLinesBefore).filter((line) => line.includes('mqtt'));
    expect(mqttLines).toEqual([expect.stringMatching(/source mqtt is down: disconnected from broker: /), expect.stringMatching(/source mqtt recovered/)]);
  });

  it('never shows the password of MQTT_URL', async () => {
    for (const text of [(await get(service.port, '/metrics')).body, (await get(service.port, '/health')).body, service.logLines.join('')]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(encodeURIComponent(SECRET));
    }
  });
});

describe('mqtt source against a broker with $SYS turned off (sys_interval 0)', () => {
  it('reports down, saying $SYS is silent', async () => {
    const broker = await startMosquitto({ sysInterval: 0 });
    const service = await startService({ ...FAST, MQTT_URL: urlFor(broker.port) });
    try {
      const health = await eventually(async () => {
        const mqtt = await mqttHealth(service);
        return mqtt.error?.startsWith('no $SYS') ? mqtt : undefined;
      }, 'the mqtt source to report $SYS silent');
      expect(health).toMatchObject({ up: false, error: expect.stringMatching(/^no \$SYS message for \d+ s \(sys_interval 0\?\)$/) });
      const samples = await scrape(service);
      expect(sampleValue(samples, 'collector_up', { source: 'mqtt' })).toBe(0);
      expect([...samples.keys()].filter((series) => /^(mqtt_|iotflow_telemetry)/.test(series))).toEqual([]);
    } finally {
      await service.stop();
      await broker.kill();
    }
  });
});

describe('telemetry rate', () => {
  it('counts a burst of QoS 1 messages from a separate process without loss', async () => {
    const broker = await startMosquitto({ sysInterval: 1 });
    try {
      const result = await measureTelemetryRate({ mqttUrl: `mqtt://127.0.0.1:${broker.port}`, messages: 20_000 });
      process.stdout.write(`telemetry rate: ${JSON.stringify(result)}\n`);
      expect(result.published).toBe(20_000);
      expect(result.counted).toBe(20_000);
    } finally {
      await broker.kill();
    }
  });
});

import { connectAsync, type MqttClient } from 'mqtt';
import { publishTelemetryBurst } from '../../demo/telemetry-publisher';
import { get, sampleValue } from '../support/http';
import { nextResults, readSamples, sourceHealth, waitUntilUp } from '../support/metrics';
import { killAllMosquittos, startMosquitto, type Mosquitto } from '../support/mosquitto';
import { eventually, startService, type RunningService } from '../support/service';
import { FAST, SECRET, urlFor, SYS_TOPICS, mqttUp, telemetryOf, publishAll } from '../support/mqtt-service';


// Case 6 needs a broker that has dropped nothing for over a minute (Mosquitto's retained $SYS
// messages expire after 60 s): started first, used by the last test, so the wait mostly overlaps.
let quietBroker: Mosquitto;
let quietBrokerStartedAt: number;
beforeAll(async () => {
  quietBroker = await startMosquitto({ sysInterval: 1, config: ['max_queued_messages 2'] });
  quietBrokerStartedAt = Date.now();
});

afterAll(killAllMosquittos);

describe('mqtt source against a Mosquitto of its own', () => {
  let broker: Mosquitto;
  let service: RunningService;
  let client: MqttClient;
  const telemetry = () => telemetryOf(service);

  beforeAll(async () => {
    broker = await startMosquitto({ sysInterval: 1 });
    service = await startService({ ...FAST, MQTT_URL: urlFor(broker.port) });
    client = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-test-${process.pid}` });
    await waitUntilUp(service.port, 'mqtt');
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
          const samples = await readSamples(service.port);
          const uptime = sampleValue(samples, 'mqtt_broker_uptime_seconds');
          const candidates = [rounds.get(uptime!), uptimeOf(latest) === uptime ? latest : undefined];
          const shown = Object.fromEntries(Object.keys(SYS_TOPICS).map((name) => [name, sampleValue(samples, name)]));
          // The broker's first round predates every client and reads all zeros: wait for a live one.
          if (!(shown['mqtt_connections_active']! >= 3 && shown['mqtt_bytes_sent_total']! > 0)) return undefined;
          const published = (values: Map<string, string> | undefined) =>
            values && Object.fromEntries(Object.entries(SYS_TOPICS).map(([name, topic]) => [name, Number(values.get(topic))]));
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
    await nextResults(service, 'mqtt', 2);
    expect((await telemetry())! - before).toBe(500);
  });

  it('counts the distinct telemetry topics', async () => {
    const before = sampleValue(await readSamples(service.port), 'mqtt_topics_total')!;
    const topics = Array.from({ length: 12 }, (_, device) => ['sensors', 'metrics', 'events'].map((kind) => `iotflow/devices/distinct-${device}/telemetry/${kind}`)).flat();
    await publishAll(client, [...topics, ...topics]);
    await eventually(async () => ((await readSamples(service.port)).get('mqtt_topics_total') === before + 36 ? true : undefined), 'mqtt_topics_total to rise by 36');
  });

  it('reports down within two ticks when the broker dies, and recovers by itself when it is back', async () => {
    const errorsBefore = sampleValue(await readSamples(service.port), 'collector_errors_total', { source: 'mqtt' })!;
    const counted = (await telemetry())!;
    const logLinesBefore = service.logLines.length;

    await broker.kill();
    const [, second] = await nextResults(service, 'mqtt', 2);
    expect(second).toMatchObject({ ok: false, error: expect.stringMatching(/^disconnected from broker: /) });

    const down = await readSamples(service.port);
    expect(sampleValue(down, 'collector_up', { source: 'mqtt' })).toBe(0);
    expect(sampleValue(down, 'collector_errors_total', { source: 'mqtt' })).toBeGreaterThan(errorsBefore);
    expect([...down.keys()].filter((series) => /^(mqtt_|iotflow_telemetry)/.test(series))).toEqual([]);
    const health = await sourceHealth(service.port, 'mqtt');
    expect(health).toMatchObject({ up: false, error: expect.stringMatching(/^disconnected from broker: /) });
    expect(JSON.stringify(health)).not.toContain(SECRET);

    // A few failed reconnects later, the broker comes back on the same port.
    await nextResults(service, 'mqtt', 3);
    broker = await startMosquitto({ port: broker.port, sysInterval: 1 });
    await eventually(async () => ((await mqttUp(service)) === 1 ? true : undefined), 'the mqtt source to recover', 300, 100);
    // The restarted broker's first retained $SYS value may predate our reconnect (0 connected):
    // its next publish, a sys_interval later, counts us.
    await eventually(async () => ((sampleValue(await readSamples(service.port), 'mqtt_connections_active') ?? 0) >= 1 ? true : undefined), 'the broker to count our connection');
    const recovered = await readSamples(service.port);
    // Counted by this process, so kept across the reconnect; and the subscription is back.
    expect(sampleValue(recovered, 'iotflow_telemetry_messages_total')).toBe(counted);
    await client.endAsync(true);
    client = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-test-${process.pid}` });
    await publishAll(client, Array.from({ length: 10 }, () => 'iotflow/devices/after-restart/telemetry/events'));
    await eventually(async () => ((await telemetry()) === counted + 10 ? true : undefined), 'telemetry counted after the reconnect');

    // One line down, one line back: no line per reconnect attempt. (A restarted Mosquitto may
    // briefly publish clients/disconnected -1, which is reported once and is not about reconnecting.)
    const mqttLines = service.logLines.slice(logLinesBefore).filter((line) => line.includes('mqtt') && !line.includes('$SYS payload'));
    expect(mqttLines).toEqual([expect.stringMatching(/source mqtt is down: disconnected from broker: /), expect.stringMatching(/source mqtt recovered/)]);
  });

  it('never shows the password of MQTT_URL', async () => {
    for (const text of [(await get(service.port, '/metrics')).body, (await get(service.port, '/health')).body, service.logLines.join('')]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(encodeURIComponent(SECRET));
    }
  });
});


describe('telemetry rate', () => {
  it('counts a burst of QoS 1 messages from a separate process without loss', async () => {
    const broker = await startMosquitto({ sysInterval: 1 });
    const service = await startService({ ...FAST, MQTT_URL: `mqtt://127.0.0.1:${broker.port}` });
    try {
      await waitUntilUp(service.port, 'mqtt');
      const before = (await telemetryOf(service))!;
      const burst = publishTelemetryBurst(`mqtt://127.0.0.1:${broker.port}`, 'iotflow/devices', 20_000, 100);
      const startedAtMs = await burst.started;
      // Until all are counted, or the count has not moved for 3 s (a loss).
      let counted = 0;
      let countedAtMs = startedAtMs;
      await eventually(async () => {
        const now = (await telemetryOf(service))! - before;
        if (now !== counted) [counted, countedAtMs] = [now, Date.now()];
        return counted >= 20_000 || Date.now() - countedAtMs > 3000 ? true : undefined;
      }, 'the burst to be counted', 600, 100);
      const published = await burst.finished;
      // Two collections later, still the same count: nothing counted twice or late.
      await nextResults(service, 'mqtt', 2);
      counted = (await telemetryOf(service))! - before;
      process.stdout.write(`telemetry rate: ${JSON.stringify({ published: published.count, counted, messagesPerSecond: Math.round(counted / ((countedAtMs - startedAtMs) / 1000)) })}\n`);
      expect(published.count).toBe(20_000);
      expect(counted).toBe(20_000);
    } finally {
      await service.stop();
      await broker.kill();
    }
  });
});

describe('mqtt source against a broker that has not dropped anything for over a minute', () => {
  const dropTopics = ['$SYS/broker/publish/messages/dropped', '$SYS/broker/load/publish/dropped/#'];

  it('case 6: shows the broker\'s drop rate as 0, then the rate and the total once it drops', async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, quietBrokerStartedAt + 62_000 - Date.now())));
    const port = quietBroker.port;
    // The broker does not tell a new subscriber anything about drops now.
    const observer = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `iotflow-metrics-case6-observer-${process.pid}` });
    const told: string[] = [];
    observer.on('message', (topic, payload) => told.push(`${topic} ${payload.toString()}`));
    await observer.subscribeAsync(dropTopics);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await observer.endAsync(true);
    expect(told).toEqual([]);

    const service = await startService({ ...FAST, MQTT_URL: urlFor(port) });
    try {
      await waitUntilUp(service.port, 'mqtt');
      const quiet = await readSamples(service.port);
      for (const period of ['1m', '5m', '15m']) expect(sampleValue(quiet, 'mqtt_messages_dropped_per_minute', { period })).toBe(0);
      expect(sampleValue(quiet, 'mqtt_messages_dropped_total')).toBeUndefined();

      // A persistent session that is away, with room for 2 queued messages: 8 of 10 are dropped.
      const sleeper = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `iotflow-metrics-case6-sleeper-${process.pid}`, clean: false });
      await sleeper.subscribeAsync('case6/#', { qos: 1 });
      await sleeper.endAsync();
      const publisher = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `iotflow-metrics-case6-publisher-${process.pid}` });
      for (let i = 0; i < 10; i++) await publisher.publishAsync('case6/x', 'm', { qos: 1 });
      await publisher.endAsync();

      const dropping = await eventually(async () => {
        const samples = await readSamples(service.port);
        return sampleValue(samples, 'mqtt_messages_dropped_total') === 8 ? samples : undefined;
      }, 'mqtt_messages_dropped_total to read 8');
      expect(sampleValue(dropping, 'mqtt_messages_dropped_per_minute', { period: '1m' })).toBeGreaterThan(0);
      process.stdout.write(`case 6: after 8 drops, per minute ${['1m', '5m', '15m'].map((period) => sampleValue(dropping, 'mqtt_messages_dropped_per_minute', { period })).join(' / ')}\n`);
    } finally {
      await service.stop();
    }
  }, 120_000);
});

import net from 'node:net';
import { connectAsync } from 'mqtt';
import { sampleValue } from '../support/http';
import { nextResults, readSamples, sourceHealth, waitUntilUp } from '../support/metrics';
import { killAllMosquittos, startMosquitto } from '../support/mosquitto';
import { eventually, startService } from '../support/service';
import { FAST, urlFor, mqttUp, telemetryOf, publishAll, brokerStatistics } from '../support/mqtt-service';

afterAll(killAllMosquittos);

describe.each([
  ['sys_interval 0', { sysInterval: 0 }],
  // Everything not granted is denied; the explicit deny says what the case is about.
  ['an ACL that denies $SYS/#', { sysInterval: 1, acl: ['topic deny $SYS/#', 'topic readwrite iotflow/#', 'user exporter', 'topic deny $SYS/#', 'topic readwrite iotflow/#'] }],
])('mqtt source against a broker whose $SYS never arrives (%s)', (_what, brokerOptions) => {
  it('case 7: counts telemetry exactly while connected, leaves out only the broker statistics, and says why in one line', async () => {
    const broker = await startMosquitto(brokerOptions);
    const service = await startService({ ...FAST, MQTT_URL: urlFor(broker.port) });
    const client = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-metrics-case7-${process.pid}` });
    try {
      const silence = /mqtt: no \$SYS message in \d+ s since connecting/;
      await eventually(() => (service.logLines.some((line) => silence.test(line)) ? true : undefined), 'the log line saying $SYS is silent');
      await publishAll(client, Array.from({ length: 25 }, () => 'iotflow/devices/case7/telemetry/sensors'));
      await eventually(async () => ((await telemetryOf(service)) === 25 ? true : undefined), 'iotflow_telemetry_messages_total to read 25');
      await nextResults(service, 'mqtt', 2);

      const samples = await readSamples(service.port);
      expect(sampleValue(samples, 'iotflow_telemetry_messages_total')).toBe(25);
      expect(sampleValue(samples, 'mqtt_topics_total')).toBe(1);
      expect(sampleValue(samples, 'collector_up', { source: 'mqtt' })).toBe(1);
      expect(brokerStatistics(samples)).toEqual([]);
      expect(await sourceHealth(service.port, 'mqtt')).toMatchObject({ up: true });

      const mqttLines = service.logLines.filter((line) => line.includes('mqtt'));
      expect(mqttLines).toHaveLength(1);
      expect(mqttLines[0]).toMatch(silence);
      expect(mqttLines[0]).toContain('sys_interval 0');
      expect(mqttLines[0]).toContain('ACL');
      process.stdout.write(`case 7 (${_what}): ${mqttLines[0]}`);
    } finally {
      await client.endAsync(true);
      await service.stop();
      await broker.kill();
    }
  });
});

describe('mqtt source reconnecting after an outage', () => {
  it('case 8: is back within 5 s of the broker\'s return after 20 s down, trying at most once a second meanwhile', async () => {
    let broker = await startMosquitto({ sysInterval: 1 });
    const service = await startService({ ...FAST, MQTT_URL: urlFor(broker.port) });
    try {
      await waitUntilUp(service.port, 'mqtt');
      await broker.kill();
      // While the broker is down, a listener of the test's own on its port counts the attempts.
      let attempts = 0;
      const listener = net.createServer((socket) => {
        attempts++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(broker.port, '127.0.0.1', resolve));
      const downForMs = 20_000;
      await new Promise((resolve) => setTimeout(resolve, downForMs));
      expect(await mqttUp(service)).toBe(0);
      await new Promise((resolve) => listener.close(resolve));

      broker = await startMosquitto({ port: broker.port, sysInterval: 1 });
      const returnedAt = Date.now();
      await eventually(async () => ((await mqttUp(service)) === 1 ? true : undefined), 'the mqtt source to recover', 300, 50);
      const backAfterMs = Date.now() - returnedAt;
      process.stdout.write(`case 8: ${attempts} connection attempts in ${downForMs / 1000} s down; back ${backAfterMs} ms after the broker\n`);
      expect(backAfterMs).toBeLessThan(5000);
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThanOrEqual(downForMs / 1000);
    } finally {
      await service.stop();
      await broker.kill();
    }
  }, 60_000);
});

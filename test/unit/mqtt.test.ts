import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MQTT_METRICS, MqttState, parseSysMessage, SysPayloadError, sysSilence, telemetrySubscription, type SysTiming } from '../../streams/mqtt-sys';

/** A real $SYS tree, as Mosquitto 2.0.11 sent it on subscribe (topic TAB payload, one a line). */
const MOSQUITTO_2_SYS: readonly [string, string][] = readFileSync(path.join(__dirname, '..', 'fixtures', 'mqtt', 'mosquitto-2.0.11-sys.tsv'), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => line.split('\t') as [string, string]);

function stateFrom(messages: readonly (readonly [string, string])[]): MqttState {
  const state = new MqttState(10_000);
  for (const [topic, payload] of messages) state.applySys(topic, payload);
  return state;
}

/** Series (name, or name{labels}) → value. */
const valuesOf = (state: MqttState, withBrokerStatistics = true) =>
  Object.fromEntries(
    state.samples(withBrokerStatistics).map((sample) => [
      sample.labels ? `${sample.name}{${Object.entries(sample.labels).map(([label, value]) => `${label}="${value}"`).join(',')}}` : sample.name,
      sample.value,
    ]),
  );

describe('parseSysMessage', () => {
  it('reads exactly the topics the source subscribes to', () => {
    const read = MOSQUITTO_2_SYS.map(([topic]) => topic).filter((topic) => parseSysMessage(topic, '1') !== undefined);
    expect(read.length).toBeLessThan(MOSQUITTO_2_SYS.length / 2);
    expect(MqttState.sysTopics).toEqual(expect.arrayContaining(read));
    for (const topic of MqttState.sysTopics) expect(parseSysMessage(topic, '1')).toBeDefined();
    expect(MqttState.sysTopics).toEqual(expect.arrayContaining(['$SYS/broker/uptime', '$SYS/broker/clients/active', '$SYS/broker/messages/stored']));
  });

  it('reads every watched topic of a Mosquitto 2.0.11 $SYS tree and ignores the rest without error', () => {
    const results = MOSQUITTO_2_SYS.map(([topic, payload]) => parseSysMessage(topic, payload));
    expect(results.filter((result) => result instanceof SysPayloadError)).toEqual([]);
    expect(valuesOf(stateFrom(MOSQUITTO_2_SYS))).toEqual({
      mqtt_connections_total: 1,
      mqtt_connections_active: 1,
      mqtt_clients_disconnected: 0,
      mqtt_messages_received_total: 17,
      mqtt_messages_sent_total: 13,
      mqtt_messages_dropped_total: 0,
      'mqtt_messages_dropped_per_minute{period="1m"}': 0,
      'mqtt_messages_dropped_per_minute{period="5m"}': 0,
      'mqtt_messages_dropped_per_minute{period="15m"}': 0,
      mqtt_messages_queued: 54,
      mqtt_subscriptions_total: 1,
      mqtt_retained_messages: 54,
      mqtt_bytes_received_total: 185,
      mqtt_bytes_sent_total: 71,
      mqtt_broker_uptime_seconds: 4,
      mqtt_topics_total: 0,
      iotflow_telemetry_messages_total: 0,
      mqtt_sys_payload_errors_total: 0,
    });
  });

  it('maps the Mosquitto 2 topic names, and the 1.6 names as fallbacks', () => {
    expect(parseSysMessage('$SYS/broker/clients/connected', '7')).toEqual({ name: 'mqtt_connections_active', value: 7, fallback: false });
    expect(parseSysMessage('$SYS/broker/clients/active', '7')).toEqual({ name: 'mqtt_connections_active', value: 7, fallback: true });
    expect(parseSysMessage('$SYS/broker/store/messages/count', '3')).toEqual({ name: 'mqtt_messages_queued', value: 3, fallback: false });
    expect(parseSysMessage('$SYS/broker/messages/stored', '3')).toEqual({ name: 'mqtt_messages_queued', value: 3, fallback: true });
    expect(parseSysMessage('$SYS/broker/retained messages/count', '12')).toEqual({ name: 'mqtt_retained_messages', value: 12, fallback: false });
    expect(parseSysMessage('$SYS/broker/publish/messages/dropped', '2')).toEqual({ name: 'mqtt_messages_dropped_total', value: 2, fallback: false });
  });

  it('case 6: reads the broker\'s drop rates, labelled by period', () => {
    expect(parseSysMessage('$SYS/broker/load/publish/dropped/1min', '7.87')).toEqual({ name: 'mqtt_messages_dropped_per_minute', labels: { period: '1m' }, value: 7.87, fallback: false });
    expect(parseSysMessage('$SYS/broker/load/publish/dropped/5min', '1.59')).toMatchObject({ labels: { period: '5m' }, value: 1.59 });
    expect(parseSysMessage('$SYS/broker/load/publish/dropped/15min', '0')).toMatchObject({ labels: { period: '15m' }, value: 0 });
    for (const payload of ['-0.50', 'nan', '1e3', '']) expect(parseSysMessage('$SYS/broker/load/publish/dropped/1min', payload)).toBeInstanceOf(SysPayloadError);
  });

  it('reads the uptime from its "<n> seconds" payload', () => {
    expect(parseSysMessage('$SYS/broker/uptime', '640136 seconds')).toEqual({ name: 'mqtt_broker_uptime_seconds', value: 640136, fallback: false });
    expect(parseSysMessage('$SYS/broker/uptime', '640136')).toBeInstanceOf(SysPayloadError);
  });

  it('returns undefined for topics it does not watch, load averages included (Mosquitto 2.1 dropped some)', () => {
    for (const topic of ['$SYS/broker/load/messages/received/1min', '$SYS/broker/version', '$SYS/broker/heap/current', '$SYS/broker/clients/maximum', 'iotflow/devices/1/telemetry/sensors']) {
      expect(parseSysMessage(topic, '1.00')).toBeUndefined();
    }
  });

  it.each([
    ['clients/disconnected reading -1', '$SYS/broker/clients/disconnected', '-1'],
    ['an empty payload', '$SYS/broker/bytes/sent', ''],
    ['a fraction where an integer belongs', '$SYS/broker/clients/total', '1.5'],
    ['text', '$SYS/broker/messages/received', 'NaN'],
    ['a number with trailing garbage', '$SYS/broker/subscriptions/count', '12abc'],
    ['an uptime in another unit', '$SYS/broker/uptime', '10 minutes'],
  ])('rejects %s with an error naming the topic', (_what, topic, payload) => {
    const result = parseSysMessage(topic, payload);
    expect(result).toBeInstanceOf(SysPayloadError);
    expect((result as SysPayloadError).message).toContain(topic);
  });

  it('reads counters beyond 2^32', () => {
    expect(parseSysMessage('$SYS/broker/bytes/received', '123456789012345')).toMatchObject({ value: 123456789012345 });
  });

  it('declares every metric it can produce, each once', () => {
    const names = MQTT_METRICS.map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(stateFrom(MOSQUITTO_2_SYS).samples().map((sample) => sample.name)));
    expect(MQTT_METRICS.find((metric) => metric.name === 'mqtt_messages_dropped_per_minute')).toMatchObject({ type: 'gauge', labelNames: ['period'] });
  });
});

describe('MqttState', () => {
  it('prefers the Mosquitto 2 topic over the 1.6 one, whatever the order of arrival', () => {
    const state = stateFrom([
      ['$SYS/broker/clients/active', '5'],
      ['$SYS/broker/clients/connected', '4'],
      ['$SYS/broker/clients/active', '9'],
    ]);
    expect(valuesOf(state)['mqtt_connections_active']).toBe(4);
  });

  it('uses the 1.6 names when the broker publishes only those', () => {
    const values = valuesOf(stateFrom([
      ['$SYS/broker/clients/active', '3'],
      ['$SYS/broker/messages/stored', '8'],
    ]));
    expect(values).toMatchObject({ mqtt_connections_active: 3, mqtt_messages_queued: 8 });
  });

  it('ignores a bad payload, keeps the last good value and counts the error', () => {
    const state = new MqttState(10_000);
    expect(state.applySys('$SYS/broker/clients/disconnected', '2')).toBeUndefined();
    expect(state.applySys('$SYS/broker/clients/disconnected', '-1')).toBeInstanceOf(SysPayloadError);
    expect(state.applySys('$SYS/broker/bytes/sent', 'garbage')).toBeInstanceOf(SysPayloadError);
    const values = valuesOf(state);
    expect(values['mqtt_clients_disconnected']).toBe(2);
    expect(values['mqtt_bytes_sent_total']).toBeUndefined();
    expect(values['mqtt_sys_payload_errors_total']).toBe(2);
    for (const sample of state.samples()) expect(Number.isFinite(sample.value) && sample.value >= 0).toBe(true);
  });

  it('learns the publish period from successive uptime readings, per connection, ignoring a broker restart', () => {
    const state = new MqttState(10_000);
    state.applySys('$SYS/broker/uptime', '100 seconds');
    expect(state.sysPeriodMs).toBe(10_000);
    state.applySys('$SYS/broker/uptime', '102 seconds');
    expect(state.sysPeriodMs).toBe(2000);
    // Broker restarted: its uptime starts again, which says nothing about the period.
    state.applySys('$SYS/broker/uptime', '1 seconds');
    expect(state.sysPeriodMs).toBe(2000);
    state.applySys('$SYS/broker/uptime', '12 seconds');
    expect(state.sysPeriodMs).toBe(11_000);
    // After a reconnect, the gap to the last reading of the previous connection is no period.
    state.connectionOpened();
    state.applySys('$SYS/broker/uptime', '500 seconds');
    expect(state.sysPeriodMs).toBe(11_000);
  });

  it('case 6: shows the drop rates as 0 until the broker tells them, and the dropped total only once told', () => {
    const state = stateFrom([['$SYS/broker/uptime', '100 seconds']]);
    expect(valuesOf(state)).toMatchObject({
      'mqtt_messages_dropped_per_minute{period="1m"}': 0,
      'mqtt_messages_dropped_per_minute{period="5m"}': 0,
      'mqtt_messages_dropped_per_minute{period="15m"}': 0,
    });
    expect(valuesOf(state)['mqtt_messages_dropped_total']).toBeUndefined();
    state.applySys('$SYS/broker/load/publish/dropped/5min', '1.59');
    state.applySys('$SYS/broker/publish/messages/dropped', '8');
    expect(valuesOf(state)).toMatchObject({
      mqtt_messages_dropped_total: 8,
      'mqtt_messages_dropped_per_minute{period="1m"}': 0,
      'mqtt_messages_dropped_per_minute{period="5m"}': 1.59,
    });
  });

  it('case 7: leaves out every broker statistic on demand, and keeps what this process counts', () => {
    const state = stateFrom(MOSQUITTO_2_SYS);
    state.countTelemetry('iotflow/devices/d1/telemetry/sensors');
    state.applySys('$SYS/broker/bytes/sent', 'garbage');
    expect(valuesOf(state, false)).toEqual({ iotflow_telemetry_messages_total: 1, mqtt_topics_total: 1, mqtt_sys_payload_errors_total: 1 });
  });

  it('counts every telemetry message and the distinct topics', () => {
    const state = new MqttState(10_000);
    for (let i = 0; i < 30; i++) state.countTelemetry(`iotflow/devices/d${i % 3}/telemetry/sensors`);
    expect(valuesOf(state)).toMatchObject({ iotflow_telemetry_messages_total: 30, mqtt_topics_total: 3 });
  });
});

describe('sysSilence', () => {
  const timing = (overrides: Partial<SysTiming>): SysTiming => ({ lastSysMessageAtMs: 0, heardSinceConnect: true, sysPeriodMs: 10_000, ...overrides });

  it('is undefined while $SYS spoke within three periods', () => {
    expect(sysSilence(0, timing({}))).toBeUndefined();
    expect(sysSilence(30_000, timing({}))).toBeUndefined();
    expect(sysSilence(1_005_000, timing({ lastSysMessageAtMs: 1_000_000, sysPeriodMs: 2000 }))).toBeUndefined();
  });

  it('case 7: names the possible causes when no $SYS message came since connecting', () => {
    expect(sysSilence(7000, timing({ heardSinceConnect: false, sysPeriodMs: 2000 }))).toBe(
      'no $SYS message in 7 s since connecting: the broker publishes none (sys_interval 0) or an ACL denies this client $SYS/#',
    );
  });

  it('case 7: does not blame sys_interval 0 when $SYS came on this connection and then stopped', () => {
    const reason = sysSilence(1_007_000, timing({ lastSysMessageAtMs: 1_000_000, sysPeriodMs: 2000 }));
    expect(reason).toBe('no $SYS message for 7 s, where the broker published one every 2 s before on this connection');
    expect(reason).not.toContain('sys_interval 0');
  });
});

describe('telemetry shared among replicas', () => {
  it('subscribes to $share/<group>/<filter>, or to the plain filter without a group', () => {
    expect(telemetrySubscription('iotflow/devices/+/telemetry/#', 'iotflow-metrics')).toBe('$share/iotflow-metrics/iotflow/devices/+/telemetry/#');
    expect(telemetrySubscription('iotflow/devices/+/telemetry/#', undefined)).toBe('iotflow/devices/+/telemetry/#');
  });

  it('marks the broker statistics shared and keeps the telemetry share per replica', () => {
    const shared = MQTT_METRICS.filter((metric) => metric.shared).map((metric) => metric.name);
    expect(shared).toContain('mqtt_connections_active');
    expect(shared).toContain('mqtt_messages_dropped_per_minute');
    expect(shared).not.toContain('iotflow_telemetry_messages_total');
    expect(shared).not.toContain('mqtt_topics_total');
  });
});

import { ConfigError, type SettingsGroup, type SettingsReader } from '../src/settings';

export interface MqttSettings {
  readonly mqttUrl: string;
  readonly mqttTelemetryTopic: string;
  /** Shared-subscription group for the telemetry filter (`$share/<group>/<filter>`); undefined: a plain subscription. */
  readonly mqttShareGroup: string | undefined;
  /** The broker's $SYS publish period assumed until one is observed (Mosquitto's sys_interval). */
  readonly mqttSysIntervalSeconds: number;
}

export const MQTT_SETTINGS = {
  title: 'mqtt source',
  token: Symbol.for('MqttSettings'),
  settings: [
    { name: 'MQTT_URL', default: 'mqtt://127.0.0.1:1883', meaning: 'the broker (mqtt, mqtts, tcp, ws, wss)', secret: 'url' },
    { name: 'MQTT_TELEMETRY_TOPIC', default: 'iotflow/devices/+/telemetry/#', meaning: 'topic filter counted by iotflow_telemetry_messages_total' },
    { name: 'MQTT_SHARE_GROUP', default: 'iotflow-metrics', meaning: 'shared-subscription group of the telemetry filter; set empty: a plain subscription' },
    { name: 'MQTT_SYS_INTERVAL_SECONDS', default: '10', meaning: "the broker's $SYS publish period assumed until one is observed" },
  ],
  load: (read: SettingsReader): MqttSettings => {
    const mqttTelemetryTopic = read.text('MQTT_TELEMETRY_TOPIC') ?? '';
    if (!isValidTopicFilter(mqttTelemetryTopic)) {
      throw new ConfigError('MQTT_TELEMETRY_TOPIC', 'an MQTT topic filter (+ and # only as whole levels, # last)', mqttTelemetryTopic);
    }
    // Unset: the default group. Set but empty: sharing off (every instance gets every message).
    const mqttShareGroup = read.present('MQTT_SHARE_GROUP') ? read.given('MQTT_SHARE_GROUP') : read.text('MQTT_SHARE_GROUP');
    if (mqttShareGroup !== undefined && /[/+#]/.test(mqttShareGroup)) {
      throw new ConfigError('MQTT_SHARE_GROUP', 'a shared-subscription group name without /, + or # (empty: no sharing)', mqttShareGroup);
    }
    return {
      mqttUrl: read.url('MQTT_URL', ['mqtt', 'mqtts', 'tcp', 'ws', 'wss']),
      mqttTelemetryTopic,
      mqttShareGroup,
      mqttSysIntervalSeconds: read.seconds('MQTT_SYS_INTERVAL_SECONDS', 3600),
    };
  },
} satisfies SettingsGroup<MqttSettings>;

function isValidTopicFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((level, index) => (level === '#' ? index === levels.length - 1 : true) && (level.length <= 1 || !/[+#]/.test(level)));
}

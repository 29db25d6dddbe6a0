// What the mqtt integration test files share: the fast settings, the exporter's credentials, and reading the source.
import type { MqttClient } from 'mqtt';
import { metricValue } from './metrics';
import type { RunningService } from './service';

// Mosquitto started with sys_interval 1 publishes $SYS every 2 s; the service ticks every second.
export const FAST = { SOURCES: 'mqtt', COLLECTION_INTERVAL_SECONDS: '1', MQTT_SYS_INTERVAL_SECONDS: '1' };
export const SECRET = 'pw-Qx7%vT';
export const urlFor = (port: number) => `mqtt://exporter:${encodeURIComponent(SECRET)}@127.0.0.1:${port}`;

/** The $SYS topics the families are read from (Mosquitto 2 names), as this test reads them with a client of its own. */
export const SYS_TOPICS: Record<string, string> = {
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

export const mqttUp = (service: RunningService) => metricValue(service.port, 'collector_up', { source: 'mqtt' });

export const telemetryOf = (service: RunningService) => metricValue(service.port, 'iotflow_telemetry_messages_total');

export async function publishAll(client: MqttClient, topics: readonly string[]): Promise<void> {
  await Promise.all(topics.map((topic, i) => client.publishAsync(topic, JSON.stringify({ seq: i, temperature: 20 }), { qos: 1 })));
}


/** The series that come from $SYS, as opposed to those this process counts itself. */
export const brokerStatistics = (samples: Map<string, number>) =>
  [...samples.keys()].filter((series) => series.startsWith('mqtt_') && !/^mqtt_(topics_total|sys_payload_errors_total)\b/.test(series));

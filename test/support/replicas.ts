// The replicas of the scale-out test: what each one's /metrics shows, and the telemetry they share.
import type { MqttClient } from 'mqtt';
import { parseExposition, sampleValue } from './http';
import { eventually, type SpawnedService } from './service';

// Three replicas of the built service share the telemetry (MQTT shared subscription)
// and elect one holder for the shared sources (PostgreSQL advisory lock as a lease).
export const INTERVAL_MS = 2000;
export const TELEMETRY_TOPIC = (device: number) => `iotflow/devices/scale-${device}/telemetry/sensors`;

export interface Replica {
  readonly name: string;
  readonly service: SpawnedService;
  readonly port: number;
}

export interface View {
  readonly leader: number | undefined;
  readonly devices: number | undefined;
  readonly devicesOnline: number | undefined;
  readonly brokerConnections: number | undefined;
  readonly databaseUp: number | undefined;
  readonly telemetry: number;
}

/** What one replica's /metrics shows now; undefined when it does not answer within `timeoutMs` (frozen, dead). */
export async function view(replica: Replica, timeoutMs = 1000): Promise<View | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${replica.port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    const { samples } = parseExposition(await response.text());
    return {
      leader: sampleValue(samples, 'cluster_leader'),
      devices: sampleValue(samples, 'iotflow_devices_total'),
      devicesOnline: sampleValue(samples, 'iotflow_devices_online'),
      brokerConnections: sampleValue(samples, 'mqtt_connections_active'),
      databaseUp: sampleValue(samples, 'collector_up', { source: 'database' }),
      telemetry: sampleValue(samples, 'iotflow_telemetry_messages_total') ?? 0,
    };
  } catch {
    return undefined;
  }
}

/** Shows the shared targets: holds the election and exposes their series. */
export const holds = (shown: View | undefined) => shown?.leader === 1 && shown.devices !== undefined;

export async function telemetrySum(replicas: readonly Replica[]): Promise<number> {
  const views = await Promise.all(replicas.map((replica) => view(replica)));
  return views.reduce((sum, shown) => sum + (shown?.telemetry ?? 0), 0);
}

export async function publishTelemetry(client: MqttClient, count: number): Promise<void> {
  const batch = 2000;
  for (let sent = 0; sent < count; sent += batch) {
    const size = Math.min(batch, count - sent);
    await Promise.all(Array.from({ length: size }, (_, i) => client.publishAsync(TELEMETRY_TOPIC((sent + i) % 50), '{"temperature":20}', { qos: 1 })));
  }
}

/** Waits until the sum over `replicas` reaches `expected`, then for one more interval, and returns it. */
export async function settledSum(replicas: readonly Replica[], expected: number): Promise<number> {
  await eventually(async () => ((await telemetrySum(replicas)) >= expected ? true : undefined), `the telemetry sum to reach ${expected}`, 150, 200);
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  return telemetrySum(replicas);
}


export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

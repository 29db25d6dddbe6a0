import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Pool } from 'pg';
import { errorText } from '../src/error-text';
import type { SourceTls } from '../src/tls-files';
import { steadyRate, type SteadyRate } from './steady-rate';

/** The IoTFlow telemetry kinds, in the proportions a device sends them. */
const TELEMETRY_KINDS = [...Array<string>(16).fill('sensors'), 'metrics', 'metrics', 'metrics', 'events'];

/** Database writes are batched: one UPDATE per change of kind per period, whatever the rate. */
const FLUSH_PERIOD_MS = 1000;
/** Every churn period, this share of the fleet (at least one device) disconnects and as many reconnect. */
const CHURN_PERIOD_MS = 5000;
const CHURN_SHARE = 0.02;

export interface FleetSimulatorOptions {
  /** Pool on the fleet database (createFleetDatabase's url); the simulator does not end it. */
  readonly pool: Pool;
  readonly mqttUrl: string;
  /** MQTT_TLS_*_FILE, as the exporter's `mqtt` source takes them. */
  readonly mqttTls?: SourceTls;
  /** Devices 1..devices, as seeded by createFleetDatabase. */
  readonly devices: number;
  /** Telemetry messages a second, over all connected devices. */
  readonly ratePerSecond: number;
  /** A failed database write or a broker error, once per kind until it works again. */
  readonly onProblem?: (message: string) => void;
}

/** The topic IoTFlow devices publish on: `iotflow/devices/{id}/telemetry/{sensors|metrics|events}`. */
export function telemetryTopic(deviceId: number, kind: string): string {
  return `iotflow/devices/${deviceId}/telemetry/${kind}`;
}

/**
 * A fleet of IoTFlow devices: the connected ones publish telemetry over MQTT in turn at a steady
 * rate; a device that reports becomes 'active' with a fresh last_seen, one that disconnects
 * becomes 'inactive' and falls out of the online window. A few devices come and go all the time,
 * so the online count moves.
 */
export class FleetSimulator {
  /** Telemetry messages handed to the MQTT client so far. */
  sent = 0;
  /** Telemetry messages the broker acknowledged (QoS 1): what the demo's exporter must count, no more, no less. */
  published = 0;
  private readonly connected: boolean[];
  private readonly reported = new Set<number>();
  private readonly disconnected = new Set<number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly problems = new Set<string>();
  private rate?: SteadyRate;
  private next = 0;
  private flushing?: Promise<void>;
  private stopping?: Promise<void>;

  private constructor(
    private readonly options: FleetSimulatorOptions,
    private readonly mqtt: MqttClient,
  ) {
    // As seeded: four devices in five start connected ('active').
    this.connected = Array.from({ length: options.devices + 1 }, (_, id) => id > 0 && id % 5 !== 0);
  }

  /** Connects to the broker (failing at once if it cannot) and starts the fleet's churn; telemetry waits for startPublishing(). */
  static async start(options: FleetSimulatorOptions): Promise<FleetSimulator> {
    const mqtt = await connectAsync(options.mqttUrl, { clientId: `iotflow-demo-fleet-${randomBytes(4).toString('hex')}`, reconnectPeriod: 1000, ...options.mqttTls }, false);
    const fleet = new FleetSimulator(options, mqtt);
    mqtt.on('error', (error) => fleet.problem('mqtt', `fleet: MQTT: ${error.message}`));
    mqtt.on('connect', () => fleet.solved('mqtt'));
    fleet.timers.push(setInterval(() => void fleet.flush(), FLUSH_PERIOD_MS), setInterval(() => fleet.churn(), CHURN_PERIOD_MS));
    return fleet;
  }

  /** Starts publishing telemetry at the steady rate: once whoever must count it has subscribed. */
  startPublishing(): void {
    if (this.rate || this.stopping) return;
    this.rate = steadyRate(this.options.ratePerSecond, () => this.publishNext());
  }

  /** True for a device id of this fleet. */
  has(deviceId: number): boolean {
    return Number.isSafeInteger(deviceId) && deviceId >= 1 && deviceId <= this.options.devices;
  }

  /** A device reported (over MQTT, or HTTP through the device API): it is active and seen now. */
  reportedBy(deviceId: number): void {
    this.connected[deviceId] = true;
    this.disconnected.delete(deviceId);
    this.reported.add(deviceId);
  }

  /** Stops publishing, writes what is pending and disconnects from the broker once every message is acknowledged; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.rate?.stop();
      for (const timer of this.timers) clearInterval(timer);
      await this.flushing;
      await this.flush();
      await this.mqtt.endAsync();
    })();
    return this.stopping;
  }

  private publishNext(): void {
    const deviceId = this.nextConnected();
    if (deviceId === undefined || !this.mqtt.connected) return;
    const kind = TELEMETRY_KINDS[this.sent % TELEMETRY_KINDS.length];
    const payload = JSON.stringify({
      device_id: deviceId,
      timestamp: new Date().toISOString(),
      temperature: Math.round((20 + 5 * Math.sin(Date.now() / 60_000 + deviceId)) * 10) / 10,
      humidity: Math.round(40 + 20 * Math.random()),
    });
    this.mqtt.publish(telemetryTopic(deviceId, kind), payload, { qos: 1 }, (error) => {
      if (error) this.problem('publish', `fleet: publishing telemetry failed: ${error.message}`);
      else this.published++;
    });
    this.sent++;
    this.reportedBy(deviceId);
  }

  /** The connected devices in turn, round-robin. */
  private nextConnected(): number | undefined {
    for (let tried = 0; tried < this.options.devices; tried++) {
      this.next = (this.next % this.options.devices) + 1;
      if (this.connected[this.next]) return this.next;
    }
    return undefined;
  }

  private churn(): void {
    const count = Math.max(1, Math.round(this.options.devices * CHURN_SHARE));
    const pick = (connected: boolean) => {
      const ids = [];
      for (let id = 1; id <= this.options.devices; id++) if (this.connected[id] === connected) ids.push(id);
      return ids.sort(() => Math.random() - 0.5).slice(0, count);
    };
    const leaving = pick(true);
    // Those coming back show as active once they report.
    for (const id of pick(false)) this.connected[id] = true;
    for (const id of leaving) {
      this.connected[id] = false;
      this.reported.delete(id);
      this.disconnected.add(id);
    }
  }

  /** One UPDATE for the devices that reported, one for those that left; never two flushes at once. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const reported = [...this.reported];
    const disconnected = [...this.disconnected];
    this.reported.clear();
    this.disconnected.clear();
    if (reported.length === 0 && disconnected.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        if (reported.length > 0) await this.options.pool.query(`UPDATE devices SET status = 'active', last_seen = now() WHERE id = ANY($1::int[])`, [reported]);
        if (disconnected.length > 0) await this.options.pool.query(`UPDATE devices SET status = 'inactive' WHERE id = ANY($1::int[])`, [disconnected]);
        this.solved('database');
      } catch (error) {
        this.problem('database', `fleet: updating devices failed: ${errorText(error)}`);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private problem(kind: string, message: string): void {
    if (this.problems.has(kind)) return;
    this.problems.add(kind);
    this.options.onProblem?.(message);
  }

  private solved(kind: string): void {
    this.problems.delete(kind);
  }
}

import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { connect, type MqttClient } from 'mqtt';
import { defer, first, map, of, startWith, Subject, timeout, type Observable } from 'rxjs';
import { TYPES } from '../container/identifiers';
import type { Clock } from '../src/clock';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { DistinctCounter } from '../src/metrics/distinct-counter';
import { errorText } from '../src/error-text';
import { scrubSecrets, urlSecrets } from '../src/redact';
import type { MetricDescriptor, MetricSource, Sample } from './source';

const SYS_PREFIX = '$SYS/broker/';

interface SysMetric extends MetricDescriptor {
  /** Mosquitto 2 topic below `$SYS/broker/`. */
  readonly topic: string;
  /** Mosquitto 1.6 name of the same value, read only while the 2.x topic has not been seen. */
  readonly fallbackTopic?: string;
  /** `uptime` reads "640136 seconds"; every other topic a bare non-negative integer. */
  readonly unit?: 'seconds';
}

const SYS_METRICS: readonly SysMetric[] = [
  { name: 'mqtt_connections_total', help: 'Clients the broker knows, connected or with a persistent session ($SYS/broker/clients/total)', type: 'gauge', topic: 'clients/total' },
  { name: 'mqtt_connections_active', help: 'Connected clients ($SYS/broker/clients/connected)', type: 'gauge', topic: 'clients/connected', fallbackTopic: 'clients/active' },
  { name: 'mqtt_clients_disconnected', help: 'Persistent sessions whose client is disconnected ($SYS/broker/clients/disconnected)', type: 'gauge', topic: 'clients/disconnected' },
  { name: 'mqtt_messages_received_total', help: 'Messages of any type the broker received ($SYS/broker/messages/received)', type: 'counter', topic: 'messages/received' },
  { name: 'mqtt_messages_sent_total', help: 'Messages of any type the broker sent ($SYS/broker/messages/sent)', type: 'counter', topic: 'messages/sent' },
  { name: 'mqtt_messages_dropped_total', help: 'PUBLISH messages the broker dropped ($SYS/broker/publish/messages/dropped)', type: 'counter', topic: 'publish/messages/dropped' },
  { name: 'mqtt_messages_queued', help: 'Messages held in the broker store ($SYS/broker/store/messages/count)', type: 'gauge', topic: 'store/messages/count', fallbackTopic: 'messages/stored' },
  { name: 'mqtt_subscriptions_total', help: 'Subscriptions active on the broker ($SYS/broker/subscriptions/count)', type: 'gauge', topic: 'subscriptions/count' },
  { name: 'mqtt_retained_messages', help: 'Retained messages on the broker ($SYS/broker/retained messages/count)', type: 'gauge', topic: 'retained messages/count' },
  { name: 'mqtt_bytes_received_total', help: 'Bytes the broker received ($SYS/broker/bytes/received)', type: 'counter', topic: 'bytes/received' },
  { name: 'mqtt_bytes_sent_total', help: 'Bytes the broker sent ($SYS/broker/bytes/sent)', type: 'counter', topic: 'bytes/sent' },
  { name: 'mqtt_broker_uptime_seconds', help: 'Seconds since the broker started ($SYS/broker/uptime)', type: 'gauge', topic: 'uptime', unit: 'seconds' },
];

const UPTIME_METRIC = 'mqtt_broker_uptime_seconds';

interface WatchedTopic {
  readonly metric: SysMetric;
  readonly fallback: boolean;
}

/** Full $SYS topic → what it feeds. */
const SYS_TOPICS: ReadonlyMap<string, WatchedTopic> = new Map(
  SYS_METRICS.flatMap((metric): [string, WatchedTopic][] => [
    [SYS_PREFIX + metric.topic, { metric, fallback: false }],
    ...(metric.fallbackTopic ? [[SYS_PREFIX + metric.fallbackTopic, { metric, fallback: true }] satisfies [string, WatchedTopic]] : []),
  ]),
);

export const MQTT_METRICS: readonly MetricDescriptor[] = [
  ...SYS_METRICS.map(({ name, help, type }) => ({ name, help, type })),
  { name: 'mqtt_topics_total', help: 'Distinct topics seen under the telemetry filter: exact up to 10000, estimated (HyperLogLog, ~1 %) above', type: 'gauge' },
  { name: 'iotflow_telemetry_messages_total', help: 'Messages received on the telemetry topic filter', type: 'counter' },
  { name: 'mqtt_sys_payload_errors_total', help: 'Payloads on watched $SYS topics that were malformed or out of range, and ignored', type: 'counter' },
];

/** One value read from a $SYS message. */
export interface SysUpdate {
  readonly name: string;
  readonly value: number;
  /** Read from a Mosquitto 1.6 topic name; the 2.x topic takes precedence once seen. */
  readonly fallback: boolean;
}

/** A watched $SYS topic carried a payload that is not what Mosquitto publishes there. */
export class SysPayloadError extends Error {
  constructor(
    readonly topic: string,
    payload: string,
    expected: string,
  ) {
    const shown = payload.length > 40 ? `${payload.slice(0, 40)}…` : payload;
    super(`$SYS payload ${JSON.stringify(shown)} on ${topic} is not ${expected}; ignored`);
    this.name = 'SysPayloadError';
  }
}

/**
 * Maps one $SYS message to a metric value: undefined for a topic not watched (load averages,
 * heap, version, …: Mosquitto 2.1 no longer publishes some of them, so nothing depends on them),
 * an error for a watched topic whose payload is not a non-negative integer (`clients/disconnected`
 * can briefly read -1), never NaN or a negative value.
 */
export function parseSysMessage(topic: string, payload: string): SysUpdate | SysPayloadError | undefined {
  const watched = SYS_TOPICS.get(topic);
  if (!watched) return undefined;
  const seconds = watched.metric.unit === 'seconds';
  const match = (seconds ? /^(\d+) seconds$/ : /^(\d+)$/).exec(payload.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!Number.isFinite(value)) return new SysPayloadError(topic, payload, seconds ? '"<integer> seconds"' : 'a non-negative integer');
  return { name: watched.metric.name, value, fallback: watched.fallback };
}

/** How many silent $SYS publish periods make the source stale. */
export const STALE_SYS_PERIODS = 3;

export interface SysLiveness {
  readonly connected: boolean;
  /** Why there is no connection (free of secrets); read only while not connected. */
  readonly disconnectReason: string;
  /** Monotonic ms of the last $SYS message, or of the connection when none came since. */
  readonly lastSysMessageAtMs: number;
  readonly sysPeriodMs: number;
}

/** Why the source's state cannot be trusted now, or undefined while it can. */
export function sysDownReason(nowMs: number, liveness: SysLiveness): string | undefined {
  if (!liveness.connected) return `disconnected from broker: ${liveness.disconnectReason}`;
  const silentMs = nowMs - liveness.lastSysMessageAtMs;
  if (silentMs > STALE_SYS_PERIODS * liveness.sysPeriodMs) return `no $SYS message for ${Math.round(silentMs / 1000)} s (sys_interval 0?)`;
  return undefined;
}

/**
 * Everything the messages have told so far; no I/O. Broker values keep their latest reading;
 * the telemetry count and the distinct topics live as long as the process, across reconnects.
 */
export class MqttState {
  private readonly broker = new Map<string, number>();
  private readonly primarySeen = new Set<string>();
  private readonly topics = new DistinctCounter();
  private telemetryMessages = 0;
  private payloadErrors = 0;
  private lastUptime: number | undefined;

  /** The broker's $SYS publish period: the assumed one until two uptime readings teach it. */
  constructor(public sysPeriodMs: number) {}

  /** A new connection: the next uptime reading starts a new period measurement. */
  connectionOpened(): void {
    this.lastUptime = undefined;
  }

  /** Applies one $SYS message; returns the error when its payload was ignored. */
  applySys(topic: string, payload: string): SysPayloadError | undefined {
    const update = parseSysMessage(topic, payload);
    if (update instanceof SysPayloadError) {
      this.payloadErrors++;
      return update;
    }
    if (!update || (update.fallback && this.primarySeen.has(update.name))) return undefined;
    if (!update.fallback) this.primarySeen.add(update.name);
    this.broker.set(update.name, update.value);
    if (update.name === UPTIME_METRIC) this.learnPeriod(update.value);
    return undefined;
  }

  countTelemetry(topic: string): void {
    this.telemetryMessages++;
    this.topics.add(topic);
  }

  samples(): Sample[] {
    const samples: Sample[] = [];
    for (const { name } of SYS_METRICS) {
      const value = this.broker.get(name);
      if (value !== undefined) samples.push({ name, value });
    }
    samples.push(
      { name: 'mqtt_topics_total', value: this.topics.count() },
      { name: 'iotflow_telemetry_messages_total', value: this.telemetryMessages },
      { name: 'mqtt_sys_payload_errors_total', value: this.payloadErrors },
    );
    return samples;
  }

  /**
   * The broker's clock measures the period, so a busy event loop here cannot stretch it. The
   * first reading after a connection is the retained one, which is one period before the next.
   */
  private learnPeriod(uptime: number): void {
    if (this.lastUptime !== undefined && uptime > this.lastUptime) this.sysPeriodMs = (uptime - this.lastUptime) * 1000;
    this.lastUptime = uptime;
  }
}

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

/**
 * Source `mqtt`: one long-lived client subscribed to `$SYS/#` and to the telemetry filter. Values
 * change as messages arrive; collect() hands the engine the latest state, or fails when that
 * state is not current: no connection, or $SYS silent for three of the broker's publish periods.
 */
@injectable()
export class MqttSource implements MetricSource {
  readonly name = 'mqtt';
  readonly metrics = MQTT_METRICS;
  private readonly state: MqttState;
  private readonly secrets: string[];
  private readonly reported = new Set<string>();
  /** Fires when the connection opens or closes, and on the first $SYS message of a connection. */
  private readonly changes = new Subject<void>();
  private client: MqttClient | undefined;
  private connected = false;
  private closedOnce = false;
  private heardSinceConnect = false;
  private lastSysMessageAtMs = 0;
  private lastError: string | undefined;
  private disconnectReason = 'not connected yet';

  constructor(
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) private readonly logger: Logger,
    @inject(TYPES.Clock) private readonly clock: Clock,
  ) {
    this.state = new MqttState(config.mqttSysIntervalSeconds * 1000);
    this.secrets = urlSecrets(config.mqttUrl);
  }

  start(): void {
    if (this.client) return;
    const client = connect(this.config.mqttUrl, {
      clientId: `iotflow-metrics-${randomBytes(6).toString('hex')}`,
      clean: true,
      connectTimeout: 10_000,
      reconnectPeriod: RECONNECT_MIN_MS,
      // Wrong credentials may be fixed on the broker side: keep trying, with the same backoff.
      reconnectOnConnackError: true,
      // Subscriptions are made on every 'connect' below.
      resubscribe: false,
      // MQTT 5 (Mosquitto >= 1.6), so we can raise Receive Maximum: under MQTT 3.1.1 Mosquitto keeps
      // 20 QoS 1 messages in flight to us and queues 1000 more, then drops, and a burst of
      // telemetry loses messages (measured: 5 000 of 50 000); in flight, they are all delivered.
      protocolVersion: 5,
      properties: { receiveMaximum: 65_535 },
    });
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    // mqtt.js reads reconnectPeriod each time it arms the next attempt: doubling it here is the backoff.
    client.on('reconnect', () => {
      client.options.reconnectPeriod = Math.min((client.options.reconnectPeriod ?? RECONNECT_MIN_MS) * 2, RECONNECT_MAX_MS);
    });
    // Recorded, never logged: HealthState logs the source going down and coming back, once each.
    client.on('error', (error) => {
      this.lastError = scrubSecrets(errorText(error), this.secrets);
    });
    client.on('close', () => {
      this.connected = false;
      this.closedOnce = true;
      this.disconnectReason = this.lastError ?? 'connection closed';
      this.changes.next();
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  collect(): Observable<readonly Sample[]> {
    // Right after a (re)connect the retained $SYS values are milliseconds away: wait for them
    // (or for the connection attempt to fail) rather than report a partial or a false "down".
    return defer(() =>
      this.changes.pipe(
        startWith(undefined),
        first(() => this.settled()),
        timeout({ first: (this.config.collectionTimeoutSeconds * 1000) / 2, with: () => of(undefined) }),
        map(() => this.snapshot()),
      ),
    );
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
  }

  private onConnect(client: MqttClient): void {
    this.connected = true;
    this.heardSinceConnect = false;
    this.lastError = undefined;
    this.lastSysMessageAtMs = this.clock.monotonicMs();
    this.state.connectionOpened();
    client.options.reconnectPeriod = RECONNECT_MIN_MS;
    const telemetry = this.config.mqttTelemetryTopic;
    client.subscribe({ '$SYS/#': { qos: 0 }, [telemetry]: { qos: 1 } }, (error, granted) => {
      if (error) return; // the connection closed meanwhile; the next 'connect' subscribes again
      for (const grant of granted ?? []) {
        // MQTT 5 SUBACK reason codes of 0x80 and above are refusals.
        if (grant.qos >= 0x80) this.reportOnce(`refused ${grant.topic}`, `mqtt: the broker refused the subscription to ${grant.topic}`);
      }
    });
    this.changes.next();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!topic.startsWith('$SYS/')) {
      this.state.countTelemetry(topic);
      return;
    }
    this.lastSysMessageAtMs = this.clock.monotonicMs();
    if (!this.heardSinceConnect) {
      this.heardSinceConnect = true;
      // mqtt.js handles the packets of one read on successive ticks; after them, the whole
      // retained $SYS tree that came with this first message has been applied.
      setImmediate(() => this.changes.next());
    }
    const error = this.state.applySys(topic, payload.toString());
    if (error) this.reportOnce(`payload ${topic}`, `mqtt: ${error.message} (reported once per topic)`);
  }

  private settled(): boolean {
    if (!this.client || this.heardSinceConnect) return true;
    return this.connected ? this.downReason() !== undefined : this.closedOnce;
  }

  private snapshot(): Sample[] {
    const reason = this.downReason();
    if (reason) throw new Error(reason);
    return this.state.samples();
  }

  private downReason(): string | undefined {
    if (!this.client) return 'not started';
    return sysDownReason(this.clock.monotonicMs(), {
      connected: this.connected,
      disconnectReason: this.disconnectReason,
      lastSysMessageAtMs: this.lastSysMessageAtMs,
      sysPeriodMs: this.state.sysPeriodMs,
    });
  }

  private reportOnce(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.warn(message);
  }
}

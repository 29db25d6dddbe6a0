import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'inversify';
import type { MqttClient } from 'mqtt';
import { defer, first, map, of, startWith, Subject, timeout, type Observable } from '../src/rx';
import { TYPES } from '../src/tokens';
import type { Clock } from '../src/clock';
import type { Config } from '../src/config';
import { MQTT_SETTINGS, type MqttSettings } from './mqtt-settings';
import type { Logger } from '../src/logger';
import { errorText } from '../src/error-text';
import { UNSAMPLED_WORK, type WorkNotice } from '../src/metrics/event-loop-lag';
import { ReportedOnce } from '../src/report-once';
import { scrubSecrets, urlSecrets } from '../src/redact';
import { connectMqtt } from './mqtt-connect';
import { MQTT_METRICS, MqttState, sysSilence, telemetrySubscription } from './mqtt-sys';
import type { MetricSource, Sample } from '../src/source';

const RECONNECT_MIN_MS = 1000;
/**
 * Caps the backoff: a broker that comes back is found within this (30 s kept it waiting up to
 * 16 s), and one that stays down gets one connection attempt per this.
 */
const RECONNECT_MAX_MS = 2000;

/**
 * Source `mqtt`: one long-lived client subscribed to the $SYS topics it reads and to the telemetry filter (shared
 * among the replicas by default, see telemetrySubscription). Values
 * change as messages arrive; collect() hands the engine the latest state, and fails only without
 * a connection. The telemetry count needs nothing else; the broker statistics leave the snapshot
 * while $SYS is silent for three of the broker's publish periods (logged once per silence).
 */
@injectable()
export class MqttSource implements MetricSource {
  readonly name = 'mqtt';
  readonly metrics = MQTT_METRICS;
  private readonly state: MqttState;
  private readonly secrets: string[];
  /** Keyed by topics the broker sends: bounded. */
  private readonly reported = new ReportedOnce();
  /** Fires when the connection opens or closes, and on the first $SYS message of a connection. */
  private readonly changes = new Subject<void>();
  private client: MqttClient | undefined;
  private connected = false;
  private closedOnce = false;
  private heardSinceConnect = false;
  private lastSysMessageAtMs = 0;
  private lastError: string | undefined;
  private disconnectReason = 'not connected yet';
  private silenceLogged = false;

  constructor(
    @inject(MQTT_SETTINGS.token) private readonly config: Config & MqttSettings,
    @inject(TYPES.Logger) private readonly logger: Logger,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.WorkNotice) private readonly work: WorkNotice = UNSAMPLED_WORK,
  ) {
    this.state = new MqttState(config.mqttSysIntervalSeconds * 1000);
    this.secrets = urlSecrets(config.mqttUrl);
  }

  start(): void {
    if (this.client) return;
    const client = connectMqtt(this.config.mqttUrl, {
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
      // mqtt-packet otherwise keeps 65 536 two-byte Buffers for packet ids and lengths: 7.8 MB of
      // RSS for a client that writes a handful of packets a minute (footprint suite).
      writeCache: false,
      // MQTT_TLS_*_FILE (mqtts:// or wss:// only, checked at start): the CA and client certificate; verification stays on.
      ...this.config.mqttTls,
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
    client.on('message', (topic, payload) => {
      this.work.noteWork();
      this.onMessage(topic, payload);
    });
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
    const telemetry = telemetrySubscription(this.config.mqttTelemetryTopic, this.config.mqttShareGroup);
    const sys = Object.fromEntries(MqttState.sysTopics.map((topic) => [topic, { qos: 0 as const }]));
    client.subscribe({ ...sys, [telemetry]: { qos: 1 } }, (error, granted) => {
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
    if (this.silenceLogged) {
      this.silenceLogged = false;
      this.logger.info('mqtt: $SYS messages arrive again; the broker statistics are back');
    }
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
    return this.connected ? this.silence() !== undefined : this.closedOnce;
  }

  private snapshot(): Sample[] {
    if (!this.client) throw new Error('not started');
    if (!this.connected) throw new Error(`disconnected from broker: ${this.disconnectReason}`);
    const silence = this.silence();
    if (silence && !this.silenceLogged) {
      this.silenceLogged = true;
      this.logger.warn(`mqtt: ${silence}; broker statistics are left out until $SYS speaks, telemetry is still counted`);
    }
    return this.state.samples(this.heardSinceConnect && !silence);
  }

  private silence(): string | undefined {
    return sysSilence(this.clock.monotonicMs(), {
      lastSysMessageAtMs: this.lastSysMessageAtMs,
      heardSinceConnect: this.heardSinceConnect,
      sysPeriodMs: this.state.sysPeriodMs,
    });
  }

  private reportOnce(key: string, message: string): void {
    if (!this.reported.firstTime(key)) return;
    this.logger.warn(message);
  }
}

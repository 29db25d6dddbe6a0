import { DistinctCounter } from '../src/metrics/distinct-counter';
import type { Labels, MetricDescriptor, Sample } from '../src/source';

const SYS_PREFIX = '$SYS/broker/';

interface SysMetric extends MetricDescriptor {
  /** Mosquitto 2 topics below `$SYS/broker/`, each with the labels of the series it feeds. */
  readonly topics: readonly SysTopic[];
  /** Mosquitto 1.6 name of the same value, read only while the 2.x topic has not been seen. */
  readonly fallbackTopic?: string;
  /** `uptime` reads "640136 seconds", load averages "0.53"; every other topic a bare non-negative integer. */
  readonly payload?: 'seconds' | 'decimal';
  /** Shown while the broker has not published the value: it publishes this one only while it is not 0. */
  readonly valueWhenUntold?: number;
}

interface SysTopic {
  readonly topic: string;
  readonly labels?: Labels;
}

const one = (topic: string): readonly SysTopic[] => [{ topic }];

const SYS_METRICS: readonly SysMetric[] = [
  { name: 'mqtt_connections_total', help: 'Clients the broker knows, connected or with a persistent session ($SYS/broker/clients/total)', type: 'gauge', topics: one('clients/total') },
  { name: 'mqtt_connections_active', help: 'Connected clients ($SYS/broker/clients/connected)', type: 'gauge', topics: one('clients/connected'), fallbackTopic: 'clients/active' },
  { name: 'mqtt_clients_disconnected', help: 'Persistent sessions whose client is disconnected ($SYS/broker/clients/disconnected)', type: 'gauge', topics: one('clients/disconnected') },
  { name: 'mqtt_messages_received_total', help: 'Messages of any type the broker received ($SYS/broker/messages/received)', type: 'counter', topics: one('messages/received') },
  { name: 'mqtt_messages_sent_total', help: 'Messages of any type the broker sent ($SYS/broker/messages/sent)', type: 'counter', topics: one('messages/sent') },
  {
    name: 'mqtt_messages_dropped_total',
    help: 'PUBLISH messages the broker dropped ($SYS/broker/publish/messages/dropped), once the broker has told it: it publishes the total only when it changes, retained for 60 s',
    type: 'counter',
    topics: one('publish/messages/dropped'),
  },
  {
    name: 'mqtt_messages_dropped_per_minute',
    help: "The broker's own average of dropped PUBLISH messages per minute over the period ($SYS/broker/load/publish/dropped/*); 0 while the broker has not published it",
    type: 'gauge',
    labelNames: ['period'],
    topics: [
      { topic: 'load/publish/dropped/1min', labels: { period: '1m' } },
      { topic: 'load/publish/dropped/5min', labels: { period: '5m' } },
      { topic: 'load/publish/dropped/15min', labels: { period: '15m' } },
    ],
    payload: 'decimal',
    valueWhenUntold: 0,
  },
  { name: 'mqtt_messages_queued', help: 'Messages held in the broker store ($SYS/broker/store/messages/count)', type: 'gauge', topics: one('store/messages/count'), fallbackTopic: 'messages/stored' },
  { name: 'mqtt_subscriptions_total', help: 'Subscriptions active on the broker ($SYS/broker/subscriptions/count)', type: 'gauge', topics: one('subscriptions/count') },
  { name: 'mqtt_retained_messages', help: 'Retained messages on the broker ($SYS/broker/retained messages/count)', type: 'gauge', topics: one('retained messages/count') },
  { name: 'mqtt_bytes_received_total', help: 'Bytes the broker received ($SYS/broker/bytes/received)', type: 'counter', topics: one('bytes/received') },
  { name: 'mqtt_bytes_sent_total', help: 'Bytes the broker sent ($SYS/broker/bytes/sent)', type: 'counter', topics: one('bytes/sent') },
  { name: 'mqtt_broker_uptime_seconds', help: 'Seconds since the broker started ($SYS/broker/uptime)', type: 'gauge', topics: one('uptime'), payload: 'seconds' },
];

const UPTIME_METRIC = 'mqtt_broker_uptime_seconds';

const PAYLOAD_FORMATS = {
  integer: { pattern: /^(\d+)$/, expected: 'a non-negative integer' },
  seconds: { pattern: /^(\d+) seconds$/, expected: '"<integer> seconds"' },
  decimal: { pattern: /^(\d+(?:\.\d+)?)$/, expected: 'a non-negative decimal' },
} as const;

interface WatchedTopic {
  readonly metric: SysMetric;
  readonly labels?: Labels;
  readonly fallback: boolean;
}

/** Full $SYS topic → what it feeds. */
const SYS_TOPICS: ReadonlyMap<string, WatchedTopic> = new Map(
  SYS_METRICS.flatMap((metric): [string, WatchedTopic][] => [
    ...metric.topics.map(({ topic, labels }): [string, WatchedTopic] => [SYS_PREFIX + topic, { metric, labels, fallback: false }]),
    ...(metric.fallbackTopic ? [[SYS_PREFIX + metric.fallbackTopic, { metric, fallback: true }] satisfies [string, WatchedTopic]] : []),
  ]),
);

/**
 * What the source subscribes to instead of `$SYS/#`: Mosquitto 2 publishes about three times as
 * many $SYS topics as these (load averages, heap, publish counts...), and every message costs
 * the client parsing and garbage whether it is read or not.
 */
const WATCHED_SYS_TOPICS: readonly string[] = [...SYS_TOPICS.keys()];

export const MQTT_METRICS: readonly MetricDescriptor[] = [
  // The broker's statistics are the same for every replica: with an election only the holder shows them.
  ...SYS_METRICS.map(({ name, help, type, labelNames }) => ({ name, help, type, ...(labelNames ? { labelNames } : {}), shared: true as const })),
  { name: 'mqtt_topics_total', help: 'Distinct topics seen under the telemetry filter: exact up to 10000, estimated (HyperLogLog, ~1 %) above', type: 'gauge' },
  { name: 'iotflow_telemetry_messages_total', help: 'Messages received on the telemetry topic filter', type: 'counter' },
  { name: 'mqtt_sys_payload_errors_total', help: 'Payloads on watched $SYS topics that were malformed or out of range, and ignored', type: 'counter' },
];

/** One value read from a $SYS message. */
export interface SysUpdate {
  readonly name: string;
  readonly labels?: Labels;
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
 * Maps one $SYS message to a metric value: undefined for a topic not watched (other load averages,
 * heap, version, …: Mosquitto 2.1 no longer publishes some of them, so nothing depends on them),
 * an error for a watched topic whose payload is not what Mosquitto publishes there
 * (`clients/disconnected` can briefly read -1), never NaN or a negative value.
 */
export function parseSysMessage(topic: string, payload: string): SysUpdate | SysPayloadError | undefined {
  const watched = SYS_TOPICS.get(topic);
  if (!watched) return undefined;
  const format = PAYLOAD_FORMATS[watched.metric.payload ?? 'integer'];
  const match = format.pattern.exec(payload.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!Number.isFinite(value)) return new SysPayloadError(topic, payload, format.expected);
  return { name: watched.metric.name, ...(watched.labels ? { labels: watched.labels } : {}), value, fallback: watched.fallback };
}

/**
 * The filter the source subscribes to for telemetry: in a shared subscription
 * (`$share/<group>/<filter>`, MQTT 5 and Mosquitto 2) the broker hands each message to one member of
 * the group, so replicas split the messages instead of each counting all of them. Messages still
 * arrive under their real topic, which the plain filter matches.
 */
export function telemetrySubscription(filter: string, shareGroup: string | undefined): string {
  return shareGroup === undefined ? filter : `$share/${shareGroup}/${filter}`;
}

/** How many silent $SYS publish periods make the broker statistics stale. */
export const STALE_SYS_PERIODS = 3;

export interface SysTiming {
  /** Monotonic ms of the last $SYS message, or of the connection when none came since. */
  readonly lastSysMessageAtMs: number;
  /** Whether a $SYS message came on the current connection. */
  readonly heardSinceConnect: boolean;
  readonly sysPeriodMs: number;
}

/**
 * Why the broker statistics are not current although the connection is, or undefined while
 * they are. Only a broker that never spoke on this connection may be one without $SYS.
 */
export function sysSilence(nowMs: number, timing: SysTiming): string | undefined {
  const silentS = Math.round((nowMs - timing.lastSysMessageAtMs) / 1000);
  if (nowMs - timing.lastSysMessageAtMs <= STALE_SYS_PERIODS * timing.sysPeriodMs) return undefined;
  if (!timing.heardSinceConnect) {
    return `no $SYS message in ${silentS} s since connecting: the broker publishes none (sys_interval 0) or an ACL denies this client $SYS/#`;
  }
  return `no $SYS message for ${silentS} s, where the broker published one every ${Math.round(timing.sysPeriodMs / 1000)} s before on this connection`;
}

/**
 * Everything the messages have told so far; no I/O. Broker values keep their latest reading;
 * the telemetry count and the distinct topics live as long as the process, across reconnects.
 */
export class MqttState {
  /** The $SYS topics applySys reads, to subscribe to. */
  static readonly sysTopics = WATCHED_SYS_TOPICS;

  /** Metric name → label key → sample. */
  private readonly broker = new Map<string, Map<string, Sample>>();
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
    const series = this.broker.get(update.name) ?? new Map<string, Sample>();
    this.broker.set(update.name, series);
    series.set(JSON.stringify(update.labels ?? {}), { name: update.name, ...(update.labels ? { labels: update.labels } : {}), value: update.value });
    if (update.name === UPTIME_METRIC) this.learnPeriod(update.value);
    return undefined;
  }

  countTelemetry(topic: string): void {
    this.telemetryMessages++;
    this.topics.add(topic);
  }

  /** Every series; those of the broker statistics only while `withBrokerStatistics` (they are current). */
  samples(withBrokerStatistics = true): Sample[] {
    const samples: Sample[] = withBrokerStatistics ? SYS_METRICS.flatMap((metric) => this.brokerSamples(metric)) : [];
    samples.push(
      { name: 'mqtt_topics_total', value: this.topics.count() },
      { name: 'iotflow_telemetry_messages_total', value: this.telemetryMessages },
      { name: 'mqtt_sys_payload_errors_total', value: this.payloadErrors },
    );
    return samples;
  }

  private brokerSamples(metric: SysMetric): Sample[] {
    const told = this.broker.get(metric.name);
    const untold = metric.valueWhenUntold;
    if (untold === undefined) return [...(told?.values() ?? [])];
    return metric.topics.map(({ labels }) => told?.get(JSON.stringify(labels ?? {})) ?? { name: metric.name, ...(labels ? { labels } : {}), value: untold });
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

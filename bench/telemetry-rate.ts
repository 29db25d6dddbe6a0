import { firstValueFrom } from 'rxjs';
import { systemClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { publishTelemetryBurst } from '../demo/telemetry-publisher';
import { MqttSource } from '../streams/mqtt';

export interface TelemetryRateOptions {
  /** The broker (its $SYS need not be on: the source counts telemetry on the connection alone). */
  readonly mqttUrl: string;
  readonly messages: number;
  /**
   * Publisher processes sharing `messages`, all at once. One mqtt.js publisher stalls for good
   * past 65 535 QoS 1 messages in flight, so each may carry at most MAX_MESSAGES_PER_PUBLISHER.
   */
  readonly publishers?: number;
  /** Messages go round-robin to iotflow/devices/bench-<i>/telemetry/sensors, i < devices. */
  readonly devices?: number;
  /** Stop waiting when the count has not moved for this long. */
  readonly idleTimeoutMs?: number;
}

export interface TelemetryRateResult {
  readonly published: number;
  /** Telemetry messages the `mqtt` source counted during the run: `published` when none was lost. */
  readonly counted: number;
  /** From the first publish to the last message counted. */
  readonly seconds: number;
  /** counted / seconds. */
  readonly messagesPerSecond: number;
  /** What the publishers managed together (every PUBACK received), for telling who was the bottleneck. */
  readonly publisherMessagesPerSecond: number;
}

export const MAX_MESSAGES_PER_PUBLISHER = 60_000;

/**
 * Publishes `messages` telemetry messages with QoS 1, as fast as separate processes can, and
 * measures how fast an `MqttSource` of this process counts them, and whether it counts them all.
 */
export async function measureTelemetryRate(options: TelemetryRateOptions): Promise<TelemetryRateResult> {
  const { mqttUrl, messages, publishers = 1, devices = 100, idleTimeoutMs = 3000 } = options;
  if (messages / publishers > MAX_MESSAGES_PER_PUBLISHER) throw new Error(`${messages} messages need more than ${publishers} publishers (at most ${MAX_MESSAGES_PER_PUBLISHER} each)`);
  // A share group of its own: an exporter already running on the same broker must not split the count.
  const config = loadConfig({ MQTT_URL: mqttUrl, SOURCES: 'mqtt', LOG_LEVEL: 'silent', MQTT_TELEMETRY_TOPIC: 'iotflow/devices/+/telemetry/#', MQTT_SHARE_GROUP: `iotflow-metrics-bench-${process.pid}` });
  const source = new MqttSource(config, createLogger('silent'), systemClock);
  source.start();
  try {
    const before = await countOnceUp(source, 10_000);
    const shares = Array.from({ length: publishers }, (_, i) => Math.floor(messages / publishers) + (i < messages % publishers ? 1 : 0));
    const running = shares.map((share) => publishTelemetryBurst(mqttUrl, share, devices));
    const startedAtMs = Math.min(...(await Promise.all(running.map((publisher) => publisher.started))));
    let counted = 0;
    let countedAtMs = startedAtMs;
    for (;;) {
      const current = (await readCount(source)) - before;
      if (current !== counted) [counted, countedAtMs] = [current, Date.now()];
      if (counted >= messages || Date.now() - countedAtMs > idleTimeoutMs) break;
      await pause(5);
    }
    const finished = await Promise.all(running.map((publisher) => publisher.finished));
    const published = { count: finished.reduce((sum, one) => sum + one.count, 0), finishedAtMs: Math.max(...finished.map((one) => one.finishedAtMs)) };
    // Give duplicates, if any, the time to show.
    await pause(200);
    counted = (await readCount(source)) - before;
    const seconds = (countedAtMs - startedAtMs) / 1000;
    return {
      published: published.count,
      counted,
      seconds,
      messagesPerSecond: counted / seconds,
      publisherMessagesPerSecond: published.count / ((published.finishedAtMs - startedAtMs) / 1000),
    };
  } finally {
    await source.stop();
  }
}

async function readCount(source: MqttSource): Promise<number> {
  const samples = await firstValueFrom(source.collect());
  return samples.find((sample) => sample.name === 'iotflow_telemetry_messages_total')!.value;
}

/** The count once collect() succeeds (connected, subscribed, $SYS heard). */
async function countOnceUp(source: MqttSource, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await readCount(source);
    } catch (error) {
      lastError = error;
    }
    await pause(50);
  }
  throw new Error(`the mqtt source did not come up: ${String(lastError)}`);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { publishTelemetryBurst } from '../demo/telemetry-publisher';

export interface TelemetryRateOptions {
  /** The broker (its $SYS need not be on: the source counts telemetry on the connection alone). */
  readonly mqttUrl: string;
  readonly messages: number;
  /**
   * Publisher processes sharing `messages`, all at once. One mqtt.js publisher stalls for good
   * past 65 535 QoS 1 messages in flight, so each may carry at most MAX_MESSAGES_PER_PUBLISHER.
   */
  readonly publishers?: number;
  /** Counting processes, each an `mqtt` source in one share group of this run's own. */
  readonly replicas?: number;
  /** Messages go round-robin to iotflow-bench/<run>/devices/bench-<i>/telemetry/sensors, i < devices. */
  readonly devices?: number;
  /** Stop waiting when the publishers are done and the count has not moved for this long. */
  readonly idleTimeoutMs?: number;
}

export interface ReplicaShare {
  /** Telemetry messages this replica's source counted during the run. */
  readonly counted: number;
  /** CPU seconds (utime + stime of /proc/<pid>/stat) the replica used from the first publish to the final count. */
  readonly cpuSeconds: number;
}

export interface TelemetryRateResult {
  readonly published: number;
  /** Telemetry messages the replicas counted together during the run: `published` when none was lost. */
  readonly counted: number;
  /** From the first publish to the last message counted. */
  readonly seconds: number;
  /** counted / seconds. */
  readonly messagesPerSecond: number;
  /** What the publishers managed together (every PUBACK received), for telling who was the bottleneck. */
  readonly publisherMessagesPerSecond: number;
  readonly replicas: readonly ReplicaShare[];
}

export const MAX_MESSAGES_PER_PUBLISHER = 60_000;

/**
 * Publishes `messages` telemetry messages with QoS 1, as fast as separate processes can, and
 * measures how fast `replicas` processes, each running an `MqttSource` in one share group, count
 * them together, whether they count them all, and what each one's share costs it in CPU.
 */
export async function measureTelemetryRate(options: TelemetryRateOptions): Promise<TelemetryRateResult> {
  const { mqttUrl, messages, publishers = 1, replicas: replicaCount = 1, devices = 100, idleTimeoutMs = 3000 } = options;
  if (messages / publishers > MAX_MESSAGES_PER_PUBLISHER) throw new Error(`${messages} messages need more than ${publishers} publishers (at most ${MAX_MESSAGES_PER_PUBLISHER} each)`);
  // A share group and topics of this run's own: an exporter already running on the same broker must
  // not split the count, nor telemetry that others publish there swell it.
  const run = `${process.pid}-${Date.now()}`;
  const topicRoot = `iotflow-bench/${run}/devices`;
  const replicas = Array.from({ length: replicaCount }, () => startReplica(mqttUrl, `iotflow-metrics-bench-${run}`, `${topicRoot}/+/telemetry/#`));
  try {
    const before = await Promise.all(replicas.map((replica) => replica.ready));
    const countAll = async () => (await Promise.all(replicas.map((replica) => replica.count()))).map((count, i) => count - before[i]!);
    const sum = (counts: readonly number[]) => counts.reduce((total, count) => total + count, 0);
    const cpuBefore = replicas.map((replica) => processCpuSeconds(replica.pid));
    const shares = Array.from({ length: publishers }, (_, i) => Math.floor(messages / publishers) + (i < messages % publishers ? 1 : 0));
    const running = shares.map((share) => publishTelemetryBurst(mqttUrl, topicRoot, share, devices));
    const startedAtMs = Math.min(...(await Promise.all(running.map((publisher) => publisher.started))));
    // Idle time counts from the last PUBACK on: on a loaded machine the first message may take
    // longer than idleTimeoutMs to arrive, and what the broker still queues is not lost yet.
    let publishedAtMs: number | undefined;
    const finishing = Promise.all(running.map((publisher) => publisher.finished));
    finishing.then(() => (publishedAtMs = Date.now()), () => (publishedAtMs = Date.now()));
    let counted = 0;
    let countedAtMs = startedAtMs;
    for (;;) {
      const current = sum(await countAll());
      if (current !== counted) [counted, countedAtMs] = [current, Date.now()];
      if (counted >= messages || (publishedAtMs !== undefined && Date.now() - Math.max(countedAtMs, publishedAtMs) > idleTimeoutMs)) break;
      await pause(5);
    }
    const finished = await finishing;
    const published = { count: finished.reduce((total, one) => total + one.count, 0), finishedAtMs: Math.max(...finished.map((one) => one.finishedAtMs)) };
    // Give duplicates, if any, the time to show.
    await pause(200);
    const final = await countAll();
    const cpuSeconds = replicas.map((replica, i) => processCpuSeconds(replica.pid) - cpuBefore[i]!);
    const seconds = (countedAtMs - startedAtMs) / 1000;
    return {
      published: published.count,
      counted: sum(final),
      seconds,
      messagesPerSecond: sum(final) / seconds,
      publisherMessagesPerSecond: published.count / ((published.finishedAtMs - startedAtMs) / 1000),
      replicas: final.map((count, i) => ({ counted: count, cpuSeconds: Math.round(cpuSeconds[i]! * 100) / 100 })),
    };
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node runs on.

/** utime + stime of /proc/<pid>/stat, in seconds. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The compiled tree holding streams/mqtt.js: this file's own when it runs compiled (the bench),
 * dist/ when it runs from source (ts-jest; the tests' global setup builds dist/).
 */
const COMPILED_ROOT = __filename.endsWith('.ts') ? path.join(__dirname, '..', 'dist') : path.join(__dirname, '..');

// One replica: an MqttSource in a process of its own, answering "count" over the IPC channel.
const REPLICA = `
require('reflect-metadata');
const [root, url, shareGroup, topicFilter] = process.argv.slice(1);
const { firstValueFrom } = require('rxjs');
const { MqttSource } = require(root + '/streams/mqtt');
const { loadConfig } = require(root + '/src/config');
const { createLogger } = require(root + '/src/logger');
const { systemClock } = require(root + '/src/clock');
const config = loadConfig({ MQTT_URL: url, SOURCES: 'mqtt', LOG_LEVEL: 'silent', MQTT_TELEMETRY_TOPIC: topicFilter, MQTT_SHARE_GROUP: shareGroup });
const source = new MqttSource(config, createLogger('silent'), systemClock);
const count = async () => (await firstValueFrom(source.collect())).find((sample) => sample.name === 'iotflow_telemetry_messages_total').value;
source.start();
// The coordinator gone (killed on a timeout) leaves no replica behind.
process.on('disconnect', () => process.exit(0));
process.on('message', async (message) => {
  if (message === 'stop') {
    await source.stop();
    process.exit(0);
  }
  try {
    process.send({ count: await count() });
  } catch (error) {
    process.send({ error: String(error) });
  }
});
`;

interface Replica {
  readonly pid: number;
  /** The count once the source is up (connected, subscribed, $SYS heard). */
  readonly ready: Promise<number>;
  count(): Promise<number>;
  stop(): Promise<void>;
}

function startReplica(mqttUrl: string, shareGroup: string, topicFilter: string): Replica {
  const child: ChildProcess = spawn(process.execPath, ['-e', REPLICA, COMPILED_ROOT, mqttUrl, shareGroup, topicFilter], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // One question at a time: answers come back in the order asked.
  const waiting: Array<{ resolve: (count: number) => void; reject: (error: Error) => void }> = [];
  child.on('message', (answer: { count?: number; error?: string }) => {
    const asker = waiting.shift();
    if (answer.count !== undefined) asker?.resolve(answer.count);
    else asker?.reject(new Error(answer.error));
  });
  void exited.then(() => {
    for (const asker of waiting.splice(0)) asker.reject(new Error(`replica ${child.pid} exited: ${stderr}`));
  });
  const count = () =>
    new Promise<number>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`replica ${child.pid} exited: ${stderr}`));
      waiting.push({ resolve, reject });
      child.send('count');
    });
  const ready = (async () => {
    const deadline = Date.now() + 10_000;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        return await count();
      } catch (error) {
        lastError = error;
      }
      await pause(50);
    }
    throw new Error(`the mqtt source of replica ${child.pid} did not come up: ${String(lastError)}`);
  })();
  ready.catch(() => undefined); // awaited by the caller
  return {
    pid: child.pid!,
    ready,
    count,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('stop');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * telemetry: how many telemetry messages per second, published through Mosquitto, the `mqtt`
 * source counts with none lost, and where it starts losing; with one replica, and with three
 * replicas in one share group, whose counts must sum to the messages sent. Each step
 * publishes a larger burst (QoS 1, as fast as its publisher processes can; more processes for a
 * higher rate) and compares the count exactly, in one or more rounds; stepping stops at the first
 * step that loses messages. Past the rate the sources keep up with, Mosquitto's queue for a source
 * (max_queued_messages, 1000 by default) overflows and the broker drops what does not fit: that is
 * where losing starts. Each replica's CPU is its utime + stime over the step. The measuring
 * function is bench/telemetry-rate.ts, shared with the MQTT source's own tooling; it runs in a
 * child process (servers/telemetry-counter.ts) with each replica in a process of its own, so no
 * source under test shares the bench's event loop, nor another replica's.
 */
import os from 'node:os';
import { MAX_MESSAGES_PER_PUBLISHER, type ReplicaShare, type TelemetryRateResult } from '../telemetry-rate';
import { runNodeScript, serverEnv } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { median } from '../lib/stats';

const STEP_TIMEOUT_MS = 120_000;

/** Bursts in rising order, each with enough publishers to carry it (see MAX_MESSAGES_PER_PUBLISHER). */
const BURSTS = [10_000, 30_000, MAX_MESSAGES_PER_PUBLISHER, 2 * MAX_MESSAGES_PER_PUBLISHER, 3 * MAX_MESSAGES_PER_PUBLISHER, 4 * MAX_MESSAGES_PER_PUBLISHER];
const QUICK_BURSTS = [10_000, MAX_MESSAGES_PER_PUBLISHER, 2 * MAX_MESSAGES_PER_PUBLISHER, 4 * MAX_MESSAGES_PER_PUBLISHER];
/** One exporter, then three sharing the telemetry. */
const REPLICA_COUNTS = [1, 3];

interface Step {
  readonly replicas: number;
  readonly burst: number;
  readonly publishers: number;
  readonly rounds: number;
  /** Largest miscount of any round: messages lost, or counted twice (QoS 1 redelivery). */
  readonly lost: number;
  readonly countedPerSecond: number;
  readonly publishedPerSecond: number;
  /** Each replica's count and CPU in the round of median rate. */
  readonly shares: readonly ReplicaShare[];
}

async function measure(mqttUrl: string, messages: number, publishers: number, replicas: number): Promise<TelemetryRateResult> {
  const output = await runNodeScript('bench/servers/telemetry-counter.js', [mqttUrl, String(messages), String(publishers), String(replicas)], serverEnv({}), STEP_TIMEOUT_MS);
  return JSON.parse(output.trim().split('\n').at(-1)!) as TelemetryRateResult;
}

const describeShares = (shares: readonly ReplicaShare[]) =>
  shares.map((share) => `${share.counted} in ${share.cpuSeconds} s CPU (${share.counted > 0 ? Math.round((share.cpuSeconds * 1e6) / share.counted) : '–'} µs/msg)`).join('; ');

async function stepUp(mqttUrl: string, replicas: number, bursts: readonly number[], rounds: number, log: (line: string) => void): Promise<Step[]> {
  const steps: Step[] = [];
  for (const burst of bursts) {
    const publishers = Math.ceil(burst / MAX_MESSAGES_PER_PUBLISHER);
    const results: TelemetryRateResult[] = [];
    for (let round = 0; round < rounds; round++) results.push(await measure(mqttUrl, burst, publishers, replicas));
    const medianRate = median(results.map((result) => result.messagesPerSecond));
    const medianRound = results.reduce((best, result) => (Math.abs(result.messagesPerSecond - medianRate) < Math.abs(best.messagesPerSecond - medianRate) ? result : best));
    const step: Step = {
      replicas,
      burst,
      publishers,
      rounds,
      lost: Math.max(...results.map((result) => Math.abs(result.published - result.counted))),
      countedPerSecond: Math.round(medianRate),
      publishedPerSecond: Math.round(median(results.map((result) => result.publisherMessagesPerSecond))),
      shares: medianRound.replicas,
    };
    steps.push(step);
    log(
      `${replicas} replica(s), burst of ${burst} from ${publishers} publisher(s): ${step.lost === 0 ? 'every message counted' : `${step.lost} miscounted`}, ` +
        `${step.countedPerSecond} msg/s counted (published ${step.publishedPerSecond} msg/s); replicas: ${describeShares(step.shares)}`,
    );
    if (step.lost > 0) break;
  }
  return steps;
}

export async function telemetrySuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const bursts = quick ? QUICK_BURSTS : BURSTS;
  const rounds = quick ? 1 : 3;
  const rows: Array<[string, string]> = [];
  const byReplicas: Array<{ replicas: number; steps: Step[]; exactMessagesPerSecond: number | null; firstLossAtBurst: number | null }> = [];
  for (const replicas of REPLICA_COUNTS) {
    const steps = await stepUp(mqttUrl, replicas, bursts, rounds, log);
    const label = `${replicas} replica${replicas > 1 ? 's' : ''}`;
    const bestExact = steps.filter((step) => step.lost === 0).reduce<Step | undefined>((best, step) => (!best || step.countedPerSecond > best.countedPerSecond ? step : best), undefined);
    const firstLoss = steps.find((step) => step.lost > 0);
    rows.push(
      ...steps.map((step): [string, string] => [
        `${label}, burst of ${step.burst}, ${step.publishers} publisher${step.publishers > 1 ? 's' : ''}`,
        `${step.lost === 0 ? 'exact' : `${step.lost} miscounted`}, ${step.countedPerSecond} msg/s counted, published ${step.publishedPerSecond} msg/s (median of ${step.rounds}); ` +
          `per replica: ${describeShares(step.shares)}`,
      ]),
      [`${label}: exact up to`, bestExact ? `${bestExact.countedPerSecond} msg/s (burst of ${bestExact.burst})` : 'no step was exact'],
      [
        `${label}: starts losing`,
        firstLoss
          ? `at a burst of ${firstLoss.burst} from ${firstLoss.publishers} publishers (${firstLoss.publishedPerSecond} msg/s published): the broker's queue for a source overflows`
          : `not up to ${bursts.at(-1)} messages from ${Math.ceil(bursts.at(-1)! / MAX_MESSAGES_PER_PUBLISHER)} publishers`,
      ],
    );
    byReplicas.push({ replicas, steps, exactMessagesPerSecond: bestExact?.countedPerSecond ?? null, firstLossAtBurst: firstLoss?.burst ?? null });
  }
  const loadAverage = os.loadavg().map((load) => Math.round(load * 100) / 100);
  rows.push(['load average at the end', `${loadAverage.join(', ')} (${os.cpus().length} cores, shared)`]);
  return {
    rows,
    // The base step must be exact with one replica and with three (their sum).
    checks: [check('telemetryLost', Math.max(...byReplicas.map(({ steps }) => steps[0]!.lost)))],
    data: { byReplicas, loadAverageAtEnd: loadAverage },
  };
}

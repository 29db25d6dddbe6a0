/**
 * telemetry: how many telemetry messages per second, published through Mosquitto, the `mqtt`
 * source counts with none lost, and where it starts losing. Each step publishes a larger burst
 * (QoS 1, as fast as its publisher processes can; more processes for a higher rate) and compares
 * the count exactly, in one or more rounds; stepping stops at the first step that loses messages.
 * Past the rate the source keeps up with, Mosquitto's queue for it (max_queued_messages, 1000 by
 * default) overflows and the broker drops what does not fit: that is where losing starts. The measuring function is
 * bench/telemetry-rate.ts, shared with the MQTT source's own tooling; it runs in a child process
 * (servers/telemetry-counter.ts), so the source under test never shares the bench's event loop.
 */
import { MAX_MESSAGES_PER_PUBLISHER, type TelemetryRateResult } from '../telemetry-rate';
import { runNodeScript, serverEnv } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { median } from '../lib/stats';

const STEP_TIMEOUT_MS = 120_000;

/** Bursts in rising order, each with enough publishers to carry it (see MAX_MESSAGES_PER_PUBLISHER). */
const BURSTS = [10_000, 30_000, MAX_MESSAGES_PER_PUBLISHER, 2 * MAX_MESSAGES_PER_PUBLISHER, 3 * MAX_MESSAGES_PER_PUBLISHER, 4 * MAX_MESSAGES_PER_PUBLISHER];
const QUICK_BURSTS = [10_000, MAX_MESSAGES_PER_PUBLISHER, 2 * MAX_MESSAGES_PER_PUBLISHER, 4 * MAX_MESSAGES_PER_PUBLISHER];

interface Step {
  readonly burst: number;
  readonly publishers: number;
  readonly rounds: number;
  /** Largest miscount of any round: messages lost, or counted twice (QoS 1 redelivery). */
  readonly lost: number;
  readonly countedPerSecond: number;
  readonly publishedPerSecond: number;
}

async function measure(mqttUrl: string, messages: number, publishers: number): Promise<TelemetryRateResult> {
  const output = await runNodeScript('bench/servers/telemetry-counter.js', [mqttUrl, String(messages), String(publishers)], serverEnv({}), STEP_TIMEOUT_MS);
  return JSON.parse(output.trim().split('\n').at(-1)!) as TelemetryRateResult;
}

export async function telemetrySuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const bursts = quick ? QUICK_BURSTS : BURSTS;
  const rounds = quick ? 1 : 3;
  const steps: Step[] = [];
  for (const burst of bursts) {
    const publishers = Math.ceil(burst / MAX_MESSAGES_PER_PUBLISHER);
    const results: TelemetryRateResult[] = [];
    for (let round = 0; round < rounds; round++) results.push(await measure(mqttUrl, burst, publishers));
    const step: Step = {
      burst,
      publishers,
      rounds,
      lost: Math.max(...results.map((result) => Math.abs(result.published - result.counted))),
      countedPerSecond: Math.round(median(results.map((result) => result.messagesPerSecond))),
      publishedPerSecond: Math.round(median(results.map((result) => result.publisherMessagesPerSecond))),
    };
    steps.push(step);
    log(`burst of ${burst} from ${publishers} publisher(s): ${step.lost === 0 ? 'every message counted' : `${step.lost} miscounted`}, ${step.countedPerSecond} msg/s counted (published ${step.publishedPerSecond} msg/s)`);
    if (step.lost > 0) break;
  }
  const exact = steps.filter((step) => step.lost === 0);
  const bestExact = exact.reduce<Step | undefined>((best, step) => (!best || step.countedPerSecond > best.countedPerSecond ? step : best), undefined);
  const firstLoss = steps.find((step) => step.lost > 0);
  return {
    rows: [
      ...steps.map((step): [string, string] => [
        `burst of ${step.burst}, ${step.publishers} publisher${step.publishers > 1 ? 's' : ''}`,
        `${step.lost === 0 ? 'exact' : `${step.lost} miscounted`}, ${step.countedPerSecond} msg/s counted, published ${step.publishedPerSecond} msg/s (median of ${step.rounds})`,
      ]),
      ['exact up to', bestExact ? `${bestExact.countedPerSecond} msg/s (burst of ${bestExact.burst})` : 'no step was exact'],
      ['starts losing', firstLoss ? `at a burst of ${firstLoss.burst} from ${firstLoss.publishers} publishers (${firstLoss.publishedPerSecond} msg/s published): the broker's queue for the source overflows` : `not up to ${bursts.at(-1)} messages from ${Math.ceil(bursts.at(-1)! / MAX_MESSAGES_PER_PUBLISHER)} publishers`],
    ],
    checks: [check('telemetryLost', steps[0]!.lost)],
    data: { steps, exactMessagesPerSecond: bestExact?.countedPerSecond ?? null, firstLossAtBurst: firstLoss?.burst ?? null },
  };
}

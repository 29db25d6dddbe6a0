/**
 * telemetry: how many telemetry messages per second, published through Mosquitto, the `mqtt`
 * source counts with none lost, and where it starts losing. Each step publishes a larger burst
 * (QoS 1, as fast as one publisher process can) and compares the count exactly, in one or more
 * rounds; stepping stops at the first step that loses messages. The measuring function is
 * bench/telemetry-rate.ts, shared with the MQTT source's own tooling; it runs in a child process
 * (servers/telemetry-counter.ts), so the source under test never shares the bench's event loop.
 */
import type { TelemetryRateResult } from '../telemetry-rate';
import { runNodeScript, serverEnv } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { median } from '../lib/stats';

/**
 * The helper publishes a whole burst at once with QoS 1, and mqtt.js stalls for good once all
 * 65 535 packet identifiers are in flight: bursts stay below that.
 */
const MAX_BURST = 60_000;
const STEP_TIMEOUT_MS = 120_000;

interface Step {
  readonly burst: number;
  readonly rounds: number;
  /** Largest miscount of any round: messages lost, or counted twice (QoS 1 redelivery). */
  readonly lost: number;
  readonly countedPerSecond: number;
  readonly publishedPerSecond: number;
}

async function measure(mqttUrl: string, messages: number): Promise<TelemetryRateResult> {
  const output = await runNodeScript('bench/servers/telemetry-counter.js', [mqttUrl, String(messages)], serverEnv({}), STEP_TIMEOUT_MS);
  return JSON.parse(output.trim().split('\n').at(-1)!) as TelemetryRateResult;
}

export async function telemetrySuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const bursts = quick ? [10_000, MAX_BURST] : [10_000, 30_000, MAX_BURST];
  const rounds = quick ? 1 : 3;
  const steps: Step[] = [];
  for (const burst of bursts) {
    const results: TelemetryRateResult[] = [];
    for (let round = 0; round < rounds; round++) results.push(await measure(mqttUrl, burst));
    const step: Step = {
      burst,
      rounds,
      lost: Math.max(...results.map((result) => Math.abs(result.published - result.counted))),
      countedPerSecond: Math.round(median(results.map((result) => result.messagesPerSecond))),
      publishedPerSecond: Math.round(median(results.map((result) => result.publisherMessagesPerSecond))),
    };
    steps.push(step);
    log(`burst of ${burst}: ${step.lost === 0 ? 'every message counted' : `${step.lost} miscounted`}, ${step.countedPerSecond} msg/s counted (publisher ${step.publishedPerSecond} msg/s)`);
    if (step.lost > 0) break;
  }
  const exact = steps.filter((step) => step.lost === 0);
  const bestExact = exact.reduce<Step | undefined>((best, step) => (!best || step.countedPerSecond > best.countedPerSecond ? step : best), undefined);
  const firstLoss = steps.find((step) => step.lost > 0);
  return {
    rows: [
      ...steps.map((step): [string, string] => [
        `burst of ${step.burst}`,
        `${step.lost === 0 ? 'exact' : `${step.lost} miscounted`}, ${step.countedPerSecond} msg/s counted, publisher ${step.publishedPerSecond} msg/s (median of ${step.rounds})`,
      ]),
      ['exact up to', bestExact ? `${bestExact.countedPerSecond} msg/s (burst of ${bestExact.burst})` : 'no step was exact'],
      ['starts losing', firstLoss ? `at a burst of ${firstLoss.burst} (${firstLoss.publishedPerSecond} msg/s published)` : `not at the highest rate one QoS 1 publisher reaches here (${bursts.at(-1)} messages)`],
    ],
    checks: [check('telemetryLost', steps[0]!.lost)],
    data: { steps, exactMessagesPerSecond: bestExact?.countedPerSecond ?? null, firstLossAtBurst: firstLoss?.burst ?? null },
  };
}

import { firstValueFrom } from 'rxjs';
import type { MetricSource } from '../src/source';

/** How often the exporter's telemetry count is held against what the fleet published. */
const CHECK_PERIOD_MS = 5000;
/** At exit, how long the last acknowledged messages may take to reach the exporter. */
const SETTLE_TIMEOUT_MS = 3000;
const SETTLE_POLL_MS = 50;
const COUNTED_METRIC = 'iotflow_telemetry_messages_total';

/** The fleet's side of the tally. */
export interface PublishedTelemetry {
  /** Messages handed to the MQTT client: the count can never be above it. */
  readonly sent: number;
  /** Messages the broker acknowledged: once delivered, the count can never be below it. */
  readonly published: number;
}

export interface TelemetryTally {
  readonly published: number;
  /** Undefined when the `mqtt` source could not be read (disconnected). */
  readonly counted: number | undefined;
}

/** The line the demo prints at exit: exact, or what is wrong and why it may be. */
export function describeTally({ published, counted }: TelemetryTally): { line: string; exact: boolean } {
  if (counted === undefined) return { line: `telemetry: published ${published}; the exporter's count could not be read (mqtt source down)`, exact: false };
  if (counted === published) return { line: `telemetry: published ${published}, the exporter counted ${counted}: exact`, exact: true };
  const why =
    counted > published
      ? 'it counts messages the demo did not publish (another publisher on the same topics of this broker)'
      : 'messages the broker acknowledged never reached it (a broker queue overflowed, or the source was disconnected)';
  return { line: `telemetry MISCOUNTED: published ${published}, the exporter counted ${counted}: ${why}`, exact: false };
}

/**
 * Holds the demo's exporter's telemetry count (the `mqtt` source, in a share group of the demo's
 * own) against what the fleet published: every period while it runs (the count must lie between
 * what was acknowledged a period ago and what has been sent since), and exactly at exit.
 */
export class TelemetryCheck {
  private readonly timer: NodeJS.Timeout;
  private acknowledgedBefore = 0;
  private reported = false;

  constructor(
    private readonly mqtt: MetricSource,
    private readonly fleet: PublishedTelemetry,
    private readonly onProblem: (message: string) => void,
  ) {
    this.timer = setInterval(() => void this.check(), CHECK_PERIOD_MS);
  }

  /** The exporter's count now, or undefined while the source cannot say. */
  async counted(): Promise<number | undefined> {
    try {
      const samples = await firstValueFrom(this.mqtt.collect());
      return samples.find((sample) => sample.name === COUNTED_METRIC)?.value;
    } catch {
      return undefined;
    }
  }

  /** Stops the periodic check; call once the fleet has stopped: waits for the count to reach what was published, then tallies. */
  async finish(): Promise<TelemetryTally> {
    clearInterval(this.timer);
    const published = this.fleet.published;
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let counted = await this.counted();
    while ((counted === undefined || counted < published) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      counted = await this.counted();
    }
    return { published, counted };
  }

  private async check(): Promise<void> {
    const upper = this.fleet.sent;
    const lower = this.acknowledgedBefore;
    this.acknowledgedBefore = this.fleet.published;
    const counted = await this.counted();
    if (counted === undefined) return;
    const wrong = counted > upper || counted < lower;
    if (wrong && !this.reported) this.onProblem(describeTally({ published: counted > upper ? upper : lower, counted }).line);
    this.reported = wrong;
  }
}

import { createHistogram, performance } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** How the parts that bring the process work tell the event-loop sampler so (see EventLoopLag). */
export interface WorkNotice {
  /** Work arrived (a request, a message): the loop is sampled from now until it has been quiet for a while. */
  noteWork(): void;
  /** Work began that lasts until the returned function is called (a collection): the loop is sampled meanwhile. */
  holdWork(): () => void;
}

/** For parts used without a sampler (unit tests, benches). */
export const UNSAMPLED_WORK: WorkNotice = { noteWork: () => undefined, holdWork: () => () => undefined };

/** A sampling period under 200 ms catches every block of 200 ms at least 100 ms late. */
const SAMPLING_MS = 100;
/** Samples in a row without work after which sampling rests: one, so 0.1 s past the work, for its continuations (a reply written after gzip, the rest of a burst of messages). */
const QUIET_SAMPLES_BEFORE_REST = 1;

/**
 * The delays kept, in ns: 1 µs to an hour at two significant digits (1 %). Node's default range
 * (1 ns to 2^53, three digits) made each reading walk ~90 000 buckets per statistic, 0.3 ms a
 * scrape; this one takes 0.04 ms. A longer delay is recorded as an hour (the histogram would drop it).
 */
const DELAY_RANGE = { lowest: 1_000, highest: 3_600e9, figures: 2 } as const;

/** prom-client's names, help and aggregators: dashboards and alerts written for its gauges read these. */
const STATISTICS = [
  ['min', 'The minimum recorded event loop delay.', 'min'],
  ['max', 'The maximum recorded event loop delay.', 'max'],
  ['mean', 'The mean of the recorded event loop delays.', 'average'],
  ['stddev', 'The standard deviation of the recorded event loop delays.', 'average'],
  ['p50', 'The 50th percentile of the recorded event loop delays.', 'average'],
  ['p90', 'The 90th percentile of the recorded event loop delays.', 'average'],
  ['p99', 'The 99th percentile of the recorded event loop delays.', 'average'],
] as const;

type Statistic = (typeof STATISTICS)[number][0];

/**
 * Event-loop lag, sampled only while the process has work. prom-client's sampler
 * (monitorEventLoopDelay) wakes the process every period for ever: at 100 ms that alone was most of
 * this exporter's CPU at rest (measured in bench/, footprint suite). A loop with nothing to do has
 * no lag to find, and a block is work: it starts in a collection, a request or a message, which
 * call noteWork() or holdWork(). From then on a timer every SAMPLING_MS records how late it fires,
 * until QUIET_SAMPLES_BEFORE_REST samples in a row saw no new work and no work held.
 *
 * The gauges are prom-client's `nodejs_eventloop_lag_*` (the statistics of the delays recorded
 * since the previous reading, then reset; 0 when the loop was at rest throughout), with one
 * difference: a delay is how late the timer fired, not the whole interval, so a loop at rest reads
 * about 0, not the period.
 */
export class EventLoopLag implements WorkNotice {
  private readonly delaysNs = createHistogram(DELAY_RANGE);
  private timer: NodeJS.Timeout | undefined;
  private dueMs = 0;
  private workSinceSample = false;
  private held = 0;
  private quietSamples = 0;

  constructor(
    private readonly samplingMs = SAMPLING_MS,
    private readonly quietSamplesBeforeRest = QUIET_SAMPLES_BEFORE_REST,
  ) {}

  /** Whether the sampler's timer is armed (false at rest). */
  get sampling(): boolean {
    return this.timer !== undefined;
  }

  noteWork(): void {
    this.workSinceSample = true;
    if (this.timer === undefined) this.arm();
  }

  holdWork(): () => void {
    this.held++;
    this.noteWork();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      this.workSinceSample = true;
    };
  }

  /** The statistics of the delays recorded since the last reading, in seconds; starts the next reading afresh. */
  takeReading(): Record<Statistic, number> {
    const delays = this.delaysNs;
    if (delays.count === 0) return { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
    const reading = {
      min: delays.min / 1e9,
      max: delays.max / 1e9,
      mean: delays.mean / 1e9,
      stddev: delays.stddev / 1e9,
      p50: delays.percentile(50) / 1e9,
      p90: delays.percentile(90) / 1e9,
      p99: delays.percentile(99) / 1e9,
    };
    delays.reset();
    return reading;
  }

  /** Registers prom-client's event-loop gauges in `registry`, read from this sampler. */
  register(registry: Registry): void {
    const gauges = new Map<Statistic, Gauge>();
    // As in prom-client: this gauge's collect sets every gauge (it is registered, and so read, first)
    // and measures how long a turn of the loop takes right now.
    const lag = new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Lag of event loop in seconds.',
      registers: [registry],
      aggregator: 'average',
      collect: () => {
        const startedMs = performance.now();
        setImmediate(() => lag.set((performance.now() - startedMs) / 1000));
        const reading = this.takeReading();
        for (const [statistic, gauge] of gauges) gauge.set(reading[statistic]);
      },
    });
    for (const [statistic, help, aggregator] of STATISTICS) {
      gauges.set(statistic, new Gauge({ name: `nodejs_eventloop_lag_${statistic}_seconds`, help, registers: [registry], aggregator }));
    }
  }

  private arm(): void {
    this.dueMs = performance.now() + this.samplingMs;
    // Unreferenced: sampling never keeps the process alive.
    this.timer = setTimeout(this.sample, this.samplingMs).unref();
  }

  private readonly sample = (): void => {
    // libuv's timers count whole milliseconds, so one may fire a little early: that is no lag.
    this.delaysNs.record(Math.min(Math.max(1, Math.round((performance.now() - this.dueMs) * 1e6)), DELAY_RANGE.highest));
    const busy = this.workSinceSample || this.held > 0;
    this.workSinceSample = false;
    this.quietSamples = busy ? 0 : this.quietSamples + 1;
    if (this.quietSamples < this.quietSamplesBeforeRest) return this.arm();
    this.quietSamples = 0;
    this.timer = undefined;
  };
}

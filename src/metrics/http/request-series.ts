import { NativeHistogram } from '../native-histogram';

/** prom-client's default buckets, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The buckets' `le` label values, `+Inf` last. */
export const BUCKET_BOUNDS: readonly string[] = [...DURATION_BUCKETS.map(String), '+Inf'];

export type RequestLabels = Readonly<Record<'method' | 'endpoint' | 'status', string>>;

/**
 * Requests of one (method, endpoint, status) answered: their count and the sum and buckets of
 * their durations, classic and native. The count is also the series' version: a rendering of it
 * is current while the count is the one it was rendered at.
 */
export class RequestSeries {
  count = 0;
  sum = 0;
  /** Non-cumulative: bucketCounts[i] counts durations in (bucket[i-1], bucket[i]]; the last slot is +Inf. */
  private readonly bucketCounts = new Float64Array(BUCKET_BOUNDS.length);
  /** The same durations in exponential buckets, for the protobuf exposition. */
  readonly native = new NativeHistogram();

  constructor(
    /** Dense from 0 across every series of one HttpRequestMetrics: the index of the series' renderings. */
    readonly id: number,
    readonly labels: RequestLabels,
  ) {}

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    let index = 0;
    while (index < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[index]) index++;
    this.bucketCounts[index]++;
    this.native.observe(seconds);
  }

  /** Calls `visit` with each bucket's `le` and cumulative count, in order, `+Inf` last. */
  forEachCumulativeBucket(visit: (le: string, cumulative: number) => void): void {
    let cumulative = 0;
    for (let i = 0; i < BUCKET_BOUNDS.length; i++) visit(BUCKET_BOUNDS[i]!, (cumulative += this.bucketCounts[i]!));
  }
}

/** Requests of one (method, endpoint) being handled. Its count is its version, as for RequestSeries. */
export class InProgressSeries {
  count = 0;

  constructor(
    readonly id: number,
    readonly labels: Readonly<Record<'method' | 'endpoint', string>>,
  ) {}
}

/**
 * The exponential buckets of a Prometheus native histogram, schema 3: each power of two is split
 * into 2^3 = 8 buckets, bucket i holding (2^((i-1)/8), 2^(i/8)], so a bucket's upper bound is
 * 9.05 % above its lower one and a quantile read from it is off by at most half that (±4.4 %).
 * Observations at or below ZERO_THRESHOLD (2^-128, Prometheus's own default) count in the zero
 * bucket. Durations are never negative here, so there are no negative buckets.
 *
 * Counts are kept in one dense array from the lowest bucket used to the highest: a request's
 * durations span a few decades, ~80 buckets. Recording costs a Math.log2, a Math.ceil and an
 * array increment (and a power of two for a value within 1e-9 of a bound) (the array grows only when a new lowest or highest bucket is reached).
 */
export const NATIVE_SCHEMA = 3;
export const ZERO_THRESHOLD = 2 ** -128;
const BUCKETS_PER_POWER_OF_TWO = 2 ** NATIVE_SCHEMA;

/** A run of consecutive buckets: `offset` from the end of the previous run (from 0 for the first). */
export interface BucketSpan {
  readonly offset: number;
  readonly length: number;
}

/** Empty buckets between two used ones up to this many are sent as zero counts rather than a new span. */
const GAP_IN_SPAN = 2;

export class NativeHistogram {
  zeroCount = 0;
  /** counts[k] is the count of bucket firstIndex + k. */
  private counts: number[] = [];
  private firstIndex = 0;

  observe(value: number): void {
    if (!(value > ZERO_THRESHOLD)) {
      if (value >= 0) this.zeroCount++;
      return;
    }
    const scaled = Math.log2(value) * BUCKETS_PER_POWER_OF_TWO;
    let index = Math.ceil(scaled);
    // log2 rounds: a value on a bound (1, 2^(1/8) …) can land just above it, in the next bucket.
    if (index - scaled > 1 - 1e-9 && value <= 2 ** ((index - 1) / BUCKETS_PER_POWER_OF_TWO)) index--;
    const counts = this.counts;
    if (counts.length === 0) {
      this.firstIndex = index;
      counts.push(1);
      return;
    }
    if (index < this.firstIndex) {
      counts.unshift(...new Array<number>(this.firstIndex - index).fill(0));
      this.firstIndex = index;
    }
    const slot = index - this.firstIndex;
    while (counts.length <= slot) counts.push(0);
    counts[slot]!++;
  }

  /** The positive buckets as Prometheus's protobuf sends them: spans, and each bucket's count as a delta from the previous one. */
  positiveBuckets(): { spans: BucketSpan[]; deltas: number[] } {
    const spans: BucketSpan[] = [];
    const deltas: number[] = [];
    const counts = this.counts;
    let previousCount = 0;
    let spanStart = -1;
    let lastUsed = -1;
    /** The slot after the previous span; the first span's offset is its absolute bucket index. */
    let previousEnd = -this.firstIndex;
    const closeSpan = () => {
      spans.push({ offset: spanStart - previousEnd, length: lastUsed - spanStart + 1 });
      previousEnd = lastUsed + 1;
    };
    for (let k = 0; k < counts.length; k++) {
      const count = counts[k]!;
      if (count === 0) continue;
      if (spanStart >= 0 && k - lastUsed - 1 <= GAP_IN_SPAN) {
        for (let gap = lastUsed + 1; gap < k; gap++) {
          deltas.push(-previousCount);
          previousCount = 0;
        }
      } else {
        if (spanStart >= 0) closeSpan();
        spanStart = k;
      }
      deltas.push(count - previousCount);
      previousCount = count;
      lastUsed = k;
    }
    if (spanStart >= 0) closeSpan();
    return { spans, deltas };
  }
}

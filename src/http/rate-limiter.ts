interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Token buckets per key (client address): `ratePerSecond` tokens a second, at most `burst` saved
 * up. At most `capacity` keys are held; past that the least recently seen key is forgotten
 * (a forgotten key starts again with a full bucket), so a flood of addresses costs bounded memory.
 */
export class RateLimiter {
  /** Map iteration order is insertion order: re-inserting on each use keeps it least recent first. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly capacity: number,
  ) {}

  /** Spends one token of `key`: 0 when allowed, else the whole seconds to wait before retrying. */
  take(key: string, nowMs: number): number {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: nowMs };
    this.buckets.delete(key);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, nowMs - bucket.updatedMs) / 1000) * this.ratePerSecond);
    bucket.updatedMs = nowMs;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.capacity) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }

  /** Keys currently held. */
  get size(): number {
    return this.buckets.size;
  }
}

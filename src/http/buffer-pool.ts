/**
 * Reply buffers reused across requests. A scrape of a busy application is half a megabyte; one new
 * buffer per scrape made V8 run a full garbage collection every few dozen scrapes under load
 * (external-memory pressure), and those pauses were the tail of /metrics latency (bench/).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /** @param kept how many released buffers to keep; more concurrent requests allocate and drop theirs. */
  constructor(private readonly kept: number) {}

  /** A buffer of at least `bytes`, not shared with anyone until it is released. */
  acquire(bytes: number): Buffer {
    const index = this.free.findIndex((buffer) => buffer.length >= bytes);
    if (index >= 0) return this.free.splice(index, 1)[0]!;
    // Room to grow: the exposition grows by a few bytes as counters gain digits.
    return Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25));
  }

  release(buffer: Buffer): void {
    if (this.free.length < this.kept) this.free.push(buffer);
  }
}

/** How many reported problems each place remembers: far more than a healthy deployment ever has. */
export const REPORTED_ONCE_CAPACITY = 1000;

/**
 * The problems a place has already logged, so each is logged once and not on every collection
 * or scrape. Keys often carry values from outside (a sample's value, a field a server sent), so
 * at most `capacity` are kept: past that the least recently seen one is forgotten (and logged
 * again if it comes back), and memory stays bounded however many distinct values arrive.
 */
export class ReportedOnce {
  /** Iteration order is insertion order: re-inserting a key on each sighting keeps the least recent first. */
  private readonly keys = new Set<string>();

  constructor(readonly capacity = REPORTED_ONCE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} is not an integer of at least 1`);
  }

  /** True when `key` is not remembered (never seen, or forgotten since): the caller reports it now. */
  firstTime(key: string): boolean {
    const known = this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
    return !known;
  }

  /** The problem of `key` is over: it is reported again if it comes back. */
  forget(key: string): void {
    this.keys.delete(key);
  }

  /** Keys remembered now. */
  get size(): number {
    return this.keys.size;
  }
}

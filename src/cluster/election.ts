import { type Observable, of } from '../rx';

/**
 * Which replica collects the shared sources (database, iotflow, redis, the broker's statistics).
 * Without `CLUSTER_ELECTION` the one process is its own holder (SOLE_REPLICA).
 */
export interface Election {
  /**
   * Whether this replica holds the election now. Checked against the end of its lease by the
   * monotonic clock, so a process resumed after a freeze knows it at once, before any I/O.
   */
  isLeader(): boolean;
  /** The current state on subscription, then each change. */
  readonly leadership$: Observable<boolean>;
  start?(): void;
  stop?(): Promise<void>;
}

/** A single instance: always the holder, so everything is collected as without an election. */
export const SOLE_REPLICA: Election = {
  isLeader: () => true,
  leadership$: of(true),
};

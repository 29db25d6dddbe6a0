import { asyncScheduler } from './rx';
import { performance } from 'node:perf_hooks';

/** Time as the engine reads it; injected so marble tests run on virtual time. */
export interface Clock {
  /** Unix time in milliseconds. */
  epochMs(): number;
  /** Monotonic milliseconds, for durations. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  // asyncScheduler.now() is Date.now() in production and virtual time inside TestScheduler.run().
  epochMs: () => asyncScheduler.now(),
  monotonicMs: () => performance.now(),
};

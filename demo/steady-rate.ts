/** How often a steady rate is topped up: small enough to look steady, large enough to cost nothing. */
const TICK_MS = 100;

export interface SteadyRate {
  stop(): void;
}

/**
 * Calls `action` `perSecond` times a second, spread over ticks; the count follows the clock, so
 * a late tick catches up (up to a second's worth) instead of lowering the rate. `action` is not awaited: it owns its errors.
 */
export function steadyRate(perSecond: number, action: () => void): SteadyRate {
  const startedMs = Date.now();
  let done = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - startedMs) / 1000) * perSecond);
    // After a stall of more than a second (a suspended laptop), resume the rate rather than burst.
    if (due - done > perSecond) done = due - Math.ceil(perSecond);
    for (; done < due; done++) action();
  }, TICK_MS);
  return { stop: () => clearInterval(timer) };
}

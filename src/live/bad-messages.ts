import type { Clock } from '../clock';

/** Unusable messages a client may send within one collection interval; one more closes it with 1008. */
export const MAX_BAD_MESSAGES_PER_INTERVAL = 10;

/** What a session does with one more message it cannot use: answer it, let it pass unanswered, or close the client. */
export type BadMessageVerdict = 'answer' | 'ignore' | 'close';

/**
 * One client's unusable messages (malformed, unknown source), counted per collection interval.
 * Only the first of an interval is answered: a client that never reads would otherwise make the
 * server queue one answer per message it sends, without limit. Past MAX_BAD_MESSAGES_PER_INTERVAL
 * within one interval the client is closed: it is not speaking the protocol.
 */
export class BadMessageAllowance {
  private intervalStartMs = -Infinity;
  private count = 0;

  constructor(
    private readonly clock: Pick<Clock, 'monotonicMs'>,
    private readonly intervalMs: number,
  ) {}

  next(): BadMessageVerdict {
    const now = this.clock.monotonicMs();
    if (now - this.intervalStartMs >= this.intervalMs) {
      this.intervalStartMs = now;
      this.count = 0;
    }
    this.count++;
    if (this.count > MAX_BAD_MESSAGES_PER_INTERVAL) return 'close';
    return this.count === 1 ? 'answer' : 'ignore';
  }
}

import { RateLimiter } from '../../src/http/rate-limiter';

describe('RateLimiter', () => {
  it('allows a burst, then the rate, and says how long to wait', () => {
    const limiter = new RateLimiter(2, 4, 100);
    const at0 = [1, 2, 3, 4, 5].map(() => limiter.take('a', 0));
    expect(at0).toEqual([0, 0, 0, 0, 1]);
    expect(limiter.take('a', 499)).toBe(1); // 0.998 tokens: not yet
    expect(limiter.take('a', 1000)).toBe(0); // refilled 2 tokens after the refused attempt's 0.998
    expect(limiter.take('a', 1000)).toBe(0);
    expect(limiter.take('a', 1000)).toBe(1);
  });

  it('never saves up more than the burst', () => {
    const limiter = new RateLimiter(10, 20, 100);
    limiter.take('a', 0);
    const afterAnHour = Array.from({ length: 21 }, () => limiter.take('a', 3_600_000));
    expect(afterAnHour.filter((wait) => wait === 0)).toHaveLength(20);
    expect(afterAnHour[20]).toBe(1);
  });

  it('rounds a long wait up to whole seconds', () => {
    const limiter = new RateLimiter(0.25, 1, 100);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(4);
    expect(limiter.take('a', 3000)).toBe(1); // 0.75 tokens: one more second
  });

  it('keeps each address apart', () => {
    const limiter = new RateLimiter(1, 1, 100);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(1);
    expect(limiter.take('b', 0)).toBe(0);
  });

  it('holds at most its capacity however many addresses appear, forgetting the least recently seen', () => {
    const limiter = new RateLimiter(1, 1, 3);
    limiter.take('kept', 0);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`scanner-${i}`, 0);
      limiter.take('kept', 0); // seen again every time: never the oldest
      expect(limiter.size).toBeLessThanOrEqual(3);
    }
    expect(limiter.take('kept', 0)).toBe(1); // its exhausted bucket survived the flood
    expect(limiter.take('scanner-0', 0)).toBe(0); // forgotten long ago: a fresh bucket
  });
});

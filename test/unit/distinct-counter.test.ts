import { DistinctCounter } from '../../src/metrics/distinct-counter';

const topic = (i: number) => `iotflow/devices/device-${i}/telemetry/sensors`;

function counterWith(distinct: number, exactLimit?: number): DistinctCounter {
  const counter = new DistinctCounter(exactLimit);
  for (let i = 0; i < distinct; i++) counter.add(topic(i));
  return counter;
}

describe('DistinctCounter', () => {
  it('is exact up to the limit, duplicates included', () => {
    const counter = new DistinctCounter(10_000);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10_000; i++) counter.add(topic(i));
    }
    expect(counter.count()).toBe(10_000);
    expect(counter.exact).toBe(true);
  });

  it('counts items that differ in a single character, long or short, apart', () => {
    const counter = new DistinctCounter();
    const long = 'x'.repeat(60_000);
    for (const item of ['', 'a', 'b', 'ab', 'ba', `${long}a`, `${long}b`, 'ü', 'u\u0308']) counter.add(item);
    expect(counter.count()).toBe(9);
  });

  it('switches to an estimate above the limit and lets go of the hashes it held', () => {
    const counter = counterWith(100, 100);
    expect([counter.exact, counter.heldHashes, counter.count()]).toEqual([true, 100, 100]);
    counter.add(topic(100));
    expect(counter.exact).toBe(false);
    expect(counter.heldHashes).toBe(0);
    // The registers were fed from the start: the estimate picks up where the exact count left off.
    expect(Math.abs(counter.count() - 101)).toBeLessThanOrEqual(2);
  });

  it.each([20_000, 45_000, 200_000])('estimates %i distinct items within 3 %', (distinct) => {
    const counter = counterWith(distinct);
    expect(counter.exact).toBe(false);
    expect(Math.abs(counter.count() - distinct) / distinct).toBeLessThan(0.03);
  });

  it('does not count an item twice once estimating', () => {
    const counter = counterWith(50_000);
    const estimate = counter.count();
    for (let i = 0; i < 50_000; i++) counter.add(topic(i));
    expect(counter.count()).toBe(estimate);
  });

  it('rejects an unusable precision', () => {
    expect(() => new DistinctCounter(10, 3)).toThrow('precision 3 is not an integer from 4 to 16');
  });
});

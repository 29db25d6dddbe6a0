import { BufferPool } from '../../src/http/buffer-pool';

describe('BufferPool', () => {
  it('hands out a buffer at least as large as asked, and never one that is still out', () => {
    const pool = new BufferPool(2);
    const first = pool.acquire(100);
    const second = pool.acquire(100);
    expect(first.length).toBeGreaterThanOrEqual(100);
    expect(second).not.toBe(first);
    pool.release(first);
    expect(pool.acquire(50)).toBe(first);
  });

  it('skips released buffers that are too small, and keeps no more than it was told', () => {
    const pool = new BufferPool(1);
    const small = pool.acquire(10);
    const other = pool.acquire(10);
    pool.release(small);
    pool.release(other); // beyond the one kept
    const large = pool.acquire(1000);
    expect(large).not.toBe(small);
    expect(large.length).toBeGreaterThanOrEqual(1000);
    expect(pool.acquire(10)).toBe(small);
    expect(pool.acquire(10)).not.toBe(other);
  });
});

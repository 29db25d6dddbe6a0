import { gzip } from 'node:zlib';

/**
 * zlib level of /metrics bodies. With 350 request series (bench/scrape-cpu.ts), level 1 made a
 * 560 KB scrape 27 KB for 1.5 ms of CPU; level 3 26 KB for 1.9 ms, level 6 24 KB for 6.3 ms,
 * level 9 21 KB for 13 ms: past 1 the bytes saved are few and the CPU is not.
 */
export const GZIP_LEVEL = 1;

interface Compressed {
  /** A copy of the bytes compressed, to know whether the next body is the same. */
  readonly plain: Buffer;
  readonly gzipped: Buffer;
}

/**
 * The gzipped scrape bodies of one kind of scrape (one format and source selection), made so that
 * compression costs as little of the scrape path as it can:
 * - in zlib's thread pool, not on the event loop (a 584 KB deflate blocks it for milliseconds);
 * - at most one at a time: a scrape that arrives while a body is being compressed is answered
 *   with that body, which is at most one compression older than its own would be; it neither
 *   reads the registry nor compresses;
 * - not again for a body whose bytes did not change since the last one compressed.
 * The gzipped buffers are never reused, so any number of replies may hold one.
 */
export class GzipBodies {
  private last: Compressed | undefined;
  private pending: Promise<Buffer> | undefined;
  /** How many bodies were compressed (the tests read it to see a body reused). */
  compressions = 0;

  /**
   * The gzipped body. `render` writes the current body into a buffer it owns, and `done` gives
   * that buffer back once it is no longer read (after compression, or at once when not needed).
   */
  async get(render: () => Promise<{ body: Buffer; done: () => void }>): Promise<Buffer> {
    if (this.pending) return this.pending;
    const pending = this.compress(render);
    this.pending = pending;
    try {
      return await pending;
    } finally {
      if (this.pending === pending) this.pending = undefined;
    }
  }

  private async compress(render: () => Promise<{ body: Buffer; done: () => void }>): Promise<Buffer> {
    const { body, done } = await render();
    try {
      if (this.last && this.last.plain.equals(body)) return this.last.gzipped;
      const gzipped = await new Promise<Buffer>((resolve, reject) => gzip(body, { level: GZIP_LEVEL }, (error, result) => (error ? reject(error) : resolve(result))));
      this.compressions++;
      this.last = { plain: copyInto(this.last?.plain, body), gzipped };
      return gzipped;
    } finally {
      done();
    }
  }
}

/** `source` copied into `previous`'s memory when it fits (the previous copy is not needed any more). */
function copyInto(previous: Buffer | undefined, source: Buffer): Buffer {
  const target = previous && previous.buffer.byteLength >= source.length ? Buffer.from(previous.buffer, previous.byteOffset, source.length) : Buffer.allocUnsafeSlow(Math.ceil(source.length * 1.25));
  source.copy(target);
  return target.subarray(0, source.length);
}

/** Whether an Accept-Encoding header accepts gzip (RFC 9110 §12.5.3: named or `*`, with a q above 0). */
export function acceptsGzip(acceptEncoding: string): boolean {
  let wildcard = false;
  for (const item of acceptEncoding.split(',')) {
    const [coding = '', ...parameters] = item.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') wildcard = accepted;
  }
  return wildcard;
}

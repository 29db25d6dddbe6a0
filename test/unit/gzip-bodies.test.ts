import { gunzipSync } from 'node:zlib';
import { acceptsGzip, GzipBodies } from '../../src/http/gzip-bodies';

/** A render of `text` that counts its renders and the buffers given back. */
function renderer(text: () => string) {
  const counts = { renders: 0, done: 0 };
  const render = async () => {
    counts.renders++;
    return { body: Buffer.from(text()), done: () => void counts.done++ };
  };
  return { render, counts };
}

describe('GzipBodies', () => {
  it('case 1a: the gzipped body decompresses to the rendered one', async () => {
    const { render } = renderer(() => 'a_metric 1\n'.repeat(1000));
    expect(gunzipSync(await new GzipBodies().get(render)).toString()).toBe('a_metric 1\n'.repeat(1000));
  });

  it('case 1b: a body whose bytes did not change is not compressed again', async () => {
    let text = 'a_metric 1\n';
    const { render, counts } = renderer(() => text);
    const bodies = new GzipBodies();
    const first = await bodies.get(render);
    const second = await bodies.get(render);
    expect(second).toBe(first);
    expect(bodies.compressions).toBe(1);
    text = 'a_metric 2\n';
    expect(gunzipSync(await bodies.get(render)).toString()).toBe('a_metric 2\n');
    expect(bodies.compressions).toBe(2);
    expect(counts).toEqual({ renders: 3, done: 3 });
  });

  it('case 1c: scrapes arriving during a compression share it and render nothing', async () => {
    let n = 0;
    const { render, counts } = renderer(() => `a_metric ${++n}\n`);
    const bodies = new GzipBodies();
    const answers = await Promise.all([bodies.get(render), bodies.get(render), bodies.get(render)]);
    expect(new Set(answers).size).toBe(1);
    expect(counts.renders).toBe(1);
    expect(bodies.compressions).toBe(1);
  });

  it('case 1d: the rendered buffer is given back only once the compression has read it', async () => {
    let released = false;
    const source = Buffer.from('x 1\n'.repeat(100_000));
    const bodies = new GzipBodies();
    const answer = bodies.get(async () => ({ body: source, done: () => (released = true) }));
    await Promise.resolve();
    expect(released).toBe(false);
    expect(gunzipSync(await answer).equals(source)).toBe(true);
    expect(released).toBe(true);
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, GZIP;q=0.5', true],
    ['*', true],
    ['', false],
    ['identity', false],
    ['br, deflate', false],
    ['gzip;q=0', false],
    ['*;q=0', false],
    ['*, gzip;q=0', false],
  ])('%j → %s', (header, accepted) => expect(acceptsGzip(header)).toBe(accepted));
});

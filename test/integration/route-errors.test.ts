import net from 'node:net';
import { TYPES } from '../../src/tokens';
import type { HttpReply } from '../../src/http/route-table';
import { get } from '../support/http';
import { metricValue } from '../support/metrics';
import { eventually, type RunningService, serviceOn } from '../support/service';
import { ENGINES } from '../support/engines';

/**
 * A GET that gives up well before the test's timeout: a request left unanswered must fail the test
 * with this, not hang it. 15 s, as an answer can take seconds on a loaded two-core machine.
 */
async function fetchStatus(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
  await response.text();
  return response.status;
}

/** What a failing route (an embedding application's included) does to the server. */
describe.each(ENGINES)('on the %s engine', (engine) => {
  const start = serviceOn(engine);

  describe('case 10: a route that fails', () => {
    let service: RunningService;
    const releases: Record<string, number> = {};
    const released = (path: string) => () => void (releases[path] = (releases[path] ?? 0) + 1);
    let settleAbandoned: (reply: HttpReply) => void = () => undefined;
    let failAbandoned: (error: Error) => void = () => undefined;

    beforeAll(async () => {
      service = await start({ SOURCES: 'app', METRICS_RATE_LIMIT: '0' }, (container) => {
        const routes = container.get(TYPES.RouteTable);
        routes.add({ method: 'GET', path: '/fails/sync-throw', handler: () => { throw new Error('sync-throw went wrong'); } });
        // JavaScript can throw anything; a route written in it may throw nothing at all.
        routes.add({ method: 'GET', path: '/fails/sync-throw-undefined', handler: () => { throw undefined; } });
        // A reply uWS cannot write (a header value that is not a string), with a body to give back.
        routes.add({
          method: 'GET',
          path: '/fails/sync-unwritable',
          handler: () => ({ status: 200, headers: { 'X-Count': 5 as unknown as string }, body: 'x', released: released('/fails/sync-unwritable') }),
        });
        routes.add({ method: 'GET', path: '/fails/async-reject', handler: async () => { throw new Error('async-reject went wrong'); } });
        routes.add({ method: 'GET', path: '/fails/async-resolves-undefined', handler: async () => undefined as unknown as HttpReply });
        routes.add({
          method: 'GET',
          path: '/fails/async-unwritable',
          handler: async () => ({ status: 200, headers: { 'X-Count': 5 as unknown as string }, body: 'x', released: released('/fails/async-unwritable') }),
        });
        routes.add({ method: 'GET', path: '/abandoned', handler: () => new Promise<HttpReply>((resolve, reject) => ((settleAbandoned = resolve), (failAbandoned = reject))) });
      });
    });

    afterAll(() => service.stop());

    const inProgress = (endpoint: string) => metricValue(service, 'http_requests_in_progress', { method: 'GET', endpoint });
    const answered = async (endpoint: string, status: string) => (await metricValue(service, 'http_requests_total', { method: 'GET', endpoint, status })) ?? 0;
    const logged = (path: string) => service.logLines.filter((line) => line.includes(path));

    it.each([
      ['throws synchronously', '/fails/sync-throw', 'sync-throw went wrong', false],
      ['throws undefined synchronously', '/fails/sync-throw-undefined', 'undefined', false],
      ['returns a reply uWS cannot write', '/fails/sync-unwritable', 'X-Count', true],
      ['rejects', '/fails/async-reject', 'async-reject went wrong', false],
      ['resolves with no reply', '/fails/async-resolves-undefined', 'not a reply', false],
      ['resolves with a reply uWS cannot write', '/fails/async-unwritable', 'X-Count', true],
    ])('case 10: a route that %s answers 500, is logged once, ends its in-progress count, releases its body', async (_what, path, reason, hasBody) => {
      expect(await fetchStatus(service.port, path)).toBe(500);
      const lines = logged(path);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(reason);
      expect(await inProgress(path)).toBe(0);
      expect(await answered(path, '500')).toBe(1);
      if (hasBody) expect(releases[path]).toBe(1);
      expect((await get(service.port, '/health')).status).toBe(200);
    });

    /** Requests /abandoned on a raw socket, waits until the route is running, then leaves. */
    async function abandon(): Promise<void> {
      const socket = net.connect(service.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /abandoned HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await eventually(async () => ((await inProgress('/abandoned')) === 1 ? true : undefined), 'the route to be running');
      socket.destroy();
      await eventually(async () => ((await inProgress('/abandoned')) === 0 ? true : undefined), 'in-progress to return to 0 after the abort');
    }

    it('case 10: an async route whose client left before it resolved releases its body, and the server goes on', async () => {
      await abandon();
      let releasedCount = 0;
      settleAbandoned({ status: 200, body: Buffer.from('late'), released: () => void releasedCount++ });
      await eventually(() => (releasedCount === 1 ? true : undefined), 'the late body to be released');
      expect(await inProgress('/abandoned')).toBe(0);
      expect(await answered('/abandoned', '200')).toBe(0); // nobody was answered
      expect(logged('/abandoned')).toEqual([]);
      expect((await get(service.port, '/health')).status).toBe(200);
      expect((await get(service.port, '/metrics')).status).toBe(200);
    });

    it('case 10: an async route that rejects after its client left is logged once, and the server goes on', async () => {
      await abandon();
      failAbandoned(new Error('rejected after the client left'));
      await eventually(() => (logged('/abandoned').length > 0 ? true : undefined), 'the rejection to be logged');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(logged('/abandoned')).toHaveLength(1);
      expect(logged('/abandoned')[0]).toContain('rejected after the client left');
      expect(await inProgress('/abandoned')).toBe(0);
      expect((await get(service.port, '/health')).status).toBe(200);
    });
  });
});

import { readFileSync } from 'node:fs';
import net from 'node:net';
import { HTTP_ENGINES } from '../../src/http/http-engines';
import { ENGINES } from '../support/engines';
import { get } from '../support/http';
import { eventually, spawnService } from '../support/service';
import { openStream } from '../support/websocket';

describe('the service process', () => {
  it('runs the best HTTP engine that loads here, never the pure-JS uWS fallback, and names it', async () => {
    const service = spawnService({ SOURCES: 'app' });
    try {
      const port = await service.ready;
      const best = ENGINES[0]!;
      // A uWS addon is mapped into the process only if its native binary loaded.
      const maps = readFileSync(`/proc/${service.child.pid}/maps`, 'utf8');
      if (best.startsWith('uws-')) expect(maps).toMatch(/uws_linux_x64_\d+\.node/);
      expect(service.stderr()).not.toContain('Falling back to a NodeJS implementation');
      expect(service.stderr()).toContain(`[HTTP_ENGINE ${best}]`);
      expect(service.stderr()).toContain(`listening on http://127.0.0.1:${port}, sources: app`);
      expect(JSON.parse((await get(port, '/health')).body).engine.name).toBe(best);
    } finally {
      service.child.kill('SIGKILL');
      await service.exited;
    }
  });

  it('exits 2 naming HTTP_ENGINE for a value it does not know, and for an engine that cannot load here', async () => {
    const unknown = spawnService({ SOURCES: 'app', HTTP_ENGINE: 'uws-21' });
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/^configuration error: HTTP_ENGINE="uws-21" is invalid: expected auto, uws, uws-20.57, uws-20.30, node\n$/);
    const missing = HTTP_ENGINES.find((engine) => !ENGINES.includes(engine));
    if (missing === undefined) return; // every engine loads on this machine
    const forced = spawnService({ SOURCES: 'app', HTTP_ENGINE: missing });
    expect(await forced.exited).toBe(2);
    expect(forced.stderr()).toMatch(new RegExp(`^configuration error: HTTP_ENGINE=${missing} cannot be used on this host: uWebSockets.js 20\\.\\d+ (needs glibc|has no build for Node)`));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops on %s: exit 0, listen socket closed, clients closed', async (signal) => {
    const service = spawnService({ SOURCES: 'app,system' });
    const port = await service.ready;
    expect((await get(port, '/health')).status).toBe(200);
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 5000).unref());
    service.child.kill(signal);
    expect(await Promise.race([service.exited, deadline])).toBe(0);
    await expect(get(port, '/health')).rejects.toThrow();
  });

  it('case 12: SIGTERM with a stream client and a hung source: the client gets 1001, the process exits 1 at the deadline', async () => {
    // A "database" that accepts connections and never answers: the source's stop() waits on it.
    const held: net.Socket[] = [];
    const blackHole = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port: blackHolePort } = blackHole.address() as net.AddressInfo;
    const service = spawnService({ SOURCES: 'app,database', DATABASE_URL: `postgres://postgres@127.0.0.1:${blackHolePort}/x`, COLLECTION_INTERVAL_SECONDS: '60' });
    try {
      const port = await service.ready;
      await eventually(() => (held.length > 0 ? true : undefined), 'the database source to connect to the black hole');
      const client = await openStream(port, 'sources=app');
      await client.next();
      const signalledMs = Date.now();
      service.child.kill('SIGTERM');
      expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(await service.exited).toBe(1);
      expect(Date.now() - signalledMs).toBeLessThan(5000);
      expect(service.stderr()).toContain('shutdown did not finish within 4500 ms');
    } finally {
      service.child.kill('SIGKILL');
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ COLLECTION_INTERVAL_SECONDS: '-1' }, 'COLLECTION_INTERVAL_SECONDS'],
    [{ COLLECTION_INTERVAL_SECONDS: 'often' }, 'COLLECTION_INTERVAL_SECONDS'],
    [{ DATABASE_URL: 'mysql://root@localhost/iotflow' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'no url at all' }, 'REDIS_URL'],
    [{ MQTT_URL: 'http://127.0.0.1:1883' }, 'MQTT_URL'],
    [{ SOURCES: 'system,bogus' }, 'SOURCES'],
    [{ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL'],
  ])('exits 2 on %j with a message naming %s', async (env, variable) => {
    const service = spawnService(env);
    expect(await service.exited).toBe(2);
    expect(service.stderr()).toMatch(new RegExp(`^configuration error: ${variable}=.* is invalid: expected .+\\n$`));
  });
});

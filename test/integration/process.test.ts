import { readFileSync } from 'node:fs';
import net from 'node:net';
import { get } from '../support/http';
import { eventually, spawnService } from '../support/service';
import { openStream } from '../support/websocket';

describe('the service process', () => {
  it('runs on the native uWebSockets.js addon, not the pure-JS fallback', async () => {
    const service = spawnService({ SOURCES: 'app' });
    try {
      const port = await service.ready;
      // The addon is mapped into the process only if the native binary loaded.
      const maps = readFileSync(`/proc/${service.child.pid}/maps`, 'utf8');
      expect(maps).toMatch(/uws_linux_x64_\d+\.node/);
      expect(service.stderr()).not.toContain('Falling back to a NodeJS implementation');
      expect(service.stderr()).toContain(`listening on http://127.0.0.1:${port}, sources: app`);
      expect(JSON.parse((await get(port, '/health')).body).server).toBe('uWebSockets.js native');
    } finally {
      service.child.kill('SIGKILL');
      await service.exited;
    }
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

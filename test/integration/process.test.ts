import { readFileSync } from 'node:fs';
import { get } from '../support/http';
import { spawnService } from '../support/service';

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

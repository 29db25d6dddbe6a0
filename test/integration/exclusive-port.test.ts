import { get } from '../support/http';
import { ENGINES } from '../support/engines';
import { sparePort } from '../support/ports';
import { spawnService } from '../support/service';

describe.each(ENGINES)('on the %s engine', (engine) => {
  it('case 1: a second instance on the same port exits non-zero naming the port; the first keeps answering every request', async () => {
    const port = await sparePort();
    const env = { HTTP_ENGINE: engine, SOURCES: 'app', PORT: String(port) };
    const first = spawnService(env);
    try {
      expect(await first.ready).toBe(port);
      const second = spawnService(env);
      try {
        const code = await Promise.race([second.exited, second.ready.then(() => 'listening' as const)]);
        expect(code).not.toBe('listening');
        expect(code).not.toBe(0);
        expect(second.stderr()).toContain(`:${port}`);
        expect(second.stderr()).toMatch(/port is in use/);
      } finally {
        second.child.kill('SIGKILL');
        await second.exited;
      }
      // Sharing the port would split these between the two processes.
      for (let i = 0; i < 20; i++) expect((await get(port, '/health')).status).toBe(200);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
  });
});

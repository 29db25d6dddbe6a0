import { spawnSync } from 'node:child_process';
import path from 'node:path';

const DIST = path.join(__dirname, '..', '..', 'dist');

// A process of its own (dist/, built by the global setup): jest's own modules may have loaded fetch already.
it("loads pg for the service's database code without loading Node's fetch, and leaves `Response` working", () => {
  const script = `
    for (const file of ['streams/database/index.js', 'streams/iotflow.js', 'src/db/database-pool.js', 'src/cluster/postgres-election.js']) require(${JSON.stringify(DIST)} + '/' + file);
    const fetchLoaded = process.moduleLoadList.some((name) => name.includes('undici'));
    console.log(JSON.stringify({ fetchLoaded, response: new Response('still here').status }));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({ fetchLoaded: false, response: 200 });
});

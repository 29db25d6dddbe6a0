import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/service';

/**
 * An embedding application that starts collecting before the server listens: the first result
 * reaches the live-stream sink, which publishes to the server, before any WebSocket route is
 * registered. uWS 20.30 ends the process with SIGSEGV on such a publish, so the case runs in a
 * process of its own (built dist/, as global setup leaves it) and the test reads how it ended.
 */
const EMBEDDER = `
require('reflect-metadata');
const [dist] = process.argv.slice(1);
const { firstValueFrom } = require('rxjs');
const { createContainer } = require(dist + '/container');
const { TYPES } = require(dist + '/src/tokens');
const { loadConfig } = require(dist + '/streams/config');
const { createLogger } = require(dist + '/src/logger');
const { MetricsService } = require(dist + '/src/service');
(async () => {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', SOURCES: 'app', LOG_LEVEL: 'silent' });
  const container = createContainer(config, createLogger('silent'));
  const engine = container.get(TYPES.CollectionEngine);
  engine.start();
  // The engine subscribed first, so its sinks have had this result by the time it arrives here.
  const first = await firstValueFrom(engine.results$);
  process.stdout.write('collected ' + first.source + ' before listening\\n');
  const service = new MetricsService(container);
  const port = await service.start();
  const response = await fetch('http://127.0.0.1:' + port + '/metrics');
  process.stdout.write('then served /metrics ' + response.status + '\\n');
  await service.stop();
  process.exit(0);
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

function runEmbedder(): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, ['-e', EMBEDDER, path.join(ROOT, 'dist')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output })));
}

describe('collection results before the server listens', () => {
  it('case 1: an engine started before the server listens does not crash the process, and the server then serves', async () => {
    const { code, signal, output } = await runEmbedder();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toContain('collected app before listening');
    expect(output).toContain('then served /metrics 200');
  });
});

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { HttpEngineName } from '../../src/http/http-engines';
import { ROOT } from './service';

/**
 * The HTTP engines that load on this machine under this Node, best first, asked of a child node
 * (dist/ is built by global setup) so that a build that fails to load leaves this process alone.
 */
function loadableEngines(): HttpEngineName[] {
  const engines = path.join(ROOT, 'dist', 'src', 'http', 'http-engines.js');
  const script = `const { HTTP_ENGINES, loadEngine } = require(${JSON.stringify(engines)});
process.stdout.write(JSON.stringify(HTTP_ENGINES.filter((name) => 'loaded' in loadEngine(name))));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as HttpEngineName[];
}

/** Every engine that loads here: the contract suites run once per engine (describe.each). */
export const ENGINES: readonly HttpEngineName[] = loadableEngines();

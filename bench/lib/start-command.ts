import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface StartCommand {
  /** The production environment: the Docker image's ENV lines (MALLOC_ARENA_MAX, NODE_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** Node's flags, e.g. V8's heap sizes. */
  readonly nodeArgs: readonly string[];
  /** The script under dist/, e.g. `container/main.js`. */
  readonly script: string;
}

/**
 * How the service runs in production: node's flags and script from package.json's start script
 * (`node [--flag ...] dist/<script>`, plain so that `npm start` works on Windows too), the
 * environment from the Dockerfile (glibc's MALLOC_ARENA_MAX means nothing elsewhere). The footprint
 * suite measures the service so started, and a test holds the image's CMD to the same flags.
 */
export function startCommand(root: string): StartCommand {
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const words = script.trim().split(/\s+/);
  const node = words.shift();
  const target = words.pop() ?? '';
  if (node !== 'node' || !target.startsWith('dist/') || words.some((word) => !word.startsWith('--'))) {
    throw new Error(`package.json "start" is ${JSON.stringify(script)}; expected node [--flag ...] dist/<script>`);
  }
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const env = Object.fromEntries([...dockerfile.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
  return { env, nodeArgs: words, script: target.slice('dist/'.length) };
}

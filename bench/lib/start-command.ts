import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface StartCommand {
  /** Environment variables the script sets, e.g. MALLOC_ARENA_MAX. */
  readonly env: Readonly<Record<string, string>>;
  /** Node's flags, e.g. V8's heap sizes. */
  readonly nodeArgs: readonly string[];
  /** The script under dist/, e.g. `src/main.js`. */
  readonly script: string;
}

/**
 * How `npm start` runs the service, read from package.json's start script
 * (`[NAME=value ...] node [--flag ...] dist/<script>`): the footprint suite measures the service
 * as it is started, and the Docker image is held to the same flags.
 */
export function startCommand(root: string): StartCommand {
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const node = words.shift();
  const target = words.pop() ?? '';
  if (node !== 'node' || !target.startsWith('dist/') || words.some((word) => !word.startsWith('--'))) {
    throw new Error(`package.json "start" is ${JSON.stringify(script)}; expected [NAME=value ...] node [--flag ...] dist/<script>`);
  }
  return { env, nodeArgs: words, script: target.slice('dist/'.length) };
}

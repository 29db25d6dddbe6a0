import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as uws from 'uWebSockets.js';
import { errorText } from '../error-text';

/** The HTTP engines, best first: auto-selection takes the first that loads. */
export const HTTP_ENGINES = ['uws-20.57', 'uws-20.30', 'node'] as const;
export type HttpEngineName = (typeof HTTP_ENGINES)[number];

/** HTTP_ENGINE's values: `auto` (the best that loads), `uws` (the best uWS build that loads) or one engine. */
export const HTTP_ENGINE_SETTINGS = ['auto', 'uws', ...HTTP_ENGINES] as const;
export type HttpEngineSetting = (typeof HTTP_ENGINE_SETTINGS)[number];

export type UwsModule = typeof uws;

/** An engine that loaded: its name, what it is in words (version included), its version, and the uWS module for the uWS ones. */
export interface LoadedEngine {
  readonly name: HttpEngineName;
  readonly description: string;
  readonly version: string;
  readonly uws?: UwsModule;
}

/** The engine chosen, and why each better one was not (plain sentences, for the start log). */
export interface EngineChoice {
  readonly engine: LoadedEngine;
  readonly passedOver: readonly string[];
}

/** HTTP_ENGINE forced an engine that cannot load here; `why` says what is missing. */
export class EngineUnavailableError extends Error {
  constructor(
    readonly setting: HttpEngineSetting,
    readonly why: string,
  ) {
    super(`HTTP_ENGINE=${setting} cannot be used on this host: ${why}`);
    this.name = 'EngineUnavailableError';
  }
}

/** glibc 2.38 is the oldest the uWS 20.57 Linux builds link against. */
const GLIBC_OF_UWS_20_57 = '2.38';

type Attempt = { loaded: LoadedEngine } | { why: string };

/** The directory of an installed package (found from its entry point: not every package exports its package.json). */
function packageRoot(packageName: string): string {
  let directory = path.dirname(require.resolve(packageName));
  while (!existsSync(path.join(directory, 'package.json'))) directory = path.dirname(directory);
  return directory;
}

function packageVersion(packageName: string): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(packageName), 'package.json'), 'utf8')) as { version: string }).version;
}

/** glibc's version at run time, or undefined on a libc that is not glibc (musl) or on another OS. */
function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

function olderThan(version: string, minimum: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  const [minMajor, minMinor] = minimum.split('.').map(Number);
  return major! < minMajor! || (major === minMajor && minor! < minMinor!);
}

/** Why a uWS build's native addon did not load, in plain words. */
function uwsFailure(label: string, binary: string, error: unknown, glibcNeeded?: string): string {
  const abi = `Node ${process.versions.node.split('.')[0]} (ABI ${process.versions.modules})`;
  if (!existsSync(binary)) return `${label} has no build for ${abi} on ${process.platform}-${process.arch}`;
  const glibc = glibcVersion();
  if (process.platform === 'linux' && glibc === undefined) return `${label} needs glibc; this host's C library is another (musl?)`;
  if (glibcNeeded && glibc !== undefined && olderThan(glibc, glibcNeeded)) return `${label} needs glibc ${glibcNeeded}; this host has ${glibc}`;
  return `${label} did not load: ${errorText(error).split('\n').find((line) => line.trim() !== '') ?? 'unknown error'}`;
}

/** Loads one uWS build's addon straight from its file: never the package's slow pure-JS fallback. */
function loadUws(name: 'uws-20.57' | 'uws-20.30', packageName: string, binaryDirectory: string, glibcNeeded?: string): Attempt {
  const label = `uWebSockets.js ${name.slice('uws-'.length)}`;
  const root = packageRoot(packageName);
  const binary = path.join(root, binaryDirectory, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    if (!existsSync(binary)) throw new Error('no binary');
    const module = require(binary) as UwsModule;
    const version = packageVersion(packageName).replace(/-.*$/, '');
    return { loaded: { name, description: `uWebSockets.js ${version} (native)`, version, uws: module } };
  } catch (error) {
    return { why: uwsFailure(label, binary, error, glibcNeeded) };
  }
}

/** Tries to load one engine. */
export function loadEngine(name: HttpEngineName): Attempt {
  switch (name) {
    case 'uws-20.57':
      return loadUws(name, '@btc-vision/uwebsockets.js', '.', GLIBC_OF_UWS_20_57);
    case 'uws-20.30':
      return loadUws(name, 'uWebSockets.js', 'binaries');
    case 'node':
      // node:http's version is Node's own (app_info's runtime_version): the version named is ws's.
      const version = packageVersion('ws');
      return { loaded: { name, description: `node:http + ws ${version}`, version } };
  }
}

/** The engine HTTP_ENGINE asks for: the best that loads among those it allows; throws when none does. */
export function chooseEngine(setting: HttpEngineSetting): EngineChoice {
  const candidates = setting === 'auto' ? HTTP_ENGINES : setting === 'uws' ? HTTP_ENGINES.filter((name) => name !== 'node') : [setting];
  const passedOver: string[] = [];
  for (const name of candidates) {
    const attempt = loadEngine(name);
    if ('loaded' in attempt) return { engine: attempt.loaded, passedOver };
    passedOver.push(attempt.why);
  }
  throw new EngineUnavailableError(setting, passedOver.join('; '));
}

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** The repository root (this file runs from dist/bench/lib/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** A built script under dist/, e.g. `container/main.js` or `bench/servers/plain-uws.js`. */
export const distScript = (relative: string): string => path.join(ROOT, 'dist', relative);

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The environment of a server under test: a clean one, so a developer's METRICS_TOKEN, TLS files or
 * SOURCES do not change what is measured; the service URLs pass through, for a bench elsewhere.
 */
export function serverEnv(overrides: Record<string, string>): Record<string, string> {
  // LOG_LEVEL info: the service says `listening on` at info, and says little else.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' };
  // HTTP_ENGINE: to measure one engine (`HTTP_ENGINE=node npm run bench`).
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'MQTT_URL', 'HTTP_ENGINE']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return { ...env, ...overrides };
}

export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote, for error messages. */
  output(): string;
  /** SIGTERM (so `--cpu-prof` can write its profile), SIGKILL after 6 s. */
  stop(): Promise<void>;
}

const LISTENING = /listening on [^\s,]+:(\d+)/;
const READY_TIMEOUT_MS = 30_000;

/**
 * Spawns `node [nodeArgs] dist/<script> [args]` and resolves once it logs `listening on <host>:<port>`.
 * BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=bench/results/profiles`) is prepended to its
 * node arguments, for profiling a server under the bench's own load.
 */
export async function startNodeServer(name: string, script: string, env: Record<string, string>, args: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<ChildServer> {
  const benchNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return startListeningProcess(name, process.execPath, [...benchNodeArgs, ...nodeArgs, distScript(script), ...args], env);
}

/** Spawns `file args` with exactly `env`, and resolves once it logs `listening on <host>:<port>`. */
export function startListeningProcess(name: string, file: string, args: readonly string[], env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return started(name, child, LISTENING);
}

/**
 * Spawns any executable that listens on `port` (given in its arguments), and waits until it accepts
 * connections. `env` is added to this process's environment (e.g. an exporter's DATA_SOURCE_NAME).
 */
export async function startExecutable(name: string, file: string, args: readonly string[], port: number, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = await started(name, child, undefined, port);
  await waitFor(() => canConnect(port), `${name} to accept connections on port ${port}`, 10_000);
  return server;
}

function started(name: string, child: ChildProcess, listening: RegExp | undefined, knownPort = 0): Promise<ChildServer> {
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server = (port: number): ChildServer => ({
    name,
    pid: child.pid!,
    port,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 6000);
      await exited;
      clearTimeout(killer);
    },
  });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not get ready within ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`));
    }, READY_TIMEOUT_MS);
    child.once('exit', () => clearTimeout(deadline));
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const match = listening?.exec(output);
      if (match) {
        clearTimeout(deadline);
        resolve(server(Number(match[1])));
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', (error) => reject(new Error(`${name} could not start: ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`)));
    if (!listening) {
      child.once('spawn', () => {
        clearTimeout(deadline);
        resolve(server(knownPort));
      });
    }
  });
}

/** Node arguments that load bench/lib/heap-probe.ts into a server, for liveHeapBytes(). */
export const HEAP_PROBE_ARGS: readonly string[] = ['--expose-gc', '-r', distScript('bench/lib/heap-probe.js')];

/** The live heap of a server started with HEAP_PROBE_ARGS, after full garbage collections. */
export async function liveHeapBytes(server: ChildServer): Promise<number> {
  const reports = () => [...server.output().matchAll(/^HEAP_AFTER_GC (\d+)$/gm)].map((match) => Number(match[1]));
  const before = reports().length;
  server.child.kill('SIGUSR2');
  return waitFor(() => reports()[before], `${server.name} to report its heap after a full GC`, 10_000);
}

/** A port nothing listens on right now (for executables that cannot be told to pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** Polls `probe` until it returns something other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await pause(100);
  }
  throw new Error(`gave up waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** GET a local URL; resolves with status and body. Control requests only, never the measured load. */
export function httpGet(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.once('timeout', () => request.destroy(new Error(`GET ${urlPath} timed out`)));
    request.once('error', reject);
  });
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node runs on.

/**
 * CPU seconds the process has used so far, user plus system, its reaped children's included
 * (/proc/<pid>/stat utime + stime + cutime + cstime): a helper it spawns costs the machine too.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Time the process's live threads have spent on a CPU, in seconds, from the scheduler's own
 * accounting (/proc/<pid>/task/<tid>/schedstat, nanoseconds). /proc/<pid>/stat counts in 10 ms
 * ticks, too coarse for a second of a process at rest; this misses threads that have exited, so it
 * is for short windows.
 */
export function onCpuSeconds(pid: number): number {
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return nanoseconds / 1e9;
}

/** Resident memory of the process, in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * Runs `node dist/<script> ...args` to completion; resolves with its stdout, rejects with its
 * output on failure, or after `timeoutMs` (the script is killed): a suite never hangs the bench.
 */
export function runNodeScript(script: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  const child = spawn(process.execPath, [distScript(script), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${script} ${timedOut ? `did not finish within ${timeoutMs / 1000} s` : `exited with ${code}`}: ${(stderr || stdout).slice(-2000)}`));
    });
  });
}

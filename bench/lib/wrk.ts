import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './processes';

/*
 * Load comes from wrk (Debian's package, /usr/bin/wrk), never from this process. wrk is C on
 * epoll: it costs a fraction of the CPU per request that autocannon (itself a Node process) does,
 * which matters on a 2-core machine where the load generator competes with the one-core server it
 * measures; its latency histogram gives exact p50/p99/max, and bench/wrk/bench.lua adds
 * per-connection pacing and route cycling for background traffic.
 */
export const WRK = process.env.WRK ?? '/usr/bin/wrk';

const SCRIPT = path.join(ROOT, 'bench', 'wrk', 'bench.lua');

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads?: number;
  readonly seconds: number;
  /** A file of `METHOD /path` lines the connections cycle through, instead of GET `url`. */
  readonly requestsFile?: string;
  /** Per-connection pause before each request: caps the rate for background traffic. */
  readonly delayMs?: number;
  /** Request headers (`Accept-Encoding`, `Accept`) of the static request. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Socket errors and timeouts; non-2xx answers are counted apart (background traffic wants some). */
  readonly errors: number;
  readonly non2xx: number;
}

export interface WrkRun {
  readonly result: Promise<WrkResult>;
  /** Ends the run early (background traffic); `result` then still resolves with what was done. */
  stop(): void;
}

export function startWrk(options: WrkOptions): WrkRun {
  const { url, connections, threads = 1, seconds, requestsFile, delayMs, headers = {} } = options;
  const env = { ...process.env, WRK_REQUESTS_FILE: requestsFile ?? '', WRK_DELAY_MS: String(delayMs ?? 0) };
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]), '-s', SCRIPT, url];
  const child = spawn(WRK, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const result = new Promise<WrkResult>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`${WRK} could not run (${error.message}); install Debian's wrk or set WRK`)));
    child.once('exit', () => {
      const line = /^WRK_JSON (.*)$/m.exec(output);
      if (!line) return reject(new Error(`wrk ${args.join(' ')} printed no result:\n${output.slice(-1000)}`));
      resolve(parseReport(JSON.parse(line[1]!)));
    });
  });
  // SIGINT makes wrk stop and still print its summary.
  return { result, stop: () => void child.kill('SIGINT') };
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  return startWrk(options).result;
}

interface WrkReport {
  requests: number;
  durationUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  non2xx: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

function parseReport(report: WrkReport): WrkResult {
  const seconds = report.durationUs / 1e6;
  return {
    requests: report.requests,
    seconds,
    requestsPerSecond: report.requests / seconds,
    p50Ms: report.p50Us / 1000,
    p99Ms: report.p99Us / 1000,
    maxMs: report.maxUs / 1000,
    meanMs: report.meanUs / 1000,
    errors: report.connectErrors + report.readErrors + report.writeErrors + report.timeouts,
    non2xx: report.non2xx,
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorText } from '../src/error-text';

/** Debian's package puts it here (`apt-get install prometheus`). */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
/** The job name of the shipped prometheus/prometheus.yml, which the rules and dashboard select on. */
export const SCRAPE_JOB = 'iotflow_metrics';
const READY_TIMEOUT_MS = 30_000;

export interface PrometheusOptions {
  readonly binary?: string;
  readonly port: number;
  /** host:port of the exporter. */
  readonly target: string;
  readonly scheme: 'http' | 'https';
  readonly scrapeIntervalSeconds: number;
  /** Glob(s) of rule files; Prometheus expands them when it loads its configuration. */
  readonly ruleFiles: readonly string[];
  /** How to pass the exporter's guard, when METRICS_TOKEN or METRICS_BASIC_AUTH is set. */
  readonly token?: string;
  readonly basicAuth?: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export class PrometheusUnavailableError extends Error {}

/**
 * Starts Prometheus with a configuration and storage in a temporary directory of its own (removed
 * on stop), scraping the exporter and loading the rule files; resolves once it is ready.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = options.binary ?? PROMETHEUS_BINARY;
  if (!existsSync(binary)) throw new PrometheusUnavailableError(`${binary} is not installed (Debian: apt-get install prometheus); running without it`);
  // mkdtemp makes the directory 0700: the configuration may hold the exporter's token.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-demo-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds}s`;
  const auth = options.token
    ? { authorization: { type: 'Bearer', credentials: options.token } }
    : options.basicAuth
      ? { basic_auth: { username: options.basicAuth.slice(0, options.basicAuth.indexOf(':')), password: options.basicAuth.slice(options.basicAuth.indexOf(':') + 1) } }
      : {};
  // JSON is YAML: no YAML writer needed, and every value is quoted safely.
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles,
    scrape_configs: [
      {
        job_name: SCRAPE_JOB,
        scheme: options.scheme,
        // The demo's exporter may use a self-signed certificate.
        ...(options.scheme === 'https' ? { tls_config: { insecure_skip_verify: true } } : {}),
        ...auth,
        static_configs: [{ targets: [options.target], labels: { service: 'connectivity-layer', environment: 'demo' } }],
      },
    ],
  };
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const child = spawn(
    binary,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${options.port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // However this process ends (short of SIGKILL), Prometheus does not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    await terminate(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid!, stop };
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}):\n${output().trim()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`prometheus was not ready within ${READY_TIMEOUT_MS / 1000} s (${last ? errorText(last) : 'not ready'}):\n${output().trim()}`);
}

/** SIGTERM (Prometheus closes its storage cleanly), SIGKILL if it lingers. */
async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

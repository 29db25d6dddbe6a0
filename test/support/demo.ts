import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sparePort } from './ports';
import { dropTestDatabase } from './postgres';
import { ROOT } from './service';

/** The demo's last line once everything is up. */
const READY_LINE = /Ctrl-C stops everything the demo started/;
/** Creating the database, one collection of every source and Prometheus starting, on a busy machine. */
export const DEMO_READY_TIMEOUT_MS = 90_000;
/** The demo's own shutdown deadline is 15 s. */
const CLEAN_UP_GRACE_MS = 16_000;

export interface DemoOptions {
  /** Command-line options besides --database (and --prometheus-port, chosen here with --prometheus). */
  readonly args?: readonly string[];
  /** The exporter's variables; PATH and a spare PORT are given. */
  readonly env?: Readonly<Record<string, string>>;
  readonly prometheus?: boolean;
}

export interface RunningDemo {
  readonly child: ChildProcess;
  readonly port: number;
  /** Set with `prometheus`. */
  readonly prometheusUrl?: string;
  /** Its own database, random-named: `iotflow_demo_test_<hex>`. */
  readonly database: string;
  /** stdout and stderr so far. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGINT, as Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** For afterAll: SIGINT if still running, SIGKILL to its whole process group, and drops its database whatever became of it. */
  cleanUp(): Promise<void>;
}

/**
 * Starts the built demo (dist/demo/main.js, built by global setup) on a database of its own and
 * resolves once it says it is ready: load for suites that need an exporter with every source busy.
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const database = `iotflow_demo_test_${randomBytes(6).toString('hex')}`;
  const port = await sparePort();
  const prometheusPort = options.prometheus ? await sparePort() : undefined;
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'dist', 'demo', 'main.js'),
      '--database',
      database,
      ...(prometheusPort !== undefined ? ['--prometheus', '--prometheus-port', String(prometheusPort)] : []),
      ...(options.args ?? []),
    ],
    // Its own process group, so clean-up can reach its Prometheus even if the demo itself is gone.
    { env: { PATH: process.env.PATH ?? '', PORT: String(port), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cleanUp = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // As Ctrl-C first, so the demo undoes what it started; then nothing of its group survives.
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, CLEAN_UP_GRACE_MS))]);
    }
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    await exited;
    await dropTestDatabase(database);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo was not ready within ${DEMO_READY_TIMEOUT_MS / 1000} s:\n${output}`)), DEMO_READY_TIMEOUT_MS);
      child.stdout!.on('data', () => READY_LINE.test(output) && (clearTimeout(timer), resolve()));
      void exited.then((code) => (clearTimeout(timer), reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`))));
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    child,
    port,
    prometheusUrl: prometheusPort === undefined ? undefined : `http://127.0.0.1:${prometheusPort}`,
    database,
    output: () => output,
    exited,
    stop: () => (child.kill('SIGINT'), exited),
    cleanUp,
  };
}

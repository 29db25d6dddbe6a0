import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Container } from 'inversify';
import { createContainer } from '../../container';
import { loadConfig } from '../../streams/config';
import type { HttpEngineName } from '../../src/http/http-engines';
import { createLogger, type Logger } from '../../src/logger';
import { MetricsService } from '../../src/service';

// Waiting on a condition, for unit tests too (this module loads the whole service; that one nothing).
export { eventually } from './eventually';

export const ROOT = path.join(__dirname, '..', '..');

/**
 * Services of one test process share a telemetry group, and no other: test files running at the
 * same time on the machine's broker would otherwise split each other's messages.
 */
const TEST_SHARE_GROUP = { MQTT_SHARE_GROUP: `iotflow-metrics-test-${process.pid}` };

export interface RunningService {
  readonly port: number;
  readonly container: Container;
  readonly logLines: string[];
  stop(): Promise<void>;
}

/**
 * Starts the whole service in this process on an ephemeral port; log lines are kept for assertions.
 * `beforeStart` may bind or add routes, as an embedding application would.
 */
export async function startService(env: Record<string, string> = {}, beforeStart?: (container: Container) => void): Promise<RunningService> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...TEST_SHARE_GROUP, ...env });
  const logLines: string[] = [];
  const logger: Logger = createLogger(config.logLevel, (line) => logLines.push(line));
  const container = createContainer(config, logger);
  beforeStart?.(container);
  const service = new MetricsService(container);
  const port = await service.start();
  return { port, container, logLines, stop: () => service.stop() };
}

/** startService on one HTTP engine (HTTP_ENGINE), for the suites that run on every engine that loads. */
export function serviceOn(engine: HttpEngineName): typeof startService {
  return (env = {}, beforeStart) => startService({ HTTP_ENGINE: engine, ...env }, beforeStart);
}

export interface SpawnedService {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the port once the service logs that it listens. */
  readonly ready: Promise<number>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts the built service (dist/, built by global setup) as its own process. */
export function spawnService(env: Record<string, string>): SpawnedService {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'container', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...TEST_SHARE_GROUP, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', () => {
      const match = /listening on [^\s]+:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening:\n${stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, stderr: () => stderr, ready, exited };
}

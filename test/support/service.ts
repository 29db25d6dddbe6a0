import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Container } from 'inversify';
import { createContainer } from '../../container';
import { loadConfig } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { MetricsService } from '../../src/service';

export const ROOT = path.join(__dirname, '..', '..');

export interface RunningService {
  readonly port: number;
  readonly container: Container;
  readonly logLines: string[];
  stop(): Promise<void>;
}

/** Starts the whole service in this process on an ephemeral port; log lines are kept for assertions. */
export async function startService(env: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env });
  const logLines: string[] = [];
  const logger: Logger = createLogger(config.logLevel, (line) => logLines.push(line));
  const container = createContainer(config, logger);
  const service = new MetricsService(container);
  const port = await service.start();
  return { port, container, logLines, stop: () => service.stop() };
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
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on [^\s]+:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening:\n${stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, stderr: () => stderr, ready, exited };
}

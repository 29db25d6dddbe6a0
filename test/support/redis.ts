import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServerProcesses } from './processes';

// ---- redis-server instances of a test's own ----

const servers = new ServerProcesses();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-redis-'));

/** Starts `redis-server` on `port` and resolves once it accepts connections. */
export function startRedisServer(port: number, ...args: string[]): Promise<ChildProcess> {
  return servers.start(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dataDir, ...args],
    /Ready to accept connections/,
    `redis-server on port ${port}`,
  );
}

/** For afterAll: every server still running, and their directory. */
export async function killAllRedisServers(): Promise<void> {
  await servers.killAll();
  rmSync(dataDir, { recursive: true, force: true });
}

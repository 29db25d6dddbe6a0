import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// ---- redis-server instances of a test's own ----

const servers = new Set<ChildProcess>();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-redis-'));

/** Starts `redis-server` on `port` and resolves once it accepts connections. */
export function startRedisServer(port: number, ...args: string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dataDir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`)));
  });
}

/** SIGKILL, as a crash would. */
export async function killRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** For afterAll: every server still running, and their directory. */
export async function killAllRedisServers(): Promise<void> {
  await Promise.all([...servers].map(killRedisServer));
  rmSync(dataDir, { recursive: true, force: true });
}

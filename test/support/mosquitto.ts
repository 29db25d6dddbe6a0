import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sparePort } from './ports';

/** A Mosquitto of a test's own, on a spare port of 127.0.0.1. */
export interface Mosquitto {
  readonly port: number;
  /** SIGKILL, as a crash would: no goodbye to the clients. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
const confDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-mosquitto-'));
// Mosquitto started as root reads the acl_file after dropping to its own user.
chmodSync(confDir, 0o755);

/**
 * Starts `mosquitto` (anonymous, no persistence) and resolves once it listens. `sysInterval` is
 * Mosquitto's $SYS publish period in seconds (it publishes every sys_interval + 1 s); 0 turns
 * $SYS off entirely. `acl` is the content of an `acl_file` (lines), `config` more lines of mosquitto.conf.
 */
export async function startMosquitto(options: { port?: number; sysInterval: number; acl?: readonly string[]; config?: readonly string[] }): Promise<Mosquitto> {
  const port = options.port ?? (await sparePort());
  const conf = path.join(confDir, `${port}-${options.sysInterval}.conf`);
  const acl = options.acl && path.join(confDir, `${port}.acl`);
  if (acl) writeFileSync(acl, [...options.acl!, ''].join('\n'));
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', `sys_interval ${options.sysInterval}`, 'persistence false', 'log_dest stderr', ...(acl ? [`acl_file ${acl}`] : []), ...(options.config ?? []), ''].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/mosquitto version \S+ running/.test(output)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`mosquitto on port ${port} exited with ${code}:\n${output}`)));
  });
  return { port, kill: () => kill(child) };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** For afterAll: every broker still running, and the config files. */
export async function killAllMosquittos(): Promise<void> {
  await Promise.all([...running].map(kill));
  rmSync(confDir, { recursive: true, force: true });
}

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sparePort } from './ports';
import { killProcess, ServerProcesses } from './processes';

/** A Mosquitto of a test's own, on a spare port of 127.0.0.1. */
export interface Mosquitto {
  readonly port: number;
  /** SIGKILL, as a crash would: no goodbye to the clients. */
  kill(): Promise<void>;
}

const brokers = new ServerProcesses();
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
  const child = await brokers.start('mosquitto', ['-c', conf], /mosquitto version \S+ running/, `mosquitto on port ${port}`);
  return { port, kill: () => killProcess(child) };
}

/** For afterAll: every broker still running, and the config files. */
export async function killAllMosquittos(): Promise<void> {
  await brokers.killAll();
  rmSync(confDir, { recursive: true, force: true });
}

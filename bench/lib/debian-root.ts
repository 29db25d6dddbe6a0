import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type ChildServer, ROOT, startListeningProcess } from './processes';

/** Where the image (node:24-trixie-slim) and CI's Debian root keep node. */
const NODE = '/usr/local/bin/node';
/** Where this checkout appears inside the root. */
const CHECKOUT = '/iotflow-metrics';

export interface DebianRoot {
  readonly dir: string;
  /** `node --version` inside the root. */
  readonly nodeVersion: string;
  /** Starts `node [nodeArgs] dist/<script>` inside the root, with exactly `env`. */
  start(name: string, script: string, env: Record<string, string>, nodeArgs: readonly string[]): Promise<ChildServer>;
  /** Unmounts what opening mounted. */
  close(): void;
}

const isMountPoint = (dir: string) => spawnSync('mountpoint', ['-q', dir]).status === 0;

/**
 * A Debian root (`debootstrap --variant=minbase trixie DIR`, node at DIR/usr/local/bin/node, as in
 * the image) in which the service runs from this checkout, bind-mounted read-only, with a /proc of
 * its own: the image's userland and runtime without a container engine. Needs root (mount, chroot).
 * The process's pid is the same from outside, so CPU and RSS are read as for any other.
 */
export function openDebianRoot(dir: string): DebianRoot {
  if (!existsSync(path.join(dir, NODE))) throw new Error(`${dir} has no ${NODE}: not a Debian root made for the bench`);
  const mounted: string[] = [];
  const close = () => {
    for (const target of mounted.splice(0)) execFileSync('umount', [target]);
  };
  const mount = (args: readonly string[], target: string) => {
    execFileSync('mount', [...args, target]);
    mounted.unshift(target);
  };
  try {
    const proc = path.join(dir, 'proc');
    if (!isMountPoint(proc)) mount(['-t', 'proc', 'proc'], proc);
    const checkout = path.join(dir, CHECKOUT);
    mkdirSync(checkout, { recursive: true });
    // A run that was killed left its mount: this one takes the place.
    if (isMountPoint(checkout)) execFileSync('umount', [checkout]);
    mount(['--bind', '-o', 'ro', ROOT], checkout);
  } catch (error) {
    close();
    throw error;
  }
  const nodeVersion = execFileSync('chroot', [dir, NODE, '--version'], { encoding: 'utf8' }).trim();
  return {
    dir,
    nodeVersion,
    start: (name, script, env, nodeArgs) => {
      const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`);
      return startListeningProcess(name, 'chroot', [dir, '/usr/bin/env', '-i', ...assignments, NODE, ...nodeArgs, path.posix.join(CHECKOUT, 'dist', script)], { PATH: process.env.PATH ?? '' });
    },
    close,
  };
}

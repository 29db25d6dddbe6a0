import { statfs } from 'node:fs/promises';
import type { Logger } from '../../src/logger';
import type { NameSet } from '../../src/name-patterns';
import type { Labels, MetricDescriptor, Sample } from '../../src/source';
import { quarterTimeoutMs, type CollectorContext, type HostAccess, type HostCollector, type Systeminformation } from './collector';

type FsSizeEntry = Awaited<ReturnType<Systeminformation['fsSize']>>[number];

/**
 * Collector `filesystems`: system_disk_{total,used,free}_bytes and usage percent per filesystem,
 * from mountinfo and statfs(2) (portable: systeminformation's fsSize(), which runs df).
 */

/** mountinfo rather than /proc/mounts: it gives each mount's device number, which finds bind mounts. */
const MOUNTINFO = 'self/mountinfo';

/** A statfs that has not answered after this long (at most a quarter of the timeout) is skipped. */
const STATFS_DEADLINE_MS = 1000;

export interface Mount {
  /** `major:minor` of the mounted filesystem; bind mounts of one filesystem share it. */
  readonly deviceId: string;
  /** The directory of the filesystem that this mount shows: `/` unless it is a bind mount of a subtree. */
  readonly root: string;
  readonly path: string;
  readonly fstype: string;
  /** What was mounted: a device node, a server path, or a name such as `none`. */
  readonly device: string;
}

/** The statfs(2) fields the disk metrics use. */
export interface FilesystemBlocks {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
}

export interface DiskUsage {
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly usagePercent: number;
}

const FILESYSTEM_LABELS = ['path', 'device', 'fstype'];

export const FILESYSTEM_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_disk_total_bytes', help: 'Size of the filesystem', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_used_bytes', help: 'Space used on the filesystem, as df reports it', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_free_bytes', help: 'Space available to unprivileged users on the filesystem', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_usage_percent', help: 'Used space as a percentage of used plus available, as df reports it', type: 'gauge', labelNames: FILESYSTEM_LABELS },
];

/** mountinfo escapes space, tab, newline and backslash in paths as 3-digit octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * /proc/self/mountinfo lines: `id parent major:minor root mount-point options [optional…] -
 * fstype source super-options`. Malformed lines are skipped.
 */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator === -1 || fields.length < separator + 3 || !/^\d+:\d+$/.test(fields[2])) continue;
    mounts.push({
      deviceId: fields[2],
      root: unescapeMountField(fields[3]),
      path: unescapeMountField(fields[4]),
      fstype: fields[separator + 1],
      device: unescapeMountField(fields[separator + 2]),
    });
  }
  return mounts;
}

/**
 * One mount per real filesystem: excluded types dropped, and of the mounts that show the same
 * filesystem (bind mounts) the one of its whole tree (root `/`) with the shortest path is kept.
 */
export function selectFilesystems(mounts: readonly Mount[], excludedFsTypes: NameSet): Mount[] {
  const rank = (mount: Mount): [number, number, string] => [mount.root === '/' ? 0 : 1, mount.path.length, mount.path];
  const precedes = (a: Mount, b: Mount): boolean => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] !== rb[0] ? ra[0] < rb[0] : ra[1] !== rb[1] ? ra[1] < rb[1] : ra[2] < rb[2];
  };
  const chosen = new Map<string, Mount>();
  for (const mount of mounts) {
    if (excludedFsTypes.has(mount.fstype)) continue;
    const current = chosen.get(mount.deviceId);
    if (!current || precedes(mount, current)) chosen.set(mount.deviceId, mount);
  }
  return [...chosen.values()];
}

/**
 * Sizes as `df` shows them: free is what unprivileged users may still write (bavail), used
 * excludes the reserved blocks, and the percentage is used / (used + free), so a full disk reads
 * 100 although root may still write into the reserve. Undefined for a filesystem with no blocks.
 */
export function diskUsage({ bsize, blocks, bfree, bavail }: FilesystemBlocks): DiskUsage | undefined {
  if (blocks <= 0 || bsize <= 0) return undefined;
  return dfUsage(blocks * bsize, (blocks - bfree) * bsize, bavail * bsize);
}

/** The same from the byte counts `df` prints (size, used, available), as systeminformation's fsSize() gives them. */
export function dfUsage(totalBytes: number, usedBytes: number, freeBytes: number): DiskUsage | undefined {
  if (!(totalBytes > 0)) return undefined;
  const usable = usedBytes + freeBytes;
  return { totalBytes, usedBytes, freeBytes, usagePercent: usable > 0 ? (usedBytes / usable) * 100 : 0 };
}

export function filesystemSamples(mount: Pick<Mount, 'path' | 'device' | 'fstype'>, usage: DiskUsage): Sample[] {
  const labels: Labels = { path: mount.path, device: mount.device, fstype: mount.fstype };
  return [
    { name: 'system_disk_total_bytes', labels, value: usage.totalBytes },
    { name: 'system_disk_used_bytes', labels, value: usage.usedBytes },
    { name: 'system_disk_free_bytes', labels, value: usage.freeBytes },
    { name: 'system_disk_usage_percent', labels, value: usage.usagePercent },
  ];
}

export class FilesystemsCollector implements HostCollector {
  readonly metrics = FILESYSTEM_METRICS;
  /** Mount points whose statfs has not answered yet (a hung network filesystem): not asked again until it does. */
  private readonly pendingStatfs = new Set<string>();
  private readonly excludedFsTypes: NameSet;
  private readonly statfsDeadlineMs: number;
  private readonly logger: Logger;

  constructor({ config, logger }: CollectorContext) {
    this.excludedFsTypes = config.diskFsTypesExcluded;
    this.statfsDeadlineMs = Math.min(STATFS_DEADLINE_MS, quarterTimeoutMs(config));
    this.logger = logger;
  }

  async collect(host: HostAccess): Promise<Sample[]> {
    if (host.kind === 'portable') return this.portableSamples(await (await host.systeminformation()).fsSize());
    const mounts = selectFilesystems(parseMountinfo(host.files.read(MOUNTINFO)), this.excludedFsTypes);
    const perMount = await Promise.all(mounts.map(async (mount) => {
      const blocks = await this.statfsWithin(mount.path);
      const usage = blocks && diskUsage(blocks);
      return usage ? filesystemSamples(mount, usage) : [];
    }));
    return perMount.flat();
  }

  /** systeminformation lists each mounted filesystem once, with df's sizes. */
  private portableSamples(filesystems: readonly FsSizeEntry[]): Sample[] {
    return filesystems.flatMap(({ fs, type, mount, size, used, available }) => {
      const usage = this.excludedFsTypes.has(type) ? undefined : dfUsage(size, used, available);
      return usage ? filesystemSamples({ path: mount, device: fs, fstype: type }, usage) : [];
    });
  }

  /**
   * statfs of one mount point, or undefined when it fails (the mount went away, no permission)
   * or does not answer within the deadline. A hung statfs holds a libuv thread-pool thread, so
   * that mount is not asked again until it answers: four hung calls would stall every file and
   * DNS operation in the process.
   */
  private statfsWithin(path: string): Promise<FilesystemBlocks | undefined> {
    if (this.pendingStatfs.has(path)) return Promise.resolve(undefined);
    this.pendingStatfs.add(path);
    const answer = statfs(path).then(
      (stats) => stats,
      () => undefined,
    );
    void answer.finally(() => this.pendingStatfs.delete(path));
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      deadline = setTimeout(() => {
        this.logger.warn(`source system: statfs(${JSON.stringify(path)}) has not answered in ${this.statfsDeadlineMs} ms; skipping that mount until it does`);
        resolve(undefined);
      }, this.statfsDeadlineMs);
    });
    return Promise.race([answer, late]).finally(() => clearTimeout(deadline));
  }
}

import { readFileSync } from 'node:fs';
import { open, statfs, type FileHandle } from 'node:fs/promises';
import { inject, injectable } from 'inversify';
import { concatMap, defer, from, of, timer, type Observable } from 'rxjs';
import { TYPES } from '../container/identifiers';
import type { Clock } from '../src/clock';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import type { Labels, MetricDescriptor, MetricSource, Sample } from './source';

/*
 * Host metrics read straight from procfs and statfs(2). systeminformation is not used: it reads
 * /proc/stat through a synchronous `cat` child process and sizes filesystems by running `df`,
 * which costs milliseconds of CPU every tick; these reads are a few small async file reads.
 */

const PROC_STAT = '/proc/stat';
const PROC_MEMINFO = '/proc/meminfo';
const PROC_LOADAVG = '/proc/loadavg';
const PROC_NET_DEV = '/proc/net/dev';
const PROC_DISKSTATS = '/proc/diskstats';
/** mountinfo rather than /proc/mounts: it gives each mount's device number, which finds bind mounts. */
const PROC_MOUNTINFO = '/proc/self/mountinfo';

/**
 * /proc/stat counts in USER_HZ ticks, which the kernel ABI fixes at 100 per second whatever
 * CONFIG_HZ is (node_exporter's procfs library assumes the same).
 */
const USER_HZ = 100;

/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const DISKSTATS_SECTOR_BYTES = 512;

/**
 * Block devices left out of the disk I/O counters, as node_exporter's default
 * `--collector.diskstats.device-exclude`: RAM disks, loop devices, floppies, and partitions, whose
 * I/O is already counted in their whole disk. Device-mapper and md devices stay.
 */
const EXCLUDED_BLOCK_DEVICE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/**
 * Shortest interval a CPU percentage is measured over (at most a quarter of the collection
 * timeout): at USER_HZ = 100, one second holds 100 ticks per CPU. The first percentage needs an
 * earlier /proc/stat reading: start() takes one, and the first collection waits until it is
 * this old, so the first value covers a real interval instead of the average since boot. Later
 * collections, an interval apart, do not wait.
 */
const CPU_BASELINE_MS = 1000;

/** A statfs that has not answered after this long (at most a quarter of the timeout) is skipped. */
const STATFS_DEADLINE_MS = 1000;

export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];
/** Cumulative USER_HZ ticks per mode, summed over all CPUs. */
export type CpuTimes = Readonly<Record<CpuMode, number>>;

export interface ProcStat {
  readonly total: CpuTimes;
  /** Logical CPUs online: the `cpuN` lines, as os.cpus() counts them. */
  readonly cores: number;
}

export interface MemoryInfo {
  readonly totalBytes: number;
  readonly availableBytes: number;
}

export interface LoadAverage {
  readonly '1m': number;
  readonly '5m': number;
  readonly '15m': number;
}

export interface InterfaceTraffic {
  readonly name: string;
  readonly receivedBytes: number;
  readonly receivedPackets: number;
  readonly sentBytes: number;
  readonly sentPackets: number;
}

export interface BlockDeviceIo {
  readonly device: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

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

/** A procfs file whose content this source cannot use. */
export class ProcFormatError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ProcFormatError';
  }
}

const UNSIGNED = /^\d+$/;

/** Parses unsigned decimal fields; undefined when any is missing or not a number. */
function unsignedFields(fields: readonly string[], count: number): number[] | undefined {
  if (fields.length < count) return undefined;
  const values = fields.slice(0, count);
  return values.every((field) => UNSIGNED.test(field)) ? values.map(Number) : undefined;
}

/** The aggregate `cpu` line and the count of per-CPU lines. Throws: without them there is no CPU data. */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  let cores = 0;
  for (const line of text.split('\n')) {
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label === 'cpu') {
      // guest and guest_nice (fields 9 and 10) are already included in user and nice.
      const ticks = unsignedFields(fields, CPU_MODES.length);
      if (!ticks) throw new ProcFormatError(PROC_STAT, `the "cpu" line needs ${CPU_MODES.length} numeric fields: ${JSON.stringify(line.slice(0, 120))}`);
      total = Object.fromEntries(CPU_MODES.map((mode, index) => [mode, ticks[index]])) as Record<CpuMode, number>;
    } else if (/^cpu\d+$/.test(label)) {
      cores += 1;
    }
  }
  if (!total) throw new ProcFormatError(PROC_STAT, 'no aggregate "cpu" line');
  if (cores === 0) throw new ProcFormatError(PROC_STAT, 'no per-CPU "cpuN" lines');
  return { total, cores };
}

/**
 * Whole-host CPU busy percentage between two /proc/stat readings. Busy is every mode but idle
 * and iowait (a CPU waiting for I/O can run other work; steal counts as busy because the guest
 * wanted the CPU), as psutil reports it. Undefined when no tick elapsed or the counters went
 * back overall (a counter reset). idle and iowait are taken together, because the kernel may
 * move ticks between them and iowait may decrease; any single mode that still decreased counts
 * as 0. So busy never exceeds the elapsed ticks, and the result stays within 0–100.
 */
export function cpuBusyPercent(previous: CpuTimes, current: CpuTimes): number | undefined {
  const sum = (times: CpuTimes) => CPU_MODES.reduce((total, mode) => total + times[mode], 0);
  if (sum(current) < sum(previous)) return undefined;
  const growth = (before: number, after: number) => Math.max(0, after - before);
  const waiting = growth(previous.idle + previous.iowait, current.idle + current.iowait);
  const busy = CPU_MODES.filter((mode) => mode !== 'idle' && mode !== 'iowait').reduce(
    (total, mode) => total + growth(previous[mode], current[mode]),
    0,
  );
  const elapsed = busy + waiting;
  return elapsed === 0 ? undefined : (busy / elapsed) * 100;
}

/** MemTotal and MemAvailable in bytes. Other lines, malformed or not, are ignored. */
export function parseMeminfo(text: string): MemoryInfo {
  const kilobytes = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (match) kilobytes.set(match[1], Number(match[2]));
  }
  const total = kilobytes.get('MemTotal');
  // MemAvailable exists since Linux 3.14 (and RHEL 7's 3.10); no guess is made without it.
  const available = kilobytes.get('MemAvailable');
  if (!total) throw new ProcFormatError(PROC_MEMINFO, 'no positive "MemTotal: <n> kB" line');
  if (available === undefined) throw new ProcFormatError(PROC_MEMINFO, 'no "MemAvailable: <n> kB" line (Linux 3.14 or later has it)');
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}

/** The three load averages at the start of /proc/loadavg. */
export function parseLoadavg(text: string): LoadAverage {
  const fields = text.trim().split(/\s+/).slice(0, 3);
  if (fields.length < 3 || !fields.every((field) => /^\d+(\.\d+)?$/.test(field))) {
    throw new ProcFormatError(PROC_LOADAVG, `expected three load averages, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  const [oneMinute, fiveMinutes, fifteenMinutes] = fields.map(Number);
  return { '1m': oneMinute, '5m': fiveMinutes, '15m': fifteenMinutes };
}

/** Per-interface counters; the two header lines and any malformed line are skipped. */
export function parseNetDev(text: string): InterfaceTraffic[] {
  const interfaces: InterfaceTraffic[] = [];
  for (const line of text.split('\n')) {
    // Interface names cannot contain ':'; old kernels print no space after it.
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const counters = unsignedFields(line.slice(colon + 1).trim().split(/\s+/), 10);
    if (!name || !counters) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets …
    interfaces.push({ name, receivedBytes: counters[0], receivedPackets: counters[1], sentBytes: counters[8], sentPackets: counters[9] });
  }
  return interfaces;
}

/** Bytes read and written per block device; malformed lines are skipped. */
export function parseDiskstats(text: string): BlockDeviceIo[] {
  const devices: BlockDeviceIo[] = [];
  for (const line of text.split('\n')) {
    const [, , device, ...fields] = line.trim().split(/\s+/);
    // reads completed, reads merged, sectors read, ms reading, writes completed, writes merged, sectors written
    const counters = device ? unsignedFields(fields, 7) : undefined;
    if (!device || !counters) continue;
    devices.push({ device, readBytes: counters[2] * DISKSTATS_SECTOR_BYTES, writtenBytes: counters[6] * DISKSTATS_SECTOR_BYTES });
  }
  return devices;
}

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
export function selectFilesystems(mounts: readonly Mount[], excludedFsTypes: ReadonlySet<string>): Mount[] {
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
  const usedBytes = (blocks - bfree) * bsize;
  const freeBytes = bavail * bsize;
  const usable = usedBytes + freeBytes;
  return { totalBytes: blocks * bsize, usedBytes, freeBytes, usagePercent: usable > 0 ? (usedBytes / usable) * 100 : 0 };
}

export function cpuSamples(stat: ProcStat, busyPercent: number | undefined): Sample[] {
  const samples: Sample[] = CPU_MODES.map((mode) => ({ name: 'system_cpu_seconds_total', labels: { mode }, value: stat.total[mode] / USER_HZ }));
  samples.push({ name: 'system_cpu_cores', value: stat.cores });
  // Without an interval to measure over, the gauge is left out rather than guessed.
  if (busyPercent !== undefined) samples.push({ name: 'system_cpu_usage_percent', value: busyPercent });
  return samples;
}

export function loadSamples(load: LoadAverage): Sample[] {
  return (['1m', '5m', '15m'] as const).map((period) => ({ name: 'system_load_average', labels: { period }, value: load[period] }));
}

/**
 * Used is total minus MemAvailable: memory in use excluding what the kernel would give back
 * (most of buffers and page cache), which is what procps `free` 4 prints as used (older `free`
 * subtracted buffers and cache instead; the two agree closely). Free is MemAvailable.
 */
export function memorySamples({ totalBytes, availableBytes }: MemoryInfo): Sample[] {
  const usedBytes = Math.max(0, totalBytes - availableBytes);
  return [
    { name: 'system_memory_total_bytes', value: totalBytes },
    { name: 'system_memory_used_bytes', value: usedBytes },
    { name: 'system_memory_free_bytes', value: availableBytes },
    { name: 'system_memory_usage_percent', value: (usedBytes / totalBytes) * 100 },
  ];
}

export function filesystemSamples(mount: Mount, usage: DiskUsage): Sample[] {
  const labels: Labels = { path: mount.path, device: mount.device, fstype: mount.fstype };
  return [
    { name: 'system_disk_total_bytes', labels, value: usage.totalBytes },
    { name: 'system_disk_used_bytes', labels, value: usage.usedBytes },
    { name: 'system_disk_free_bytes', labels, value: usage.freeBytes },
    { name: 'system_disk_usage_percent', labels, value: usage.usagePercent },
  ];
}

/** Whole disks (see EXCLUDED_BLOCK_DEVICE) that have done any I/O since boot. */
export function diskIoSamples(devices: readonly BlockDeviceIo[]): Sample[] {
  return devices
    .filter(({ device, readBytes, writtenBytes }) => !EXCLUDED_BLOCK_DEVICE.test(device) && readBytes + writtenBytes > 0)
    .flatMap(({ device, readBytes, writtenBytes }) => [
      { name: 'system_disk_io_read_bytes_total', labels: { device }, value: readBytes },
      { name: 'system_disk_io_write_bytes_total', labels: { device }, value: writtenBytes },
    ]);
}

export function networkSamples(interfaces: readonly InterfaceTraffic[], excluded: ReadonlySet<string>): Sample[] {
  return interfaces
    .filter(({ name }) => !excluded.has(name))
    .flatMap(({ name, receivedBytes, receivedPackets, sentBytes, sentPackets }) => {
      const labels = { interface: name };
      return [
        { name: 'system_network_bytes_received_total', labels, value: receivedBytes },
        { name: 'system_network_bytes_sent_total', labels, value: sentBytes },
        { name: 'system_network_packets_received_total', labels, value: receivedPackets },
        { name: 'system_network_packets_sent_total', labels, value: sentPackets },
      ];
    });
}

const FILESYSTEM_LABELS = ['path', 'device', 'fstype'];

export const SYSTEM_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_cpu_usage_percent', help: 'Whole-host CPU busy percentage (0-100) since the previous collection', type: 'gauge' },
  { name: 'system_cpu_seconds_total', help: 'CPU time spent in each mode, summed over all CPUs, since boot', type: 'counter', labelNames: ['mode'] },
  { name: 'system_cpu_cores', help: 'Logical CPU cores online', type: 'gauge' },
  { name: 'system_load_average', help: 'System load average over the period', type: 'gauge', labelNames: ['period'] },
  { name: 'system_memory_total_bytes', help: 'Total usable memory', type: 'gauge' },
  { name: 'system_memory_used_bytes', help: 'Memory in use excluding reclaimable buffers and cache (MemTotal - MemAvailable)', type: 'gauge' },
  { name: 'system_memory_free_bytes', help: 'Memory available to new work without swapping (MemAvailable)', type: 'gauge' },
  { name: 'system_memory_usage_percent', help: 'Used memory as a percentage of total', type: 'gauge' },
  { name: 'system_disk_total_bytes', help: 'Size of the filesystem', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_used_bytes', help: 'Space used on the filesystem, as df reports it', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_free_bytes', help: 'Space available to unprivileged users on the filesystem', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_usage_percent', help: 'Used space as a percentage of used plus available, as df reports it', type: 'gauge', labelNames: FILESYSTEM_LABELS },
  { name: 'system_disk_io_read_bytes_total', help: 'Bytes read from the block device since boot', type: 'counter', labelNames: ['device'] },
  { name: 'system_disk_io_write_bytes_total', help: 'Bytes written to the block device since boot', type: 'counter', labelNames: ['device'] },
  { name: 'system_network_bytes_received_total', help: 'Bytes received on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_bytes_sent_total', help: 'Bytes sent on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_packets_received_total', help: 'Packets received on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_packets_sent_total', help: 'Packets sent on the interface since boot', type: 'counter', labelNames: ['interface'] },
];

interface CpuReading {
  readonly times: CpuTimes;
  readonly atMs: number;
}

/**
 * Reads procfs files through handles kept open between collections. The kernel generates a
 * procfs file afresh for a read from offset 0, so this costs two thread-pool round trips per
 * file (data, then end of file) instead of readFile's five (open, fstat, read, read, close):
 * measured at about 1 ms less CPU per collection. Each read gets its own buffer, so a read
 * left running by a timed-out collection cannot garble the next one.
 */
export class ProcFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  /** Size of each file's last read buffer, so it is usually right the first time. */
  private readonly bufferSizes = new Map<string, number>();

  async read(file: string): Promise<string> {
    let handle = this.handles.get(file);
    if (!handle) this.handles.set(file, (handle = open(file, 'r')));
    try {
      const fileHandle = await handle;
      let buffer = Buffer.allocUnsafe(this.bufferSizes.get(file) ?? 4096);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          const grown = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(grown);
          buffer = grown;
        }
        const { bytesRead } = await fileHandle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      this.bufferSizes.set(file, buffer.length);
      return buffer.toString('utf8', 0, length);
    } catch (error) {
      // Reopened next time; the handle (if it ever opened) is closed now.
      if (this.handles.get(file) === handle) this.handles.delete(file);
      void handle.then((fileHandle) => fileHandle.close()).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map((handle) => handle.then((fileHandle) => fileHandle.close())));
  }
}

/** Host CPU, memory, load, filesystems, block-device I/O and network counters (catalog §1). */
@injectable()
export class SystemSource implements MetricSource {
  readonly name = 'system';
  readonly metrics = SYSTEM_METRICS;
  private readonly files = new ProcFiles();
  private previousCpu?: CpuReading;
  /** Mount points whose statfs has not answered yet (a hung network filesystem): not asked again until it does. */
  private readonly pendingStatfs = new Set<string>();
  private readonly baselineMs: number;
  private readonly statfsDeadlineMs: number;

  constructor(
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    // Both waits together stay within half the timeout, so the first collection cannot time out on them.
    const quarterTimeoutMs = (config.collectionTimeoutSeconds * 1000) / 4;
    this.baselineMs = Math.min(CPU_BASELINE_MS, quarterTimeoutMs);
    this.statfsDeadlineMs = Math.min(STATFS_DEADLINE_MS, quarterTimeoutMs);
  }

  /** Takes the CPU baseline: one small synchronous read, once. */
  start(): void {
    try {
      this.previousCpu = { times: parseProcStat(readFileSync(PROC_STAT, 'utf8')).total, atMs: this.clock.monotonicMs() };
    } catch {
      // No /proc/stat: the first collection reads it again and reports the error.
    }
  }

  async stop(): Promise<void> {
    this.previousCpu = undefined;
    await this.files.close();
  }

  /** Waits, if needed, until the CPU reading to compare with is CPU_BASELINE_MS old, then reads everything. */
  collect(): Observable<readonly Sample[]> {
    return defer(() => from(this.cpuBaseline())).pipe(
      concatMap((baseline) => {
        const waitMs = baseline.atMs + this.baselineMs - this.clock.monotonicMs();
        return waitMs > 0 ? timer(waitMs) : of(0);
      }),
      concatMap(() => from(this.snapshot())),
    );
  }

  private async cpuBaseline(): Promise<CpuReading> {
    if (this.previousCpu) return this.previousCpu;
    const times = parseProcStat(await this.files.read(PROC_STAT)).total;
    return (this.previousCpu = { times, atMs: this.clock.monotonicMs() });
  }

  /** Every file is read at once, so the samples describe one moment. */
  private async snapshot(): Promise<Sample[]> {
    const [stat, meminfo, loadavg, netDev, diskstats, filesystems] = await Promise.all([
      this.files.read(PROC_STAT),
      this.files.read(PROC_MEMINFO),
      this.files.read(PROC_LOADAVG),
      this.files.read(PROC_NET_DEV),
      this.files.read(PROC_DISKSTATS),
      this.files.read(PROC_MOUNTINFO).then((text) => this.filesystemSamples(text)),
    ]);
    const atMs = this.clock.monotonicMs();
    const procStat = parseProcStat(stat);
    const busyPercent = this.previousCpu ? cpuBusyPercent(this.previousCpu.times, procStat.total) : undefined;
    const samples = [
      ...cpuSamples(procStat, busyPercent),
      ...loadSamples(parseLoadavg(loadavg)),
      ...memorySamples(parseMeminfo(meminfo)),
      ...filesystems,
      ...diskIoSamples(parseDiskstats(diskstats)),
      ...networkSamples(parseNetDev(netDev), this.config.networkInterfacesExcluded),
    ];
    this.previousCpu = { times: procStat.total, atMs };
    return samples;
  }

  private async filesystemSamples(mountinfo: string): Promise<Sample[]> {
    const mounts = selectFilesystems(parseMountinfo(mountinfo), this.config.diskFsTypesExcluded);
    const perMount = await Promise.all(mounts.map(async (mount) => {
      const blocks = await this.statfsWithin(mount.path);
      const usage = blocks && diskUsage(blocks);
      return usage ? filesystemSamples(mount, usage) : [];
    }));
    return perMount.flat();
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

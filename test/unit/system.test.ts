import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cpuBusyPercent,
  cpuSamples,
  diskIoSamples,
  diskUsage,
  memorySamples,
  networkSamples,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parseProcStat,
  ProcFiles,
  ProcFormatError,
  selectFilesystems,
  type CpuTimes,
} from '../../streams/system';
import type { Sample } from '../../streams/source';

const fixture = (name: string): string => readFileSync(path.join(__dirname, '..', 'fixtures', 'system', name), 'utf8');

const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels?.[key] === value))?.value;

const expectAllFinite = (samples: readonly Sample[]) => {
  for (const sample of samples) expect(Number.isFinite(sample.value)).toBe(true);
};

const times = (overrides: Partial<Record<keyof CpuTimes, number>>): CpuTimes => ({
  user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, ...overrides,
});

describe('parseProcStat', () => {
  it('reads the aggregate cpu line and counts the per-CPU lines', () => {
    const stat = parseProcStat(fixture('stat.txt'));
    expect(stat.total).toEqual({ user: 4705, nice: 150, system: 1120, idle: 1634740, iowait: 7140, irq: 0, softirq: 87, steal: 12 });
    expect(stat.cores).toBe(4);
  });

  it('accepts a kernel that prints only the eight modes (no guest columns)', () => {
    expect(parseProcStat('cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n').total.steal).toBe(8);
  });

  it('exposes cpu seconds per mode at USER_HZ = 100, plus the cores', () => {
    const samples = cpuSamples(parseProcStat(fixture('stat.txt')), undefined);
    expect(valueOf(samples, 'system_cpu_seconds_total', { mode: 'idle' })).toBeCloseTo(16347.4);
    expect(samples.filter((s) => s.name === 'system_cpu_seconds_total')).toHaveLength(8);
    expect(valueOf(samples, 'system_cpu_cores')).toBe(4);
    // No interval to measure: the percentage is left out, not guessed.
    expect(valueOf(samples, 'system_cpu_usage_percent')).toBeUndefined();
  });

  it.each([
    ['an empty file', ''],
    ['no aggregate line', 'cpu0 1 2 3 4 5 6 7 8\n'],
    ['a truncated cpu line', 'cpu  4705 150 1120\ncpu0 1 2 3 4 5 6 7 8\n'],
    ['a non-numeric field', 'cpu  4705 150 x 1 2 3 4 5\ncpu0 1 2 3 4 5 6 7 8\n'],
    ['no per-CPU lines', 'cpu  1 2 3 4 5 6 7 8\nintr 5\n'],
  ])('throws a ProcFormatError naming /proc/stat for %s', (_, text) => {
    expect(() => parseProcStat(text)).toThrow(ProcFormatError);
    expect(() => parseProcStat(text)).toThrow(/^\/proc\/stat: /);
  });
});

describe('cpuBusyPercent (two /proc/stat readings)', () => {
  it('measures busy ticks over all ticks of the interval', () => {
    const before = parseProcStat(fixture('stat.txt')).total;
    // 400 ticks elapse (4 CPUs, 1 s): 100 user + 20 system + 10 irq + 10 steal busy; 250 idle + 10 iowait.
    const after = { ...before, user: before.user + 100, system: before.system + 20, irq: before.irq + 10, steal: before.steal + 10, idle: before.idle + 250, iowait: before.iowait + 10 };
    expect(cpuBusyPercent(before, after)).toBeCloseTo(35);
  });

  it('is 100 for a fully busy interval and 0 for a fully idle one', () => {
    expect(cpuBusyPercent(times({ user: 10, idle: 10 }), times({ user: 410, idle: 10 }))).toBe(100);
    expect(cpuBusyPercent(times({ user: 10, idle: 10 }), times({ user: 10, idle: 410, iowait: 5 }))).toBe(0);
  });

  it('never exceeds 100 when idle goes backwards while busy grows', () => {
    // A tickless kernel may lower idle; clamping keeps busy within the elapsed ticks.
    const percent = cpuBusyPercent(times({ user: 1000, idle: 5000 }), times({ user: 1100, idle: 4990 }));
    expect(percent).toBe(100);
  });

  it('nets ticks moved from iowait to idle instead of counting them as busy', () => {
    const percent = cpuBusyPercent(times({ user: 100, idle: 1000, iowait: 50 }), times({ user: 150, idle: 1080, iowait: 20 }));
    expect(percent).toBeCloseTo((50 / 100) * 100);
  });

  it('is undefined when the counters went back overall (reset or wrap)', () => {
    expect(cpuBusyPercent(times({ user: 1_000_000, idle: 9_000_000 }), times({ user: 50, idle: 300 }))).toBeUndefined();
  });

  it('is undefined when no tick elapsed', () => {
    const same = parseProcStat(fixture('stat.txt')).total;
    expect(cpuBusyPercent(same, same)).toBeUndefined();
  });

  it('feeds system_cpu_usage_percent when measurable', () => {
    const stat = parseProcStat(fixture('stat.txt'));
    expect(valueOf(cpuSamples(stat, 42.5), 'system_cpu_usage_percent')).toBe(42.5);
  });
});

describe('parseMeminfo and memorySamples', () => {
  it('uses MemTotal and MemAvailable, in bytes', () => {
    const memory = parseMeminfo(fixture('meminfo.txt'));
    expect(memory).toEqual({ totalBytes: 16318764 * 1024, availableBytes: 12612000 * 1024 });
    const samples = memorySamples(memory);
    expect(valueOf(samples, 'system_memory_total_bytes')).toBe(16318764 * 1024);
    expect(valueOf(samples, 'system_memory_used_bytes')).toBe((16318764 - 12612000) * 1024);
    expect(valueOf(samples, 'system_memory_free_bytes')).toBe(12612000 * 1024);
    expect(valueOf(samples, 'system_memory_usage_percent')).toBeCloseTo(((16318764 - 12612000) / 16318764) * 100);
  });

  it('ignores malformed lines but still needs both values', () => {
    expect(parseMeminfo('garbage\nMemTotal: 100 kB\nMemFree: x kB\nMemAvailable:  40 kB\n').availableBytes).toBe(40 * 1024);
    expect(() => parseMeminfo('MemTotal: 100 kB\nMemFree: 50 kB\n')).toThrow(/^\/proc\/meminfo: no "MemAvailable/);
    expect(() => parseMeminfo('MemTotal: 0 kB\nMemAvailable: 0 kB\n')).toThrow(/^\/proc\/meminfo: no positive "MemTotal/);
    expect(() => parseMeminfo('MemTot')).toThrow(ProcFormatError);
  });

  it('keeps used at 0 rather than negative', () => {
    const samples = memorySamples({ totalBytes: 1024, availableBytes: 2048 });
    expect(valueOf(samples, 'system_memory_used_bytes')).toBe(0);
    expectAllFinite(samples);
  });
});

describe('parseLoadavg', () => {
  it('reads the three averages', () => {
    expect(parseLoadavg(fixture('loadavg.txt'))).toEqual({ '1m': 0.52, '5m': 1.05, '15m': 2.3 });
  });

  it.each([[''], ['0.52 1.05'], ['0.52 NaN 2.30 1/2 3']])('throws naming /proc/loadavg for %j', (text) => {
    expect(() => parseLoadavg(text)).toThrow(/^\/proc\/loadavg: expected three load averages/);
  });
});

describe('parseNetDev and networkSamples', () => {
  it('reads every interface, including one printed without a space after the colon', () => {
    const interfaces = parseNetDev(fixture('net-dev.txt'));
    expect(interfaces.map((i) => i.name)).toEqual(['lo', 'eth0', 'docker0']);
    expect(interfaces[1]).toEqual({ name: 'eth0', receivedBytes: 3284701953, receivedPackets: 2620480, sentBytes: 179336214, sentPackets: 1011842 });
  });

  it('leaves out the excluded interfaces', () => {
    const samples = networkSamples(parseNetDev(fixture('net-dev.txt')), new Set(['lo']));
    expect(new Set(samples.map((s) => s.labels?.interface))).toEqual(new Set(['eth0', 'docker0']));
    expect(valueOf(samples, 'system_network_packets_sent_total', { interface: 'docker0' })).toBe(1402);
    expect(valueOf(samples, 'system_network_bytes_received_total', { interface: 'docker0' })).toBe(93412);
  });

  it('skips truncated and non-numeric lines, keeping the others', () => {
    const text = fixture('net-dev.txt') + '  eth1: 1 2 3\n  eth2: 1 2 3 4 5 6 7 8 9 x 0 0 0 0 0 0\n: 1 2 3 4 5 6 7 8 9 10\n';
    expect(parseNetDev(text).map((i) => i.name)).toEqual(['lo', 'eth0', 'docker0']);
    expect(parseNetDev('')).toEqual([]);
  });
});

describe('parseDiskstats and diskIoSamples', () => {
  const samples = diskIoSamples(parseDiskstats(fixture('diskstats.txt')));
  const devices = new Set(samples.map((s) => s.labels?.device));

  it('reports whole disks, dm and md devices, in bytes of 512-byte sectors', () => {
    expect(devices).toEqual(new Set(['nvme0n1', 'sda', 'dm-0', 'md0']));
    expect(valueOf(samples, 'system_disk_io_read_bytes_total', { device: 'nvme0n1' })).toBe(11946018 * 512);
    expect(valueOf(samples, 'system_disk_io_write_bytes_total', { device: 'nvme0n1' })).toBe(20123880 * 512);
    // md0 has read but never written: still reported.
    expect(valueOf(samples, 'system_disk_io_write_bytes_total', { device: 'md0' })).toBe(0);
  });

  it('leaves out partitions, loop and RAM devices, and devices without any I/O', () => {
    for (const device of ['nvme0n1p1', 'nvme0n1p2', 'sda1', 'loop0', 'zram0', 'sr0']) expect(devices.has(device)).toBe(false);
  });

  it('skips truncated and non-numeric lines', () => {
    const parsed = parseDiskstats('   8 0 sda 1 2 3\n   8 16 sdb 1 2 x 4 5 6 7 8\n 8 32 sdc 1 0 8 0 1 0 16 0 0 0 0\n\n');
    expect(parsed).toEqual([{ device: 'sdc', readBytes: 8 * 512, writtenBytes: 16 * 512 }]);
  });
});

describe('parseMountinfo and selectFilesystems', () => {
  const mounts = parseMountinfo(fixture('mountinfo.txt'));
  const excluded = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup2']);

  it('reads device id, root, path, fstype and source, unescaping octal escapes', () => {
    expect(mounts[0]).toEqual({ deviceId: '259:2', root: '/', path: '/', fstype: 'ext4', device: '/dev/nvme0n1p2' });
    expect(mounts.find((m) => m.deviceId === '253:0')?.path).toBe('/mnt/my backups');
  });

  it('skips a truncated line', () => {
    expect(mounts.some((m) => m.path === '/mnt/opt')).toBe(false);
    expect(mounts).toHaveLength(13);
  });

  it('keeps real filesystems, one per device: the whole-tree mount with the shortest path', () => {
    const chosen = selectFilesystems(mounts, excluded);
    expect(chosen.map((m) => `${m.path} ${m.fstype}`).sort()).toEqual(['/ ext4', '/boot/efi vfat', '/mnt/my backups xfs', '/mnt/nfs nfs4']);
  });

  it('prefers a whole-tree mount over a shorter bind mount of a subtree', () => {
    const bindFirst = parseMountinfo(
      '1 0 8:1 /data/x /x rw - ext4 /dev/sda1 rw\n2 0 8:1 / /mnt/disk rw - ext4 /dev/sda1 rw\n',
    );
    expect(selectFilesystems(bindFirst, new Set()).map((m) => m.path)).toEqual(['/mnt/disk']);
  });
});

describe('diskUsage', () => {
  it('computes sizes as df does', () => {
    const usage = diskUsage({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 });
    expect(usage).toEqual({ totalBytes: 1000 * 4096, usedBytes: 700 * 4096, freeBytes: 250 * 4096, usagePercent: (700 / 950) * 100 });
  });

  it('reads 100 % for a disk full to its reserve and skips filesystems without blocks', () => {
    expect(diskUsage({ bsize: 4096, blocks: 1000, bfree: 50, bavail: 0 })?.usagePercent).toBe(100);
    expect(diskUsage({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 })).toBeUndefined();
  });
});

describe('ProcFiles', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'system-procfiles-'));
  const files = new ProcFiles();
  afterAll(async () => {
    await files.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a whole file larger than its first buffer, and fresh content through the kept handle', async () => {
    const file = path.join(dir, 'grows');
    const first = 'a'.repeat(10_000) + '\n';
    writeFileSync(file, first);
    expect(await files.read(file)).toBe(first);
    // Same inode rewritten in place, as the kernel regenerates a procfs file.
    writeFileSync(file, 'short\n');
    expect(await files.read(file)).toBe('short\n');
  });

  it('reads a real procfs file as readFile does', async () => {
    expect(await files.read('/proc/self/mountinfo')).toBe(readFileSync('/proc/self/mountinfo', 'utf8'));
  });

  it('rejects with the path of a missing file, and opens it once it exists', async () => {
    const file = path.join(dir, 'later');
    await expect(files.read(file)).rejects.toThrow(file);
    writeFileSync(file, 'here\n');
    expect(await files.read(file)).toBe('here\n');
  });
});

import os from 'node:os';
import type { Clock } from '../../src/clock';
import type { MetricDescriptor, Sample } from '../../src/source';
import { quarterTimeoutMs, type CollectorContext, type HostAccess, type HostCollector } from './collector';
import { ProcFormatError, unsignedFields } from './proc-files';

/**
 * Collector `cpu`: system_cpu_usage_percent, system_cpu_seconds_total, system_cpu_cores, from
 * /proc/stat (portable: node:os cpus()).
 */

const PROC_STAT = '/proc/stat';

/**
 * /proc/stat counts in USER_HZ ticks, which the kernel ABI fixes at 100 per second whatever
 * CONFIG_HZ is (node_exporter's procfs library assumes the same).
 */
const USER_HZ = 100;

/**
 * Shortest interval a CPU percentage is measured over (at most a quarter of the collection
 * timeout): at USER_HZ = 100, one second holds 100 ticks per CPU. The first percentage needs an
 * earlier /proc/stat reading: start() takes one, and the first collection waits until it is
 * this old, so the first value covers a real interval instead of the average since boot. Later
 * collections, an interval apart, do not wait.
 */
const CPU_BASELINE_MS = 1000;

export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];
/** Cumulative USER_HZ ticks per mode, summed over all CPUs. */
export type CpuTimes = Readonly<Record<CpuMode, number>>;

export interface ProcStat {
  readonly total: CpuTimes;
  /** Logical CPUs online: the `cpuN` lines, as os.cpus() counts them. */
  readonly cores: number;
  /** The modes the reading has (the others read 0); all of CPU_MODES when absent. */
  readonly modes?: readonly CpuMode[];
}

/** The modes node:os counts (libuv: no iowait, softirq or steal). */
const OS_CPU_MODES = ['user', 'nice', 'system', 'idle', 'irq'] as const;

export const CPU_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_cpu_usage_percent', help: 'Whole-host CPU busy percentage (0-100) since the previous collection', type: 'gauge' },
  { name: 'system_cpu_seconds_total', help: 'CPU time spent in each mode, summed over all CPUs, since boot', type: 'counter', labelNames: ['mode'] },
  { name: 'system_cpu_cores', help: 'Logical CPU cores online', type: 'gauge' },
];

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

/**
 * The same reading from node:os, whose times are milliseconds per CPU (systeminformation's
 * currentLoad reads them too, on every platform). Throws when the platform gives no CPUs.
 */
export function osCpuStat(cpus: readonly os.CpuInfo[]): ProcStat {
  if (cpus.length === 0) throw new Error('node:os lists no CPUs');
  const ticks = (mode: keyof os.CpuInfo['times']) => cpus.reduce((sum, cpu) => sum + cpu.times[mode], 0) / (1000 / USER_HZ);
  const total = { user: ticks('user'), nice: ticks('nice'), system: ticks('sys'), idle: ticks('idle'), irq: ticks('irq'), iowait: 0, softirq: 0, steal: 0 };
  return { total, cores: cpus.length, modes: OS_CPU_MODES };
}

export function cpuSamples(stat: ProcStat, busyPercent: number | undefined): Sample[] {
  const samples: Sample[] = (stat.modes ?? CPU_MODES).map((mode) => ({ name: 'system_cpu_seconds_total', labels: { mode }, value: stat.total[mode] / USER_HZ }));
  samples.push({ name: 'system_cpu_cores', value: stat.cores });
  // Without an interval to measure over, the gauge is left out rather than guessed.
  if (busyPercent !== undefined) samples.push({ name: 'system_cpu_usage_percent', value: busyPercent });
  return samples;
}

interface CpuReading {
  readonly times: CpuTimes;
  readonly atMs: number;
}

export class CpuCollector implements HostCollector {
  readonly metrics = CPU_METRICS;
  private previous?: CpuReading;
  private readonly clock: Clock;
  private readonly baselineMs: number;

  constructor({ config, clock }: CollectorContext) {
    this.clock = clock;
    this.baselineMs = Math.min(CPU_BASELINE_MS, quarterTimeoutMs(config));
  }

  /** Takes the CPU baseline: one small synchronous read, once. */
  start(host: HostAccess): void {
    try {
      const stat = host.kind === 'proc' ? parseProcStat(host.files.read('stat')) : osCpuStat(os.cpus());
      this.previous = { times: stat.total, atMs: this.clock.monotonicMs() };
    } catch {
      // No /proc/stat: the first collection reads it again and reports the error.
    }
  }

  async readyAtMs(host: HostAccess): Promise<number> {
    this.previous ??= { times: (await this.read(host)).total, atMs: this.clock.monotonicMs() };
    return this.previous.atMs + this.baselineMs;
  }

  async collect(host: HostAccess): Promise<Sample[]> {
    const stat = await this.read(host);
    const busyPercent = this.previous ? cpuBusyPercent(this.previous.times, stat.total) : undefined;
    this.previous = { times: stat.total, atMs: this.clock.monotonicMs() };
    return cpuSamples(stat, busyPercent);
  }

  stop(): void {
    this.previous = undefined;
  }

  private async read(host: HostAccess): Promise<ProcStat> {
    return host.kind === 'proc' ? parseProcStat(host.files.read('stat')) : osCpuStat(os.cpus());
  }
}

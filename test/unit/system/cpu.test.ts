import { cpuBusyPercent, cpuSamples, osCpuStat, parseProcStat, type CpuTimes } from '../../../streams/system/cpu';
import { ProcFormatError } from '../../../streams/system/proc-files';
import { fixture, valueOf } from '../../support/system';

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

describe('osCpuStat (node:os, where there is no /proc)', () => {
  const cpu = (user: number, nice: number, sys: number, idle: number, irq: number) => ({ model: 'x', speed: 1, times: { user, nice, sys, idle, irq } });

  it('sums the CPUs in USER_HZ ticks and exposes only the modes node:os counts', () => {
    const stat = osCpuStat([cpu(1000, 20, 300, 5000, 10), cpu(3000, 0, 700, 4000, 30)]);
    expect(stat.cores).toBe(2);
    const samples = cpuSamples(stat, undefined);
    expect(samples.filter((s) => s.name === 'system_cpu_seconds_total').map((s) => s.labels?.mode)).toEqual(['user', 'nice', 'system', 'idle', 'irq']);
    expect(valueOf(samples, 'system_cpu_seconds_total', { mode: 'user' })).toBe(4);
    expect(valueOf(samples, 'system_cpu_seconds_total', { mode: 'system' })).toBe(1);
  });

  it('measures a busy percentage between two readings', () => {
    const before = osCpuStat([cpu(1000, 0, 0, 1000, 0)]).total;
    const after = osCpuStat([cpu(1300, 0, 100, 1600, 0)]).total;
    expect(cpuBusyPercent(before, after)).toBeCloseTo(40);
  });

  it('throws when the platform lists no CPUs', () => {
    expect(() => osCpuStat([])).toThrow(/no CPUs/);
  });
});

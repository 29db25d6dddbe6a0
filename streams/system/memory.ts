import type { MetricDescriptor, Sample } from '../../src/source';
import type { HostAccess, HostCollector } from './collector';
import { ProcFormatError } from './proc-files';

/** Collector `memory`: system_memory_*, from /proc/meminfo (portable: systeminformation's mem()). */

const PROC_MEMINFO = '/proc/meminfo';

export interface MemoryInfo {
  readonly totalBytes: number;
  readonly availableBytes: number;
}

export const MEMORY_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_memory_total_bytes', help: 'Total usable memory', type: 'gauge' },
  { name: 'system_memory_used_bytes', help: 'Memory in use excluding reclaimable buffers and cache (MemTotal - MemAvailable)', type: 'gauge' },
  { name: 'system_memory_free_bytes', help: 'Memory available to new work without swapping (MemAvailable)', type: 'gauge' },
  { name: 'system_memory_usage_percent', help: 'Used memory as a percentage of total', type: 'gauge' },
];

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

export class MemoryCollector implements HostCollector {
  readonly metrics = MEMORY_METRICS;

  async collect(host: HostAccess): Promise<Sample[]> {
    if (host.kind === 'proc') return memorySamples(parseMeminfo(host.files.read('meminfo')));
    // systeminformation's `available` is MemAvailable on Linux and its nearest equivalent elsewhere.
    const { total, available } = await (await host.systeminformation()).mem();
    if (!(total > 0)) throw new Error('systeminformation: no memory total');
    return memorySamples({ totalBytes: total, availableBytes: available });
  }
}

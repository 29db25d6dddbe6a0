import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { loadConfig } from '../../streams/config';
import { sampleValue } from '../support/http';
import { scrape } from '../support/metrics';
import { eventually, startService, type RunningService } from '../support/service';

/** Catalog §1 rows, plus the per-mode CPU counter this source adds. */
const SYSTEM_ROWS: Record<string, string> = {
  system_cpu_usage_percent: 'gauge',
  system_cpu_seconds_total: 'counter',
  system_cpu_cores: 'gauge',
  system_load_average: 'gauge',
  system_memory_total_bytes: 'gauge',
  system_memory_used_bytes: 'gauge',
  system_memory_free_bytes: 'gauge',
  system_memory_usage_percent: 'gauge',
  system_disk_total_bytes: 'gauge',
  system_disk_used_bytes: 'gauge',
  system_disk_free_bytes: 'gauge',
  system_disk_usage_percent: 'gauge',
  system_disk_io_read_bytes_total: 'counter',
  system_disk_io_write_bytes_total: 'counter',
  system_network_bytes_received_total: 'counter',
  system_network_bytes_sent_total: 'counter',
  system_network_packets_received_total: 'counter',
  system_network_packets_sent_total: 'counter',
};

/** Label values of `label` over the series of family `name`. */
function labelValues(samples: Map<string, number>, name: string, label: string): string[] {
  const pattern = new RegExp(`^${name}\\{.*\\b${label}="([^"]*)"`);
  return [...samples.keys()].flatMap((series) => pattern.exec(series)?.[1] ?? []);
}

describe('system source against this host', () => {
  let service: RunningService;
  let firstScrape: Awaited<ReturnType<typeof scrape>>;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'system', COLLECTION_INTERVAL_SECONDS: '2' });
    firstScrape = await eventually(async () => {
      const scraped = await scrape(service.port);
      return sampleValue(scraped.samples, 'collector_up', { source: 'system' }) === 1 ? scraped : undefined;
    }, 'the first system collection');
  });

  afterAll(() => service.stop());

  it('serves every §1 row with HELP and TYPE', () => {
    const { samples, help, type } = firstScrape;
    for (const [name, kind] of Object.entries(SYSTEM_ROWS)) {
      const present = [...samples.keys()].some((series) => series === name || series.startsWith(`${name}{`));
      expect({ name, help: help.has(name), type: type.get(name), present }).toEqual({ name, help: true, type: kind, present: true });
    }
  });

  it('reports this host’s memory, cores, load and a first CPU percentage over a real interval', () => {
    const { samples } = firstScrape;
    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    expect(sampleValue(samples, 'system_memory_total_bytes')).toBe(memTotalKb * 1024);
    const used = sampleValue(samples, 'system_memory_used_bytes')!;
    const free = sampleValue(samples, 'system_memory_free_bytes')!;
    expect(used).toBeGreaterThan(0);
    expect(used + free).toBe(memTotalKb * 1024);
    expect(sampleValue(samples, 'system_cpu_cores')).toBe(os.cpus().length);
    expect(labelValues(samples, 'system_load_average', 'period').sort()).toEqual(['15m', '1m', '5m']);
    const percent = sampleValue(samples, 'system_cpu_usage_percent')!;
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
  });

  it('reports the root filesystem with the size statfs gives', () => {
    const { samples } = firstScrape;
    const root = statfsSync('/');
    expect(sampleValue(samples, 'system_disk_total_bytes', { path: '/' })).toBe(root.blocks * root.bsize);
    expect(sampleValue(samples, 'system_disk_usage_percent', { path: '/' })).toBeGreaterThan(0);
    const fstypes = labelValues(samples, 'system_disk_total_bytes', 'fstype');
    for (const noise of ['tmpfs', 'proc', 'sysfs', 'overlay', 'cgroup2']) expect(fstypes).not.toContain(noise);
    const paths = labelValues(samples, 'system_disk_total_bytes', 'path');
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('reports network counters for every interface but lo and the container ones (case 13 defaults)', () => {
    const excluded = loadConfig({}).networkInterfacesExcluded;
    const interfaces = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .flatMap((line) => (line.includes(':') ? [line.slice(0, line.indexOf(':')).trim()] : []));
    const reported = labelValues(firstScrape.samples, 'system_network_bytes_received_total', 'interface');
    expect(reported.sort()).toEqual(interfaces.filter((name) => !excluded.has(name)).sort());
  });

  it('measures the CPU percentage again over the next interval', async () => {
    const firstSuccess = sampleValue(firstScrape.samples, 'collector_last_success_timestamp_seconds', { source: 'system' })!;
    const next = await eventually(async () => {
      const scraped = await scrape(service.port);
      const success = sampleValue(scraped.samples, 'collector_last_success_timestamp_seconds', { source: 'system' })!;
      return success > firstSuccess ? scraped : undefined;
    }, 'a second system collection');
    const percent = sampleValue(next.samples, 'system_cpu_usage_percent')!;
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
    // The counter mirror moves on with the clock: all modes together gain ~cores seconds per second.
    const cpuSeconds = (scraped: typeof next) =>
      [...scraped.samples].filter(([series]) => series.startsWith('system_cpu_seconds_total{')).reduce((sum, [, value]) => sum + value, 0);
    expect(cpuSeconds(next)).toBeGreaterThan(cpuSeconds(firstScrape));
    expect(sampleValue(next.samples, 'collector_errors_total', { source: 'system' })).toBe(0);
  });
});

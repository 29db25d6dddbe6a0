import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { systemClock } from '../../src/clock';
import { loadConfig } from '../../streams/config';
import { createLogger } from '../../src/logger';
import type { Sample } from '../../src/source';
import { sampleValue } from '../support/http';
import { scrape } from '../support/metrics';
import { eventually, startService } from '../support/service';
import { SystemSource } from '../../streams/system';

/**
 * The systeminformation fallback (a proc root without /proc files, as on macOS or Windows) against
 * /proc on this Linux host, both collected at the same moment. Tolerances: what cannot move
 * between two reads (memory total, cores, filesystem sizes, the info labels) is equal; what moves
 * (CPU seconds, available memory, bytes used, network bytes, load) within 1 % plus a small slack.
 */
const series = (samples: readonly Sample[], name: string): Map<string, number> =>
  new Map(samples.filter((s) => s.name === name).map((s) => [JSON.stringify(s.labels ?? {}), s.value]));
const one = (samples: readonly Sample[], name: string): number | undefined => samples.find((s) => s.name === name)?.value;
const near = (actual: number | undefined, expected: number | undefined, slack: number) => {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - expected!)).toBeLessThanOrEqual(Math.abs(expected!) * 0.01 + slack);
};

describe('system source: systeminformation fallback compared with /proc', () => {
  const emptyRoot = mkdtempSync(path.join(os.tmpdir(), 'no-proc-'));
  const logged: string[] = [];
  const source = (root: string) =>
    new SystemSource(loadConfig({ SYSTEM_PROC_ROOT: root, COLLECTION_INTERVAL_SECONDS: '4' }), systemClock, createLogger('info', (line) => logged.push(line)));
  const proc = source('/proc');
  const fallback = source(emptyRoot);
  let fromProc: readonly Sample[];
  let fromFallback: readonly Sample[];

  beforeAll(async () => {
    proc.start();
    fallback.start();
    [fromProc, fromFallback] = await Promise.all([lastValueFrom(proc.collect()), lastValueFrom(fallback.collect())]);
  });

  afterAll(async () => {
    await Promise.all([proc.stop(), fallback.stop()]);
    rmSync(emptyRoot, { recursive: true, force: true });
  });

  it('says once that it reads the host through systeminformation', () => {
    expect(logged.filter((line) => line.includes(`no usable ${emptyRoot}/stat`) && line.includes('systeminformation'))).toHaveLength(1);
  });

  it('reports the same memory total and nearly the same available memory', () => {
    expect(one(fromFallback, 'system_memory_total_bytes')).toBe(one(fromProc, 'system_memory_total_bytes'));
    near(one(fromFallback, 'system_memory_free_bytes'), one(fromProc, 'system_memory_free_bytes'), 16 * 2 ** 20);
  });

  it('reports the same cores, the modes node:os counts with nearly the same seconds, and a percentage', () => {
    expect(one(fromFallback, 'system_cpu_cores')).toBe(one(fromProc, 'system_cpu_cores'));
    const procSeconds = series(fromProc, 'system_cpu_seconds_total');
    const fallbackSeconds = series(fromFallback, 'system_cpu_seconds_total');
    expect([...fallbackSeconds.keys()].map((key) => JSON.parse(key).mode)).toEqual(['user', 'nice', 'system', 'idle', 'irq']);
    for (const [labels, value] of fallbackSeconds) near(value, procSeconds.get(labels), 2);
    const percent = one(fromFallback, 'system_cpu_usage_percent')!;
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
  });

  it('reports the same load averages', () => {
    const procLoad = series(fromProc, 'system_load_average');
    const fallbackLoad = series(fromFallback, 'system_load_average');
    expect([...fallbackLoad.keys()].sort()).toEqual([...procLoad.keys()].sort());
    for (const [labels, value] of fallbackLoad) near(value, procLoad.get(labels), 0.05);
  });

  it('reports the root filesystem with the same size, and only filesystems /proc reports', () => {
    const paths = (samples: readonly Sample[]) => [...series(samples, 'system_disk_total_bytes').keys()].map((key) => JSON.parse(key).path as string);
    expect(paths(fromFallback)).toContain('/');
    for (const mountPath of paths(fromFallback)) expect(paths(fromProc)).toContain(mountPath);
    const rootOf = (samples: readonly Sample[], name: string) => samples.find((s) => s.name === name && s.labels?.path === '/')?.value;
    expect(rootOf(fromFallback, 'system_disk_total_bytes')).toBe(rootOf(fromProc, 'system_disk_total_bytes'));
    near(rootOf(fromFallback, 'system_disk_used_bytes'), rootOf(fromProc, 'system_disk_used_bytes'), 64 * 2 ** 20);
  });

  it('reports the interfaces that have an address with nearly the same bytes, and no packet counts', () => {
    const procBytes = series(fromProc, 'system_network_bytes_received_total');
    const fallbackBytes = series(fromFallback, 'system_network_bytes_received_total');
    // systeminformation lists the interfaces os.networkInterfaces() knows: those with an address.
    const addressed = Object.keys(os.networkInterfaces()).map((name) => JSON.stringify({ interface: name }));
    expect([...fallbackBytes.keys()].sort()).toEqual([...procBytes.keys()].filter((key) => addressed.includes(key)).sort());
    expect(fallbackBytes.size).toBeGreaterThan(0);
    for (const [labels, value] of fallbackBytes) near(value, procBytes.get(labels), 2 ** 20);
    expect(series(fromFallback, 'system_network_packets_received_total').size).toBe(0);
  });

  it('leaves per-device disk I/O out (systeminformation counts all devices together) and keeps system_info', () => {
    expect(series(fromFallback, 'system_disk_io_read_bytes_total').size).toBe(0);
    expect(series(fromFallback, 'system_info')).toEqual(series(fromProc, 'system_info'));
  });
});

describe('the service on a host without /proc', () => {
  it('starts and serves the system source through systeminformation', async () => {
    const emptyRoot = mkdtempSync(path.join(os.tmpdir(), 'no-proc-'));
    const service = await startService({ SOURCES: 'system', SYSTEM_PROC_ROOT: emptyRoot, COLLECTION_INTERVAL_SECONDS: '2' });
    try {
      const { samples } = await eventually(async () => {
        const scraped = await scrape(service.port);
        return sampleValue(scraped.samples, 'collector_up', { source: 'system' }) === 1 ? scraped : undefined;
      }, 'a system collection through systeminformation');
      expect(sampleValue(samples, 'system_memory_total_bytes')).toBe(os.totalmem());
      expect(sampleValue(samples, 'system_cpu_cores')).toBe(os.cpus().length);
      expect(sampleValue(samples, 'system_disk_total_bytes', { path: '/' })).toBeGreaterThan(0);
    } finally {
      await service.stop();
      rmSync(emptyRoot, { recursive: true, force: true });
    }
  });
});

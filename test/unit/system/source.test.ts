import 'reflect-metadata';
import { lastValueFrom } from 'rxjs';
import { systemClock } from '../../../src/clock';
import { ConfigError } from '../../../src/settings';
import { loadConfig, type ServiceConfig } from '../../../streams/config';
import { createLogger } from '../../../src/logger';
import { SystemSource } from '../../../streams/system';

/** The system source composing its collectors, against this host's /proc. */
const sourceFor = (config: ServiceConfig) => new SystemSource(config, systemClock, createLogger('silent'));

describe('SystemSource and SYSTEM_COLLECTORS', () => {
  it('runs every collector by default', () => {
    const families = sourceFor(loadConfig({ COLLECTION_INTERVAL_SECONDS: '1' })).metrics.map((m) => m.name);
    for (const prefix of ['system_cpu_', 'system_load_', 'system_memory_', 'system_disk_total', 'system_disk_io_', 'system_network_']) {
      expect(families.some((name) => name.startsWith(prefix))).toBe(true);
    }
  });

  it('runs only the collectors named, and owns only their families', async () => {
    const source = sourceFor(loadConfig({ SYSTEM_COLLECTORS: 'memory, load', COLLECTION_INTERVAL_SECONDS: '1' }));
    expect(source.metrics.map((m) => m.name).sort()).toEqual([
      'system_load_average',
      'system_memory_free_bytes',
      'system_memory_total_bytes',
      'system_memory_usage_percent',
      'system_memory_used_bytes',
    ]);
    source.start();
    try {
      const samples = await lastValueFrom(source.collect());
      expect(new Set(samples.map((s) => s.name))).toEqual(new Set(source.metrics.map((m) => m.name)));
    } finally {
      await source.stop();
    }
  });

  it('rejects an unknown collector, naming it', () => {
    expect(() => loadConfig({ SYSTEM_COLLECTORS: 'cpu,gpu' })).toThrow(ConfigError);
    expect(() => loadConfig({ SYSTEM_COLLECTORS: 'cpu,gpu' })).toThrow(/SYSTEM_COLLECTORS=.*"gpu" is none of them/);
  });
});

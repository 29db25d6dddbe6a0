import os from 'node:os';
import type { MetricDescriptor, Sample } from '../../src/source';
import type { HostAccess, HostCollector } from './collector';
import { ProcFormatError } from './proc-files';

/**
 * Collector `load`: system_load_average{period}, from /proc/loadavg (portable: node:os loadavg(),
 * which is what systeminformation's currentLoad reads too).
 */

const PROC_LOADAVG = '/proc/loadavg';

export interface LoadAverage {
  readonly '1m': number;
  readonly '5m': number;
  readonly '15m': number;
}

export const LOAD_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_load_average', help: 'System load average over the period', type: 'gauge', labelNames: ['period'] },
];

/** The three load averages at the start of /proc/loadavg. */
export function parseLoadavg(text: string): LoadAverage {
  const fields = text.trim().split(/\s+/).slice(0, 3);
  if (fields.length < 3 || !fields.every((field) => /^\d+(\.\d+)?$/.test(field))) {
    throw new ProcFormatError(PROC_LOADAVG, `expected three load averages, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  const [oneMinute, fiveMinutes, fifteenMinutes] = fields.map(Number);
  return { '1m': oneMinute, '5m': fiveMinutes, '15m': fifteenMinutes };
}

export function loadSamples(load: LoadAverage): Sample[] {
  return (['1m', '5m', '15m'] as const).map((period) => ({ name: 'system_load_average', labels: { period }, value: load[period] }));
}

export class LoadCollector implements HostCollector {
  readonly metrics = LOAD_METRICS;

  async collect(host: HostAccess): Promise<Sample[]> {
    if (host.kind === 'proc') return loadSamples(parseLoadavg(host.files.read('loadavg')));
    // Windows has no load average: node:os answers zeros, which would be a lie.
    if (process.platform === 'win32') return [];
    const [oneMinute, fiveMinutes, fifteenMinutes] = os.loadavg();
    return loadSamples({ '1m': oneMinute, '5m': fiveMinutes, '15m': fifteenMinutes });
  }
}

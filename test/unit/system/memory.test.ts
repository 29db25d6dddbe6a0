import { memorySamples, parseMeminfo } from '../../../streams/system/memory';
import { ProcFormatError } from '../../../streams/system/proc-files';
import { expectAllFinite, fixture, valueOf } from '../../support/system';

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

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRedisInfo, REDIS_METRICS, redisSamples } from '../../streams/redis';
import type { Sample } from '../../src/source';

const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'redis', name), 'utf8');

const byName = (samples: readonly Sample[]) => Object.fromEntries(samples.map((sample) => [sample.name, sample.value]));

/** INFO text with the given sections; each line `field:value`. */
const infoText = (sections: Record<string, string[]>) =>
  Object.entries(sections)
    .map(([section, lines]) => [`# ${section}`, ...lines].join('\r\n'))
    .join('\r\n\r\n');

const COMPLETE = {
  Clients: ['connected_clients:3'],
  Memory: ['used_memory:100', 'used_memory_peak:200', 'mem_fragmentation_ratio:1.5', 'maxmemory:0'],
  Stats: ['total_commands_processed:10', 'expired_keys:1', 'evicted_keys:2', 'keyspace_hits:3', 'keyspace_misses:4'],
  Keyspace: ['db0:keys=5,expires=0,avg_ttl=0'],
};

describe('parseRedisInfo', () => {
  it('reads sections and fields of a real Redis 7 INFO reply (CRLF lines)', () => {
    const info = parseRedisInfo(fixture('info-7.0.15-two-dbs.txt'));
    expect(info['server']?.['redis_version']).toBe('7.0.15');
    expect(info['memory']?.['used_memory']).toBe('1040736');
    expect(info['keyspace']).toEqual({ db0: 'keys=4,expires=1,avg_ttl=99745', db3: 'keys=2,expires=0,avg_ttl=0' });
    // Values keep everything after the first colon.
    expect(info['server']?.['os']).toMatch(/^Linux /);
  });

  it('keeps an empty section as present, skips lines that are not field:value', () => {
    expect(parseRedisInfo('# Keyspace\r\n')).toEqual({ '': {}, keyspace: {} });
    expect(parseRedisInfo('garbage\n:novalue\n# Stats\nexpired_keys:7\nalso garbage')).toEqual({ '': {}, stats: { expired_keys: '7' } });
  });
});

describe('redisSamples', () => {
  it('maps a real INFO reply with keys in two databases to every catalog metric', () => {
    const { samples, problems } = redisSamples(parseRedisInfo(fixture('info-7.0.15-two-dbs.txt')));
    expect(problems).toEqual([]);
    expect(byName(samples)).toEqual({
      redis_status: 1,
      redis_memory_used_bytes: 1040736,
      redis_memory_peak_bytes: 1040736,
      redis_memory_fragmentation_ratio: 12.64,
      redis_memory_max_bytes: 0,
      redis_keys_total: 6,
      redis_keys_evicted_total: 0,
      redis_keys_expired_total: 1,
      redis_commands_processed_total: 9,
      redis_cache_hits_total: 1,
      redis_cache_misses_total: 1,
      redis_connected_clients: 1,
    });
    // Exactly the declared families, none twice.
    expect(samples.map((sample) => sample.name).sort()).toEqual(REDIS_METRICS.map((metric) => metric.name).sort());
  });

  it('counts 0 keys for an empty keyspace section (real reply of an empty server)', () => {
    const { samples, problems } = redisSamples(parseRedisInfo(fixture('info-7.0.15-empty.txt')));
    expect(problems).toEqual([]);
    expect(byName(samples)['redis_keys_total']).toBe(0);
  });

  it('leaves out a metric whose field is missing and names the field; the others stay', () => {
    const { samples, problems } = redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Memory: ['used_memory_peak:200', 'mem_fragmentation_ratio:1.5', 'maxmemory:0'] })));
    expect(problems).toEqual(['INFO field used_memory (section memory) is missing; redis_memory_used_bytes left out']);
    const values = byName(samples);
    expect(values).not.toHaveProperty('redis_memory_used_bytes');
    expect(values['redis_memory_peak_bytes']).toBe(200);
    expect(Object.keys(values)).toHaveLength(REDIS_METRICS.length - 1);
  });

  it('leaves out a metric whose value is not a number, never NaN', () => {
    for (const bad of ['nan', 'inf', '', '-1', '12abc']) {
      const memory = ['used_memory:100', 'used_memory_peak:200', `mem_fragmentation_ratio:${bad}`, 'maxmemory:0'];
      const { samples, problems } = redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Memory: memory })));
      expect(problems).toEqual([`INFO field mem_fragmentation_ratio (section memory) is not a number (${JSON.stringify(bad)}); redis_memory_fragmentation_ratio left out`]);
      expect(samples.every((sample) => Number.isFinite(sample.value))).toBe(true);
      expect(byName(samples)).not.toHaveProperty('redis_memory_fragmentation_ratio');
    }
  });

  it('redis_memory_max_bytes is INFO maxmemory: 0 (no limit) as a real reply gives it, and a set limit in bytes', () => {
    expect(byName(redisSamples(parseRedisInfo(fixture('info-7.0.15-empty.txt'))).samples)['redis_memory_max_bytes']).toBe(0);
    const memory = ['used_memory:100', 'used_memory_peak:200', 'mem_fragmentation_ratio:1.5', 'maxmemory:67108864', 'maxmemory_human:64.00M'];
    const { samples, problems } = redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Memory: memory })));
    expect(problems).toEqual([]);
    expect(byName(samples)['redis_memory_max_bytes']).toBe(64 * 1024 * 1024);
  });

  it('looks a field up in its own section only', () => {
    const { problems } = redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Clients: [], Stats: [...COMPLETE.Stats, 'connected_clients:3'] })));
    expect(problems).toEqual(['INFO field connected_clients (section clients) is missing; redis_connected_clients left out']);
  });

  it('leaves out redis_keys_total when the keyspace section is missing or a db line has no keys= count', () => {
    const { Keyspace: _keyspace, ...withoutKeyspace } = COMPLETE;
    expect(redisSamples(parseRedisInfo(infoText(withoutKeyspace))).problems).toEqual([
      'INFO section keyspace is missing; redis_keys_total left out',
    ]);
    const broken = redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Keyspace: ['db0:keys=5,expires=0', 'db1:expires=0,avg_ttl=0'] })));
    expect(broken.problems).toEqual(['INFO keyspace line db1 has no keys= count ("expires=0,avg_ttl=0"); redis_keys_total left out']);
    expect(byName(broken.samples)).not.toHaveProperty('redis_keys_total');
  });

  it('sums keys= over every db line and ignores other keyspace fields', () => {
    const keyspace = ['db0:keys=5,expires=2,avg_ttl=0', 'db15:keys=1000000,expires=0,avg_ttl=0,subexpiry=0', 'notadb:keys=99'];
    expect(byName(redisSamples(parseRedisInfo(infoText({ ...COMPLETE, Keyspace: keyspace }))).samples)['redis_keys_total']).toBe(1000005);
  });

  it('fails for a reply with none of the fields, naming them', () => {
    expect(() => redisSamples(parseRedisInfo('-ERR unknown command\r\n'))).toThrow(/INFO reply has none of the fields used_memory, .*connected_clients/);
    expect(() => redisSamples(parseRedisInfo(''))).toThrow(/none of the fields/);
  });
});

import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { parseRedisInfo, REDIS_METRICS } from '../../streams/redis';
import { sparePort } from '../support/ports';
import { killProcess as kill } from '../support/processes';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { get, sampleValue } from '../support/http';
import { scrape } from '../support/metrics';
import { startService, type RunningService } from '../support/service';
import { TICK, REDIS_SERIES, nextResults, nextSuccess, nextFailure, redisValues, keyspaceSum, infoField } from '../support/redis-service';

afterAll(killAllRedisServers);

describe('redis source against the local Redis (127.0.0.1:6379)', () => {
  const prefix = `iotflow-metrics-test:${randomUUID()}:`;
  let client: Redis;
  let service: RunningService;

  beforeAll(async () => {
    client = new Redis('redis://127.0.0.1:6379');
    await client.mset(Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${prefix}${i}`, String(i)])));
    service = await startService({ ...TICK, REDIS_URL: 'redis://127.0.0.1:6379' });
    await nextSuccess(service);
  });

  afterAll(async () => {
    await service?.stop();
    const keys = Array.from({ length: 25 }, (_, i) => `${prefix}${i}`);
    await client.del(...keys);
    client.disconnect();
  });

  it('exposes every family of the reference with its type', async () => {
    const { samples, type } = await scrape(service.port);
    for (const { name, type: kind } of REDIS_METRICS) expect({ name, type: type.get(name) }).toEqual({ name, type: kind });
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(1);
    // COLLECTION_INTERVAL_SECONDS 1 gives the default timeout of half of it.
    expect({ type: type.get('collector_timeout_seconds'), value: sampleValue(samples, 'collector_timeout_seconds', { source: 'redis' }) }).toEqual({ type: 'gauge', value: 0.5 });
    expect(sampleValue(samples, 'redis_status')).toBe(1);
    expect(sampleValue(samples, 'redis_memory_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'redis_memory_peak_bytes')).toBeGreaterThanOrEqual(sampleValue(samples, 'redis_memory_used_bytes')! * 0.5);
    expect(sampleValue(samples, 'redis_memory_fragmentation_ratio')).toBeGreaterThan(0);
    // This test's client and the service's connection.
    expect(sampleValue(samples, 'redis_connected_clients')).toBeGreaterThanOrEqual(2);
  });

  it('redis_memory_max_bytes is the maxmemory CONFIG GET reads (0: no limit)', async () => {
    const [, maxmemory] = (await client.config('GET', 'maxmemory')) as [string, string];
    expect(sampleValue((await scrape(service.port)).samples, 'redis_memory_max_bytes')).toBe(Number(maxmemory));
  });

  it('redis_keys_total equals the keyspace sum read independently at the same moment', async () => {
    // Other developers write to this Redis too: compare only when the sum was the same before and after a collection.
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = await keyspaceSum(client);
      const result = await nextSuccess(service);
      const after = await keyspaceSum(client);
      if (before !== after) continue;
      expect(before).toBeGreaterThanOrEqual(25);
      expect(result.samples.find((sample) => sample.name === 'redis_keys_total')?.value).toBe(before);
      return;
    }
    throw new Error('the keyspace never stood still over one collection');
  });
});

describe('redis source against a redis-server of its own', () => {
  let client: Redis;
  let service: RunningService;

  beforeAll(async () => {
    const port = await sparePort();
    // Little memory and random eviction, so evicted_keys can be driven above 0.
    await startRedisServer(port, '--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-random');
    client = new Redis(`redis://127.0.0.1:${port}/2`);
    service = await startService({ ...TICK, REDIS_URL: `redis://127.0.0.1:${port}` });
    await nextSuccess(service);
  });

  afterAll(async () => {
    await service?.stop();
    client?.disconnect();
  });

  it('mirrors Redis counters and gauges as INFO reports them', async () => {
    await client.mset({ a: '1', b: '2', c: '3' });
    await client.get('a');
    await client.get('b');
    await client.get('nope');
    await client.set('short-lived', '1', 'PX', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await client.get('short-lived'); // expires it (and misses)
    const filler = 'x'.repeat(10_000);
    while ((await infoField(client, 'stats', 'evicted_keys')) === 0) await client.set(`fill:${randomUUID()}`, filler);

    const truth = parseRedisInfo(await client.info());
    const commandsBefore = Number(truth['stats']!['total_commands_processed']);
    // The second one: the first may have started before the INFO above.
    await nextSuccess(service, 2);
    const { samples } = await scrape(service.port);
    const commandsAfter = await infoField(client, 'stats', 'total_commands_processed');
    const values = redisValues(samples);

    expect(values['redis_keys_total']).toBe(await keyspaceSum(client));
    expect(values['redis_cache_hits_total']).toBe(Number(truth['stats']!['keyspace_hits']));
    expect(values['redis_cache_hits_total']).toBeGreaterThanOrEqual(2);
    expect(values['redis_cache_misses_total']).toBe(Number(truth['stats']!['keyspace_misses']));
    expect(values['redis_cache_misses_total']).toBeGreaterThanOrEqual(2);
    expect(values['redis_keys_expired_total']).toBe(1);
    expect(values['redis_keys_evicted_total']).toBe(Number(truth['stats']!['evicted_keys']));
    expect(values['redis_keys_evicted_total']).toBeGreaterThan(0);
    expect(values['redis_connected_clients']).toBe(2);
    expect(values['redis_commands_processed_total']).toBeGreaterThan(commandsBefore);
    expect(values['redis_commands_processed_total']).toBeLessThan(commandsAfter);
    // Memory moves a little with every command; the eviction above put it near maxmemory (3 MiB).
    expect(values['redis_memory_used_bytes']).toBeGreaterThan(2 * 1024 * 1024);
    expect(values['redis_memory_peak_bytes']).toBeGreaterThanOrEqual(values['redis_memory_used_bytes']! * 0.9);
    expect(values['redis_memory_fragmentation_ratio']).toBeGreaterThan(0);
    expect(values['redis_memory_max_bytes']).toBe(3 * 1024 * 1024);
  });

  it('redis_memory_max_bytes follows maxmemory changed at run time (CONFIG SET), and 0 for no limit', async () => {
    await client.config('SET', 'maxmemory', '64mb');
    await nextSuccess(service, 2);
    expect(redisValues((await scrape(service.port)).samples)['redis_memory_max_bytes']).toBe(64 * 1024 * 1024);
    await client.config('SET', 'maxmemory', '0');
    await nextSuccess(service, 2);
    expect(redisValues((await scrape(service.port)).samples)['redis_memory_max_bytes']).toBe(0);
  });
});

describe('redis source while its Redis dies and returns', () => {
  const password = 'sekret-pw';
  let port: number;
  let server: ChildProcess;
  let service: RunningService;

  beforeAll(async () => {
    port = await sparePort();
    server = await startRedisServer(port, '--requirepass', password);
    service = await startService({ ...TICK, REDIS_URL: `redis://:${password}@127.0.0.1:${port}` });
    await nextSuccess(service);
  });

  afterAll(() => service?.stop());

  it('reports down within two ticks of a SIGKILL, keeps serving, and shows only redis_status 0', async () => {
    expect(redisValues((await scrape(service.port)).samples)['redis_status']).toBe(1);
    await kill(server);
    const [, second] = await nextResults(service, 2);
    expect(second).toMatchObject({ ok: false, error: expect.stringMatching(new RegExp(`^Redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} is not connected \\(.*ECONNREFUSED`)) });

    const { samples, body } = await scrape(service.port);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(0);
    // Configuration, not a reading of Redis: it stays while the source is down.
    expect(sampleValue(samples, 'collector_timeout_seconds', { source: 'redis' })).toBe(0.5);
    expect(sampleValue(samples, 'collector_errors_total', { source: 'redis' })).toBeGreaterThan(0);
    const values = redisValues(samples);
    expect(values).toEqual({ ...Object.fromEntries(REDIS_SERIES.map((name) => [name, undefined])), redis_status: 0 });
    expect(body).not.toContain(password);

    const health = await get(service.port, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).sources.redis).toMatchObject({ up: false, error: expect.stringContaining('ECONNREFUSED') });
    expect(health.body).not.toContain(password);
  });

  it('recovers within two ticks of Redis returning on the same port', async () => {
    server = await startRedisServer(port, '--requirepass', password);
    const [, second] = await nextResults(service, 2);
    expect(second?.ok).toBe(true);
    const { samples } = await scrape(service.port);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(1);
    expect(Object.values(redisValues(samples)).every((value) => value !== undefined)).toBe(true);
    expect(redisValues(samples)['redis_status']).toBe(1);
  });

  it('logged the outage once and the recovery once, never the password', () => {
    const redisLines = service.logLines.filter((line) => line.includes('redis'));
    // Down as "is not connected", or as "INFO failed" when the collection came before ioredis saw the socket close.
    expect(redisLines).toEqual([
      expect.stringMatching(/ warn source redis is down: Redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+(:? )/),
      expect.stringMatching(/ info source redis recovered\n$/),
    ]);
    expect(service.logLines.join('')).not.toContain(password);
  });
});

describe('redis source with a password', () => {
  const password = 'sekret-pw';
  let port: number;
  const running: RunningService[] = [];

  beforeAll(async () => {
    port = await sparePort();
    await startRedisServer(port, '--requirepass', password);
  });

  afterAll(() => Promise.all(running.map((service) => service.stop())));

  async function serviceWith(url: string): Promise<RunningService> {
    const service = await startService({ ...TICK, REDIS_URL: url });
    running.push(service);
    return service;
  }

  async function expectNoSecret(service: RunningService, secret: string): Promise<void> {
    expect((await scrape(service.port)).body).not.toContain(secret);
    expect((await get(service.port, '/health')).body).not.toContain(secret);
    expect(service.logLines.join('')).not.toContain(secret);
  }

  it('collects with the right password', async () => {
    const service = await serviceWith(`redis://:${password}@127.0.0.1:${port}`);
    await nextSuccess(service);
    expect(redisValues((await scrape(service.port)).samples)['redis_status']).toBe(1);
    await expectNoSecret(service, password);
  });

  it('is down with an authentication message, without the password, for a wrong one', async () => {
    const wrong = 'wrong-sekret-pw';
    const service = await serviceWith(`redis://:${wrong}@127.0.0.1:${port}`);
    const failure = await nextFailure(service);
    expect(failure).toMatchObject({ ok: false, error: expect.stringMatching(/WRONGPASS invalid username-password pair/) });
    const { samples } = await scrape(service.port);
    expect(sampleValue(samples, 'collector_up', { source: 'redis' })).toBe(0);
    expect(sampleValue(samples, 'redis_status')).toBe(0);
    expect(JSON.parse((await get(service.port, '/health')).body).sources.redis.error).toMatch(/WRONGPASS/);
    await expectNoSecret(service, wrong);
  });
});

import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { EMPTY, firstValueFrom } from 'rxjs';
import { loadConfig } from '../../streams/config';
import { metricsRoute } from '../../src/http/service-routes';
import { createLogger } from '../../src/logger';
import { REPORTED_ONCE_CAPACITY, ReportedOnce } from '../../src/report-once';
import { RegistrySink } from '../../src/sinks/registry-sink';
import { RedisSource } from '../../streams/redis';
import { SOURCE_NAMES } from '../../streams/sources';
import type { MetricSource } from '../../src/source';
import { eventually } from '../support/eventually';

describe('ReportedOnce', () => {
  it('says a key is new once', () => {
    const reported = new ReportedOnce(10);
    expect(reported.firstTime('a')).toBe(true);
    expect(reported.firstTime('a')).toBe(false);
    expect(reported.firstTime('b')).toBe(true);
    expect(reported.size).toBe(2);
  });

  it('reports a forgotten key again: its problem was over and came back', () => {
    const reported = new ReportedOnce(10);
    expect(reported.firstTime('a')).toBe(true);
    reported.forget('a');
    reported.forget('never seen');
    expect(reported.firstTime('a')).toBe(true);
    expect(reported.size).toBe(1);
  });

  it('keeps at most its capacity, forgetting the least recently seen key first', () => {
    const reported = new ReportedOnce(3);
    for (const key of ['a', 'b', 'c']) expect(reported.firstTime(key)).toBe(true);
    expect(reported.firstTime('a')).toBe(false); // seen again: now the most recent
    expect(reported.firstTime('d')).toBe(true); // pushes out b, the least recently seen
    expect(reported.size).toBe(3);
    expect(reported.firstTime('a')).toBe(false);
    expect(reported.firstTime('b')).toBe(true); // forgotten, so reported again
  });

  it('case 11: stays bounded when fed many distinct values', () => {
    const reported = new ReportedOnce();
    for (let i = 0; i < 20 * REPORTED_ONCE_CAPACITY; i++) reported.firstTime(`value ${i}`);
    expect(reported.size).toBe(REPORTED_ONCE_CAPACITY);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new ReportedOnce(0)).toThrow(RangeError);
  });
});

/**
 * Each place that reports a problem once remembers at most REPORTED_ONCE_CAPACITY of them: fed
 * one more distinct problem than that, it has forgotten the first and reports it again (an
 * unbounded set would remember every one of them, for as long as the process runs).
 */
describe('case 11: every report-once set is bounded', () => {
  const lines: string[] = [];
  const logger = createLogger('info', (line) => lines.push(line));
  const loggedWith = (text: string) => lines.filter((line) => line.includes(text)).length;
  beforeEach(() => (lines.length = 0));

  it('RegistrySink: rejected samples, keyed by their value', () => {
    const source: MetricSource = { name: 'app', metrics: [{ name: 'app_events_total', help: 'events', type: 'counter' }], collect: () => EMPTY };
    const sink = new RegistrySink(new Registry(), [source], logger, { intervalMs: 15_000, timeoutMs: 7_500 });
    const apply = (value: number) => sink.apply({ source: 'app', ok: true, samples: [{ name: 'app_events_total', value }], timestamp: 0, durationSeconds: 0 });
    for (let i = 1; i <= REPORTED_ONCE_CAPACITY + 1; i++) apply(-i);
    expect(loggedWith('negative value')).toBe(REPORTED_ONCE_CAPACITY + 1);
    apply(-(REPORTED_ONCE_CAPACITY + 1)); // the most recent is still remembered
    expect(loggedWith('negative value')).toBe(REPORTED_ONCE_CAPACITY + 1);
    apply(-1); // the first was forgotten
    expect(loggedWith('negative value (-1)')).toBe(2);
  });

  it('GET /metrics: metrics that failed to collect, keyed by their name', async () => {
    const registry = new Registry();
    const names = Array.from({ length: REPORTED_ONCE_CAPACITY + 1 }, (_, i) => `broken_${i}`);
    for (const name of names) {
      new Gauge({ name, help: 'always fails', registers: [registry], collect: () => { throw new Error('no reading'); } });
    }
    const route = metricsRoute(registry, logger, SOURCE_NAMES);
    const scrape = async () => {
      const reply = await route.handler({ method: 'GET', path: '/metrics', query: '', params: {}, headers: { accept: '' }, remoteAddress: '' });
      reply.released?.();
    };
    await scrape();
    expect(loggedWith('failed to collect')).toBe(REPORTED_ONCE_CAPACITY + 1);
    for (const name of names.slice(1)) registry.removeSingleMetric(name);
    await scrape(); // only broken_0 left, and it was forgotten
    expect(loggedWith('metric broken_0 failed')).toBe(2);
  });

  describe('RedisSource: INFO problems, keyed by the value a Redis-compatible server sends', () => {
    const fixture = readFileSync(path.join(__dirname, '..', 'fixtures', 'redis', 'info-7.0.15-two-dbs.txt'), 'utf8');
    let infoReplies = 0;
    let server: net.Server;
    let source: RedisSource;

    beforeAll(async () => {
      // Answers INFO with a connected_clients that is never a number, and a new one each time.
      server = net.createServer((socket) => {
        socket.on('data', (chunk) => {
          for (const command of chunk.toString().split('*').slice(1)) {
            if (/\r\nquit\r\n/i.test(command)) socket.end('+OK\r\n');
            if (!/\r\ninfo\r\n/i.test(command)) {
              if (socket.writable) socket.write('+OK\r\n');
              continue;
            }
            const info = fixture.replace(/^connected_clients:.*$/m, `connected_clients:unknown-${++infoReplies}`);
            socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      source = new RedisSource(loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}/0` }), logger);
      source.start();
      // Connected (ioredis retries a connection a loaded machine did not make within its timeout):
      // no INFO of ioredis's own comes later.
      await eventually(() => firstValueFrom(source.collect()), 'a first collection from the Redis of the test', 300);
    });

    afterAll(async () => {
      await source.stop();
      await new Promise((resolve) => server.close(resolve));
    });

    it('stays bounded', async () => {
      const firstCollected = infoReplies + 1;
      for (let i = 0; i <= REPORTED_ONCE_CAPACITY; i++) await firstValueFrom(source.collect());
      expect(loggedWith('connected_clients')).toBe(REPORTED_ONCE_CAPACITY + 1);
      const first = `"unknown-${firstCollected}"`;
      expect(loggedWith(first)).toBe(1);
      // The same value again: a server that repeats itself would now be reported again.
      infoReplies = firstCollected - 1;
      await firstValueFrom(source.collect());
      expect(loggedWith(first)).toBe(2);
    });
  });
});

import { inject, injectable } from 'inversify';
import Redis from 'ioredis';
import { defer, type Observable } from '../src/rx';
import { TYPES } from '../src/tokens';
import type { Config } from '../src/config';
import { redisConnectionOptions } from './redis-connector';
import { REDIS_SETTINGS, type RedisSettings } from './redis-settings';
import type { Logger } from '../src/logger';
import { errorText } from '../src/error-text';
import { redactUrl } from '../src/redact';
import { ReportedOnce } from '../src/report-once';
import type { MetricDescriptor, MetricSource, Sample } from '../src/source';

/** INFO reply by section (lower-case, `# Memory` → `memory`), then field → raw value. */
export type RedisInfo = Readonly<Record<string, Readonly<Record<string, string>>>>;

interface InfoField {
  readonly metric: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly section: string;
  readonly field: string;
}

/** Every family that is one numeric INFO field, and maxmemory. */
const INFO_FIELDS: readonly InfoField[] = [
  { metric: 'redis_memory_used_bytes', help: 'Bytes allocated by Redis (used_memory)', type: 'gauge', section: 'memory', field: 'used_memory' },
  { metric: 'redis_memory_peak_bytes', help: 'Peak bytes allocated by Redis (used_memory_peak)', type: 'gauge', section: 'memory', field: 'used_memory_peak' },
  { metric: 'redis_memory_fragmentation_ratio', help: 'Resident memory over used memory (mem_fragmentation_ratio)', type: 'gauge', section: 'memory', field: 'mem_fragmentation_ratio' },
  // maxmemory: the alerts compare used memory against it, and it can change at run time (CONFIG SET).
  { metric: 'redis_memory_max_bytes', help: 'Memory limit set by maxmemory, 0 for none (maxmemory)', type: 'gauge', section: 'memory', field: 'maxmemory' },
  { metric: 'redis_keys_evicted_total', help: 'Keys evicted by maxmemory, as counted by Redis (evicted_keys)', type: 'counter', section: 'stats', field: 'evicted_keys' },
  { metric: 'redis_keys_expired_total', help: 'Keys expired, as counted by Redis (expired_keys)', type: 'counter', section: 'stats', field: 'expired_keys' },
  { metric: 'redis_commands_processed_total', help: 'Commands processed, as counted by Redis (total_commands_processed)', type: 'counter', section: 'stats', field: 'total_commands_processed' },
  { metric: 'redis_cache_hits_total', help: 'Successful key lookups, as counted by Redis (keyspace_hits)', type: 'counter', section: 'stats', field: 'keyspace_hits' },
  { metric: 'redis_cache_misses_total', help: 'Failed key lookups, as counted by Redis (keyspace_misses)', type: 'counter', section: 'stats', field: 'keyspace_misses' },
  { metric: 'redis_connected_clients', help: 'Client connections, replicas excluded (connected_clients)', type: 'gauge', section: 'clients', field: 'connected_clients' },
];

export const REDIS_METRICS: readonly MetricDescriptor[] = [
  // The one series that stays while the source is down: consumers alert on redis_status == 0.
  { name: 'redis_status', help: '1 if Redis answered INFO in the last collection, 0 if not', type: 'gauge', valueWhileDown: 0 },
  { name: 'redis_keys_total', help: 'Keys over all databases (sum of the INFO keyspace lines)', type: 'gauge' },
  ...INFO_FIELDS.map(({ metric, help, type }) => ({ name: metric, help, type })),
];

/**
 * Parses INFO text: `# Section` headers, then `field:value` lines (split at the first colon).
 * Lines that are neither are skipped; a missing field shows up when the samples are built.
 */
export function parseRedisInfo(text: string): RedisInfo {
  const info: Record<string, Record<string, string>> = {};
  let section: Record<string, string> = (info[''] = {});
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('#')) {
      section = info[line.slice(1).trim().toLowerCase()] ??= {};
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) section[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return info;
}

export interface RedisSamples {
  readonly samples: Sample[];
  /** One message per metric left out, naming the INFO field that is missing or not a number. */
  readonly problems: string[];
}

/**
 * Maps parsed INFO to the source's samples. A field that is missing or not a number leaves its
 * metric out (never NaN) and is named in `problems`; the other metrics stay. A reply with none
 * of the fields is not an INFO reply, and throws.
 */
export function redisSamples(info: RedisInfo): RedisSamples {
  const samples: Sample[] = [{ name: 'redis_status', value: 1 }];
  const problems: string[] = [];
  for (const { metric, section, field } of INFO_FIELDS) {
    const raw = info[section]?.[field];
    if (raw === undefined) problems.push(`INFO field ${field} (section ${section}) is missing; ${metric} left out`);
    else if (!/^\d+(\.\d+)?$/.test(raw)) problems.push(`INFO field ${field} (section ${section}) is not a number (${JSON.stringify(raw)}); ${metric} left out`);
    else samples.push({ name: metric, value: Number(raw) });
  }
  if (problems.length === INFO_FIELDS.length) {
    throw new Error(`INFO reply has none of the fields ${INFO_FIELDS.map(({ field }) => field).join(', ')}`);
  }
  const keys = keyspaceTotal(info);
  if (typeof keys === 'number') samples.push({ name: 'redis_keys_total', value: keys });
  else problems.push(`${keys}; redis_keys_total left out`);
  return { samples, problems };
}

/** Sum of `keys=` over the `dbN:keys=…,expires=…` lines, or what is wrong with them. */
function keyspaceTotal(info: RedisInfo): number | string {
  const keyspace = info['keyspace'];
  if (!keyspace) return 'INFO section keyspace is missing';
  let total = 0;
  for (const [db, value] of Object.entries(keyspace)) {
    if (!/^db\d+$/.test(db)) continue;
    const keys = /(?:^|,)keys=(\d+)(?:,|$)/.exec(value);
    if (!keys) return `INFO keyspace line ${db} has no keys= count (${JSON.stringify(value)})`;
    total += Number(keys[1]);
  }
  return total;
}

/**
 * Source `redis`: one `INFO` per collection over one long-lived connection. While Redis is
 * unreachable a collection fails at once (no offline queue) and ioredis reconnects on its own
 * with a capped backoff, so the source is back within a tick or two of Redis.
 */
@injectable()
export class RedisSource implements MetricSource {
  readonly name = 'redis';
  readonly metrics = REDIS_METRICS;
  private client?: Redis;
  /** Settles when the first connection attempt does (or times out), so the first tick does not fail for nothing. */
  private firstConnection: Promise<void> = Promise.resolve();
  /** Why the connection is not ready; cleared once it is. */
  private connectionError?: string;
  /** Keyed by the problem, which quotes the value the server sent: bounded. */
  private readonly reportedProblems = new ReportedOnce();
  /** The URL with its password and query values masked; the engine scrubs them from anything else a driver says. */
  private readonly target: string;

  constructor(
    @inject(REDIS_SETTINGS.token) private readonly config: Config & RedisSettings,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    this.target = redactUrl(config.redisUrl);
  }

  start(): void {
    if (this.client) return;
    const timeoutMs = this.config.collectionTimeoutSeconds * 1000;
    // Below the engine's timeout, so a failure says what went wrong instead of "timed out".
    const ioTimeoutMs = Math.max(50, Math.floor(timeoutMs * 0.8));
    // Reconnect attempts at least twice per tick (at most every 2 s), so recovery shows by the next tick or the one after.
    const maxRetryDelayMs = Math.min(2000, (this.config.collectionIntervalSeconds * 1000) / 2);
    const client = new Redis(this.config.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: ioTimeoutMs,
      commandTimeout: ioTimeoutMs,
      // How long disconnect() waits before destroying the socket; its timer outlives stop() otherwise.
      disconnectTimeout: ioTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, maxRetryDelayMs),
      ...redisConnectionOptions(this.config.redisTls),
    });
    // Every failed attempt emits 'error'; HealthState logs the transitions, so this only remembers why.
    client.on('error', (error: unknown) => (this.connectionError = errorText(error)));
    client.on('ready', () => (this.connectionError = undefined));
    this.firstConnection = settledWithin(client.connect(), ioTimeoutMs);
    this.client = client;
  }

  collect(): Observable<readonly Sample[]> {
    return defer(async () => {
      const client = this.client;
      if (!client) throw new Error(`Redis ${this.target}: source not started`);
      await this.firstConnection;
      if (client.status !== 'ready') {
        throw new Error(`Redis ${this.target} is not connected (${this.connectionError ?? `ioredis status ${client.status}`})`);
      }
      let text: string;
      try {
        text = await client.info();
      } catch (error) {
        throw new Error(`Redis ${this.target}: INFO failed: ${errorText(error)}`);
      }
      const { samples, problems } = redisSamples(parseRedisInfo(text));
      for (const problem of problems) this.reportOnce(problem);
      return samples;
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // QUIT ends the connection for good; disconnect() also cancels a pending reconnect.
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }

  private reportOnce(problem: string): void {
    if (!this.reportedProblems.firstTime(problem)) return;
    this.logger.warn(`source redis: ${problem} (reported once)`);
  }
}

/** Resolves when `promise` settles, either way, or after `ms`, whichever comes first. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

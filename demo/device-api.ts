import http from 'node:http';
import https from 'node:https';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { json, type Route } from '../src/http/route-table';
import { errorText } from '../src/error-text';
import type { FleetSimulator } from './fleet';
import { steadyRate, type SteadyRate } from './steady-rate';

export const DEVICE_ROUTE = '/api/v1/devices/:id';
export const TELEMETRY_ROUTE = '/api/v1/devices/:id/telemetry';

/** Cached device records expire, so the cache keeps missing a little and Redis keeps expiring keys. */
export const CACHE_TTL_SECONDS = 10;
/** One telemetry POST in this many fails, as an ingestion backend sometimes does: the 5xx panels have something to show. */
const FAILING_POST_EVERY = 50;

export interface DeviceApiOptions {
  readonly pool: Pool;
  readonly redis: Redis;
  /** Every cache key starts with it, so the demo can remove exactly its own keys. */
  readonly cacheKeyPrefix: string;
  readonly fleet: FleetSimulator;
}

/**
 * The routes an application embedding the exporter would add (IoTFlow's device API): reading a
 * device through a Redis cache in front of PostgreSQL, and accepting telemetry over HTTP.
 */
export function deviceApiRoutes({ pool, redis, cacheKeyPrefix, fleet }: DeviceApiOptions): Route[] {
  let posts = 0;
  const deviceId = (raw: string | undefined) => (/^\d{1,9}$/.test(raw ?? '') ? Number(raw) : undefined);
  const notFound = (raw: string | undefined) => json(404, { error: `device ${JSON.stringify(raw)} not found` });
  return [
    {
      method: 'GET',
      path: DEVICE_ROUTE,
      handler: async (request) => {
        const id = deviceId(request.params.id);
        if (id === undefined) return notFound(request.params.id);
        const key = `${cacheKeyPrefix}device:${id}`;
        // The cache is an optimisation: without Redis the device is read from PostgreSQL.
        const cached = await redis.get(key).catch(() => null);
        if (cached !== null) return { status: 200, headers: { 'Content-Type': 'application/json', 'X-Cache': 'hit' }, body: cached };
        const { rows } = await pool.query('SELECT id, name, device_type, status, last_seen, user_id FROM devices WHERE id = $1', [id]);
        if (rows.length === 0) return notFound(request.params.id);
        const body = JSON.stringify(rows[0]);
        await redis.set(key, body, 'EX', CACHE_TTL_SECONDS).catch(() => undefined);
        return { status: 200, headers: { 'Content-Type': 'application/json', 'X-Cache': 'miss' }, body };
      },
    },
    {
      method: 'POST',
      path: TELEMETRY_ROUTE,
      handler: (request) => {
        const id = deviceId(request.params.id);
        if (id === undefined || !fleet.has(id)) return notFound(request.params.id);
        if (++posts % FAILING_POST_EVERY === 0) return json(500, { error: 'simulated ingestion failure' });
        fleet.reportedBy(id);
        return json(202, { accepted: true });
      },
    },
  ];
}

export interface TrafficOptions {
  /** The exporter's base URL, e.g. `http://127.0.0.1:5000`. */
  readonly baseUrl: string;
  readonly devices: number;
  readonly requestsPerSecond: number;
  /** The first failure of a run of failed requests. */
  readonly onProblem?: (message: string) => void;
}

/**
 * Calls the device API at a steady rate: mostly reads of a hot set of devices (cache hits, and a
 * miss whenever an entry expires), reads of unknown devices (404), and telemetry POSTs.
 */
export class HttpTrafficDriver {
  /** Requests answered, by status. */
  readonly statuses = new Map<number, number>();
  private readonly agent: http.Agent;
  private readonly rate: SteadyRate;
  private sent = 0;
  private failing = false;
  private stopped = false;

  constructor(private readonly options: TrafficOptions) {
    const secure = options.baseUrl.startsWith('https:');
    // The demo's exporter may use a self-signed certificate (TLS_CERT_FILE): this client only talks to it.
    this.agent = secure ? new https.Agent({ keepAlive: true, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true });
    this.rate = steadyRate(options.requestsPerSecond, () => this.sendNext());
  }

  /** Stops sending; requests still in flight are cut off without a word. */
  stop(): void {
    this.stopped = true;
    this.rate.stop();
    this.agent.destroy();
  }

  private sendNext(): void {
    const n = this.sent++;
    const hotSet = Math.min(this.options.devices, 50);
    const known = 1 + ((n * 7) % hotSet);
    const [method, path] =
      n % 20 === 19 ? ['GET', `/api/v1/devices/${this.options.devices + 1 + (n % 1000)}`] // unknown device: 404
      : n % 3 === 2 ? ['POST', `/api/v1/devices/${1 + ((n * 13) % this.options.devices)}/telemetry`]
      : ['GET', `/api/v1/devices/${known}`];
    this.request(method, path).then(
      (status) => {
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        this.failing = false;
      },
      (error: unknown) => {
        if (!this.failing && !this.stopped) this.options.onProblem?.(`traffic: ${method} ${path} failed: ${errorText(error)}`);
        this.failing = true;
      },
    );
  }

  private request(method: string, path: string): Promise<number> {
    const url = new URL(path, this.options.baseUrl);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, { method, agent: this.agent, headers: { 'Content-Length': '0' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.setTimeout(5000, () => request.destroy(new Error('no answer within 5 s')));
      request.end();
    });
  }
}

/** Removes every key under `prefix` (SCAN, never KEYS: the Redis may be shared). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

import { inject, injectable } from 'inversify';
import { DatabaseError, type Pool, type PoolClient, type PoolConfig } from './pg';
import type { Registry } from 'prom-client';
import { defer, from, type Observable } from '../rx';
import { TYPES } from '../tokens';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { errorText } from '../error-text';
import { redactUrl, scrubSecrets, urlSecrets } from '../redact';
import { createInstrumentedPool } from './instrumented-pool';

/** Two sources share the pool, one connection each; a third request means one is stuck. */
export const COLLECTOR_POOL_SIZE = 2;
export const APPLICATION_NAME = 'iotflow-metrics';

/**
 * Client settings that keep a slow database from stalling the engine: every wait on the server
 * (connecting, a statement, a silent network) ends before the engine's per-collection timeout,
 * so a timed-out collection does not leave its connection busy into the next tick.
 * Settings given as parameters of DATABASE_URL take precedence (pg's rule).
 */
export function collectorPoolConfig(config: Config): PoolConfig {
  /** Milliseconds, at least 1 (0 would mean no limit to pg). */
  const shareOfTimeout = (fraction: number) => Math.max(1, Math.floor(config.collectionTimeoutSeconds * 1000 * fraction));
  return {
    connectionString: config.databaseUrl,
    max: COLLECTOR_POOL_SIZE,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: shareOfTimeout(0.8),
    statement_timeout: shareOfTimeout(0.8),
    // A locked table fails its statement soon (SQLSTATE 55P03) instead of queueing the collection behind the lock.
    lock_timeout: shareOfTimeout(0.1),
    // Client side, for a network that stops answering: the server's statement_timeout cannot fire then.
    query_timeout: shareOfTimeout(0.9),
    // Connections outlive the pause between two ticks instead of being reopened every collection.
    idleTimeoutMillis: Math.max(10_000, 2 * config.collectionIntervalSeconds * 1000),
    keepAlive: true,
    // `timestamp without time zone` columns (last_seen) are read as UTC, as applications write them.
    options: '-c TimeZone=UTC',
  };
}

export interface PoolLoad {
  readonly idle: number;
  readonly total: number;
  readonly waiting: number;
  readonly max: number;
}

/** True when a new checkout would wait in the pool's queue: every free slot is already claimed. */
export function poolWouldQueue({ idle, total, waiting, max }: PoolLoad): boolean {
  return waiting >= idle + Math.max(0, max - total);
}

/** A failure a source reports on purpose; its message is already fit for /health and the logs. */
export class CollectionError extends Error {
  override readonly name = 'CollectionError';
}

/**
 * The message of any error met while collecting, with the server named (password and query
 * values redacted) and every form of them scrubbed, because drivers may echo connection details.
 */
export function describeDatabaseError(error: unknown, databaseUrl: string): string {
  const target = redactUrl(databaseUrl);
  let text: string;
  if (error instanceof CollectionError) text = error.message;
  else if (error instanceof DatabaseError) text = `PostgreSQL at ${target}: ${error.message} (SQLSTATE ${error.code ?? 'unknown'})`;
  else text = `PostgreSQL at ${target}: ${errorText(error)}`;
  return scrubSecrets(text, urlSecrets(databaseUrl));
}

/**
 * The exporter's own PostgreSQL pool (instrumented, so its queries are counted too): at most
 * two connections, and a collection that would have to wait for one fails at once instead of
 * queueing behind a stuck one.
 */
@injectable()
export class DatabasePool {
  readonly pool: Pool;
  private ending?: Promise<void>;

  constructor(
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Registry) registry: Registry,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    this.pool = createInstrumentedPool(collectorPoolConfig(config), registry);
    // An idle connection that breaks (server restart) is dropped by the pool; unhandled, 'error' would end the process.
    this.pool.on('error', (error) => this.logger.warn(`idle PostgreSQL connection closed: ${this.describe(error)}`));
  }

  /** Runs `work` on one checked-out connection; every error comes out described and scrubbed. */
  async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const pool = this.pool;
    if (poolWouldQueue({ idle: pool.idleCount, total: pool.totalCount, waiting: pool.waitingCount, max: COLLECTOR_POOL_SIZE })) {
      throw new CollectionError(
        `all ${COLLECTOR_POOL_SIZE} PostgreSQL connections of the exporter are busy (an earlier collection is still running); collection skipped instead of queued`,
      );
    }
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new CollectionError(this.describe(error));
    }
    // A connection lost while checked out emits 'error' on the client, which would end the process
    // unheard; the same error fails the running or the next query, so `work` reports it.
    const ignoreLostConnection = () => undefined;
    client.on('error', ignoreLostConnection);
    try {
      const result = await work(client);
      client.removeListener('error', ignoreLostConnection);
      client.release();
      return result;
    } catch (error) {
      client.removeListener('error', ignoreLostConnection);
      // A server-side error leaves the connection usable; anything else (lost connection, read timeout) may not.
      client.release(error instanceof DatabaseError || error instanceof CollectionError ? undefined : true);
      throw new CollectionError(this.describe(error));
    }
  }

  /** One cold collection: each subscription checks out a connection and runs `work` on it. */
  collection<T>(work: (client: PoolClient) => Promise<T>): Observable<T> {
    return defer(() => from(this.withClient(work)));
  }

  /** Closes every connection; safe to call once per source sharing the pool. */
  end(): Promise<void> {
    this.ending ??= this.pool.end();
    return this.ending;
  }

  /** `error` as describeDatabaseError puts it, for this pool's server. */
  describe(error: unknown): string {
    return describeDatabaseError(error, this.config.databaseUrl);
  }
}

import type { PoolClient } from './pg';
import type { Observable } from 'rxjs';
import type { MetricDescriptor, MetricSource, Sample } from '../source';
import type { DatabasePool } from './database-pool';

/**
 * What every PostgreSQL source shares: each collection runs on a connection of the shared
 * DatabasePool (never queued behind a busy one, every wait bounded, errors described without
 * secrets), and stopping closes the pool. A source names itself and says what one collection
 * does on its connection.
 */
export abstract class PooledSource implements MetricSource {
  abstract readonly name: string;
  abstract readonly metrics: readonly MetricDescriptor[];

  constructor(protected readonly database: DatabasePool) {}

  collect(): Observable<readonly Sample[]> {
    return this.database.collection((client) => this.collectOn(client));
  }

  stop(): Promise<void> {
    return this.database.end();
  }

  /** One collection on a checked-out connection; whatever it throws, the pool describes. */
  protected abstract collectOn(client: PoolClient): Promise<readonly Sample[]>;
}

import type { MetricDescriptor, Sample } from '../source';
import { finite, text, type Row } from './columns';

/** The server figures: connections, max_connections and the connected database's transactions. */
export const SERVER_METRICS: readonly MetricDescriptor[] = [
  { name: 'database_connections_total', help: 'Client connections to the PostgreSQL server (pg_stat_activity, client backends)', type: 'gauge' },
  { name: 'database_connections_active', help: 'Client connections running a statement (state = active)', type: 'gauge' },
  { name: 'database_connections_idle', help: 'Client connections waiting for a command (state = idle)', type: 'gauge' },
  { name: 'database_connections_idle_in_transaction', help: 'Client connections idle inside an open transaction (state = idle in transaction, aborted included)', type: 'gauge' },
  { name: 'database_connections_max', help: 'The server setting max_connections', type: 'gauge' },
  { name: 'database_transactions_total', help: 'Transactions committed or rolled back in the connected database, as counted by PostgreSQL (pg_stat_database)', type: 'counter', labelNames: ['state'] },
];

/**
 * Server figures that depend on no table: connections, max_connections and the transactions of
 * the connected database (a sum over every database would fall when one is dropped).
 */
export const SERVER_SQL = `
SELECT current_database() AS database,
       current_setting('server_version_num')::float8 AS server_version_num,
       current_setting('max_connections')::float8 AS connections_max,
       connections.*, transactions.*
FROM (SELECT count(*)::float8 AS connections_total,
             count(*) FILTER (WHERE state = 'active')::float8 AS connections_active,
             count(*) FILTER (WHERE state = 'idle')::float8 AS connections_idle,
             count(*) FILTER (WHERE state LIKE 'idle in transaction%')::float8 AS connections_idle_in_transaction
      FROM pg_stat_activity
      WHERE backend_type = 'client backend') AS connections,
     (SELECT coalesce(sum(xact_commit), 0)::float8 AS transactions_committed,
             coalesce(sum(xact_rollback), 0)::float8 AS transactions_rolled_back
      FROM pg_stat_database
      WHERE datname = current_database()) AS transactions`;

export interface ServerStats {
  readonly database: string;
  /** `server_version_num`: 160004 for 16.4. */
  readonly versionNum: number;
  readonly connections: { readonly total: number; readonly active: number; readonly idle: number; readonly idleInTransaction: number; readonly max: number };
  readonly transactions: { readonly committed: number; readonly rolledBack: number };
}

/** The row of SERVER_SQL, checked and typed. Throws naming the column that is not as expected. */
export function parseServerStats(row: Row): ServerStats {
  return {
    database: text(row, 'database'),
    versionNum: finite(row, 'server_version_num'),
    connections: {
      total: finite(row, 'connections_total'),
      active: finite(row, 'connections_active'),
      idle: finite(row, 'connections_idle'),
      idleInTransaction: finite(row, 'connections_idle_in_transaction'),
      max: finite(row, 'connections_max'),
    },
    transactions: { committed: finite(row, 'transactions_committed'), rolledBack: finite(row, 'transactions_rolled_back') },
  };
}

export function serverSamples({ connections, transactions }: ServerStats): Sample[] {
  return [
    { name: 'database_connections_total', value: connections.total },
    { name: 'database_connections_active', value: connections.active },
    { name: 'database_connections_idle', value: connections.idle },
    { name: 'database_connections_idle_in_transaction', value: connections.idleInTransaction },
    { name: 'database_connections_max', value: connections.max },
    { name: 'database_transactions_total', labels: { state: 'commit' }, value: transactions.committed },
    { name: 'database_transactions_total', labels: { state: 'rollback' }, value: transactions.rolledBack },
  ];
}

import type { MetricDescriptor, Sample } from '../../src/source';
import { finite, flag, text, type Row } from './columns';

/** The server figures: connections, max_connections and the connected database's transactions. */
export const SERVER_METRICS: readonly MetricDescriptor[] = [
  {
    name: 'database_connections_visible',
    help: "1 if the exporter's role sees every session in pg_stat_activity (privileges of pg_read_all_stats, as pg_monitor grants); 0 if not, and the other database_connections_* gauges but _max are left out",
    type: 'gauge',
  },
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
 * Without the privileges of pg_read_all_stats, pg_stat_activity shows other roles' sessions with
 * backend_type and state NULL: the counts would cover the role's own sessions only, so
 * `connections_visible` says whether they are true.
 */
export const SERVER_SQL = `
SELECT current_database() AS database,
       current_user AS role,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS connections_visible,
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

export interface ConnectionCounts {
  readonly total: number;
  readonly active: number;
  readonly idle: number;
  readonly idleInTransaction: number;
}

export interface ServerStats {
  readonly database: string;
  /** The role the exporter is connected as (current_user). */
  readonly role: string;
  /** `server_version_num`: 160004 for 16.4. */
  readonly versionNum: number;
  readonly connections: {
    /** Absent when the role cannot see other roles' sessions: what it can see is not the server's count. */
    readonly counts?: ConnectionCounts;
    readonly max: number;
  };
  readonly transactions: { readonly committed: number; readonly rolledBack: number };
}

/** The row of SERVER_SQL, checked and typed. Throws naming the column that is not as expected. */
export function parseServerStats(row: Row): ServerStats {
  const counts = (): ConnectionCounts => ({
    total: finite(row, 'connections_total'),
    active: finite(row, 'connections_active'),
    idle: finite(row, 'connections_idle'),
    idleInTransaction: finite(row, 'connections_idle_in_transaction'),
  });
  return {
    database: text(row, 'database'),
    role: text(row, 'role'),
    versionNum: finite(row, 'server_version_num'),
    connections: { ...(flag(row, 'connections_visible') ? { counts: counts() } : {}), max: finite(row, 'connections_max') },
    transactions: { committed: finite(row, 'transactions_committed'), rolledBack: finite(row, 'transactions_rolled_back') },
  };
}

export function serverSamples({ connections, transactions }: ServerStats): Sample[] {
  const { counts } = connections;
  return [
    { name: 'database_connections_visible', value: counts ? 1 : 0 },
    ...(counts
      ? [
          { name: 'database_connections_total', value: counts.total },
          { name: 'database_connections_active', value: counts.active },
          { name: 'database_connections_idle', value: counts.idle },
          { name: 'database_connections_idle_in_transaction', value: counts.idleInTransaction },
        ]
      : []),
    { name: 'database_connections_max', value: connections.max },
    { name: 'database_transactions_total', labels: { state: 'commit' }, value: transactions.committed },
    { name: 'database_transactions_total', labels: { state: 'rollback' }, value: transactions.rolledBack },
  ];
}

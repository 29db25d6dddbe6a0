import { inject, injectable } from 'inversify';
import { DatabaseError, type PoolClient } from '../src/db/pg';
import { TYPES } from '../src/tokens';
import type { Config } from '../src/config';
import { IOTFLOW_SETTINGS, type IotflowSettings } from './iotflow-settings';
import { CollectionError, type DatabasePool } from '../src/db/database-pool';
import { PooledSource } from '../src/db/pooled-source';
import type { MetricDescriptor, Sample } from '../src/source';

export const IOTFLOW_METRICS: readonly MetricDescriptor[] = [
  { name: 'iotflow_devices_total', help: 'Registered devices (rows in devices)', type: 'gauge' },
  { name: 'iotflow_devices_active', help: `Devices with status 'active'`, type: 'gauge' },
  { name: 'iotflow_devices_online', help: 'Devices seen (last_seen) within the online window, DEVICE_ONLINE_WINDOW_SECONDS', type: 'gauge' },
  { name: 'iotflow_users_total', help: 'Registered users (rows in users)', type: 'gauge' },
];

/** The tables IOTFLOW_SQL reads, resolved through the connection's search_path. */
export const IOTFLOW_TABLES = ['devices', 'users'] as const;

/**
 * All four values in one statement and one pass over devices. `status` is compared as
 * lower-case text, so an enum type (or upper-case enum labels, as ORMs write them) works too;
 * `last_seen` may be a timestamp with or without time zone (the session runs in UTC).
 * $1: the online window in seconds.
 */
export const IOTFLOW_SQL = `
SELECT count(*)::float8 AS devices_total,
       count(*) FILTER (WHERE lower(status::text) = 'active')::float8 AS devices_active,
       count(*) FILTER (WHERE last_seen >= now() - make_interval(secs => $1))::float8 AS devices_online,
       (SELECT count(*) FROM users)::float8 AS users_total
FROM devices`;

/** Which of $1 (table names) do not resolve, in the database the connection is in. */
export const MISSING_TABLES_SQL = `
SELECT current_database() AS database,
       coalesce(array_agg(name ORDER BY name) FILTER (WHERE to_regclass(quote_ident(name)) IS NULL), '{}') AS missing
FROM unnest($1::text[]) AS name`;

export function iotflowSamples(row: Readonly<Record<string, unknown>>): Sample[] {
  const columns = [
    ['iotflow_devices_total', 'devices_total'],
    ['iotflow_devices_active', 'devices_active'],
    ['iotflow_devices_online', 'devices_online'],
    ['iotflow_users_total', 'users_total'],
  ] as const;
  return columns.map(([name, column]) => {
    const value = row[column];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`IoTFlow query column ${column} is not a number (${JSON.stringify(value)})`);
    return { name, value };
  });
}

/** `table "users" does not exist in database "iotflow"`, or the plural for several. */
export function missingTablesMessage(missing: readonly string[], database: string): string {
  const names = missing.map((name) => `"${name}"`).join(', ');
  return missing.length === 1
    ? `table ${names} does not exist in database "${database}"`
    : `tables ${names} do not exist in database "${database}"`;
}

/**
 * Source `iotflow`: device and user counts from the application's own tables, one query per
 * collection on the shared DatabasePool. Missing tables fail this source alone, naming them.
 */
@injectable()
export class IotflowSource extends PooledSource {
  readonly name = 'iotflow';
  readonly metrics = IOTFLOW_METRICS;

  constructor(
    @inject(TYPES.DatabasePool) database: DatabasePool,
    @inject(IOTFLOW_SETTINGS.token) private readonly config: Config & IotflowSettings,
  ) {
    super(database);
  }

  protected async collectOn(client: PoolClient): Promise<Sample[]> {
    try {
      const { rows } = await client.query(IOTFLOW_SQL, [this.config.deviceOnlineWindowSeconds]);
      return iotflowSamples(rows[0]);
    } catch (error) {
      // 42P01 undefined_table: find out which one, without parsing the server's (localized) message.
      if (!(error instanceof DatabaseError) || error.code !== '42P01') throw error;
      const { rows } = await client.query(MISSING_TABLES_SQL, [IOTFLOW_TABLES]);
      const { database, missing } = rows[0] as { database: string; missing: string[] };
      if (missing.length === 0) throw error;
      throw new CollectionError(missingTablesMessage(missing, database));
    }
  }
}

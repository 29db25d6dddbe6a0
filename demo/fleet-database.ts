import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';

/** The server a database is created on when neither the caller nor DATABASE_URL names one. */
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The mark a fleet database carries (its comment): only a database bearing it is ever replaced,
 * so a name that happens to be someone's database is refused, never dropped.
 */
export const FLEET_DATABASE_MARK = 'iotflow-metrics simulated fleet: safe to drop';

/**
 * IoTFlow's tables as the iotflow source reads them: `users`, `devices` (the `iotflow`
 * source reads status and last_seen) and `device_auth`.
 */
export const IOTFLOW_SCHEMA_SQL = `
CREATE TABLE users (
  id serial PRIMARY KEY,
  username text NOT NULL UNIQUE,
  email text,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE devices (
  id serial PRIMARY KEY,
  name text NOT NULL,
  device_type text NOT NULL DEFAULT 'sensor',
  status text NOT NULL DEFAULT 'inactive',
  last_seen timestamptz,
  user_id int REFERENCES users,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE device_auth (
  id serial PRIMARY KEY,
  device_id int NOT NULL REFERENCES devices ON DELETE CASCADE,
  api_key text NOT NULL,
  is_active boolean NOT NULL DEFAULT true
);`;

interface FleetSize {
  readonly devices: number;
  readonly users: number;
  readonly onlineWindowSeconds: number;
}

/**
 * The seed, one statement each (parameters need the extended protocol). Four devices in five
 * start 'active'; last_seen is spread over twice the online window, so about half the fleet
 * starts online and the rest comes online as it reports.
 */
const SEED: readonly { readonly sql: string; readonly values: (size: FleetSize) => number[] }[] = [
  {
    sql: `INSERT INTO users (username, email) SELECT 'user' || n, 'user' || n || '@example.com' FROM generate_series(1, $1::int) AS n`,
    values: (size) => [size.users],
  },
  {
    sql: `INSERT INTO devices (name, device_type, status, last_seen, user_id)
            SELECT 'device-' || n, (ARRAY['sensor', 'gateway', 'actuator'])[1 + n % 3],
                   CASE WHEN n % 5 = 0 THEN 'inactive' ELSE 'active' END,
                   now() - ((n::bigint * 7919) % (2 * $3::int)) * interval '1 second', 1 + n % $2::int
            FROM generate_series(1, $1::int) AS n`,
    values: (size) => [size.devices, size.users, size.onlineWindowSeconds],
  },
  { sql: `INSERT INTO device_auth (device_id, api_key) SELECT id, md5(id || ':' || random()::text) FROM devices`, values: () => [] },
];

export interface FleetDatabaseOptions {
  /** The server (and a database to connect to while creating): DATABASE_URL, or the local server. */
  readonly adminUrl?: string;
  /** The exact name, replaced if a fleet database of that name exists; otherwise `namePrefix` plus random hex. */
  readonly name?: string;
  readonly namePrefix?: string;
  readonly devices: number;
  /** Default: one user per five devices. */
  readonly users?: number;
  /** The exporter's DEVICE_ONLINE_WINDOW_SECONDS, which the seeded last_seen values straddle. */
  readonly onlineWindowSeconds?: number;
}

export interface FleetDatabase {
  readonly name: string;
  /** The admin URL with this database in its path: DATABASE_URL for the exporter. */
  readonly url: string;
  /** A fleet database of this name existed and was dropped first. */
  readonly replaced: boolean;
  /** Ends its sessions and drops it, unless another has replaced it under the same name since (then false); safe to call twice. */
  drop(): Promise<boolean>;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Runs `work` on a connection of its own, closed afterwards. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `url` with `database` as its path: same server, user and parameters. */
export function databaseUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Creates a database of its own with the IoTFlow schema and `devices` devices. It never touches
 * another database: an existing one of the same name is replaced only if it bears FLEET_DATABASE_MARK.
 */
export async function createFleetDatabase(options: FleetDatabaseOptions): Promise<FleetDatabase> {
  const adminUrl = options.adminUrl ?? process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL;
  const name = options.name ?? `${options.namePrefix ?? 'iotflow_fleet_'}${randomBytes(6).toString('hex')}`;
  if (!NAME.test(name)) throw new Error(`database name ${JSON.stringify(name)} is invalid: expected lower-case letters, digits and _ (at most 63, not starting with a digit)`);
  if (!Number.isSafeInteger(options.devices) || options.devices < 1) throw new Error(`devices must be a positive integer, not ${options.devices}`);
  const users = options.users ?? Math.max(1, Math.ceil(options.devices / 5));
  const window = Math.max(1, Math.round(options.onlineWindowSeconds ?? 300));

  // The database this call created, by oid: another demo may recreate the name, and its database is not ours to drop.
  let createdOid: string | undefined;
  const drop = () =>
    withClient(adminUrl, async (client) => {
      const { rows } = await client.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = $1', [name]);
      if (rows.length === 0) return true;
      if (rows[0].oid !== createdOid) return false;
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
      return true;
    });

  const replaced = await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ mark: string | null }>(
      'SELECT shobj_description(oid, $2) AS mark FROM pg_database WHERE datname = $1',
      [name, 'pg_database'],
    );
    if (rows.length > 0 && rows[0].mark !== FLEET_DATABASE_MARK) {
      throw new Error(`database "${name}" exists and was not created by iotflow-metrics: it is left alone; choose another name`);
    }
    if (rows.length > 0) await client.query(`DROP DATABASE ${escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    createdOid = (await client.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = $1', [name])).rows[0].oid;
    await client.query(`COMMENT ON DATABASE ${escapeIdentifier(name)} IS ${escapeLiteral(FLEET_DATABASE_MARK)}`);
    return rows.length > 0;
  });
  const url = databaseUrlFor(adminUrl, name);
  try {
    await withClient(url, async (client) => {
      await client.query(IOTFLOW_SCHEMA_SQL);
      const size = { devices: options.devices, users, onlineWindowSeconds: window };
      for (const { sql, values } of SEED) await client.query(sql, values(size));
      await client.query('ANALYZE');
    });
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return { name, url, replaced, drop };
}

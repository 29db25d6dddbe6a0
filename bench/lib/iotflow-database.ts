import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  /** DATABASE_URL for the service under test. */
  readonly url: string;
  drop(): Promise<void>;
}

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

/**
 * A database of its own holding IoTFlow's `users` and `devices` tables (so the `iotflow` source
 * is live, not down on missing tables) with a realistic handful of rows. The server is
 * DATABASE_URL's, or the local one.
 */
export async function createIotflowDatabase(adminUrl = process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL): Promise<BenchDatabase> {
  const name = `iotflow_metrics_benchsuite_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await withClient(url.toString(), (client) =>
    client.query(`
      CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL, email text, is_active boolean DEFAULT true);
      CREATE TABLE devices (id serial PRIMARY KEY, name text NOT NULL, status text NOT NULL, last_seen timestamptz, user_id int REFERENCES users);
      INSERT INTO users (username) SELECT 'user' || n FROM generate_series(1, 200) AS n;
      INSERT INTO devices (name, status, last_seen, user_id)
        SELECT 'device' || n, CASE WHEN n % 5 = 0 THEN 'inactive' ELSE 'active' END, now() - n * interval '1 second', 1 + n % 200
        FROM generate_series(1, 2000) AS n;
      ANALYZE;`),
  );
  return {
    url: url.toString(),
    drop: () => withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  };
}

import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

/** The local test server: trust authentication, so any password in a URL is ignored. */
export const POSTGRES_HOST = '127.0.0.1';
export const POSTGRES_PORT = 5432;

/** A URL for `database` (a password is given to prove it never leaks; trust auth ignores it). */
export function databaseUrl(database: string, { port = POSTGRES_PORT, password = 'sekret-pw' } = {}): string {
  return `postgres://postgres:${password}@${POSTGRES_HOST}:${port}/${database}`;
}

/** Runs `work` on a fresh connection to `database`, closed afterwards. */
export async function withConnection<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: POSTGRES_HOST, port: POSTGRES_PORT, user: 'postgres', database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a database with a random name, for one test suite. */
export async function createTestDatabase(): Promise<string> {
  const name = `iotflow_metrics_test_${randomBytes(6).toString('hex')}`;
  await withConnection('postgres', (client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  return name;
}

/** Ends every session of the database (the service's pool may still hold some), then drops it. */
export async function dropTestDatabase(name: string): Promise<void> {
  await withConnection('postgres', async (client) => {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
  });
}

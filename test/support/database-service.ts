// What the database integration test files share: a service on a test database of its own, and its IoTFlow schema.
import { escapeIdentifier, type Client } from 'pg';
import { get } from './http';
import { waitUntilUp } from './metrics';
import { createTestDatabase, databaseUrl, dropTestDatabase, withConnection } from './postgres';
import { startService, type RunningService } from './service';

export const PASSWORD = 'sekret-pw';

/** Tables of the main test database: schema, name, `table` label. The odd names must count like any other. */
export const TABLES = [
  { schema: 'public', name: 'users', label: 'users' },
  { schema: 'public', name: 'devices', label: 'devices' },
  { schema: 'public', name: 'device_auth', label: 'device_auth' },
  { schema: 'public', name: 'Odd Name', label: 'Odd Name' },
  { schema: 'public', name: 'x"; drop table y; --', label: 'x"; drop table y; --' },
  { schema: 'public', name: 'y', label: 'y' },
  { schema: 'audit', name: 'events', label: 'audit.events' },
  { schema: 'public', name: 'big_readings', label: 'big_readings' },
];
export const qualified = ({ schema, name }: { schema: string; name: string }) => `${escapeIdentifier(schema)}.${escapeIdentifier(name)}`;

/** Label values as they appear in the exposition text (sampleValue matches the text). */
export const escapedLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** Fails the test if the password shows anywhere the service writes. */
export async function expectNoPassword(service: RunningService): Promise<void> {
  expect((await get(service.port, '/metrics')).body).not.toContain(PASSWORD);
  expect((await get(service.port, '/health')).body).not.toContain(PASSWORD);
  expect(service.logLines.join('')).not.toContain(PASSWORD);
}

/**
 * A test database of its own, filled by `seed`, and a service collecting from it every second
 * (1 s timeout), once its database source is up. The database goes if the service does not start.
 */
export async function serviceOnTestDatabase(
  env: Record<string, string>,
  seed?: (client: Client, db: string) => Promise<unknown>,
  url: (db: string) => string = databaseUrl,
): Promise<{ db: string; service: RunningService }> {
  const db = await createTestDatabase();
  try {
    if (seed) await withConnection(db, (client) => seed(client, db));
    const service = await startService({ DATABASE_URL: url(db), COLLECTION_INTERVAL_SECONDS: '1', COLLECTION_TIMEOUT_SECONDS: '1', ...env });
    await waitUntilUp(service.port, 'database', 1).catch(async (error) => {
      await service.stop();
      throw error;
    });
    return { db, service };
  } catch (error) {
    await dropTestDatabase(db);
    throw error;
  }
}

export async function stopAndDrop(service: RunningService | undefined, db: string | undefined): Promise<void> {
  await service?.stop();
  if (db) await dropTestDatabase(db);
}

export async function seedIotflowSchema(client: Client): Promise<void> {
  await client.query(`
    CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL, email text, is_active boolean DEFAULT true);
    -- last_seen without time zone, written in UTC, as the IoTFlow application does.
    CREATE TABLE devices (id serial PRIMARY KEY, name text NOT NULL, status text, last_seen timestamp, user_id int REFERENCES users);
    CREATE TABLE device_auth (id serial PRIMARY KEY, device_id int REFERENCES devices, is_active boolean);
  `);
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { systemClock } from '../../src/clock';
import { loadConfig } from '../../streams/config';
import { DatabasePool } from '../../src/db/database-pool';
import { createLogger } from '../../src/logger';
import { DatabaseSource } from '../../streams/database';
import { QueriesFileState } from '../../streams/database/queries/queries-file-state';
import { createTestDatabase, databaseUrl, dropTestDatabase, POSTGRES_HOST, POSTGRES_PORT } from '../support/postgres';
import { Client } from 'pg';

/** The database source with a queries file, in process: what its queries may hold up and what they leave behind on the connection. */
const FILE = `pg_locked:
  query: "SELECT count(*) AS n FROM held"
  metrics:
    - n: {usage: "GAUGE"}
pg_free:
  query: "SELECT 1 AS one"
  metrics:
    - one: {usage: "GAUGE"}
`;

let database: string;
let directory: string;
let source: DatabaseSource;
let pool: DatabasePool;
const logged: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  directory = mkdtempSync(path.join(os.tmpdir(), 'database-queries-'));
  const file = path.join(directory, 'queries.yaml');
  writeFileSync(file, FILE);
  const config = loadConfig({ DATABASE_URL: databaseUrl(database), SOURCES: 'database', DATABASE_QUERIES_FILE: file, COLLECTION_TIMEOUT_SECONDS: '5' });
  const logger = createLogger('info', (line) => logged.push(line));
  pool = new DatabasePool(config, new Registry(), logger);
  source = new DatabaseSource(pool, config, logger, systemClock, new QueriesFileState(file, logger, () => systemClock.epochMs()));
  await pool.withClient((client) => client.query('CREATE TABLE held (id int)'));
});

afterAll(async () => {
  await source?.stop();
  if (directory) rmSync(directory, { recursive: true, force: true });
  if (database) await dropTestDatabase(database);
});

describe('the database source with a queries file', () => {
  it("leaves out a locked table's namespace after lock_timeout, and keeps the rest and the built-in series", async () => {
    const holder = new Client({ host: POSTGRES_HOST, port: POSTGRES_PORT, user: 'postgres', database });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      const names = (await firstValueFrom(source.collect())).map(({ name }) => name);
      expect(names).toEqual(expect.arrayContaining(['pg_free_one', 'database_connections_total']));
      expect(names).not.toContain('pg_locked_n');
      expect(logged.join('\n')).toMatch(/namespace pg_locked failed.*lock timeout/);
    } finally {
      await holder.end();
    }
  });

  it("gives the connection back with the pool's own statement_timeout", async () => {
    await firstValueFrom(source.collect());
    const shown = await pool.withClient(async (client) => (await client.query('SHOW statement_timeout')).rows[0].statement_timeout);
    expect(shown).toBe('4s');
  });
});

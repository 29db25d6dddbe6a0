import { withClient } from './lib/iotflow-database';
/**
 * Cost of one `database` collection with a large table present: a fresh database holding the
 * IoTFlow tables (a few rows each, counted exactly) and `readings` with ROWS rows (ANALYZEd, so
 * estimated), then RUNS timed collections. Reports the median and spread, the queries one
 * collection sends, and whether the large table was scanned (it must not be).
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/database-cost.js           # ROWS=1000000 RUNS=20
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ROWS=100000 node dist/bench/database-cost.js
 *   DB_EXACT_COUNT_MAX_ROWS=100000000 DB_EXACT_COUNT_BUDGET_ROWS=100000000 node dist/bench/database-cost.js   # what counting it every time would cost
 *   DATABASE_QUERIES_FILE=bench/queries-ten.yaml node dist/bench/database-cost.js   # with a queries file (ten IoTFlow queries)
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { escapeIdentifier } from 'pg';
import { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { loadConfig } from '../streams/config';
import { DatabasePool, describeDatabaseError } from '../src/db/database-pool';
import { createLogger } from '../src/logger';
import { systemClock } from '../src/clock';
import { DatabaseSource } from '../streams/database';
import { QueriesFileState } from '../streams/database/queries/queries-file-state';

export interface DatabaseCost {
  readonly rows: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly queriesPerCollection: number;
  /** CPU time of this process (the exporter's side) per collection. */
  readonly cpuMsPerCollection: number;
  /** Sequential scans of the large table during the timed runs (must be 0). */
  readonly largeTableSeqScans: number;
}

function withDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function queriesSent(registry: Registry): Promise<number> {
  const { values } = await registry.getSingleMetric('database_queries_total')!.get();
  return values.reduce((sum, { value }) => sum + value, 0);
}

async function seqScans(url: string): Promise<number> {
  return withClient(url, async (client) => Number((await client.query(`SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'readings'`)).rows[0].seq_scan));
}

/** Measures in a database of its own, dropped afterwards. */
export async function measureDatabaseCost(adminUrl: string, rows: number, runs: number, env: Record<string, string> = {}): Promise<DatabaseCost> {
  const database = `iotflow_metrics_bench_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${escapeIdentifier(database)}`));
  const url = withDatabase(adminUrl, database);
  try {
    await withClient(url, async (client) => {
      await client.query(`
        CREATE TABLE users (id serial PRIMARY KEY, username text, email text, is_active boolean);
        CREATE TABLE devices (id serial PRIMARY KEY, name text, status text, last_seen timestamptz, user_id int);
        CREATE TABLE device_auth (id serial PRIMARY KEY, device_id int, is_active boolean);
        INSERT INTO users (username) SELECT 'user' || n FROM generate_series(1, 50) AS n;
        INSERT INTO devices (name, status, last_seen) SELECT 'device' || n, 'active', now() FROM generate_series(1, 500) AS n;
        CREATE TABLE readings (id bigint, device_id int, value float8, recorded_at timestamptz);`);
      await client.query(`INSERT INTO readings SELECT n, n % 500, random(), now() FROM generate_series(1, $1::bigint) AS n`, [rows]);
      await client.query('ANALYZE');
    });

    // Other settings (DB_EXACT_COUNT_MAX_ROWS and _BUDGET_ROWS, to compare with counting everything) come from the environment.
    const config = loadConfig({ ...process.env, ...env, DATABASE_URL: url, SOURCES: 'database' });
    const registry = new Registry();
    const pool = new DatabasePool(config, registry, createLogger('warn'));
    const logger = createLogger('warn');
    const queriesFile = config.databaseQueriesFile === undefined ? undefined : new QueriesFileState(config.databaseQueriesFile, logger, () => systemClock.epochMs());
    const source = new DatabaseSource(pool, config, logger, systemClock, queriesFile);
    try {
      await firstValueFrom(source.collect()); // opens the connection; not timed
      // Statistics are flushed by the collecting backend at most once a second.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const scansBefore = await seqScans(url);
      const queriesBefore = await queriesSent(registry);
      const durations: number[] = [];
      const cpuBefore = process.cpuUsage();
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        await firstValueFrom(source.collect());
        durations.push(performance.now() - started);
      }
      const cpu = process.cpuUsage(cpuBefore);
      const queries = (await queriesSent(registry)) - queriesBefore;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const scansAfter = await seqScans(url);
      durations.sort((a, b) => a - b);
      return {
        rows,
        runs,
        medianMs: durations[Math.floor(durations.length / 2)],
        minMs: durations[0],
        maxMs: durations[durations.length - 1],
        queriesPerCollection: queries / runs,
        cpuMsPerCollection: (cpu.user + cpu.system) / 1000 / runs,
        largeTableSeqScans: scansAfter - scansBefore,
      };
    } finally {
      await source.stop();
    }
  } finally {
    await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(database)} WITH (FORCE)`));
  }
}

if (require.main === module) {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const rows = Number(process.env.ROWS ?? 1_000_000);
  const runs = Number(process.env.RUNS ?? 20);
  measureDatabaseCost(adminUrl, rows, runs).then(
    (cost) => {
      const ms = (value: number) => value.toFixed(2);
      process.stdout.write(
        `database collection with a ${cost.rows}-row table: median ${ms(cost.medianMs)} ms (min ${ms(cost.minMs)}, max ${ms(cost.maxMs)}) over ${cost.runs} runs, ` +
          `${cost.queriesPerCollection} queries per collection, ${cost.largeTableSeqScans} sequential scans of the large table\n${JSON.stringify(cost)}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`database-cost failed: ${describeDatabaseError(error, adminUrl)}\n`);
      process.exit(1);
    },
  );
}

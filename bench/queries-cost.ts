/**
 * What a queries file of ten queries (bench/queries-ten.yaml) adds to one `database` collection:
 * the same database measured by database-cost.ts without and with DATABASE_QUERIES_FILE, RUNS
 * collections each; the difference of the medians (wall time), of the exporter's CPU time per
 * collection, and of the queries sent.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/queries-cost.js   # ROWS=100000 RUNS=50
 */
import path from 'node:path';
import { describeDatabaseError } from '../src/db/database-pool';
import { measureDatabaseCost } from './database-cost';

/** The file, found from the source tree whether this runs from bench/ or dist/bench/. */
const QUERIES_FILE = path.join(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..', 'bench', 'queries-ten.yaml');

export async function measureQueriesCost(adminUrl: string, rows: number, runs: number) {
  const without = await measureDatabaseCost(adminUrl, rows, runs);
  const withFile = await measureDatabaseCost(adminUrl, rows, runs, { DATABASE_QUERIES_FILE: QUERIES_FILE });
  return {
    without,
    withFile,
    addedMedianMs: withFile.medianMs - without.medianMs,
    addedCpuMs: withFile.cpuMsPerCollection - without.cpuMsPerCollection,
    addedQueries: withFile.queriesPerCollection - without.queriesPerCollection,
  };
}

if (require.main === module) {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  measureQueriesCost(adminUrl, Number(process.env.ROWS ?? 100_000), Number(process.env.RUNS ?? 50)).then(
    (cost) => {
      const ms = (value: number) => value.toFixed(2);
      process.stdout.write(
        `ten queries add ${ms(cost.addedMedianMs)} ms to the median database collection (${ms(cost.without.medianMs)} → ${ms(cost.withFile.medianMs)} ms), ` +
          `${ms(cost.addedCpuMs)} ms of exporter CPU (${ms(cost.without.cpuMsPerCollection)} → ${ms(cost.withFile.cpuMsPerCollection)} ms) and ${cost.addedQueries} queries\n${JSON.stringify(cost)}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`queries-cost failed: ${describeDatabaseError(error, adminUrl)}\n`);
      process.exit(1);
    },
  );
}

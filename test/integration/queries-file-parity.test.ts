import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { IOTFLOW_SCHEMA_SQL } from '../../demo/fleet-database';
import { parseQueriesFile } from '../../streams/database/queries/queries-file';
import { readFileSync } from 'node:fs';
import { startPasswordCluster, type PasswordCluster } from '../support/postgres-cluster';
import { debianExampleQueries, protobufSeriesOf, scrapeProtobuf, scrapeText, seriesOf, startPeerExporter, type PeerExporter, type SeriesKey } from '../support/peer-postgres-exporter';
import { eventually, spawnService, type SpawnedService } from '../support/service';
import { killProcess } from '../support/processes';

/**
 * The same queries file through postgres_exporter 0.11 and through this exporter: the same series
 * (name, labels but postgres_exporter's `server`, value). Both run against a PostgreSQL cluster of
 * the test's own, so nothing else changes the statistics the example file reads.
 */
const PASSWORD = 'parity-pw';
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'queries');

/**
 * Families whose series depend on the moment and on who reads them: the idle connections by
 * application_name, where each exporter sees the other's connection idle and its own busy. Both
 * must have the family; its series are not compared.
 */
const MOMENT_DEPENDENT = ['pg_process_idle_seconds'];

let cluster: PasswordCluster;
let directory: string;
const running: { peer?: PeerExporter; ours?: SpawnedService } = {};

beforeAll(async () => {
  cluster = await startPasswordCluster(PASSWORD);
  directory = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-parity-'));
  const client = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query(IOTFLOW_SCHEMA_SQL);
    await client.query(`INSERT INTO users (username, created_at) SELECT 'user' || n, date_trunc('day', now()) - (n % 3) * interval '1 day' + interval '1 hour' FROM generate_series(1, 12) AS n`);
    await client.query(`
      INSERT INTO devices (name, device_type, status, last_seen, user_id)
      SELECT 'device-' || n, (ARRAY['sensor', 'gateway', 'actuator'])[1 + n % 3], CASE WHEN n % 5 = 0 THEN 'inactive' ELSE 'active' END,
             CASE WHEN n % 4 = 0 THEN NULL ELSE date_trunc('second', now()) - n * interval '1 second' END, 1 + n % 12
      FROM generate_series(1, 40) AS n`);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
});

afterEach(async () => {
  await running.peer?.stop();
  if (running.ours) await killProcess(running.ours.child);
  running.peer = running.ours = undefined;
});

afterAll(() => {
  cluster?.remove();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

type SeriesReader = (port: number, prefixes: readonly string[]) => Promise<Map<SeriesKey, number>>;
const TEXT: SeriesReader = async (port, prefixes) => seriesOf(await scrapeText(port), prefixes);
const PROTOBUF: SeriesReader = async (port, prefixes) => protobufSeriesOf(await scrapeProtobuf(port), prefixes);

/**
 * Compares until both agree (statistics settle within a second or two), in the text exposition, then
 * in the protobuf one; the last difference fails the test.
 */
async function compare(file: string): Promise<{ series: number; sampleNames: number }> {
  const prefixes = parseQueriesFile(file, readFileSync(file, 'utf8')).namespaces.map(({ namespace }) => `${namespace}_`);
  running.peer = await startPeerExporter(`postgresql://postgres:${PASSWORD}@127.0.0.1:${cluster.port}/postgres?sslmode=disable`, file);
  running.ours = spawnService({
    DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${cluster.port}/postgres`,
    SOURCES: 'database',
    DATABASE_QUERIES_FILE: file,
    COLLECTION_INTERVAL_SECONDS: '1',
    // Estimates only: no exact count scans a table between the two readings.
    DB_EXACT_COUNT_BUDGET_ROWS: '0',
  });
  const port = await running.ours.ready;
  const agree = async (read: SeriesReader, exposition: string) => {
    let last = '';
    return eventually(async () => {
      const theirs = await read(running.peer!.port, prefixes);
      const ours = await read(port, prefixes);
      const momentDependent = (key: string) => MOMENT_DEPENDENT.some((family) => key.startsWith(family));
      const differences = [...new Set([...theirs.keys(), ...ours.keys()])].flatMap((key) => {
        const [a, b] = [theirs.get(key), ours.get(key)];
        if (momentDependent(key) || Object.is(a, b)) return [];
        return [`${key}: postgres_exporter ${a}, ours ${b}`];
      });
      for (const family of MOMENT_DEPENDENT.filter((name) => prefixes.some((prefix) => name.startsWith(prefix)))) {
        const has = (series: Map<string, number>) => [...series.keys()].some((key) => key.startsWith(`${family}_count{`));
        if (has(theirs) !== has(ours)) differences.push(`${family}: postgres_exporter ${has(theirs) ? 'has it' : 'has none'}, ours ${has(ours) ? 'has it' : 'has none'}`);
      }
      last = differences.join('\n');
      if (differences.length > 0 || theirs.size === 0) return undefined;
      return { series: theirs.size, sampleNames: new Set([...theirs.keys()].map((key) => key.slice(0, key.indexOf('{')))).size };
    }, `the same series in both, ${exposition}`).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}`);
    });
  };
  const text = await agree(TEXT, 'text');
  await agree(PROTOBUF, 'protobuf');
  return text;
}

describe('a queries file through postgres_exporter 0.11 and through this exporter', () => {
  it("gives the same series for Debian's example file (pg_stat_statements, absent, fails in both)", async () => {
    const { series, sampleNames } = await compare(debianExampleQueries(path.join(directory, 'example.yaml')));
    expect(sampleNames).toBe(32);
    expect(series).toBeGreaterThan(80);
  });

  it('gives the same series for a file using every usage and value conversion', async () => {
    const { sampleNames } = await compare(path.join(FIXTURES, 'every-usage.yaml'));
    expect(sampleNames).toBe(23);
  });

  it("gives the same series for the README's IoTFlow example", async () => {
    const { series } = await compare(path.join(FIXTURES, 'iotflow.yaml'));
    expect(series).toBe(6 + 3 + 1);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadQueriesFile, parseQueriesFile, QueriesFileError } from '../../streams/database/queries/queries-file';
import { parseVersionRange, versionOf } from '../../streams/database/queries/server-version';

const parse = (text: string) => parseQueriesFile('queries.yaml', text);
const refusal = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(QueriesFileError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
};

const GOOD = `pg_fleet:
  query: "SELECT status, count(*) AS devices FROM devices GROUP BY status"
  master: true
  cache_seconds: 30
  runonserver: ">=12.0.0 <99.0.0"
  metrics:
    - status:
        usage: "LABEL"
        description: "status"
    - devices:
        usage: "GAUGE"
        description: "devices"
`;

describe('parseQueriesFile', () => {
  it('reads every key of a namespace', () => {
    const [fleet] = parse(GOOD).namespaces;
    expect(fleet).toMatchObject({ namespace: 'pg_fleet', cacheSeconds: 30, columns: [{ column: 'status', usage: 'LABEL' }, { column: 'devices', usage: 'GAUGE', description: 'devices' }] });
    expect(fleet.runOnServer?.includes([16, 4, 0])).toBe(true);
    expect(fleet.runOnServer?.includes([11, 9, 0])).toBe(false);
  });

  it('takes an empty file as no namespaces, and a namespace without metrics (every numeric column is then a series)', () => {
    expect(parse('').namespaces).toEqual([]);
    expect(parse('pg_x:\n  query: "SELECT 1 AS one"\n').namespaces[0].columns).toEqual([]);
  });

  it.each([
    ['bad YAML', 'pg_x:\n  query: "SELECT 1\n  metrics: [', /^queries\.yaml:\d+: not valid YAML/],
    ['a duplicate namespace', `${GOOD}${GOOD}`, /queries\.yaml:\d+: not valid YAML .*unique/i],
    ['an unknown usage', GOOD.replace('"GAUGE"', '"GAUGES"'), /^queries\.yaml:11: column devices of pg_fleet has usage "GAUGES"; the usages are LABEL, COUNTER, GAUGE, MAPPEDMETRIC, DURATION, HISTOGRAM, DISCARD$/],
    ['an unknown namespace key', GOOD.replace('master:', 'mastr:'), /^queries\.yaml:3: namespace pg_fleet has the key "mastr"; the keys are query, metrics, master, cache_seconds, runonserver$/],
    ['no query', GOOD.replace(/ {2}query: .*\n/, ''), /^queries\.yaml:1: namespace pg_fleet has no query$/],
    ['a bad cache_seconds', GOOD.replace('30', '-1'), /^queries\.yaml:4: cache_seconds of pg_fleet must be/],
    ['a bad range', GOOD.replace('>=12.0.0 <99.0.0', '>=twelve'), /^queries\.yaml:5: runonserver of pg_fleet: ">=twelve" is not a version comparator/],
    ['a column declared twice', GOOD.replace('    - devices:', '    - status:\n        usage: "GAUGE"\n    - devices:'), /^queries\.yaml:10: column status of pg_fleet is declared twice$/],
    ['a label that is no label name', GOOD.replace('- status:', '- "sta tus":'), /^queries\.yaml:7: column sta tus of pg_fleet cannot be a label name$/],
    ['a built-in name', GOOD.replace('pg_fleet:', 'database_fleet:'), /^queries\.yaml:10: database_fleet_devices would collide with the exporter's built-in families \(database_…\)/],
  ])('refuses %s, naming the file, the line and the problem', (_, text, message) => {
    expect(refusal(text)).toMatch(message);
  });

  it('refuses two columns making one metric name, in one namespace or across two', () => {
    const duration = `pg_x:\n  query: "SELECT 1"\n  metrics:\n    - wait:\n        usage: "DURATION"\n    - wait_milliseconds:\n        usage: "GAUGE"\n`;
    expect(refusal(duration)).toBe('queries.yaml:6: two columns of pg_x make the metric name pg_x_wait_milliseconds');
    const across = `pg_a:\n  query: "SELECT 1"\n  metrics:\n    - b_c: {usage: "GAUGE"}\npg_a_b:\n  query: "SELECT 1"\n  metrics:\n    - c: {usage: "COUNTER"}\n`;
    expect(refusal(across)).toBe('queries.yaml:8: pg_a_b_c is made by two columns (one in pg_a, one in pg_a_b)');
    const histogram = `pg_h:\n  query: "SELECT 1"\n  metrics:\n    - t: {usage: "HISTOGRAM"}\n    - t_sum: {usage: "GAUGE"}\n`;
    expect(refusal(histogram)).toBe('queries.yaml:5: column t_sum of pg_h is a part of the histogram t; declare only t');
  });

  it('names the file when it cannot be read', () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'queries-file-'));
    try {
      expect(() => loadQueriesFile(path.join(directory, 'absent.yaml'))).toThrow(`${path.join(directory, 'absent.yaml')}: cannot be read (ENOENT)`);
      writeFileSync(path.join(directory, 'good.yaml'), GOOD);
      expect(loadQueriesFile(path.join(directory, 'good.yaml')).namespaces).toHaveLength(1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('server versions as postgres_exporter compares them', () => {
  it('reads server_version_num as major.minor.0 from 10 on, major.minor.patch before', () => {
    expect(versionOf(160004)).toEqual([16, 4, 0]);
    expect(versionOf(90624)).toEqual([9, 6, 24]);
  });

  it('matches blang/semver ranges: spaces for and, || for or', () => {
    const range = parseVersionRange('>=9.6.0 <12.0.0 || 15.2');
    expect([[9, 6, 0], [11, 9, 0], [12, 0, 0], [15, 2, 0], [15, 3, 0]].map((version) => range.includes(version as [number, number, number]))).toEqual([true, true, false, true, false]);
  });
});

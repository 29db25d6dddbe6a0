import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFleetDatabase, type FleetDatabase } from '../../demo/fleet-database';
import { SOURCE_NAMES } from '../../streams/sources';
import { get, sampleValue } from '../support/http';
import { readSamples, waitUntilUp } from '../support/metrics';
import { sparePort } from '../support/ports';
import { databaseUrl } from '../support/postgres';
import { eventually, spawnService, type SpawnedService } from '../support/service';

/**
 * The documented exceptions (docs/metrics.md): the seven gauges whose names end in _total (four
 * the consumers query, then mqtt_subscriptions_total, mqtt_topics_total and iotflow_users_total
 * of the same family of names); the contract names stay.
 */
const DOCUMENTED_LINT_EXCEPTIONS = [
  'database_connections_total',
  'mqtt_connections_total',
  'redis_keys_total',
  'iotflow_devices_total',
  'mqtt_subscriptions_total',
  'mqtt_topics_total',
  'iotflow_users_total',
];

describe('the /metrics output as Prometheus sees it (every source enabled)', () => {
  let database: FleetDatabase;
  let service: SpawnedService;
  let port: number;

  beforeAll(async () => {
    // IoTFlow's tables in a database of its own, so the iotflow source is up too.
    database = await createFleetDatabase({ adminUrl: databaseUrl('postgres'), namePrefix: 'iotflow_metrics_test_', devices: 20 });
    service = spawnService({ COLLECTION_INTERVAL_SECONDS: '1', DATABASE_URL: database.url });
    port = await service.ready;
  });

  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await database?.drop();
  });

  it('passes promtool check metrics but for the seven documented exceptions, every source up', async () => {
    // Every source up, so every family is in the output.
    for (const source of SOURCE_NAMES) await waitUntilUp(port, source);
    const samples = await readSamples(port);
    expect(SOURCE_NAMES.map((source) => [source, sampleValue(samples, 'collector_up', { source })])).toEqual(SOURCE_NAMES.map((source) => [source, 1]));
    const { body } = await get(port, '/metrics');
    const result = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    const findings = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const undocumented = findings.filter((line) => !DOCUMENTED_LINT_EXCEPTIONS.some((name) => line.startsWith(`${name} `)));
    process.stdout.write(`promtool: ${body.split('\n').filter((line) => line.startsWith('# TYPE ')).length} families linted, ${findings.length} findings\n`);
    expect(undocumented).toEqual([]);
  });

  it('is scraped by a real Prometheus with no scrape error, in OpenMetrics', async () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-prometheus-'));
    const webPort = await sparePort();
    writeFileSync(
      path.join(workDir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: iotflow_metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${port}']`,
      ].join('\n'),
    );
    execFileSync('promtool', ['check', 'config', path.join(workDir, 'prometheus.yml')]);
    const prometheus = spawn('prometheus', [
      `--config.file=${path.join(workDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ], { stdio: 'ignore' });
    try {
      const api = async (query: string) => JSON.parse((await get(webPort, `/api/v1/${query}`)).body);
      const target = await eventually(async () => {
        const { data } = await api('targets');
        const [active] = data.activeTargets as { health: string; lastError: string }[];
        return active && active.health !== 'unknown' ? active : undefined;
      }, 'Prometheus to scrape the target', 150);
      expect(target).toMatchObject({ health: 'up', lastError: '' });

      const cpu = await eventually(async () => {
        const { data } = await api('query?query=app_uptime_seconds');
        return data.result.length > 0 ? data.result : undefined;
      }, 'app_uptime_seconds to be queryable');
      expect(Number(cpu[0].value[1])).toBeGreaterThan(0);

      // Scraped in OpenMetrics: counter families come back under their _total sample name.
      const requests = await eventually(async () => {
        const { data } = await api('query?query=http_requests_total{endpoint="/metrics"}');
        return data.result.length > 0 ? data.result : undefined;
      }, 'http_requests_total to be queryable');
      expect(requests[0].metric).toMatchObject({ method: 'GET', status: '200', job: 'iotflow_metrics' });
    } finally {
      prometheus.kill('SIGKILL');
      await new Promise((resolve) => prometheus.once('exit', resolve));
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sparePort } from '../support/ports';
import { get } from '../support/http';
import { eventually, spawnService, type SpawnedService } from '../support/service';

/**
 * The catalog's documented exceptions: gauges whose names end in _total. The catalog's §3 also
 * types mqtt_subscriptions_total and mqtt_topics_total as gauges (they go down), which trips the
 * same rule although its list of exceptions leaves them out; the contract names stay.
 */
const DOCUMENTED_LINT_EXCEPTIONS = [
  'database_connections_total',
  'mqtt_connections_total',
  'redis_keys_total',
  'iotflow_devices_total',
  'mqtt_subscriptions_total',
  'mqtt_topics_total',
];

describe('the /metrics output as Prometheus sees it (every source enabled)', () => {
  let service: SpawnedService;
  let port: number;

  beforeAll(async () => {
    service = spawnService({ COLLECTION_INTERVAL_SECONDS: '1' });
    port = await service.ready;
    // Wait until every source has had a first collection, so its families are in the output.
    await eventually(async () => {
      const health = JSON.parse((await get(port, '/health')).body) as { sources: Record<string, { error?: string }> };
      return Object.values(health.sources).every((source) => source.error !== 'not collected yet') ? true : undefined;
    }, 'a first collection of every source');
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
  });

  it('passes promtool check metrics but for the catalog\'s four documented exceptions', async () => {
    const { body } = await get(port, '/metrics');
    const result = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    const findings = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const undocumented = findings.filter((line) => !DOCUMENTED_LINT_EXCEPTIONS.some((name) => line.startsWith(`${name} `)));
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

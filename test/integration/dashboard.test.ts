import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { createFleetDatabase, type FleetDatabase } from '../../demo/fleet-database';
import { selectedMetricNames, shippedDashboard } from '../support/dashboard';
import { get } from '../support/http';
import { sparePort } from '../support/ports';
import { eventually, ROOT, spawnService, type SpawnedService } from '../support/service';

const dashboard = shippedDashboard(ROOT);
const JOB = 'iotflow_metrics';
const RULES_DIR = path.join(ROOT, 'prometheus', 'rules');
const shippedRules = readdirSync(RULES_DIR)
  .filter((name) => name.endsWith('.yml'))
  .flatMap((name) => (parse(readFileSync(path.join(RULES_DIR, name), 'utf8')) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((group) => group.rules));

/** Grafana's substitution of the dashboard's variables, as it would do for one job and instance. */
function substitute(expr: string, instance: string): string {
  return expr
    .replaceAll('$job', JOB)
    .replaceAll('$instance', instance.replaceAll('.', '\\\\.'))
    .replaceAll('$__rate_interval', '15s')
    .replaceAll('$__interval', '1s');
}

describe('the Grafana dashboard against a real Prometheus scraping the exporter with data flowing', () => {
  let database: FleetDatabase;
  let service: SpawnedService;
  let prometheus: ChildProcess | undefined;
  let workDir: string;
  let port: number;
  let webPort: number;
  let publisher: mqtt.MqttClient;
  let redis: Redis;
  let traffic: NodeJS.Timeout;
  const cacheKey = `iotflow-metrics-dashboard-test:${process.pid}`;

  beforeAll(async () => {
    database = await createFleetDatabase({ namePrefix: 'iotflow_metrics_test_', devices: 2000, users: 200 });
    service = spawnService({ COLLECTION_INTERVAL_SECONDS: '1', DATABASE_URL: database.url });
    port = await service.ready;
    await eventually(async () => {
      const health = JSON.parse((await get(port, '/health')).body) as { sources: Record<string, { up: boolean }> };
      return Object.values(health.sources).every((source) => source.up) ? true : undefined;
    }, 'every source up', 150);

    // Data flowing: device telemetry over MQTT, cache traffic on Redis, requests to the exporter.
    publisher = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    let tick = 0;
    traffic = setInterval(() => {
      tick++;
      publisher.publish(`iotflow/devices/${1 + (tick % 20)}/telemetry/sensors`, JSON.stringify({ temperature: 20 + (tick % 5) }));
      void redis.set(cacheKey, String(tick), 'EX', 60).then(() => redis.get(cacheKey)).then(() => redis.get(`${cacheKey}:absent`)).catch(() => undefined);
      void get(port, tick % 2 === 0 ? '/health' : '/no-such-route').catch(() => undefined);
    }, 50);

    workDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-dashboard-'));
    webPort = await sparePort();
    const config = path.join(workDir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(path.join(RULES_DIR, '*.yml'))}`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        '    static_configs:',
        `      - targets: ['127.0.0.1:${port}']`,
      ].join('\n'),
    );
    prometheus = spawn('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ], { stdio: 'ignore' });
    await eventually(async () => {
      const { body } = await get(webPort, `/api/v1/query?query=${encodeURIComponent(`up{job="${JOB}"} == 1`)}`);
      return (JSON.parse(body) as { data: { result: unknown[] } }).data.result.length > 0 ? true : undefined;
    }, 'Prometheus to scrape the exporter', 150);
  }, 60000);

  afterAll(async () => {
    clearInterval(traffic);
    if (prometheus) {
      prometheus.kill('SIGKILL');
      await new Promise((resolve) => prometheus?.once('exit', resolve));
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    await publisher?.endAsync();
    await redis?.del(cacheKey);
    redis?.disconnect();
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await database?.drop();
  });

  it('returns data for every panel query, its variables substituted', async () => {
    const instance = `127.0.0.1:${port}`;
    const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: substitute(target.expr, instance) })));
    expect(queries.length).toBeGreaterThan(40);
    const query = async (expr: string): Promise<unknown[]> => {
      const { body } = await get(webPort, `/api/v1/query?query=${encodeURIComponent(expr)}`);
      const answer = JSON.parse(body) as { status: string; error?: string; data: { result: unknown[] } };
      if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
      return answer.data.result;
    };

    // Wait for the data to be there (rates need two scrapes, recording rules an evaluation), then
    // name every query that still returns nothing.
    let empty: { panel: string; expr: string }[] = queries;
    for (let attempt = 0; attempt < 60 && empty.length > 0; attempt++) {
      const results = await Promise.all(empty.map(async (entry) => ({ entry, result: await query(entry.expr) })));
      empty = results.filter(({ result }) => result.length === 0).map(({ entry }) => entry);
      if (empty.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log(`dashboard: ${queries.length - empty.length} of ${queries.length} panel queries returned data`);
    expect(empty).toEqual([]);
  }, 60000);

  it('has Prometheus evaluate every shipped rule without error', async () => {
    const { body } = await get(webPort, '/api/v1/rules');
    const rules = (JSON.parse(body) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } }).data.groups.flatMap((group) => group.rules);
    expect(rules.length).toBe(shippedRules.length);
    expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`)).toEqual([]);
  });

  it('has every series a shipped rule reads, from the exporter or a recording rule (no constant to keep in sync)', async () => {
    const read = [...new Set(shippedRules.flatMap((rule) => selectedMetricNames(rule.expr)))].sort();
    expect(read).toEqual(expect.arrayContaining(['collector_timeout_seconds', 'redis_memory_max_bytes', 'redis_memory_used_bytes', 'up']));
    const absent = async () => {
      const present = new Set((JSON.parse((await get(webPort, '/api/v1/label/__name__/values')).body) as { data: string[] }).data);
      return read.filter((name) => !present.has(name));
    };
    // Recorded series appear after an evaluation of their rules: wait for them, then name what never came.
    let missing = await absent();
    for (let attempt = 0; attempt < 60 && missing.length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      missing = await absent();
    }
    expect(missing).toEqual([]);
  }, 60000);

  it('fills its job and instance variables', async () => {
    const variables = dashboard.templating.list.filter((variable) => variable.type === 'query');
    expect(variables.map((variable) => variable.name)).toEqual(['job', 'instance']);
    for (const variable of variables) {
      const definition = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const [, match, label] = /^label_values\((.+), (\w+)\)$/.exec(substitute(definition, ''))!;
      const { body } = await get(webPort, `/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`);
      expect((JSON.parse(body) as { data: string[] }).data).toEqual([variable.name === 'job' ? JOB : `127.0.0.1:${port}`]);
    }
  });
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TYPES } from '../../src/tokens';
import { DURATION_BUCKETS } from '../../src/metrics/http-request-metrics';
import { sparePort } from '../support/ports';
import { get } from '../support/http';
import { metricValue } from '../support/metrics';
import { eventually, startService, type RunningService } from '../support/service';

interface RunningPrometheus {
  readonly webPort: number;
  readonly process: ChildProcess;
  readonly workDir: string;
}

/** A Prometheus of the test's own, scraping `target` every second; `native` turns native histograms on. */
async function startPrometheus(target: number, native: boolean): Promise<RunningPrometheus> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-prometheus-native-'));
  const webPort = await sparePort();
  const config = path.join(workDir, 'prometheus.yml');
  writeFileSync(config, ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: iotflow_metrics', '    static_configs:', `      - targets: ['127.0.0.1:${target}']`].join('\n'));
  execFileSync('promtool', ['check', 'config', config]);
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${path.join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`];
  if (native) args.push('--enable-feature=native-histograms');
  return { webPort, workDir, process: spawn('prometheus', args, { stdio: 'ignore' }) };
}

async function stopPrometheus({ process: child, workDir }: RunningPrometheus): Promise<void> {
  child.kill('SIGKILL');
  await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  rmSync(workDir, { recursive: true, force: true });
}

const api = async (prometheus: RunningPrometheus, query: string) => JSON.parse((await get(prometheus.webPort, `/api/v1/${query}`)).body);

/**
 * The target's health after its first scrape that did not time out: the 1 s scrape timeout can
 * pass on a loaded machine, which says nothing of what the scrape reads.
 */
async function scrapeHealth(prometheus: RunningPrometheus): Promise<{ health: string; lastError: string }> {
  return eventually(async () => {
    const { data } = await api(prometheus, 'targets');
    const [active] = data.activeTargets as { health: string; lastError: string }[];
    const timedOut = active?.lastError.endsWith('context deadline exceeded');
    return active && active.health !== 'unknown' && !timedOut ? active : undefined;
  }, 'Prometheus to scrape the target in time', 150);
}

/** The one value of an instant query, once it has one. */
async function scalar(prometheus: RunningPrometheus, query: string): Promise<number> {
  return eventually(async () => {
    const { data } = await api(prometheus, `query?query=${encodeURIComponent(query)}`);
    const value = Number(data.result[0]?.value[1]);
    return Number.isFinite(value) ? value : undefined;
  }, `${query} to answer`, 200);
}

/** The classic bucket bounds (lower, upper] holding `value`. */
function classicBucketOf(value: number): [number, number] {
  const upper = DURATION_BUCKETS.findIndex((bound) => value <= bound);
  return [upper <= 0 ? 0 : DURATION_BUCKETS[upper - 1]!, DURATION_BUCKETS[upper] ?? Infinity];
}

describe('native histograms in a real Prometheus 2.42 (one with the feature flag, one without)', () => {
  let service: RunningService;
  let traffic: Promise<void>;
  let flowing = true;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0' }, (container) => {
      // Requests of 2 to 60 ms: the p99 falls in the classic bucket (0.05, 0.1].
      container.get(TYPES.RouteTable).add({ method: 'GET', path: '/work', handler: () => new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: 'done' }), 2 + Math.random() * 58)) });
    });
    traffic = (async () => {
      while (flowing) await Promise.all(Array.from({ length: 8 }, () => get(service.port, '/work')));
    })();
  });

  afterAll(async () => {
    flowing = false;
    await traffic;
    await service.stop();
  });

  it('case 2e: the classic (text) and native (protobuf) p99 both answer and agree within the bucket error; without the flag the text scrape has no error', async () => {
    const native = await startPrometheus(service.port, true);
    const classic = await startPrometheus(service.port, false);
    try {
      expect(await scrapeHealth(native)).toMatchObject({ health: 'up', lastError: '' });
      expect(await scrapeHealth(classic)).toMatchObject({ health: 'up', lastError: '' });
      const selector = 'http_request_duration_seconds{endpoint="/work"}';
      // Scraped in protobuf: the series is a native histogram.
      const nativeSeries = await eventually(async () => {
        const { data } = await api(native, `query?query=${encodeURIComponent(selector)}`);
        return data.result[0]?.histogram ? data.result[0] : undefined;
      }, 'the native histogram to be stored', 150);
      expect(nativeSeries.histogram[1].buckets.length).toBeGreaterThan(5);
      // The same observations in both: the traffic stops, and each server scrapes the final counts.
      // (Two servers scraping at their own moments see different windows of a moving rate, and
      // on a loaded machine the durations themselves move from one window to the next.)
      flowing = false;
      await traffic;
      const total = await metricValue(service, 'http_request_duration_seconds_count', { method: 'GET', endpoint: '/work', status: '200' });
      await eventually(async () => ((await scalar(classic, 'http_request_duration_seconds_count{endpoint="/work"}')) === total ? true : undefined), 'the classic count to reach the exporter\'s', 100);
      await eventually(async () => ((await scalar(native, `histogram_count(${selector})`)) === total ? true : undefined), 'the native count to reach the classic one', 100);
      const classicP99 = await scalar(classic, `histogram_quantile(0.99, sum by (le) (http_request_duration_seconds_bucket{endpoint="/work"}))`);
      const nativeP99 = await scalar(native, `histogram_quantile(0.99, sum(${selector}))`);
      process.stdout.write(`classic p99 ${classicP99} s, native p99 ${nativeP99} s\n`);
      // Within the bucket error: the classic estimate is only known to its bucket, the native one
      // to ±4.4 % (schema 3): both must fall in the same classic bucket, with the native one's error.
      const [lower, upper] = classicBucketOf(classicP99);
      expect(nativeP99).toBeGreaterThan(lower * (1 - 0.0443));
      expect(nativeP99).toBeLessThanOrEqual(upper * (1 + 0.0443));
      // Prometheus 2.42 has no scrape_classic_histograms (2.45+): with native histograms on, it
      // stores a histogram that has native buckets as native only, and drops its classic buckets.
      const { data } = await api(native, `query?query=${encodeURIComponent('http_request_duration_seconds_bucket{endpoint="/work"}')}`);
      expect(data.result).toEqual([]);
    } finally {
      await Promise.all([stopPrometheus(native), stopPrometheus(classic)]);
    }
  }, 120_000);
});

import { get, parseExposition } from '../support/http';
import { eventually, startService, type RunningService } from '../support/service';

/** Family names of an exposition, and the `source` label values of collector_up. */
function describeBody(body: string): { families: Set<string>; collectorSources: string[] } {
  const { type, samples } = parseExposition(body);
  const collectorSources = [...samples.keys()].filter((series) => series.startsWith('collector_up{')).map((series) => /source="([^"]+)"/.exec(series)![1]!);
  return { families: new Set(type.keys()), collectorSources: collectorSources.sort() };
}

describe('per-scrape source selection (collect[] and exclude[])', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'app,system,redis', COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0' });
    await eventually(async () => {
      const { families } = describeBody((await get(service.port, '/metrics')).body);
      return families.has('redis_keys_total') && families.has('system_cpu_usage_percent') ? true : undefined;
    }, 'a first collection of system and redis');
  });

  afterAll(() => service.stop());

  it('case 3a: collect[]=system&collect[]=redis serves only those sources and their collector series', async () => {
    const response = await get(service.port, '/metrics?collect[]=system&collect[]=redis');
    expect(response.status).toBe(200);
    const { families, collectorSources } = describeBody(response.body);
    expect(families.has('system_cpu_usage_percent')).toBe(true);
    expect(families.has('redis_keys_total')).toBe(true);
    expect(collectorSources).toEqual(['redis', 'system']);
    for (const family of families) expect(family).toMatch(/^(system_|redis_|collector_)/);
    // The exporter's own families (HTTP, runtime) belong to app.
    expect(families.has('app_uptime_seconds')).toBe(false);
    expect(families.has('http_requests_total')).toBe(false);
    expect(families.has('process_cpu_seconds_total')).toBe(false);
  });

  it('case 3b: the brackets may come percent-encoded, as Prometheus sends params', async () => {
    const { families, collectorSources } = describeBody((await get(service.port, '/metrics?collect%5B%5D=redis')).body);
    expect(collectorSources).toEqual(['redis']);
    expect([...families].every((family) => /^(redis_|collector_)/.test(family))).toBe(true);
  });

  it('case 3c: collect[]=app serves the exporter process: app, HTTP and runtime families', async () => {
    const { families, collectorSources } = describeBody((await get(service.port, '/metrics?collect[]=app')).body);
    expect(collectorSources).toEqual(['app']);
    for (const family of ['app_uptime_seconds', 'http_requests_total', 'http_request_duration_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) expect(families).toContain(family);
    expect([...families].some((family) => family.startsWith('system_') || family.startsWith('redis_'))).toBe(false);
  });

  it('case 3d: exclude[]=system serves everything else', async () => {
    const all = describeBody((await get(service.port, '/metrics')).body);
    const { families, collectorSources } = describeBody((await get(service.port, '/metrics?exclude[]=system')).body);
    expect(collectorSources).toEqual(['app', 'redis']);
    expect([...families].some((family) => family.startsWith('system_'))).toBe(false);
    expect([...families].sort()).toEqual([...all.families].filter((family) => !family.startsWith('system_')).sort());
  });

  it('case 3e: an unknown source is a 400 that names it', async () => {
    const response = await get(service.port, '/metrics?collect[]=system&collect[]=postgres');
    expect(response.status).toBe(400);
    expect(response.body).toContain('"postgres"');
    expect(response.body).toContain('system, app, database, iotflow, redis, mqtt');
    expect((await get(service.port, '/metrics?exclude[]=nope')).status).toBe(400);
  });

  it('case 3f: collect[] and exclude[] together are a 400', async () => {
    const response = await get(service.port, '/metrics?collect[]=system&exclude[]=redis');
    expect(response.status).toBe(400);
    expect(response.body).toContain('cannot be combined');
  });

  it('case 3g: a selection leaves the full scrape as it was', async () => {
    await get(service.port, '/metrics?collect[]=redis');
    const { collectorSources } = describeBody((await get(service.port, '/metrics')).body);
    expect(collectorSources).toEqual(['app', 'redis', 'system']);
  });
});

import { AggregatorRegistry, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TYPES } from '../../src/tokens';
import { Exposition } from '../../src/metrics/exposition';
import { get } from '../support/http';
import { eventually, startService, type RunningService } from '../support/service';
import { openStream, type StreamClient } from '../support/websocket';

/** `name{a="1",b="2"}` → value, labels sorted, so two writers' label orders compare equal. */
function sampleSet(text: string, keep: (name: string) => boolean): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name, labels = '', value] = match;
    if (!keep(name)) continue;
    const pairs = labels.match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    samples.set(`${name}{${pairs.sort().join(',')}}`, Number(value));
  }
  return samples;
}

/** The process and Node.js families: /metrics reuses their reading for a second, prom-client reads them afresh. */
const isRuntimeFamily = (name: string) => name.startsWith('process_') || name.startsWith('nodejs_');

describe('the injected registry read by prom-client itself (an embedding application)', () => {
  let service: RunningService;
  let registry: Registry;
  let stream: StreamClient;

  beforeAll(async () => {
    // One collection only (the interval is an hour), so the values stay put while they are compared.
    service = await startService({ SOURCES: 'redis', COLLECTION_INTERVAL_SECONDS: '3600' });
    registry = service.container.get(TYPES.Registry);
    await eventually(async () => ((await get(service.port, '/metrics')).body.includes('collector_up{source="redis"} 1') ? true : undefined), 'a first redis collection');
    stream = await openStream(service.port);
  });

  afterAll(async () => {
    stream?.socket.close();
    await service?.stop();
  });

  it('holds prom-client metrics only: the source families, the request metrics and the stream metrics alike', () => {
    expect(registry.getSingleMetric('redis_status')).toBeInstanceOf(Gauge);
    expect(registry.getSingleMetric('http_requests_total')).toBeInstanceOf(Counter);
    expect(registry.getSingleMetric('http_request_duration_seconds')).toBeInstanceOf(Histogram);
    expect(registry.getSingleMetric('stream_clients')).toBeInstanceOf(Gauge);
  });

  it('registry.metrics() has the source families, the request histogram with its buckets and the stream metrics, with current values', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/^redis_status 1$/m);
    expect(text).toMatch(/^redis_memory_used_bytes [1-9]\d*$/m);
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{method="GET",endpoint="\/metrics",status="200",le="\+Inf"\} [1-9]\d*$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{method="GET",endpoint="\/metrics",status="200",le="0.005"\} \d+$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",endpoint="\/metrics",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^stream_clients 1$/m);
    expect(text).toMatch(/^stream_clients_disconnected_total\{reason="slow"\} 0$/m);
    expect(text).toMatch(/^collector_up\{source="redis"\} 1$/m);
  });

  it('registry.getMetricsAsJSON() has the same families, each with its aggregator', async () => {
    const families = await registry.getMetricsAsJSON();
    const byName = new Map(families.map((family) => [family.name, family]));
    // prom-client's cluster aggregation merges families by it; a family without one breaks it.
    const aggregators = ['omit', 'sum', 'first', 'min', 'max', 'average'];
    for (const family of families) expect([family.name, aggregators.includes(family.aggregator)]).toEqual([family.name, true]);
    expect(await AggregatorRegistry.aggregate([families]).metrics()).toMatch(/^redis_status 1$/m);
    expect(byName.get('redis_status')?.values).toEqual([{ value: 1, labels: {} }]);
    expect(byName.get('stream_clients')?.values).toEqual([{ value: 1, labels: {} }]);
    const durations = byName.get('http_request_duration_seconds');
    expect(String(durations?.type)).toBe('histogram');
    const buckets = durations!.values.filter((value) => 'metricName' in value && value.metricName === 'http_request_duration_seconds_bucket');
    expect(buckets.map(({ labels }) => labels.le)).toEqual(expect.arrayContaining(['0.005', '10', '+Inf']));
    expect(byName.get('http_requests_total')?.values).toEqual(expect.arrayContaining([{ value: expect.any(Number), labels: { method: 'GET', endpoint: '/metrics', status: '200' } }]));
  });

  it('prom-client\'s text and /metrics carry the same samples for every family but the runtime ones', async () => {
    const exposition = new Exposition(registry);
    const ours = exposition.serialize(await exposition.readFamilies(() => undefined), 'prometheus');
    const theirs = await registry.metrics();
    const keep = (name: string) => !isRuntimeFamily(name);
    const ourSamples = sampleSet(ours, keep);
    expect(ourSamples.size).toBeGreaterThan(40);
    expect(sampleSet(theirs, keep)).toEqual(ourSamples);
  });
});

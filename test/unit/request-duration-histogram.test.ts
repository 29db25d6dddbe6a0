import { Registry, type Histogram } from 'prom-client';
import { HttpRequestMetrics } from '../../src/metrics/http-request-metrics';
import { RequestDurationHistogram } from '../../src/metrics/http/request-duration-histogram';
import { sampleValue } from '../support/http';
import { scrapeRegistry as scrape } from '../support/metrics';

const NAME = 'http_request_duration_seconds';
const labels = { method: 'GET', endpoint: '/x', status: '200' };

function setUp() {
  const registry = new Registry();
  const metrics = new HttpRequestMetrics(registry);
  const histogram = registry.getSingleMetric(NAME) as Histogram<'method' | 'endpoint' | 'status'>;
  return { registry, metrics, histogram };
}

describe('http_request_duration_seconds through prom-client\'s Histogram interface', () => {
  it('is what the registry holds, and records through observe(), labels() and startTimer() as the route recorders do', async () => {
    const { registry, metrics, histogram } = setUp();
    expect(histogram).toBeInstanceOf(RequestDurationHistogram);
    histogram.observe(labels, 0.003);
    histogram.observe({ labels, value: 0.2 });
    histogram.labels('GET', '/x', '200').observe(0.02);
    histogram.labels({ ...labels, status: 404 }).observe(1);
    const seconds = histogram.startTimer({ method: 'GET', endpoint: '/x' })({ status: 200 });
    metrics.route('/x').end('GET', 200, 0.001);
    const samples = await scrape(registry);
    expect(sampleValue(samples, `${NAME}_count`, labels)).toBe(5);
    expect(sampleValue(samples, `${NAME}_bucket`, { ...labels, le: '0.005' })).toBe(seconds <= 0.005 ? 3 : 2);
    expect(sampleValue(samples, `${NAME}_sum`, labels)).toBeCloseTo(0.224 + seconds);
    expect(sampleValue(samples, 'http_requests_total', { ...labels, status: '404' })).toBe(1);
    const family = await histogram.get();
    expect(family).toMatchObject({ name: NAME, type: 'histogram', aggregator: 'sum' });
    expect(family.values).toContainEqual({ metricName: `${NAME}_count`, value: 5, labels });
  });

  it('makes, removes and resets series as prom-client does', async () => {
    const { registry, histogram } = setUp();
    histogram.zero(labels);
    expect(sampleValue(await scrape(registry), `${NAME}_count`, labels)).toBe(0);
    histogram.observe({ ...labels, status: '500' }, 0.1);
    histogram.remove('GET', '/x', '200');
    let samples = await scrape(registry);
    expect(sampleValue(samples, `${NAME}_count`, labels)).toBeUndefined();
    expect(sampleValue(samples, `${NAME}_count`, { status: '500' })).toBe(1);
    registry.resetMetrics();
    samples = await scrape(registry);
    expect(sampleValue(samples, `${NAME}_count`)).toBeUndefined();
    expect(sampleValue(samples, 'http_requests_total')).toBeUndefined();
    // A series made again after the reset starts from nothing, whatever was rendered before.
    histogram.observe(labels, 0.1);
    expect(sampleValue(await scrape(registry), `${NAME}_count`, labels)).toBe(1);
  });

  it('says what is wrong with labels or a value it cannot take', () => {
    const { histogram } = setUp();
    expect(() => histogram.observe(0.1)).toThrow('http_request_duration_seconds has labels {method,endpoint,status}, not {}');
    expect(() => histogram.observe({ method: 'GET' }, 0.1)).toThrow('not {method}');
    expect(() => histogram.labels('GET')).toThrow('takes 3 label values (method, endpoint, status), not 1');
    expect(() => histogram.observe(labels, NaN)).toThrow('NaN is not a duration');
  });
});

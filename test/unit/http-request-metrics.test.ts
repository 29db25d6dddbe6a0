import { Registry } from 'prom-client';
import { Exposition } from '../../src/metrics/exposition';
import { HttpRequestMetrics, methodLabel } from '../../src/metrics/http-request-metrics';
import { sampleValue } from '../support/http';
import { scrapeRegistry as scrape } from '../support/metrics';

describe('HttpRequestMetrics', () => {
  it('counts requests per method, route template and status with cumulative buckets', async () => {
    const registry = new Registry();
    const metrics = new HttpRequestMetrics(registry);
    const route = metrics.route('/api/v1/devices/:id');
    expect(metrics.route('/api/v1/devices/:id')).toBe(route);
    for (const seconds of [0.001, 0.02, 0.3, 20]) {
      route.begin('GET');
      route.end('GET', 200, seconds);
    }
    route.begin('POST');
    route.end('POST', 404, 0.004);
    const samples = await scrape(registry);
    const labels = { method: 'GET', endpoint: '/api/v1/devices/:id', status: '200' };
    expect(sampleValue(samples, 'http_requests_total', labels)).toBe(4);
    expect(sampleValue(samples, 'http_requests_total', { method: 'POST', status: '404' })).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '0.005' })).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '0.025' })).toBe(2);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '0.5' })).toBe(3);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '10' })).toBe(3);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4);
    expect(sampleValue(samples, 'http_request_duration_seconds_count', labels)).toBe(4);
    expect(sampleValue(samples, 'http_request_duration_seconds_sum', labels)).toBeCloseTo(20.321);
    expect(sampleValue(samples, 'http_requests_in_progress', { method: 'GET', endpoint: '/api/v1/devices/:id' })).toBe(0);
  });

  it('tracks in-progress requests and returns to 0 after aborts, which are not counted as answered', async () => {
    const registry = new Registry();
    const route = new HttpRequestMetrics(registry).route('/metrics');
    route.begin('GET');
    route.begin('GET');
    expect(sampleValue(await scrape(registry), 'http_requests_in_progress', { method: 'GET' })).toBe(2);
    route.abort('GET');
    route.end('GET', 200, 0.001);
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'http_requests_in_progress', { method: 'GET' })).toBe(0);
    expect(sampleValue(samples, 'http_requests_total', { method: 'GET' })).toBe(1);
  });

  it('renders the same samples as its structured values describe', async () => {
    const registry = new Registry();
    const metrics = new HttpRequestMetrics(registry);
    const devices = metrics.route('/api/v1/devices/:id');
    const odd = metrics.route('/odd/"quoted"\\path');
    for (const [recorder, method, status, seconds] of [[devices, 'GET', 200, 0.003], [devices, 'GET', 500, 2], [odd, 'POST', 404, 0.2], [devices, 'GET', 200, 0.04]] as const) {
      recorder.begin(method);
      recorder.end(method, status, seconds);
    }
    const exposition = new Exposition(registry);
    const rendered = await exposition.readFamilies(() => undefined);
    const fromValues = rendered.map(({ name, help, type, values }) => ({ name, help, type, values }));
    for (const format of ['prometheus', 'openmetrics'] as const) expect(exposition.serialize(rendered, format)).toBe(exposition.serialize(fromValues, format));

    // Rendered text is kept between scrapes: a request ended since must show in the next one.
    devices.begin('GET');
    devices.end('GET', 200, 0.001);
    const labels = { method: 'GET', endpoint: '/api/v1/devices/:id', status: '200' };
    const samples = await scrape(registry);
    expect(sampleValue(samples, 'http_requests_total', labels)).toBe(3);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '0.005' })).toBe(2);
  });

  it('bounds the method label', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('BREW')).toBe('OTHER');
  });
});

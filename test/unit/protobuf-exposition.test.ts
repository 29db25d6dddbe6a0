import 'reflect-metadata';
import { createRegistry } from '../../src/metrics/registry';
import { queryMetricsFor } from '../../src/db/instrumented-pool';
import { Exposition, negotiateFormat } from '../../src/metrics/exposition';
import { HttpRequestMetrics } from '../../src/metrics/http-request-metrics';
import { NativeHistogram } from '../../src/metrics/native-histogram';
import { ProtobufEncoder } from '../../src/metrics/protobuf-exposition';

const encodeProtobuf = (families: Parameters<ProtobufEncoder['encode']>[0]) => new ProtobufEncoder().encode(families);
import { SnapshotFamily } from '../../src/metrics/snapshot-family';
import { parseExposition } from '../support/http';
import { decodeMetricFamilies, nativeBuckets, type DecodedFamily } from '../support/protobuf-decoder';

const TYPE_NAMES = ['counter', 'gauge', 'summary', 'untyped', 'histogram'];
const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** The text samples a decoded family stands for, as `name{labels}` → value (labels sorted). */
function textSamplesOf(family: DecodedFamily): Map<string, number> {
  const samples = new Map<string, number>();
  const key = (name: string, labels: Record<string, string>) => {
    const pairs = Object.keys(labels).sort().map((label) => `${label}="${labels[label]}"`);
    return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
  };
  for (const metric of family.metrics) {
    if (metric.counter !== undefined) samples.set(key(family.name, metric.labels), metric.counter);
    if (metric.gauge !== undefined) samples.set(key(family.name, metric.labels), metric.gauge);
    if (metric.histogram) {
      for (const { upperBound, cumulativeCount } of metric.histogram.buckets) samples.set(key(`${family.name}_bucket`, { ...metric.labels, le: String(upperBound) }), cumulativeCount);
      samples.set(key(`${family.name}_bucket`, { ...metric.labels, le: '+Inf' }), metric.histogram.count);
      samples.set(key(`${family.name}_sum`, metric.labels), metric.histogram.sum);
      samples.set(key(`${family.name}_count`, metric.labels), metric.histogram.count);
    }
    if (metric.summary) {
      for (const { quantile, value } of metric.summary.quantiles) samples.set(key(family.name, { ...metric.labels, quantile: String(quantile) }), value);
      samples.set(key(`${family.name}_sum`, metric.labels), metric.summary.sum);
      samples.set(key(`${family.name}_count`, metric.labels), metric.summary.count);
    }
  }
  return samples;
}

/** Text samples with their labels sorted, as textSamplesOf writes them. */
function sortedTextSamples(text: string): Map<string, number> {
  const sorted = new Map<string, number>();
  for (const [series, value] of parseExposition(text).samples) {
    const brace = series.indexOf('{');
    if (brace < 0) {
      sorted.set(series, value);
      continue;
    }
    const pairs = series.slice(brace + 1, -1).match(/[a-zA-Z_]+="(?:[^"\\]|\\.)*"/g)!.sort();
    sorted.set(`${series.slice(0, brace)}{${pairs.join(',')}}`, value);
  }
  return sorted;
}

describe('the protobuf exposition', () => {
  const registry = createRegistry();
  const requests = new HttpRequestMetrics(registry);
  const queries = queryMetricsFor(registry);
  new SnapshotFamily('redis_keys_total', 'Keys', 'gauge', [], registry).replace([{ value: 7, labels: {} }]);
  const route = requests.route('/api/v1/devices/:id');
  for (const seconds of [0.0004, 0.003, 0.003, 0.02, 0.7, 3]) {
    route.begin('GET');
    route.end('GET', 200, seconds);
  }
  route.begin('POST');
  route.end('POST', 500, 0);
  queries.begin('SELECT 1')();
  const exposition = new Exposition(registry);

  it('case 2a: round-trips every family of the registry, with the samples the text format has', async () => {
    const families = await exposition.readFamilies((name, error) => {
      throw new Error(`${name}: ${String(error)}`);
    });
    const decoded = decodeMetricFamilies(encodeProtobuf(families));
    const text = exposition.serialize(families, 'prometheus');
    const textTypes = parseExposition(text).type;
    expect(decoded.map(({ name }) => name)).toEqual([...textTypes.keys()]);
    const expected = sortedTextSamples(text);
    const actual = new Map<string, number>();
    for (const family of decoded) {
      expect(TYPE_NAMES[family.type]).toBe(textTypes.get(family.name));
      expect(family.help).toBe(families.find(({ name }) => name === family.name)!.help);
      for (const [series, value] of textSamplesOf(family)) actual.set(series, value);
    }
    // le="0.005" in text, 0.005 as a double: compare bucket bounds as numbers.
    const normalize = (samples: Map<string, number>) => new Map([...samples].map(([series, value]) => [series.replace(/le="([^"]+)"/, (_, le: string) => `le="${le === '+Inf' ? '+Inf' : Number(le)}"`), value]));
    expect(normalize(actual)).toEqual(normalize(expected));
    expect(decoded.some((family) => family.name === 'nodejs_gc_duration_seconds' || family.name === 'process_cpu_seconds_total')).toBe(true);
  });

  it('case 2b: the request and query durations carry a native histogram of schema 3 beside their classic buckets', async () => {
    const decoded = decodeMetricFamilies(encodeProtobuf(await exposition.readFamilies(() => undefined)));
    const durations = decoded.find(({ name }) => name === 'http_request_duration_seconds')!;
    const get200 = durations.metrics.find(({ labels }) => labels.status === '200')!.histogram!;
    expect(get200).toMatchObject({ count: 6, schema: 3, zeroThreshold: 2 ** -128, zeroCount: 0 });
    expect(get200.buckets.length).toBe(11); // the classic buckets, +Inf left to the count
    const buckets = nativeBuckets(get200);
    expect([...buckets.values()].reduce((a, b) => a + b, 0)).toBe(6);
    // 0.003 s: 2^((i-1)/8) < 0.003 <= 2^(i/8) → i = ceil(8·log2 0.003) = -67.
    expect(buckets.get(-67)).toBe(2);
    for (const [index, count] of buckets) {
      if (count > 0) expect([0.0004, 0.003, 0.02, 0.7, 3].some((seconds) => 2 ** ((index - 1) / 8) < seconds && seconds <= 2 ** (index / 8))).toBe(true);
    }
    const post500 = durations.metrics.find(({ labels }) => labels.status === '500')!.histogram!;
    expect(post500).toMatchObject({ count: 1, zeroCount: 1, positiveSpans: [] });
    const queryDurations = decoded.find(({ name }) => name === 'database_query_duration_seconds')!;
    const select = queryDurations.metrics.find(({ labels }) => labels.operation === 'select')!.histogram!;
    expect(select.schema).toBe(3);
    expect([...nativeBuckets(select).values()].reduce((a, b) => a + b, 0) + select.zeroCount!).toBe(select.count);
    expect(select.count).toBe(1);
  });

  it('case 2c: negotiation picks protobuf only when the scraper prefers it', () => {
    expect(negotiateFormat(`${PROTOBUF_ACCEPT};q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1`)).toBe('protobuf');
    expect(negotiateFormat(`${PROTOBUF_ACCEPT},application/openmetrics-text;version=1.0.0;q=0.8`)).toBe('protobuf');
    expect(negotiateFormat(`${PROTOBUF_ACCEPT};q=0.5,application/openmetrics-text;version=1.0.0`)).toBe('openmetrics');
    expect(negotiateFormat('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text')).toBe('prometheus');
    expect(negotiateFormat(`${PROTOBUF_ACCEPT};q=0`)).toBe('prometheus');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).toBe('openmetrics');
  });
});

describe('NativeHistogram', () => {
  it('case 2d: spans leave out long runs of empty buckets and keep short ones as zero deltas', () => {
    const histogram = new NativeHistogram();
    // Buckets 0 (1), 1 (2^(1/8)), 3, and 20: a gap of one bucket, then a gap of 16.
    for (const value of [1, 2 ** (1 / 8), 2 ** (1 / 8), 2 ** (3 / 8), 2 ** (20 / 8)]) histogram.observe(value);
    expect(histogram.positiveBuckets()).toEqual({ spans: [{ offset: 0, length: 4 }, { offset: 16, length: 1 }], deltas: [1, 1, -2, 1, 0] });
  });
});

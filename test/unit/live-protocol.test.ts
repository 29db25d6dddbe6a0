import { parseClientMessage, parseSourcesQuery, serializeResult } from '../../src/live/protocol';

const KNOWN = ['system', 'redis', 'mqtt'];

describe('serializeResult', () => {
  it('writes a success as source, timestamp, up and the samples with their labels', () => {
    const message = serializeResult({
      source: 'system',
      timestamp: 1764000000000,
      durationSeconds: 0.01,
      ok: true,
      samples: [{ name: 'system_cpu_usage_percent', value: 12.5 }, { name: 'system_load_average', labels: { period: '1m' }, value: 0.5 }],
    });
    expect(JSON.parse(message)).toEqual({
      source: 'system',
      timestamp: 1764000000000,
      up: true,
      metrics: [
        { name: 'system_cpu_usage_percent', labels: {}, value: 12.5 },
        { name: 'system_load_average', labels: { period: '1m' }, value: 0.5 },
      ],
    });
  });

  it("names a histogram's samples by their own names (_bucket, _sum, _count)", () => {
    const samples = [
      { name: 'pg_latency', metricName: 'pg_latency_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'pg_latency', metricName: 'pg_latency_sum', value: 2.5 },
    ];
    const message = JSON.parse(serializeResult({ source: 'database', timestamp: 1764000000000, durationSeconds: 0.01, ok: true, samples }));
    expect(message.metrics).toEqual([
      { name: 'pg_latency_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'pg_latency_sum', labels: {}, value: 2.5 },
    ]);
  });

  it('writes a failure as up:false with its (already redacted) error', () => {
    const message = serializeResult({ source: 'redis', timestamp: 1, durationSeconds: 0, ok: false, error: 'connect ECONNREFUSED' });
    expect(JSON.parse(message)).toEqual({ source: 'redis', timestamp: 1, up: false, error: 'connect ECONNREFUSED' });
  });
});

describe('parseClientMessage', () => {
  it.each([
    ['{"subscribe":["mqtt"]}', { subscribe: ['mqtt'], unsubscribe: [] }],
    ['{"unsubscribe":["redis"]}', { subscribe: [], unsubscribe: ['redis'] }],
    ['{"subscribe":["mqtt"],"unsubscribe":["redis","system"]}', { subscribe: ['mqtt'], unsubscribe: ['redis', 'system'] }],
    ['{"subscribe":[]}', { subscribe: [], unsubscribe: [] }],
  ])('%s', (text, change) => {
    expect(parseClientMessage(text, KNOWN)).toEqual(change);
  });

  it.each([
    ['hello', 'messages must be JSON'],
    ['', 'messages must be JSON'],
    ['["mqtt"]', 'must be an object'],
    ['null', 'must be an object'],
    ['{}', 'must be an object with "subscribe" and/or "unsubscribe"'],
    ['{"subscribe":["mqtt"],"extra":1}', 'not "extra"'],
    ['{"subscribe":"mqtt"}', '"subscribe" must be an array of source names'],
    ['{"unsubscribe":[1]}', '"unsubscribe" must be an array of source names'],
    ['{"subscribe":["kafka"]}', 'unknown source "kafka"; this exporter collects system, redis, mqtt'],
  ])('%j → %s', (text, error) => {
    const parsed = parseClientMessage(text, KNOWN);
    expect('error' in parsed && parsed.error).toContain(error);
  });

  it('does not echo a long unknown name whole', () => {
    const parsed = parseClientMessage(JSON.stringify({ subscribe: ['x'.repeat(3000)] }), KNOWN);
    expect('error' in parsed && parsed.error.length).toBeLessThan(200);
  });
});

describe('parseSourcesQuery', () => {
  it('is every known source without the parameter or with it empty', () => {
    expect(parseSourcesQuery('', KNOWN)).toEqual(KNOWN);
    expect(parseSourcesQuery('other=1&sources=', KNOWN)).toEqual(KNOWN);
  });

  it('reads a comma-separated list, encoded or not, without duplicates', () => {
    expect(parseSourcesQuery('sources=system,redis', KNOWN)).toEqual(['system', 'redis']);
    expect(parseSourcesQuery('sources=system%2Credis,system', KNOWN)).toEqual(['system', 'redis']);
  });

  it('names an unknown source', () => {
    expect(parseSourcesQuery('sources=system,kafka', KNOWN)).toEqual({ error: 'unknown source "kafka"; this exporter collects system, redis, mqtt' });
  });
});

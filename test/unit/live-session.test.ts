import { Registry } from 'prom-client';
import { LiveMetrics } from '../../src/live/live-metrics';
import { HttpRequestMetrics } from '../../src/metrics/http-request-metrics';
import { LivePublisher } from '../../src/live/publisher';
import { BadMessageAllowance } from '../../src/live/bad-messages';
import { SKIPS_BEFORE_CLOSE, LiveSession } from '../../src/live/stream-route';
import { RecordingTransport, RecordingClient, source, result, metricValue, INTERVAL_MS } from '../support/live-recording';

describe('LivePublisher and LiveSession', () => {
  let now: number;
  const clock = { monotonicMs: () => now };
  let registry: Registry;
  let transport: RecordingTransport;
  let publisher: LivePublisher;
  let metrics: LiveMetrics;
  let client: RecordingClient;
  let session: LiveSession;
  const newSession = (on: RecordingClient) => new LiveSession(on, publisher, metrics, 1000, new BadMessageAllowance(clock, INTERVAL_MS));

  beforeEach(() => {
    now = 0;
    registry = new Registry();
    transport = new RecordingTransport();
    metrics = new LiveMetrics(registry, transport);
    publisher = new LivePublisher(transport, [source('system'), source('redis')], metrics, new HttpRequestMetrics(registry));
    client = new RecordingClient();
    session = newSession(client);
  });

  it('serializes each result once, publishes it under its source topic and keeps it as the latest', () => {
    publisher.apply(result('system', 1));
    publisher.apply(result('system', 2));
    expect(transport.published.map(([topic]) => topic)).toEqual(['source/system', 'source/system']);
    expect(JSON.parse(publisher.latest('system')!.message).metrics[0].value).toBe(2);
    expect(publisher.latest('redis')).toBeUndefined();
  });

  it('publishes nothing while no client is connected, and serializes the latest when a client asks', () => {
    const alone = new LivePublisher(transport, [source('system')], new LiveMetrics(new Registry(), transport), new HttpRequestMetrics(new Registry()));
    alone.apply(result('system', 4));
    expect(transport.published).toEqual([]);
    expect(JSON.parse(alone.latest('system')!.message).metrics[0].value).toBe(4);
  });

  it('adds the exporter\'s http_requests_total (every method, route and status) to the app source\'s messages only', () => {
    const requests = new HttpRequestMetrics(new Registry());
    const withApp = new LivePublisher(transport, [source('app'), source('system')], metrics, requests);
    const metricsRoute = requests.route('/metrics');
    metricsRoute.begin('GET');
    metricsRoute.end('GET', 200, 0.01);
    metricsRoute.begin('GET');
    metricsRoute.end('GET', 401, 0.001);
    withApp.apply(result('app', 1));
    withApp.apply(result('system', 2));
    expect(JSON.parse(withApp.latest('app')!.message).metrics).toEqual([
      { name: 'app_value', labels: {}, value: 1 },
      { name: 'http_requests_total', labels: { method: 'GET', endpoint: '/metrics', status: '200' }, value: 1 },
      { name: 'http_requests_total', labels: { method: 'GET', endpoint: '/metrics', status: '401' }, value: 1 },
    ]);
    expect(JSON.parse(withApp.latest('system')!.message).metrics).toEqual([{ name: 'system_value', labels: {}, value: 2 }]);
  });

  it('gives a new subscription the latest message of each source at once', async () => {
    publisher.apply(result('system', 7));
    session.subscribe(['system', 'redis']);
    expect([...client.topics]).toEqual(['source/system', 'source/redis']);
    expect(client.sent.map((message) => JSON.parse(message).source)).toEqual(['system']); // redis: nothing collected yet
    expect(await metricValue(registry, 'stream_clients')).toBe(1);
  });

  it('follows subscribe and unsubscribe messages and answers a bad one without closing', () => {
    publisher.apply(result('redis', 3));
    session.subscribe(['system']);
    session.received('{"unsubscribe":["system"],"subscribe":["redis"]}', false);
    expect([...client.topics]).toEqual(['source/redis']);
    expect(JSON.parse(client.sent[0]).source).toBe('redis');
    session.received('{"subscribe":["kafka"]}', false);
    now += INTERVAL_MS; // One answer per collection interval: see the flooding client below.
    session.received('not json', false);
    expect(client.sent.slice(1).map((message) => JSON.parse(message).error)).toEqual([
      expect.stringContaining('unknown source "kafka"'),
      expect.stringContaining('messages must be JSON'),
    ]);
    expect([...client.topics]).toEqual(['source/redis']);
    expect(client.closedWith).toBeUndefined();
  });

  it('closes on a binary or oversized message, counted as a protocol disconnect', async () => {
    session.received('{}', true);
    expect(client.closedWith).toEqual([1003, expect.stringContaining('binary')]);
    session.closed(1003, '');
    const other = new RecordingClient();
    const second = newSession(other);
    second.received(JSON.stringify({ subscribe: ['system'], pad: 'x'.repeat(5000) }), false);
    expect(other.closedWith).toEqual([1009, 'messages are at most 4096 bytes']);
    second.closed(1009, '');
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'protocol' })).toBe(2);
    expect(await metricValue(registry, 'stream_clients')).toBe(0);
  });

  it('counts uWS ending a connection over bad input as protocol, anything else as the client leaving', async () => {
    session.closed(1006, 'Received invalid UTF-8');
    newSession(new RecordingClient()).closed(1006, '');
    newSession(new RecordingClient()).closed(1000, 'bye');
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'protocol' })).toBe(1);
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'client' })).toBe(2);
  });

  it('drops messages for a client that is behind, counts them, and closes it once it stays behind', async () => {
    expect(session.admits(999)).toBe(true);
    for (let i = 1; i < SKIPS_BEFORE_CLOSE; i++) expect(session.admits(1000)).toBe(false);
    expect(session.admits(0)).toBe(true); // caught up: the count starts again
    expect(client.closedWith).toBeUndefined();
    for (let i = 0; i < SKIPS_BEFORE_CLOSE; i++) session.admits(5000);
    expect(client.terminated).toBe(true);
    session.closed(1006, '');
    expect(await metricValue(registry, 'stream_messages_dropped_total')).toBe(2 * SKIPS_BEFORE_CLOSE - 1);
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'slow' })).toBe(1);
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'client' })).toBe(0);
  });

  it('case 9: subscribe frames send at most one snapshot per source per collection', () => {
    publisher.apply(result('system', 1));
    session.subscribe(['system']);
    session.received('{"subscribe":["system","system","system"]}', false); // already subscribed
    session.received('{"unsubscribe":["system"]}', false);
    session.received('{"subscribe":["system"]}', false); // this collection's snapshot was sent already
    expect(client.sent).toHaveLength(1);
    expect(client.topics.has('source/system')).toBe(true);
    publisher.apply(result('system', 2));
    session.received('{"unsubscribe":["system"]}', false);
    session.received('{"subscribe":["system"]}', false); // a newer collection: its snapshot
    expect(client.sent.map((message) => JSON.parse(message).metrics[0].value)).toEqual([1, 2]);
  });

  it('does not send a snapshot to a client that is behind', () => {
    publisher.apply(result('system', 1));
    client.backlog = 4096;
    session.subscribe(['system']);
    expect(client.topics.has('source/system')).toBe(true);
    expect(client.sent).toEqual([]);
  });
});

import { Registry } from 'prom-client';
import { LiveMetrics } from '../../src/live/live-metrics';
import { HttpRequestMetrics } from '../../src/metrics/http-request-metrics';
import { LivePublisher } from '../../src/live/publisher';
import { BadMessageAllowance, MAX_BAD_MESSAGES_PER_INTERVAL } from '../../src/live/bad-messages';
import { LiveSession } from '../../src/live/stream-route';
import { RecordingTransport, RecordingClient, source, result, metricValue, INTERVAL_MS } from '../support/live-recording';

describe('a stream client flooding messages it may not send', () => {
  let now: number;
  let registry: Registry;
  let publisher: LivePublisher;
  let client: RecordingClient;
  let session: LiveSession;

  beforeEach(() => {
    now = 0;
    registry = new Registry();
    const transport = new RecordingTransport();
    const metrics = new LiveMetrics(registry, transport);
    publisher = new LivePublisher(transport, [source('system')], metrics, new HttpRequestMetrics(registry));
    client = new RecordingClient();
    session = new LiveSession(client, publisher, metrics, 1000, new BadMessageAllowance({ monotonicMs: () => now }, INTERVAL_MS));
  });

  it('gets one error answer per collection interval, however many it sends', () => {
    for (let i = 0; i < MAX_BAD_MESSAGES_PER_INTERVAL; i++) session.received(i % 2 ? 'not json' : '{"subscribe":["kafka"]}', false);
    expect(client.sent.map((message) => JSON.parse(message).error)).toEqual([expect.stringContaining('unknown source "kafka"')]);
    now += INTERVAL_MS;
    session.received('not json', false);
    expect(client.sent).toHaveLength(2);
    expect(JSON.parse(client.sent[1]).error).toContain('messages must be JSON');
    expect(client.closedWith).toBeUndefined();
  });

  it(`is closed with 1008 past ${MAX_BAD_MESSAGES_PER_INTERVAL} in one interval, counted as a policy disconnect`, async () => {
    for (let i = 0; i < MAX_BAD_MESSAGES_PER_INTERVAL; i++) session.received('not json', false);
    expect(client.closedWith).toBeUndefined();
    session.received('not json', false);
    expect(client.closedWith).toEqual([1008, `more than ${MAX_BAD_MESSAGES_PER_INTERVAL} unusable messages within one collection interval`]);
    session.received('not json', false); // Arriving before the close completes: nothing more is sent.
    session.closed(1008, '');
    expect(client.sent).toHaveLength(1);
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'policy' })).toBe(1);
    expect(await metricValue(registry, 'stream_clients_disconnected_total', { reason: 'protocol' })).toBe(0);
  });

  it('starts counting again in each interval: a slow trickle of bad messages is answered and never closed', () => {
    for (let interval = 0; interval < 5; interval++) {
      for (let i = 0; i < MAX_BAD_MESSAGES_PER_INTERVAL; i++) session.received('not json', false);
      now += INTERVAL_MS;
    }
    expect(client.sent).toHaveLength(5);
    expect(client.closedWith).toBeUndefined();
  });

  it('good messages are not counted against it', () => {
    publisher.apply(result('system', 1));
    for (let i = 0; i < 3 * MAX_BAD_MESSAGES_PER_INTERVAL; i++) session.received(i % 2 ? '{"unsubscribe":["system"]}' : '{"subscribe":["system"]}', false);
    expect(client.closedWith).toBeUndefined();
    expect(client.sent).toHaveLength(1); // The snapshot, once in this collection.
  });
});

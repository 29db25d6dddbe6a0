import { sampleValue } from '../support/http';
import { readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { eventually, startService, type RunningService } from '../support/service';
import { maskedTextFrame, openRawStream, portSendQueues, serverCloseCode, type RawStreamClient } from '../support/websocket';

const CLIENTS = 50;
const FRAMES_PER_CLIENT = 10_000;
/** What the server may still hold for a client it closed: a snapshot of `app`, one error, the close frame. */
const QUEUE_BOUND_PER_CLIENT = 4096;

describe('stream clients that flood bad frames and never read', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '2', METRICS_RATE_LIMIT: '0', STREAM_MAX_CLIENTS_PER_ADDRESS: String(CLIENTS) });
    await waitUntilUp(service, 'app');
  });

  afterAll(() => service.stop());

  it(`${CLIENTS} clients each sending ${FRAMES_PER_CLIENT} unusable frames leave only a few KB of send queue each, and are closed with 1008 (policy)`, async () => {
    const clients: RawStreamClient[] = [];
    try {
      clients.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => openRawStream(service.port, 'sources=app')))));
      // Malformed JSON and unknown sources, alternately, each a message the server answers with an error.
      const flood = Buffer.concat(Array.from({ length: FRAMES_PER_CLIENT }, (_, i) => maskedTextFrame(i % 2 ? 'not json' : '{"subscribe":["kafka"]}')));
      for (const client of clients) client.socket.write(flood);

      await waitForMetric(service, 'stream_clients_disconnected_total', { reason: 'policy' }, (value) => (value ?? 0) >= CLIENTS, `the ${CLIENTS} clients to be closed as policy violations`, 300, 100);
      // The server's sockets of this port: what the clients never read is all it can still hold for them.
      const queues = await eventually(() => {
        const sizes = portSendQueues(service.port);
        return sizes.every((size) => size <= QUEUE_BOUND_PER_CLIENT) ? sizes : undefined;
      }, 'the send queues to settle', 50, 100).catch(() => portSendQueues(service.port));
      const total = queues.reduce((sum, size) => sum + size, 0);
      process.stdout.write(`flood: ${CLIENTS} clients x ${FRAMES_PER_CLIENT} bad frames: server port Send-Q ${total} B in all, largest ${Math.max(0, ...queues)} B, over ${queues.length} sockets\n`);
      expect(Math.max(0, ...queues)).toBeLessThanOrEqual(QUEUE_BOUND_PER_CLIENT);
      expect(total).toBeLessThanOrEqual(CLIENTS * QUEUE_BOUND_PER_CLIENT);

      const codes = await Promise.all(clients.map((client) => serverCloseCode(client.socket)));
      expect(codes).toEqual(Array(CLIENTS).fill(1008));
      const samples = await readSamples(service);
      expect(sampleValue(samples, 'stream_clients_disconnected_total', { reason: 'policy' })).toBe(CLIENTS);
      expect(sampleValue(samples, 'stream_clients')).toBe(0);
    } finally {
      for (const client of clients) client.socket.destroy();
    }
  }, 120_000);

});

import { defer, of } from 'rxjs';
import { TYPES } from '../../src/tokens';
import type { MetricSource, Sample } from '../../src/source';
import { get, sampleValue } from '../support/http';
import { readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { eventually, type RunningService, serviceOn } from '../support/service';
import { ENGINES } from '../support/engines';
import { kernelTcpMemoryBytes, nextMatching, portSendQueueBytes, openRawStream, openStream, type RawStreamClient, type StreamClient } from '../support/websocket';

const timestampOf = (message: Record<string, unknown>) => message.timestamp as number;

/** A second small source beside `app`, so the tests depend on no external service. */
const tickSource: MetricSource = {
  name: 'tick',
  metrics: [{ name: 'tick_value', help: 'test source', type: 'gauge' }],
  collect: () => defer(() => of([{ name: 'tick_value', value: Date.now() }])),
};

describe.each(ENGINES)('on the %s engine', (engine) => {
  const start = serviceOn(engine);

  describe('GET /stream', () => {
    let service: RunningService;

    beforeAll(async () => {
      // 200 upgrades from one address at once: past the default rate limit, which has its own test.
      service = await start({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0', STREAM_MAX_CLIENTS_PER_ADDRESS: '200' }, (container) => {
        container.bind(TYPES.MetricSource).toConstantValue(tickSource);
      });
      await waitUntilUp(service, 'app');
      await waitUntilUp(service, 'tick');
    });

    afterAll(() => service.stop());

    it('sends the latest snapshot at once, then one message per collection', async () => {
      const client = await openStream(service.port, 'sources=app');
      try {
        const snapshot = await client.next();
        expect(snapshot).toMatchObject({ source: 'app', up: true });
        const names = (snapshot.metrics as Array<{ name: string; labels: Record<string, string>; value: number }>).map((metric) => metric.name);
        expect(names).toEqual(expect.arrayContaining(['app_info', 'app_uptime_seconds', 'app_start_time_seconds']));
        const tick = await client.next();
        expect(tick).toMatchObject({ source: 'app', up: true });
        expect(timestampOf(tick)).toBeGreaterThan(timestampOf(snapshot));
        expect(client.pending.filter((message) => message.source !== 'app')).toEqual([]);
      } finally {
        client.socket.close();
      }
    });

    it('subscribes to every source without the parameter, and follows subscribe/unsubscribe messages', async () => {
      const client = await openStream(service.port);
      try {
        const snapshots = [await client.next(), await client.next()];
        expect(snapshots.map((message) => message.source).sort()).toEqual(['app', 'tick']);

        client.socket.send(JSON.stringify({ unsubscribe: ['app'] }));
        // Messages are handled in order: once the answer to this bad one arrives, app is unsubscribed.
        client.socket.send('not json');
        await nextMatching(client, (message) => typeof message.error === 'string');
        const afterwards = await nextMatching(client, (message) => message.source === 'tick');
        await nextMatching(client, (message) => message.source === 'tick');
        expect(afterwards.concat(client.pending).filter((message) => message.source === 'app')).toEqual([]);

        client.socket.send(JSON.stringify({ subscribe: ['app'] }));
        const resubscribed = await nextMatching(client, (message) => message.source === 'app');
        expect(resubscribed.at(-1)).toMatchObject({ source: 'app', up: true });
      } finally {
        client.socket.close();
      }
    });

    it('answers a plain GET with 426 and an unknown source with 400, both counted', async () => {
      const plain = await get(service.port, '/stream');
      expect(plain.status).toBe(426);
      expect(plain.headers.get('upgrade')).toBe('websocket');
      await expect(openStream(service.port, 'sources=app,kafka')).rejects.toMatchObject({ status: 400 });
      const samples = await readSamples(service);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/stream', status: '426' })).toBe(1);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/stream', status: '400' })).toBe(1);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/stream', status: '101' })).toBeGreaterThanOrEqual(2);
    });

    it('closes a client over a binary (1003) or oversized (1009) message, and goes on', async () => {
      const binary = await openStream(service.port, 'sources=app');
      binary.socket.send(Buffer.from([1, 2, 3]));
      expect(await binary.closed).toEqual({ code: 1003, reason: expect.stringContaining('binary') });

      const oversized = await openStream(service.port, 'sources=app');
      oversized.socket.send(JSON.stringify({ subscribe: ['app'], padding: 'x'.repeat(10_000) }));
      expect(await oversized.closed).toEqual({ code: 1009, reason: 'messages are at most 4096 bytes' });

      const huge = await openStream(service.port, 'sources=app');
      huge.socket.send('x'.repeat(200_000)); // Past the engine's own limit: it drops the connection at once.
      // uWS sends no close frame (1006); ws has written its 1009 before the connection drops.
      expect([1006, 1009]).toContain((await huge.closed).code);

      const after = await openStream(service.port, 'sources=app');
      expect(await after.next()).toMatchObject({ source: 'app' });
      after.socket.close();
      await waitForMetric(service, 'stream_clients_disconnected_total', { reason: 'protocol' }, (value) => (value ?? 0) >= 3, 'three protocol disconnects');
    });

    it('serves 200 clients at once: every one gets the next collection', async () => {
      const clients: StreamClient[] = [];
      try {
        for (let batch = 0; batch < 4; batch++) {
          clients.push(...(await Promise.all(Array.from({ length: 50 }, () => openStream(service.port, 'sources=app')))));
        }
        const snapshots = await Promise.all(clients.map((client) => client.next()));
        const newest = Math.max(...snapshots.map(timestampOf));
        const ticks = await Promise.all(clients.map((client) => nextMatching(client, (message) => timestampOf(message) > newest)));
        const tickTimestamps = new Set(ticks.map((seen) => timestampOf(seen.at(-1)!)));
        // All got a collection newer than every snapshot; most likely the very same one.
        expect(ticks).toHaveLength(200);
        expect(tickTimestamps.size).toBeLessThanOrEqual(2);
        expect(sampleValue(await readSamples(service), 'stream_clients')).toBe(200);
      } finally {
        for (const client of clients) client.socket.close();
      }
      await waitForMetric(service, 'stream_clients', {}, (value) => value === 0, 'the 200 clients to be gone');
    });
  });

  describe('stream client caps', () => {
    it('case 9: refuses clients past STREAM_MAX_CLIENTS_PER_ADDRESS and STREAM_MAX_CLIENTS with 503, counted; a freed slot is taken again', async () => {
      const service = await start({ SOURCES: 'app', METRICS_RATE_LIMIT: '0', STREAM_MAX_CLIENTS: '3', STREAM_MAX_CLIENTS_PER_ADDRESS: '2' });
      const from = (localAddress: string) => openStream(service.port, 'sources=app', { localAddress });
      const clients: StreamClient[] = [];
      try {
        clients.push(await from('127.0.0.1'), await from('127.0.0.1'));
        await expect(from('127.0.0.1')).rejects.toMatchObject({ status: 503 });
        clients.push(await from('127.0.0.2'));
        await expect(from('127.0.0.3')).rejects.toMatchObject({ status: 503 });
        const samples = await readSamples(service);
        expect(sampleValue(samples, 'stream_clients_rejected_total', { reason: 'address' })).toBe(1);
        expect(sampleValue(samples, 'stream_clients_rejected_total', { reason: 'total' })).toBe(1);
        expect(sampleValue(samples, 'http_requests_total', { endpoint: '/stream', status: '503' })).toBe(2);
        clients.shift()!.socket.close();
        await waitForMetric(service, 'stream_clients', {}, (value) => value === 2, 'a client to be gone');
        clients.push(await from('127.0.0.1'));
      } finally {
        for (const client of clients) client.socket.close();
        await service.stop();
      }
    });
  });

  describe('a stream client that does not read', () => {
    /** ~300 kB a collection, five collections a second: enough to fill the kernel's socket buffers within seconds. */
    const bulkSource: MetricSource = {
      name: 'bulk',
      metrics: [{ name: 'bulk_value', help: 'test filler', type: 'gauge', labelNames: ['series'] }],
      collect: () => defer(() => of(Array.from({ length: 3000 }, (_, i): Sample => ({ name: 'bulk_value', labels: { series: `series-${i}-${'x'.repeat(50)}` }, value: Math.random() })))),
    };
    const LIMIT = 64 * 1024;
    let service: RunningService;

    beforeAll(async () => {
      service = await start({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '0.2', STREAM_MAX_BUFFER_BYTES: String(LIMIT), METRICS_RATE_LIMIT: '0' }, (container) => {
        container.bind(TYPES.MetricSource).toConstantValue(bulkSource);
      });
      await waitUntilUp(service, 'bulk');
    });

    afterAll(() => service.stop());

    it('gets messages dropped, then is closed as slow, holding at most the limit plus one message; other clients go on', async () => {
      const reader = await openStream(service.port, 'sources=bulk');
      // A client that reads nothing after the upgrade: the kernel's buffers fill, then the server's.
      const stalled = await openRawStream(service.port, 'sources=bulk');
      let readerMessages = 0;
      reader.socket.on('message', () => readerMessages++);

      const messageBytes = Buffer.byteLength(JSON.stringify(await reader.next()));
      let largestBuffered = 0;
      const closed = await eventually(async () => {
        const samples = await readSamples(service);
        largestBuffered = Math.max(largestBuffered, sampleValue(samples, 'stream_buffered_bytes') ?? 0);
        return (sampleValue(samples, 'stream_clients_disconnected_total', { reason: 'slow' }) ?? 0) >= 1 ? samples : undefined;
      }, 'the stalled client to be closed as slow', 600, 50);

      expect(sampleValue(closed, 'stream_messages_dropped_total')).toBeGreaterThanOrEqual(1);
      expect(largestBuffered).toBeGreaterThan(0);
      // Sends stop at the limit: one message may cross it, plus the app source's small one.
      expect(largestBuffered).toBeLessThanOrEqual(LIMIT + messageBytes + 16 * 1024);
      expect(sampleValue(closed, 'stream_clients')).toBe(1);
      const before = readerMessages;
      await eventually(() => (readerMessages > before + 2 ? true : undefined), 'the reading client to keep receiving');
      reader.socket.close();
      stalled.socket.destroy();
    });
    it('case 9: clients that never read and spam subscribe frames are closed hard; the kernel memory they pinned is freed while they keep their sockets', async () => {
      const CLIENTS = 20;
      const slowBefore = sampleValue(await readSamples(service), 'stream_clients_disconnected_total', { reason: 'slow' }) ?? 0;
      const baseline = kernelTcpMemoryBytes();
      const clients: RawStreamClient[] = [];
      let peak = baseline;
      let peakOfPort = 0;
      // The clients go on sending after the server dropped them, as a real client does: each frame
      // that reaches a hard-closed socket is answered with a reset, which frees what it held.
      const spam = setInterval(() => {
        for (const client of clients) if (!client.socket.destroyed) client.sendText(JSON.stringify({ subscribe: ['bulk'] }));
        peak = Math.max(peak, kernelTcpMemoryBytes());
        peakOfPort = Math.max(peakOfPort, portSendQueueBytes(service.port));
      }, 20);
      try {
        clients.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => openRawStream(service.port, 'sources=bulk')))));
        await waitForMetric(service, 'stream_clients_disconnected_total', { reason: 'slow' }, (value) => (value ?? 0) >= slowBefore + CLIENTS, `the ${CLIENTS} clients to be closed as slow`, 600, 50);
        // The test never closes a client: a hard close leaves no send queue behind, where a graceful one
        // kept ~4 MB per client in FIN-WAIT-1 for as long as the client held on. The assertion reads the
        // server port's own queues; /proc/net/sockstat, which counts every process's, is reported beside it.
        const settled = await eventually(() => {
          const held = portSendQueueBytes(service.port);
          return held < CLIENTS * 64 * 1024 ? held : undefined;
        }, 'the kernel to free the closed clients\' send queues', 150, 100).catch(() => portSendQueueBytes(service.port));
        clearInterval(spam);
        process.stdout.write(
          `case 9: server port send queues: peak ${peakOfPort} B, after the close ${settled} B; TCP mem (all sockets) baseline ${baseline} B, peak ${peak} B, now ${kernelTcpMemoryBytes()} B; ${CLIENTS} clients holding their sockets\n`,
        );
        expect(peakOfPort).toBeGreaterThan(CLIENTS * 256 * 1024);
        expect(settled).toBeLessThan(CLIENTS * 64 * 1024);
      } finally {
        clearInterval(spam);
        for (const client of clients) client.socket.destroy();
      }
    });
  });
});

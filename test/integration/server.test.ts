import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { STREAM_SUBPROTOCOL } from '../../src/live/stream-route';
import { readFileSync } from 'node:fs';
import { TYPES } from '../../src/tokens';
import { get, parseExposition, sampleValue } from '../support/http';
import { metricValue, readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { eventually, startService, type RunningService, serviceOn } from '../support/service';
import { ENGINES } from '../support/engines';

/** Catalog rows this suite owns: §5 app and HTTP, §6 collector health. */
const CATALOG_ROWS: Record<string, string> = {
  app_info: 'gauge',
  app_uptime_seconds: 'gauge',
  app_start_time_seconds: 'gauge',
  http_requests_total: 'counter',
  http_request_duration_seconds: 'histogram',
  http_requests_in_progress: 'gauge',
  collector_up: 'gauge',
  collector_duration_seconds: 'gauge',
  collector_errors_total: 'counter',
  collector_last_success_timestamp_seconds: 'gauge',
};

/** A body far larger than the socket buffers of both ends, so most of it waits on the client. */
const LARGE_BODY = Buffer.alloc(48 * 1024 * 1024, 'a body that is not a multiple of a power of two: 0123456789;');

describe.each(ENGINES)('on the %s engine', (engine) => {
  const start = serviceOn(engine);

  describe('HTTP server with the app source', () => {
    let service: RunningService;
    let releaseSlow: () => void = () => undefined;
    let largeReleases = 0;

    beforeAll(async () => {
      service = await start({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '1' }, (container) => {
        // An embedding application's routes: one with a parameter, one that answers late.
        const routes = container.get(TYPES.RouteTable);
        routes.add({ method: 'GET', path: '/api/v1/devices/:id', handler: (request) => ({ status: 200, body: `device ${request.params.id}` }) });
        routes.add({
          method: 'GET',
          path: '/slow',
          handler: () => new Promise((resolve) => (releaseSlow = () => resolve({ status: 200, body: 'late' }))),
        });
        routes.add({ method: 'GET', path: '/large', handler: () => ({ status: 200, body: LARGE_BODY, released: () => void largeReleases++ }) });
      });
      await waitUntilUp(service.port, 'app');
    });

    afterAll(() => service.stop());

    it('serves every catalog row it owns with HELP and TYPE', async () => {
      await get(service.port, '/health');
      const response = await get(service.port, '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const { help, type } = parseExposition(response.body);
      for (const [name, kind] of Object.entries(CATALOG_ROWS)) {
        expect({ name, help: help.has(name), type: type.get(name) }).toEqual({ name, help: true, type: kind });
      }
    });

    it('serves plausible application values', async () => {
      const samples = await readSamples(service.port);
      const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
      expect(sampleValue(samples, 'app_info', { version, runtime: 'nodejs', runtime_version: process.versions.node })).toBe(1);
      const started = sampleValue(samples, 'app_start_time_seconds')!;
      expect(Math.abs(started - Date.now() / 1000)).toBeLessThan(600);
      expect(sampleValue(samples, 'app_uptime_seconds')).toBeGreaterThanOrEqual(0);
      expect(sampleValue(samples, 'collector_errors_total', { source: 'app' })).toBe(0);
    });

    it('answers OpenMetrics when the scraper asks for it', async () => {
      const response = await get(service.port, '/metrics', { Accept: 'application/openmetrics-text; version=1.0.0' });
      expect(response.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(response.body).toContain('# TYPE http_requests counter\n');
      expect(response.body.endsWith('# EOF\n')).toBe(true);
    });

    it('counts requests under their route template, not the raw URL', async () => {
      for (const id of ['1', '2', 'abc']) expect((await get(service.port, `/api/v1/devices/${id}`)).body).toBe(`device ${id}`);
      const samples = await readSamples(service.port);
      expect(sampleValue(samples, 'http_requests_total', { method: 'GET', endpoint: '/api/v1/devices/:id', status: '200' })).toBe(3);
      expect([...samples.keys()].some((series) => series.includes('/api/v1/devices/1'))).toBe(false);
      expect(sampleValue(samples, 'http_request_duration_seconds_count', { endpoint: '/api/v1/devices/:id' })).toBe(3);
    });

    it('counts /metrics itself', async () => {
      const before = (await metricValue(service.port, 'http_requests_total', { endpoint: '/metrics', status: '200' }))!;
      const after = await metricValue(service.port, 'http_requests_total', { endpoint: '/metrics', status: '200' });
      expect(after).toBe(before + 1);
    });

    it('answers unknown URLs with 404 under one fixed endpoint, creating no new series', async () => {
      const httpSeries = (samples: Map<string, number>) => [...samples.keys()].filter((series) => series.startsWith('http_'));
      const seriesCount = async () => httpSeries(await readSamples(service.port)).length;
      await get(service.port, '/warmup-unknown');
      const before = await seriesCount();
      for (let i = 0; i < 50; i++) {
        const response = await get(service.port, `/wp-admin/${i}/.env?x=${i}`);
        expect(response.status).toBe(404);
      }
      const response = await fetch(`http://127.0.0.1:${service.port}/scan`, { method: 'DELETE' });
      expect(response.status).toBe(404);
      const samples = await readSamples(service.port);
      // The DELETE adds its counter, its 14 histogram lines and its in-progress gauge; the 50 GETs add nothing.
      expect(httpSeries(samples)).toHaveLength(before + 1 + 14 + 1);
      expect(sampleValue(samples, 'http_requests_total', { method: 'GET', endpoint: '<unmatched>', status: '404' })).toBe(51);
    });

    it('returns in-progress to 0 after a client aborts a pending request', async () => {
      const inProgress = () => metricValue(service.port, 'http_requests_in_progress', { method: 'GET', endpoint: '/slow' });
      const socket = net.connect(service.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await eventually(async () => ((await inProgress()) === 1 ? true : undefined), 'the slow request to be in progress');
      socket.destroy();
      await eventually(async () => ((await inProgress()) === 0 ? true : undefined), 'in-progress to return to 0 after the abort');
      releaseSlow(); // The handler finishes after the client left: nothing is written, nothing breaks.
      const after = await get(service.port, '/health');
      expect(after.status).toBe(200);
      expect(await inProgress()).toBe(0);
    });

    /** Requests /large on a raw socket that stops reading after its first chunk. */
    async function stalledLargeRequest() {
      const socket = net.connect(service.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (chunks.length === 1) socket.pause();
      });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /large HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await eventually(() => (chunks.length > 0 ? true : undefined), 'the first chunk of /large');
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { socket, chunks, received: () => received };
    }

    it('keeps a large body while a slow client drains it, sends it whole, and only then gives it back', async () => {
      const before = largeReleases;
      const { socket, chunks, received } = await stalledLargeRequest();
      expect(largeReleases).toBe(before); // most of the body still waits on the client
      socket.resume();
      await eventually(() => {
        const head = Buffer.concat(chunks.slice(0, 1)).indexOf('\r\n\r\n');
        return head >= 0 && received() >= head + 4 + LARGE_BODY.length ? true : undefined;
      }, 'all of /large');
      socket.destroy();
      const response = Buffer.concat(chunks);
      const bodyStart = response.indexOf('\r\n\r\n') + 4;
      expect(response.subarray(0, bodyStart).toString()).toContain(`Content-Length: ${LARGE_BODY.length}`);
      expect(response.subarray(bodyStart).equals(LARGE_BODY)).toBe(true);
      expect(largeReleases).toBe(before + 1);
    });

    it('gives a large body back when its client leaves halfway', async () => {
      const before = largeReleases;
      const { socket } = await stalledLargeRequest();
      expect(largeReleases).toBe(before);
      socket.destroy();
      await eventually(() => (largeReleases === before + 1 ? true : undefined), 'the body to be released after the abort');
      expect((await get(service.port, '/health')).status).toBe(200);
    });

    it('reports the exporter healthy with each source in /health', async () => {
      const response = await get(service.port, '/health');
      expect(response.status).toBe(200);
      const body = JSON.parse(response.body);
      expect(body).toMatchObject({ status: 'ok', engine: { name: engine }, sources: { app: { up: true } } });
      expect(typeof body.sources.app.lastSuccess).toBe('string');
    });

    it('names its engine and version in /health, the start log and http_server_info', async () => {
      const { engine: named, server } = JSON.parse((await get(service.port, '/health')).body);
      expect(named.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(server).toContain(named.version);
      expect(service.logLines.find((line) => line.includes('HTTP engine:'))).toContain(`[HTTP_ENGINE ${engine}]`);
      expect(sampleValue(await readSamples(service.port), 'http_server_info', { engine, version: named.version })).toBe(1);
    });

    it('case 2: the 101 of an accepted upgrade carries X-Content-Type-Options: nosniff and the selected subprotocol only', async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${service.port}/stream?sources=app`, ['not-ours', STREAM_SUBPROTOCOL]);
      const response = await new Promise<IncomingMessage>((resolve, reject) => socket.once('upgrade', resolve).once('error', reject));
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['sec-websocket-protocol']).toBe(STREAM_SUBPROTOCOL);
      socket.close();
    });

    it('case 2: every reply carries X-Content-Type-Options: nosniff, the adapter\'s own 404 and 405 too', async () => {
      const replies = [
        await fetch(`http://127.0.0.1:${service.port}/health`),
        await fetch(`http://127.0.0.1:${service.port}/metrics`, { method: 'HEAD' }),
        await fetch(`http://127.0.0.1:${service.port}/api/v1/devices/7`),
        await fetch(`http://127.0.0.1:${service.port}/no-such-page`),
        await fetch(`http://127.0.0.1:${service.port}/metrics`, { method: 'POST' }),
        await fetch(`http://127.0.0.1:${service.port}/stream`),
      ];
      expect(replies.map(({ status }) => status)).toEqual([200, 200, 200, 404, 405, 426]);
      for (const reply of replies) expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });
});

describe('a source whose service is absent', () => {
  it('leaves /health at 200 with the source down in its body, and logs the outage once', async () => {
    const service = await startService({ SOURCES: 'app,redis', REDIS_URL: 'redis://127.0.0.1:1', COLLECTION_INTERVAL_SECONDS: '1' });
    try {
      const body = await eventually(async () => {
        const response = await get(service.port, '/health');
        expect(response.status).toBe(200);
        const parsed = JSON.parse(response.body);
        return parsed.sources.redis && parsed.sources.redis.error !== 'not collected yet' ? parsed : undefined;
      }, 'a first redis collection');
      expect(body.status).toBe('degraded');
      expect(body.sources.redis.up).toBe(false);
      expect(body.sources.app.up).toBe(true);
      await waitForMetric(service.port, 'collector_errors_total', { source: 'redis' }, (value) => (value ?? 0) >= 2, 'a second failed redis collection');
      expect(service.logLines.filter((line) => line.includes('source redis is down'))).toHaveLength(1);
    } finally {
      await service.stop();
    }
  });
});

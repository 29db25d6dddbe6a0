import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parseExposition } from '../support/http';
import { decodeMetricFamilies } from '../support/protobuf-decoder';
import { eventually, type RunningService, serviceOn } from '../support/service';
import { ENGINES } from '../support/engines';

/** A GET whose body is read as sent: fetch() would decompress it. */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** System's families only: they change at a collection, and the interval is an hour. */
const STABLE = '/metrics?collect[]=system';

describe.each(ENGINES)('on the %s engine', (engine) => {
  const start = serviceOn(engine);

  describe('gzip on /metrics', () => {
    let service: RunningService;

    beforeAll(async () => {
      service = await start({ SOURCES: 'app,system', COLLECTION_INTERVAL_SECONDS: '3600', METRICS_RATE_LIMIT: '0' });
      await eventually(async () => ((await rawGet(service.port, STABLE, {})).body.includes('system_cpu_cores') ? true : undefined), 'a first collection of system');
    });

    afterAll(() => service.stop());

    it('case 1e: Accept-Encoding: gzip gets a gzipped body that decompresses to the plain one', async () => {
      const plain = await rawGet(service.port, STABLE, {});
      const gzipped = await rawGet(service.port, STABLE, { 'Accept-Encoding': 'gzip' });
      expect(gzipped.status).toBe(200);
      expect(gzipped.headers['content-encoding']).toBe('gzip');
      expect(gzipped.headers.vary).toContain('Accept-Encoding');
      expect(gzipped.headers['content-type']).toBe(plain.headers['content-type']);
      expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
      expect(gzipped.body.length).toBeLessThan(plain.body.length / 3);
    });

    it('case 1f: not compressed when not asked, or refused', async () => {
      for (const headers of [{} as Record<string, string>, { 'Accept-Encoding': 'identity' }, { 'Accept-Encoding': 'br, gzip;q=0' }]) {
        const response = await rawGet(service.port, STABLE, headers);
        expect(response.headers['content-encoding']).toBeUndefined();
        expect(response.headers.vary).toContain('Accept-Encoding');
        expect(response.body.toString()).toContain('# TYPE system_cpu_cores gauge');
      }
    });

    it('case 1g: an unchanged body is answered with the same compressed bytes', async () => {
      const first = await rawGet(service.port, STABLE, { 'Accept-Encoding': 'gzip' });
      const second = await rawGet(service.port, STABLE, { 'Accept-Encoding': 'gzip' });
      expect(second.body.equals(first.body)).toBe(true);
    });

    it('case 1h: the whole exposition in each format (protobuf too), and HEAD', async () => {
      for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
        const response = await rawGet(service.port, '/metrics', { 'Accept-Encoding': 'gzip', Accept: accept });
        const text = gunzipSync(response.body).toString();
        expect(parseExposition(text).type.get('http_request_duration_seconds')).toBe('histogram');
        if (accept !== 'text/plain') expect(text.endsWith('# EOF\n')).toBe(true);
      }
      const protobufAccept = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3';
      const plainProtobuf = await rawGet(service.port, STABLE, { Accept: protobufAccept });
      const gzippedProtobuf = await rawGet(service.port, STABLE, { Accept: protobufAccept, 'Accept-Encoding': 'gzip' });
      for (const response of [plainProtobuf, gzippedProtobuf]) {
        expect(response.headers['content-type']).toBe('application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited');
      }
      expect(gunzipSync(gzippedProtobuf.body).equals(plainProtobuf.body)).toBe(true);
      expect(decodeMetricFamilies(plainProtobuf.body).map(({ name }) => name)).toContain('system_cpu_cores');
      const head = await new Promise<http.IncomingMessage>((resolve) => http.request({ host: '127.0.0.1', port: service.port, path: STABLE, method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } }, resolve).end());
      expect(head.headers['content-encoding']).toBe('gzip');
      expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    });
  });
});

import https from 'node:https';
import net from 'node:net';
import { get } from '../support/http';
import { makeSelfSignedCertificate } from '../support/tls';
import { openStream } from '../support/websocket';
import { spawnService } from '../support/service';
import { ENGINES } from '../support/engines';
import { requestCount, rawRequest, statusOf, withAppServiceOn } from '../support/raw-http';

describe.each(ENGINES)('on the %s engine', (engine) => {
  const withService = withAppServiceOn(engine);

  describe('TLS_CERT_FILE and TLS_KEY_FILE', () => {
    const certificate = makeSelfSignedCertificate();
    afterAll(() => certificate.remove());

    it('serves /metrics over HTTPS and /stream over WSS with the configured certificate', () =>
      withService({ TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile }, async (service) => {
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port: service.port, path: '/metrics', ca: certificate.pem }, (response) => {
              let text = '';
              response.on('data', (chunk) => (text += chunk));
              response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
            })
            .on('error', reject);
        });
        expect(status).toBe(200);
        expect(body).toContain('# TYPE app_info gauge');
        const stream = await openStream(service.port, 'sources=app', { scheme: 'wss', ca: certificate.pem });
        expect(await stream.next()).toMatchObject({ source: 'app' });
        stream.socket.close();
        // Without the CA the certificate is not trusted; plain HTTP gets no answer.
        await expect(openStream(service.port, '', { scheme: 'wss' })).rejects.toThrow(/self-signed|certificate/);
        await expect(get(service.port, '/health')).rejects.toThrow();
      }));

    it('says in its startup line that it serves HTTPS', async () => {
      const service = spawnService({ HTTP_ENGINE: engine, SOURCES: 'app', TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile });
      try {
        const port = await service.ready;
        expect(service.stderr()).toContain(`listening on https://127.0.0.1:${port}`);
      } finally {
        service.child.kill('SIGKILL');
        await service.exited;
      }
    });

    it.each([
      [{ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem' }, 'TLS_CERT_FILE', 'ENOENT'],
      [{ TLS_CERT_FILE: '<cert>', TLS_KEY_FILE: '/nonexistent/key.pem' }, 'TLS_KEY_FILE', 'ENOENT'],
      [{ TLS_CERT_FILE: '<cert>' }, 'TLS_KEY_FILE', 'since TLS_CERT_FILE is set'],
      [{ TLS_CERT_FILE: '<key>', TLS_KEY_FILE: '<key>' }, 'TLS_CERT_FILE', 'its content is not one'],
    ])('exits 2 naming the variable for %j', async (env, variable, reason) => {
      const files: Record<string, string> = { '<cert>': certificate.certFile, '<key>': certificate.keyFile };
      const resolved = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, files[value] ?? value]));
      const service = spawnService({ HTTP_ENGINE: engine, SOURCES: 'app', ...resolved });
      expect(await service.exited).toBe(2);
      expect(service.stderr()).toMatch(new RegExp(`^configuration error: ${variable}=.* is invalid: expected .*${reason}.*\\n$`));
    });
  });

  describe('bad HTTP input', () => {
    it('answers a huge query string with 414, another method on a served path with 405 and Allow, counted under the route, and goes on serving', () =>
      withService({}, async (service) => {
        // Past MAX_URL_BYTES (8 KiB), within node's own limit on a request head (16 KiB, then 431). uWS 20.57
        // refuses a head over 4 KiB itself, before any route: 431, not counted.
        const refused = engine === 'uws-20.57' ? 431 : 414;
        const hugeQuery = await rawRequest(service.port, `GET /metrics?${'a'.repeat(12 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expect(statusOf(hugeQuery)).toBe(refused);
        expect(await requestCount(service, '/metrics', '414')).toBe(refused === 414 ? 1 : 0);
        await expect(openStream(service.port, `sources=${'app,'.repeat(2500)}app`)).rejects.toMatchObject({ status: refused });
        const post = await rawRequest(service.port, 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
        expect(statusOf(post)).toBe(405);
        expect(post).toMatch(/\r\nAllow: GET, HEAD\r\n/);
        expect(statusOf(await rawRequest(service.port, 'TRACE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(405);
        const put = await rawRequest(service.port, 'PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        expect(statusOf(put)).toBe(405);
        expect(put).toMatch(/\r\nAllow: GET, HEAD\r\n/);
        expect(statusOf(await rawRequest(service.port, 'POST /metrics/extra HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))).toBe(404);
        expect(await requestCount(service, '/metrics', '405', 'POST')).toBe(1);
        expect(await requestCount(service, '/metrics', '405', 'OTHER')).toBe(1);
        expect((await get(service.port, '/metrics')).status).toBe(200);
      }));

    it('answers HEAD of a GET route with its headers and length and no body, counted as HEAD', () =>
      withService({}, async (service) => {
        // Two requests on one connection: the second reply starts right where the first one's headers end.
        const both = await rawRequest(service.port, 'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        const [head, get] = both.split(/(?=HTTP\/1\.1 )/);
        expect(statusOf(head!)).toBe(200);
        expect(head).toMatch(/\r\nContent-Type: application\/json\r\n/);
        const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head!)?.[1]);
        expect(head!.endsWith('\r\n\r\n')).toBe(true);
        expect(statusOf(get!)).toBe(200);
        expect(Math.abs(length - Buffer.byteLength(get!.slice(get!.indexOf('\r\n\r\n') + 4)))).toBeLessThanOrEqual(4);
        expect(await requestCount(service, '/health', '200', 'HEAD')).toBe(1);
        // /stream without an upgrade: 426, to HEAD as to GET.
        const stream = await rawRequest(service.port, 'HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(statusOf(stream)).toBe(426);
      }));

    it('survives what it refuses to parse: no answer, or a 4xx (with nosniff wherever the exporter makes it), and serves the others', () =>
      withService({}, async (service) => {
        const refused = ['BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n', `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: ${'b'.repeat(512 * 1024)}\r\n\r\n`];
        for (const text of refused) {
          const answer = await rawRequest(service.port, text);
          if (answer !== '') {
            expect(statusOf(answer)).toBeGreaterThanOrEqual(400);
            // Every reply the exporter makes carries nosniff. uWS 20.57's parser answers a head over
            // 4 KiB itself, before any route, with a fixed page of its own: nothing of the request is in
            // it, and the exporter has no hook to add the header; that page is the one exception.
            if (!/\r\nX-Content-Type-Options: nosniff\r\n/i.test(answer)) expect(answer).toMatch(/^HTTP\/1\.1 431 [\s\S]*uWebSockets/);
          }
        }
        // uWS waits for the rest of these until its idle timeout; meanwhile everyone else is served.
        const pending = ['\x16\x03\x01 not http at all\r\n\r\n', 'GET /metrics HTTP/1.1\r\nBroken header line\r\n\r\n'].map((text) => {
          const socket = net.connect(service.port, '127.0.0.1', () => socket.write(text));
          socket.on('error', () => undefined);
          return socket;
        });
        try {
          await Promise.all(pending.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
          expect((await get(service.port, '/metrics')).status).toBe(200);
        } finally {
          for (const socket of pending) socket.destroy();
        }
      }));

    it('keeps 100 clients sending HTTP/1.0 or malformed requests their own problem: every other client is served meanwhile', () =>
      withService({}, async (service) => {
        const held = Array.from({ length: 100 }, (_, i) => {
          const text = i % 2 === 0 ? 'GET /health HTTP/1.0\r\n\r\n' : 'GET /health HTTP/1.1\r\nBroken header line\r\n\r\n';
          const socket = net.connect(service.port, '127.0.0.1', () => socket.write(text));
          socket.on('error', () => undefined);
          return socket;
        });
        try {
          await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
          for (let i = 0; i < 20; i++) expect((await get(service.port, i % 2 === 0 ? '/metrics' : '/health')).status).toBe(200);
        } finally {
          for (const socket of held) socket.destroy();
        }
      }));
  });
});

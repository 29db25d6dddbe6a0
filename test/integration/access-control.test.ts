import https from 'node:https';
import net from 'node:net';
import { get } from '../support/http';
import { metricValue } from '../support/metrics';
import { spawnService, type RunningService, serviceOn } from '../support/service';
import { ENGINES } from '../support/engines';
import { makeSelfSignedCertificate } from '../support/tls';
import { openStream } from '../support/websocket';
import { TYPES } from '../../src/tokens';
import { BEARER_SUBPROTOCOL_PREFIX } from '../../src/http/access-control';
import { STREAM_SUBPROTOCOL } from '../../src/live/stream-route';

/** Read in-process: a refused client cannot scrape, and a scrape would count itself. */
const requestCount = async (service: RunningService, endpoint: string, status: string, method = 'GET') =>
  (await metricValue(service, 'http_requests_total', { method, endpoint, status })) ?? 0;

/**
 * One raw HTTP/1.1 exchange, for what fetch will not send (repeated headers, odd methods, garbage):
 * what came back before the server closed the connection ('' if nothing; a reset counts as closing).
 */
function rawRequest(port: number, text: string, { endAfterHeaders = false } = {}): Promise<string> {
  return new Promise((resolve) => {
    // Written, not ended: uWS takes a half-closed connection for a client that left.
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      // An upgraded connection stays open: its response ends with the headers.
      if (endAfterHeaders && answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', () => undefined);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? NaN);

describe.each(ENGINES)('on the %s engine', (engine) => {
  const start = serviceOn(engine);

  async function withService(env: Record<string, string>, body: (service: RunningService) => Promise<void>): Promise<void> {
    const service = await start({ SOURCES: 'app', METRICS_RATE_LIMIT: '0', ...env });
    try {
      await body(service);
    } finally {
      await service.stop();
    }
  }

  describe('METRICS_ALLOWLIST and TRUSTED_PROXIES', () => {
    it('refuses loopback with 403 when the allowlist leaves it out, on /metrics and /stream, counted; /health stays open', () =>
      withService({ METRICS_ALLOWLIST: '10.0.0.0/8,fc00::/7' }, async (service) => {
        const denied = await get(service.port, '/metrics');
        expect(denied.status).toBe(403);
        expect(denied.body).toBe('forbidden: 127.0.0.1 is not in METRICS_ALLOWLIST\n');
        await expect(openStream(service.port)).rejects.toMatchObject({ status: 403 });
        expect((await get(service.port, '/health')).status).toBe(200);
        expect(await requestCount(service, '/metrics', '403')).toBe(1);
        expect(await requestCount(service, '/stream', '403')).toBe(1);
        expect(await requestCount(service, '/health', '200')).toBe(1);
      }));

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () =>
      withService({ METRICS_ALLOWLIST: '10.0.0.0/8' }, async (service) => {
        expect((await get(service.port, '/metrics', { 'X-Forwarded-For': '10.1.2.3' })).status).toBe(403);
        await expect(openStream(service.port, '', { headers: { 'X-Forwarded-For': '10.1.2.3' } })).rejects.toMatchObject({ status: 403 });
      }));

    it('through a trusted proxy, lets the forwarded address decide', () =>
      withService({ METRICS_ALLOWLIST: '10.0.0.0/8', TRUSTED_PROXIES: '127.0.0.1/32' }, async (service) => {
        expect((await get(service.port, '/metrics', { 'X-Forwarded-For': '10.1.2.3' })).status).toBe(200);
        expect((await get(service.port, '/metrics', { 'X-Forwarded-For': '203.0.113.9' })).status).toBe(403);
        // The client wrote the left part itself; the proxy appended the address it saw.
        expect((await get(service.port, '/metrics', { 'X-Forwarded-For': '10.1.2.3, 203.0.113.9' })).status).toBe(403);
        // Without the header the proxy itself is the client, and loopback is not allowed here.
        expect((await get(service.port, '/metrics')).status).toBe(403);
        // A second header line is read with the first, so it cannot hide behind it.
        const twoLines = await rawRequest(service.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.1.2.3\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n');
        expect(statusOf(twoLines)).toBe(403);
        const stream = await openStream(service.port, 'sources=app', { headers: { 'X-Forwarded-For': '10.1.2.3' } });
        expect(await stream.next()).toMatchObject({ source: 'app' });
        stream.socket.close();
      }));
  });

  describe('METRICS_TOKEN and METRICS_BASIC_AUTH', () => {
    const TOKEN = 'tok-5f2a9c81e0';
    const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

    it('asks for the bearer token with 401 and WWW-Authenticate, and accepts the right one', () =>
      withService({ METRICS_TOKEN: TOKEN }, async (service) => {
        for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Array<Record<string, string>>) {
          const refused = await get(service.port, '/metrics', headers);
          expect(refused.status).toBe(401);
          expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="iotflow-metrics"');
        }
        expect((await get(service.port, '/metrics', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
        await expect(openStream(service.port)).rejects.toMatchObject({ status: 401 });
        const stream = await openStream(service.port, 'sources=app', { headers: { Authorization: `Bearer ${TOKEN}` } });
        expect(await stream.next()).toMatchObject({ source: 'app' });
        stream.socket.close();
        expect((await get(service.port, '/health')).status).toBe(200);
        expect(await requestCount(service, '/metrics', '401')).toBe(3);
        expect(await requestCount(service, '/stream', '401')).toBe(1);
        expect(service.logLines.join('')).not.toContain(TOKEN);
      }));

    it('accepts either the token or basic auth when both are set', () =>
      withService({ METRICS_TOKEN: TOKEN, METRICS_BASIC_AUTH: 'prometheus:pa55:word' }, async (service) => {
        expect((await get(service.port, '/metrics', { Authorization: basic('prometheus:pa55:word') })).status).toBe(200);
        expect((await get(service.port, '/metrics', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
        const wrong = await get(service.port, '/metrics', { Authorization: basic('prometheus:nope') });
        expect(wrong.status).toBe(401);
        expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="iotflow-metrics", Basic realm="iotflow-metrics", charset="UTF-8"');
      }));
  });

  describe('the bearer token as a WebSocket subprotocol (browsers cannot set Authorization)', () => {
    const TOKEN = 'tok-subprotocol-7d3e1b';
    const bearer = (token: string) => `${BEARER_SUBPROTOCOL_PREFIX}${Buffer.from(token).toString('base64url')}`;

    /** The upgrade's status and Sec-WebSocket-Protocol answer, from a raw handshake offering `protocols`. */
    async function handshake(port: number, protocols: string, query = ''): Promise<{ status: number; selected: string; answer: string }> {
      const answer = await rawRequest(
        port,
        `GET /stream${query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${protocols}\r\n\r\n`,
        { endAfterHeaders: true },
      );
      return { status: statusOf(answer), selected: /^sec-websocket-protocol: *(.*)\r$/im.exec(answer)?.[1] ?? '', answer };
    }

    it('accepts the right token, selects the stream subprotocol and never echoes the token; refuses a wrong one and one in the query string with 401', () =>
      withService({ METRICS_TOKEN: TOKEN }, async (service) => {
        const stream = await openStream(service.port, 'sources=app', {}, [STREAM_SUBPROTOCOL, bearer(TOKEN)]);
        expect(stream.socket.protocol).toBe(STREAM_SUBPROTOCOL);
        expect(await stream.next()).toMatchObject({ source: 'app', up: true });
        stream.socket.close();

        const accepted = await handshake(service.port, `${STREAM_SUBPROTOCOL}, ${bearer(TOKEN)}`);
        expect(accepted.status).toBe(101);
        expect(accepted.selected).toBe(STREAM_SUBPROTOCOL);
        expect(accepted.answer).not.toContain(Buffer.from(TOKEN).toString('base64url'));

        await expect(openStream(service.port, '', {}, [STREAM_SUBPROTOCOL, bearer('wrong')])).rejects.toMatchObject({ status: 401 });
        // Not base64url (padded, as no browser may send it): refused rather than decoded leniently.
        expect((await handshake(service.port, `${STREAM_SUBPROTOCOL}, ${BEARER_SUBPROTOCOL_PREFIX}${Buffer.from(TOKEN).toString('base64')}=`)).status).toBe(401);
        for (const query of [`access_token=${TOKEN}`, `token=${TOKEN}`, `sources=app&authorization=Bearer%20${TOKEN}`]) {
          await expect(openStream(service.port, query, {}, [STREAM_SUBPROTOCOL])).rejects.toMatchObject({ status: 401 });
        }
        // Only a WebSocket route reads the header: /metrics wants Authorization.
        expect((await get(service.port, '/metrics', { 'Sec-WebSocket-Protocol': bearer(TOKEN) })).status).toBe(401);

        expect(await requestCount(service, '/stream', '101')).toBe(2);
        expect(await requestCount(service, '/stream', '401')).toBe(5);
        expect(await requestCount(service, '/metrics', '401')).toBe(1);
        const exposition = await service.container.get(TYPES.Registry).metrics();
        for (const text of [service.logLines.join('\n'), exposition]) {
          expect(text).not.toContain(TOKEN);
          expect(text).not.toContain(Buffer.from(TOKEN).toString('base64url'));
        }
      }));

    it('selects no subprotocol the client did not offer, and never a bearer one, even without a token configured', () =>
      withService({}, async (service) => {
        const plain = await handshake(service.port, 'chat.example');
        expect(plain.status).toBe(101);
        expect(plain.selected).toBe('');
        const withToken = await handshake(service.port, `${bearer('anything')}, ${STREAM_SUBPROTOCOL}`);
        expect(withToken.status).toBe(101);
        expect(withToken.selected).toBe(STREAM_SUBPROTOCOL);
      }));
  });

  describe('the live page behind the guard', () => {
    const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

    it('is refused 403 outside the allowlist, page and assets alike, counted', () =>
      withService({ METRICS_ALLOWLIST: '10.0.0.0/8' }, async (service) => {
        expect((await get(service.port, '/')).status).toBe(403);
        expect(await requestCount(service, '/', '403')).toBe(1);
      }));

    it('with METRICS_BASIC_AUTH asks for Basic alone, so the browser prompts, and serves the page and its assets with it', () =>
      withService({ METRICS_BASIC_AUTH: 'ops:pa55', METRICS_TOKEN: 'tok-page' }, async (service) => {
        const refused = await get(service.port, '/');
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Basic realm="iotflow-metrics", charset="UTF-8"');
        const page = await get(service.port, '/', { Authorization: basic('ops:pa55') });
        expect(page.status).toBe(200);
        const asset = /src="(\/assets\/page\.[0-9a-f]+\.js)"/.exec(page.body)![1];
        expect((await get(service.port, asset)).status).toBe(401);
        expect((await get(service.port, asset, { Authorization: basic('ops:pa55') })).status).toBe(200);
      }));

    it('with METRICS_TOKEN alone serves the page, which holds no data, while /metrics and /stream still want the token', () =>
      withService({ METRICS_TOKEN: 'tok-page' }, async (service) => {
        expect((await get(service.port, '/')).status).toBe(200);
        expect((await get(service.port, '/metrics')).status).toBe(401);
        await expect(openStream(service.port)).rejects.toMatchObject({ status: 401 });
      }));
  });

  describe('METRICS_RATE_LIMIT', () => {
    it('answers a burst past the limit with 429 and Retry-After, counted; /health is not limited', () =>
      withService({ METRICS_RATE_LIMIT: '1' }, async (service) => {
        const replies = await Promise.all(Array.from({ length: 12 }, () => get(service.port, '/metrics')));
        const limited = replies.filter((reply) => reply.status === 429);
        // Burst of 2 and 1 a second: at most 2 + the seconds the burst took pass.
        expect(limited.length).toBeGreaterThanOrEqual(5);
        expect(replies.filter((reply) => reply.status === 200).length + limited.length).toBe(12);
        for (const reply of limited) expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(await requestCount(service, '/metrics', '429')).toBe(limited.length);
        const health = await Promise.all(Array.from({ length: 12 }, () => get(service.port, '/health')));
        expect(health.every((reply) => reply.status === 200)).toBe(true);
      }));
  });

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
            // Every reply the exporter makes has a Content-Type and nosniff. uWS 20.57's parser answers
            // a head over 4 KiB itself, before any route, with a fixed page and neither header: nothing
            // of the request is in it, and the exporter has no hook to add one.
            const engineOwn = !/\r\nContent-Type:/i.test(answer.slice(0, answer.indexOf('\r\n\r\n')));
            if (!engineOwn) expect(answer).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
            else expect(answer).toMatch(/^HTTP\/1\.1 431 /);
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

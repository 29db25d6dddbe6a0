import { get } from '../support/http';
import { openStream } from '../support/websocket';
import { TYPES } from '../../src/tokens';
import { BEARER_SUBPROTOCOL_PREFIX } from '../../src/http/access-control';
import { STREAM_SUBPROTOCOL } from '../../src/live/stream-route';
import { ENGINES } from '../support/engines';
import { requestCount, rawRequest, statusOf, withAppServiceOn } from '../support/raw-http';

describe.each(ENGINES)('on the %s engine', (engine) => {
  const withService = withAppServiceOn(engine);

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
});

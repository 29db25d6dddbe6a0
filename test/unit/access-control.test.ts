import { type AccessPolicy, accessRefusal, BEARER_SUBPROTOCOL_PREFIX, clientAddress, Credentials, subprotocolAuthorization } from '../../src/http/access-control';
import { type Cidr, formatIp, parseCidr } from '../../src/http/cidr';
import type { HttpRequest } from '../../src/http/route-table';

const cidrs = (...texts: string[]): Cidr[] =>
  texts.map((text) => {
    const parsed = parseCidr(text);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed;
  });

const resolved = (peer: string, forwardedFor: string, trusted: Cidr[]) => {
  const address = clientAddress(peer, forwardedFor, trusted);
  return address && formatIp(address);
};

describe('clientAddress (X-Forwarded-For resolution)', () => {
  const proxies = cidrs('127.0.0.1', '10.0.0.0/8');

  it('ignores the header from a peer that is not a trusted proxy', () => {
    expect(resolved('203.0.113.7', '10.1.2.3', proxies)).toBe('203.0.113.7');
    expect(resolved('203.0.113.7', '10.1.2.3', [])).toBe('203.0.113.7');
  });

  it('believes a trusted proxy: the right-most hop that is not itself a trusted proxy', () => {
    expect(resolved('127.0.0.1', '198.51.100.4', proxies)).toBe('198.51.100.4');
    // The client wrote 192.168.1.1 itself; the proxies appended what they saw.
    expect(resolved('127.0.0.1', '192.168.1.1, 198.51.100.4, 10.0.0.5', proxies)).toBe('198.51.100.4');
  });

  it('takes the left-most hop when every hop is a trusted proxy', () => {
    expect(resolved('127.0.0.1', '10.0.0.9, 10.0.0.5', proxies)).toBe('10.0.0.9');
  });

  it('is the peer itself when a trusted proxy sends no header', () => {
    expect(resolved('127.0.0.1', '', proxies)).toBe('127.0.0.1');
    expect(resolved('127.0.0.1', ' , ', proxies)).toBe('127.0.0.1');
  });

  it('reads hops with ports, brackets and IPv6, and the peer in uWS full IPv6 form', () => {
    expect(resolved('127.0.0.1', '198.51.100.4:51234', proxies)).toBe('198.51.100.4');
    expect(resolved('127.0.0.1', '[2001:db8::7]:443', proxies)).toBe('2001:db8::7');
    expect(resolved('127.0.0.1', '2001:db8::7', proxies)).toBe('2001:db8::7');
    expect(resolved('0000:0000:0000:0000:0000:ffff:7f00:0001', '198.51.100.4', proxies)).toBe('198.51.100.4');
  });

  it('believes nothing when a hop in the trusted chain is unreadable', () => {
    expect(resolved('127.0.0.1', 'unknown', proxies)).toBeUndefined();
    expect(resolved('127.0.0.1', '198.51.100.4, garbage', proxies)).toBeUndefined();
    // Left of the first untrusted hop nothing is read, garbage or not.
    expect(resolved('127.0.0.1', 'garbage, 198.51.100.4', proxies)).toBe('198.51.100.4');
  });
});

describe('Credentials', () => {
  const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

  it('accepts the bearer token only, the scheme in any case', () => {
    const credentials = new Credentials('s3cret-token', undefined);
    expect(credentials.accepts('Bearer s3cret-token')).toBe(true);
    expect(credentials.accepts('bearer s3cret-token')).toBe(true);
    expect(credentials.accepts('Bearer s3cret-toke')).toBe(false);
    expect(credentials.accepts('Bearer s3cret-token-and-more')).toBe(false);
    expect(credentials.accepts('')).toBe(false);
    expect(credentials.accepts('s3cret-token')).toBe(false);
    expect(credentials.accepts(basic('user:s3cret-token'))).toBe(false);
    expect(credentials.challenge).toBe('Bearer realm="iotflow-metrics"');
  });

  it('accepts basic auth only with the exact user and password', () => {
    const credentials = new Credentials(undefined, 'prom:pa:ss');
    expect(credentials.accepts(basic('prom:pa:ss'))).toBe(true);
    expect(credentials.accepts(basic('prom:pa:s'))).toBe(false);
    expect(credentials.accepts(basic('Prom:pa:ss'))).toBe(false);
    expect(credentials.accepts('Basic !!!not-base64')).toBe(false);
    expect(credentials.accepts('Bearer prom:pa:ss')).toBe(false);
    expect(credentials.challenge).toBe('Basic realm="iotflow-metrics", charset="UTF-8"');
  });

  it('accepts either when both are configured, and offers both challenges', () => {
    const credentials = new Credentials('tok', 'prom:pw');
    expect(credentials.accepts('Bearer tok')).toBe(true);
    expect(credentials.accepts(basic('prom:pw'))).toBe(true);
    expect(credentials.accepts('Bearer pw')).toBe(false);
    expect(credentials.challenge).toBe('Bearer realm="iotflow-metrics", Basic realm="iotflow-metrics", charset="UTF-8"');
  });
});

describe('accessRefusal', () => {
  const request = (remoteAddress: string, headers: Record<string, string> = {}): HttpRequest => ({
    method: 'GET',
    path: '/metrics',
    query: '',
    params: {},
    headers: { 'x-forwarded-for': '', authorization: '', ...headers },
    remoteAddress,
  });
  const policy: AccessPolicy = { allowlist: cidrs('10.0.0.0/8'), trustedProxies: cidrs('127.0.0.1'), credentials: new Credentials('tok', undefined) };
  const noLimit = () => 0;

  it('refuses an address outside the allowlist with 403, before spending a token', () => {
    const spent: string[] = [];
    const reply = accessRefusal(policy, request('203.0.113.7', { authorization: 'Bearer tok' }), (client) => (spent.push(client), 0));
    expect(reply).toMatchObject({ status: 403, body: 'forbidden: 203.0.113.7 is not in METRICS_ALLOWLIST\n' });
    expect(spent).toEqual([]);
  });

  it('lets through an allowed, authenticated client', () => {
    expect(accessRefusal(policy, request('10.2.3.4', { authorization: 'Bearer tok' }), noLimit)).toBeUndefined();
    expect(accessRefusal(policy, request('127.0.0.1', { 'x-forwarded-for': '10.2.3.4', authorization: 'Bearer tok' }), noLimit)).toBeUndefined();
  });

  it('refuses 403 when a trusted proxy forwards an unreadable address', () => {
    expect(accessRefusal(policy, request('127.0.0.1', { 'x-forwarded-for': 'unknown' }), noLimit)?.status).toBe(403);
  });

  it('answers 401 with the challenge without or with wrong credentials', () => {
    for (const authorization of ['', 'Bearer nope']) {
      expect(accessRefusal(policy, request('10.2.3.4', { authorization }), noLimit)).toMatchObject({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="iotflow-metrics"' },
      });
    }
  });

  it('answers 429 with Retry-After when the client has no token left, keyed by the resolved address', () => {
    const spent: string[] = [];
    const reply = accessRefusal(policy, request('127.0.0.1', { 'x-forwarded-for': '10.2.3.4', authorization: 'Bearer tok' }), (client) => (spent.push(client), 3));
    expect(reply).toMatchObject({ status: 429, headers: { 'Retry-After': '3' } });
    expect(spent).toEqual(['10.2.3.4']);
  });

  it('asks nothing more when no credentials are configured', () => {
    expect(accessRefusal({ ...policy, credentials: undefined }, request('10.2.3.4'), noLimit)).toBeUndefined();
  });
});

describe('the bearer token as a WebSocket subprotocol', () => {
  const offered = (token: string) => `${BEARER_SUBPROTOCOL_PREFIX}${Buffer.from(token).toString('base64url')}`;

  it('reads the token from the Kubernetes-style subprotocol, wherever it is offered in the list', () => {
    expect(subprotocolAuthorization(`iotflow-metrics.stream, ${offered('t0k/+=~!')}`)).toBe('Bearer t0k/+=~!');
    expect(subprotocolAuthorization(`${offered('abc')},iotflow-metrics.stream`)).toBe('Bearer abc');
  });

  it('reads nothing from other subprotocols, an empty token or one that is not base64url', () => {
    for (const header of ['', 'iotflow-metrics.stream', BEARER_SUBPROTOCOL_PREFIX, `${BEARER_SUBPROTOCOL_PREFIX}dG9r=`, `${BEARER_SUBPROTOCOL_PREFIX}dG9r+w`, `bearer, tok`]) {
      expect(subprotocolAuthorization(header)).toBe('');
    }
  });

  it('lets a WebSocket upgrade through with the right token as a subprotocol; Authorization, when sent, is what counts', () => {
    const policy: AccessPolicy = { allowlist: cidrs('10.0.0.0/8'), trustedProxies: [], credentials: new Credentials('tok', undefined) };
    const upgrade = (headers: Record<string, string>): HttpRequest => ({ method: 'GET', path: '/stream', query: '', params: {}, headers: { 'x-forwarded-for': '', authorization: '', 'sec-websocket-protocol': '', ...headers }, remoteAddress: '10.1.1.1' });
    expect(accessRefusal(policy, upgrade({ 'sec-websocket-protocol': offered('tok') }), () => 0)).toBeUndefined();
    expect(accessRefusal(policy, upgrade({ 'sec-websocket-protocol': offered('nope') }), () => 0)?.status).toBe(401);
    expect(accessRefusal(policy, upgrade({ authorization: 'Bearer nope', 'sec-websocket-protocol': offered('tok') }), () => 0)?.status).toBe(401);
  });

  it('asks a browser for Basic only on the page, so it prompts', () => {
    expect(new Credentials('tok', 'u:p', 'basic').challenge).toBe('Basic realm="iotflow-metrics", charset="UTF-8"');
    expect(new Credentials('tok', 'u:p', 'basic').accepts('Bearer tok')).toBe(true);
  });
});

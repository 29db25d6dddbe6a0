import { loadConfig } from '../../streams/config';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../support/tls';

/** Matches the ConfigError naming `variable` whose message contains `text`. */
const configError = (variable: string, text: string | RegExp = '') =>
  expect.objectContaining({ name: 'ConfigError', variable, message: typeof text === 'string' ? expect.stringContaining(text) : expect.stringMatching(text) });

describe('access, TLS and stream configuration', () => {
  it('defaults to loopback and private ranges, 10 requests a second, no credentials, plain HTTP', () => {
    const config = loadConfig({});
    expect(config.metricsAllowlist.map((cidr) => cidr.text)).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    expect(config.trustedProxies).toEqual([]);
    expect(config.metricsRateLimit).toBe(10);
    expect(config.metricsToken).toBeUndefined();
    expect(config.metricsBasicAuth).toBeUndefined();
    expect(config.tls).toBeUndefined();
    expect(config.streamMaxBufferBytes).toBe(256 * 1024);
    expect(config.streamMaxClients).toBe(1000);
    expect(config.streamMaxClientsPerAddress).toBe(100);
  });

  it('case 9: reads the stream client caps', () => {
    const config = loadConfig({ STREAM_MAX_CLIENTS: '50', STREAM_MAX_CLIENTS_PER_ADDRESS: '50' });
    expect([config.streamMaxClients, config.streamMaxClientsPerAddress]).toEqual([50, 50]);
  });

  it('reads STREAM_ALLOWED_ORIGINS (none by default), and exits naming it on a malformed origin', () => {
    expect(loadConfig({}).streamAllowedOrigins).toEqual([]);
    expect(loadConfig({ STREAM_ALLOWED_ORIGINS: 'https://grafana.example.com, http://10.0.0.5:3000' }).streamAllowedOrigins).toEqual(['https://grafana.example.com', 'http://10.0.0.5:3000']);
    expect(() => loadConfig({ STREAM_ALLOWED_ORIGINS: 'https://grafana.example.com,grafana.example.com' })).toThrow(configError('STREAM_ALLOWED_ORIGINS', '"grafana.example.com" is not one'));
    expect(() => loadConfig({ STREAM_ALLOWED_ORIGINS: 'https://grafana.example.com/d/live' })).toThrow(configError('STREAM_ALLOWED_ORIGINS', 'no path'));
  });

  it('reads the lists, the limit and the credentials', () => {
    const config = loadConfig({
      METRICS_ALLOWLIST: '0.0.0.0/0, ::/0',
      TRUSTED_PROXIES: '10.0.0.1',
      METRICS_RATE_LIMIT: '0.5',
      METRICS_TOKEN: 'abc.DEF-123',
      METRICS_BASIC_AUTH: 'prom:p@ss:word',
    });
    expect(config.metricsAllowlist.map((cidr) => cidr.text)).toEqual(['0.0.0.0/0', '::/0']);
    expect(config.trustedProxies.map((cidr) => cidr.text)).toEqual(['10.0.0.1']);
    expect(config.metricsRateLimit).toBe(0.5);
    expect(config.metricsToken).toBe('abc.DEF-123');
    expect(config.metricsBasicAuth).toBe('prom:p@ss:word');
    expect(loadConfig({ METRICS_RATE_LIMIT: '0' }).metricsRateLimit).toBe(0);
  });

  it.each([
    [{ METRICS_ALLOWLIST: '10.0.0.0/8,bogus' }, 'METRICS_ALLOWLIST', '"bogus" is not an IP address or CIDR'],
    [{ METRICS_ALLOWLIST: '10.1.0.0/8' }, 'METRICS_ALLOWLIST', 'host bits set'],
    [{ TRUSTED_PROXIES: '::1/200' }, 'TRUSTED_PROXIES', 'prefix length outside 0–128'],
    [{ METRICS_RATE_LIMIT: '-1' }, 'METRICS_RATE_LIMIT', 'requests per second'],
    [{ METRICS_RATE_LIMIT: 'lots' }, 'METRICS_RATE_LIMIT', 'requests per second'],
    [{ METRICS_BASIC_AUTH: 'nocolon' }, 'METRICS_BASIC_AUTH', 'user:password'],
    [{ METRICS_BASIC_AUTH: ':password' }, 'METRICS_BASIC_AUTH', 'user:password'],
    [{ STREAM_MAX_BUFFER_BYTES: '10' }, 'STREAM_MAX_BUFFER_BYTES', 'integer from 1024'],
    [{ STREAM_MAX_CLIENTS: '0' }, 'STREAM_MAX_CLIENTS', 'integer from 1'],
    [{ STREAM_MAX_CLIENTS: 'many' }, 'STREAM_MAX_CLIENTS', 'integer from 1'],
    [{ STREAM_MAX_CLIENTS_PER_ADDRESS: '-3' }, 'STREAM_MAX_CLIENTS_PER_ADDRESS', 'integer from 1'],
    [{ STREAM_MAX_CLIENTS: '10', STREAM_MAX_CLIENTS_PER_ADDRESS: '20' }, 'STREAM_MAX_CLIENTS_PER_ADDRESS', 'at most STREAM_MAX_CLIENTS (10)'],
    [{ TLS_KEY_FILE: '/tmp/key.pem' }, 'TLS_CERT_FILE', 'since TLS_KEY_FILE is set'],
  ])('rejects %j naming %s', (env, variable, expected) => {
    expect(() => loadConfig(env)).toThrow(configError(variable, expected));
  });

  it('never echoes a secret it rejects', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'hunter2 with spaces' })).toThrow(configError('METRICS_TOKEN', /^METRICS_TOKEN="<hidden>"/));
    expect(() => loadConfig({ METRICS_BASIC_AUTH: 'hunter2' })).toThrow(configError('METRICS_BASIC_AUTH', /^METRICS_BASIC_AUTH="<hidden>"/));
  });

  describe('TLS files', () => {
    let certificate: SelfSignedCertificate;
    let other: SelfSignedCertificate;
    beforeAll(() => {
      certificate = makeSelfSignedCertificate();
      other = makeSelfSignedCertificate();
    });
    afterAll(() => {
      certificate.remove();
      other.remove();
    });

    it('accepts a readable certificate with its key', () => {
      expect(loadConfig({ TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile }).tls).toEqual({
        certFile: certificate.certFile,
        keyFile: certificate.keyFile,
      });
    });

    it('rejects a key that is not the certificate\'s, a file that is not PEM, and a directory', () => {
      const load = (certFile: string, keyFile: string) => () => loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
      expect(load(certificate.certFile, other.keyFile)).toThrow(configError('TLS_KEY_FILE', 'the private key of the TLS_CERT_FILE certificate'));
      expect(load(certificate.keyFile, certificate.keyFile)).toThrow(configError('TLS_CERT_FILE', 'its content is not one'));
      expect(load(certificate.certFile, certificate.certFile)).toThrow(configError('TLS_KEY_FILE', 'its content is not one'));
      expect(load('/tmp', certificate.keyFile)).toThrow(configError('TLS_CERT_FILE', 'EISDIR'));
    });
  });
});

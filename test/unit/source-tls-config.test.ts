import { readFileSync } from 'node:fs';
import { loadConfig } from '../../streams/config';
import { makeCertificateAuthority, type IssuedCertificate, type TestCertificateAuthority } from '../support/tls';

/** Matches the ConfigError naming `variable` whose message contains `text`. */
const configError = (variable: string, text: string) => expect.objectContaining({ name: 'ConfigError', variable, message: expect.stringContaining(text) });

/** The same checks hold for both sources: Redis (rediss://) and the broker (mqtts://, wss://). */
describe.each([
  { prefix: 'REDIS', urlName: 'REDIS_URL', tlsUrl: 'rediss://127.0.0.1:6380', plainUrls: ['redis://127.0.0.1:6379'], field: 'redisTls' },
  { prefix: 'MQTT', urlName: 'MQTT_URL', tlsUrl: 'mqtts://127.0.0.1:8883', plainUrls: ['mqtt://127.0.0.1:1883', 'ws://127.0.0.1:8080', 'tcp://127.0.0.1:1883'], field: 'mqttTls' },
] as const)('$prefix_TLS_CA_FILE, $prefix_TLS_CERT_FILE, $prefix_TLS_KEY_FILE', ({ prefix, urlName, tlsUrl, plainUrls, field }) => {
  const CA = `${prefix}_TLS_CA_FILE`;
  const CERT = `${prefix}_TLS_CERT_FILE`;
  const KEY = `${prefix}_TLS_KEY_FILE`;
  let ca: TestCertificateAuthority;
  let client: IssuedCertificate;
  let otherClient: IssuedCertificate;
  beforeAll(() => {
    ca = makeCertificateAuthority();
    client = ca.issueClient('iotflow-metrics');
    otherClient = ca.issueClient('someone-else');
  });
  afterAll(() => ca.remove());

  const load = (env: Record<string, string>) => () => loadConfig({ [urlName]: tlsUrl, ...env });

  it('are absent by default, and a TLS URL alone keeps Node\'s trusted CAs', () => {
    expect(loadConfig({})[field]).toBeUndefined();
    expect(loadConfig({ [urlName]: tlsUrl })[field]).toBeUndefined();
  });

  it('load the CA alone, or with a client certificate and its key, as the files\' PEM', () => {
    expect(load({ [CA]: ca.caFile })()[field]).toEqual({ ca: readFileSync(ca.caFile) });
    expect(load({ [CA]: ca.caFile, [CERT]: client.certFile, [KEY]: client.keyFile })()[field]).toEqual({
      ca: readFileSync(ca.caFile),
      cert: readFileSync(client.certFile),
      key: readFileSync(client.keyFile),
    });
  });

  it('stop the start when set with a plain URL, naming the file\'s variable, instead of being ignored', () => {
    for (const plainUrl of plainUrls) {
      expect(() => loadConfig({ [urlName]: plainUrl, [CA]: ca.caFile })).toThrow(configError(CA, `used only with a`));
      expect(() => loadConfig({ [urlName]: plainUrl, [CERT]: client.certFile, [KEY]: client.keyFile })).toThrow(configError(CERT, `(${urlName} is ${plainUrl.split(':')[0]}://)`));
    }
  });

  it('take a certificate and its key together', () => {
    expect(load({ [CERT]: client.certFile })).toThrow(configError(KEY, `since ${CERT} is set`));
    expect(load({ [KEY]: client.keyFile })).toThrow(configError(CERT, `since ${KEY} is set`));
  });

  it('reject a key that is not the certificate\'s, a file that is not PEM of its kind, and an unreadable file', () => {
    expect(load({ [CERT]: client.certFile, [KEY]: otherClient.keyFile })).toThrow(configError(KEY, `the private key of the ${CERT} certificate`));
    expect(load({ [CA]: client.keyFile })).toThrow(configError(CA, 'its content is not one'));
    expect(load({ [CERT]: client.keyFile, [KEY]: client.keyFile })).toThrow(configError(CERT, 'its content is not one'));
    expect(load({ [CERT]: client.certFile, [KEY]: client.certFile })).toThrow(configError(KEY, 'its content is not one'));
    expect(load({ [CA]: '/nonexistent/ca.pem' })).toThrow(configError(CA, 'ENOENT'));
    expect(load({ [CA]: '/tmp' })).toThrow(configError(CA, 'EISDIR'));
  });

  it('never echo a file\'s content in the error, only its path', () => {
    const key = readFileSync(client.keyFile, 'utf8');
    let message = '';
    try {
      load({ [CA]: client.keyFile })();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(client.keyFile);
    expect(message).not.toContain(key.split('\n')[1]);
  });
});

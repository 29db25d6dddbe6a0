import { metricValue, nextResults, sourceHealth, waitForMetric, waitUntilUp } from '../support/metrics';
import { killAllMosquittos, startMosquitto } from '../support/mosquitto';
import { startPasswordCluster, type PasswordCluster } from '../support/postgres-cluster';
import { sparePort } from '../support/ports';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { eventually, spawnService, startService, type RunningService } from '../support/service';
import { makeCertificateAuthority, startCorruptingTlsPeer, type CorruptingTlsPeer, type IssuedCertificate, type TestCertificateAuthority } from '../support/tls';

const PASSWORD = 'tls-test-pw';

/**
 * Redis, Mosquitto and PostgreSQL of the test's own that speak TLS only, with a server certificate
 * of a private CA, and require a client certificate of the same CA. The exporter reaches each with
 * the CA and a client certificate, and fails, saying why, without either.
 */
describe('TLS to the sources with a private CA and client certificates', () => {
  let ca: TestCertificateAuthority;
  let server: IssuedCertificate;
  /** CN postgres: PostgreSQL's clientcert=verify-full compares it with the user name. */
  let client: IssuedCertificate;
  let service: RunningService | undefined;

  beforeAll(() => {
    ca = makeCertificateAuthority();
    server = ca.issueServer('server');
    client = ca.issueClient('postgres');
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  afterAll(() => ca.remove());

  const start = async (env: Record<string, string>): Promise<RunningService> =>
    (service = await startService({ COLLECTION_INTERVAL_SECONDS: '1', COLLECTION_TIMEOUT_SECONDS: '1', ...env }));

  /** Waits for a failed collection of `source` whose /health error matches `reason`; checks collector_up 0 and the log line. */
  const expectDownFor = async (running: RunningService, source: string, reason: RegExp): Promise<string> => {
    const errors = new Set<string>();
    const error = await eventually(async () => {
      const health = await sourceHealth(running.port, source);
      if (health.error !== undefined) errors.add(health.error);
      return health.error !== undefined && reason.test(health.error) ? health.error : undefined;
    }, `${source} down for ${reason}`).catch((timedOut: Error) => {
      throw new Error(`${timedOut.message}; errors seen: ${[...errors].join(' | ')}`);
    });
    expect(await metricValue(running, 'collector_up', { source })).toBe(0);
    expect(running.logLines.some((line) => line.includes(source) && reason.test(line))).toBe(true);
    return error;
  };

  describe('redis-server --tls-port with --tls-auth-clients yes', () => {
    let url: string;
    beforeAll(async () => {
      const port = await sparePort();
      await startRedisServer(0, '--tls-port', String(port), '--tls-cert-file', server.certFile, '--tls-key-file', server.keyFile, '--tls-ca-cert-file', ca.caFile, '--tls-auth-clients', 'yes');
      url = `rediss://127.0.0.1:${port}`;
    });
    afterAll(() => killAllRedisServers());

    it('REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE bring the source up with real values', async () => {
      const running = await start({ SOURCES: 'redis', REDIS_URL: url, REDIS_TLS_CA_FILE: ca.caFile, REDIS_TLS_CERT_FILE: client.certFile, REDIS_TLS_KEY_FILE: client.keyFile });
      await waitUntilUp(running, 'redis', 1);
      expect(await metricValue(running, 'redis_status')).toBe(1);
      expect(await metricValue(running, 'redis_memory_used_bytes')).toBeGreaterThan(0);
    });

    it('without REDIS_TLS_CA_FILE the server certificate is refused: collector_up 0 naming the reason', async () => {
      await expectDownFor(await start({ SOURCES: 'redis', REDIS_URL: url, REDIS_TLS_CERT_FILE: client.certFile, REDIS_TLS_KEY_FILE: client.keyFile }), 'redis', /self-signed certificate in certificate chain/);
    });

    it('without a client certificate Redis refuses the connection (certificate required): collector_up 0', async () => {
      // Under TLS 1.3 the client may write before the server's alert arrives: then it meets a reset (ECONNRESET) or a closed pipe (EPIPE) instead.
      await expectDownFor(await start({ SOURCES: 'redis', REDIS_URL: url, REDIS_TLS_CA_FILE: ca.caFile }), 'redis', /alert certificate required|ECONNRESET|EPIPE/);
    });
  });

  describe('a Mosquitto TLS listener with require_certificate true', () => {
    let url: string;
    beforeAll(async () => {
      const broker = await startMosquitto({
        sysInterval: 1,
        config: [`cafile ${ca.caFile}`, `certfile ${server.certFile}`, `keyfile ${server.keyFile}`, 'require_certificate true'],
      });
      url = `mqtts://127.0.0.1:${broker.port}`;
    });
    afterAll(() => killAllMosquittos());

    it('MQTT_TLS_CA_FILE, MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE bring the source up with real values', async () => {
      const running = await start({ SOURCES: 'mqtt', MQTT_URL: url, MQTT_TLS_CA_FILE: ca.caFile, MQTT_TLS_CERT_FILE: client.certFile, MQTT_TLS_KEY_FILE: client.keyFile });
      await waitUntilUp(running, 'mqtt', 1);
      await waitForMetric(running, 'mqtt_broker_uptime_seconds', {}, (value) => (value ?? 0) > 0, 'the broker uptime over TLS');
    });

    it('without MQTT_TLS_CA_FILE the broker certificate is refused: collector_up 0 naming the reason', async () => {
      await expectDownFor(await start({ SOURCES: 'mqtt', MQTT_URL: url, MQTT_TLS_CERT_FILE: client.certFile, MQTT_TLS_KEY_FILE: client.keyFile }), 'mqtt', /self-signed certificate in certificate chain/);
    });

    it('without a client certificate the broker refuses the connection (certificate required): collector_up 0', async () => {
      await expectDownFor(await start({ SOURCES: 'mqtt', MQTT_URL: url, MQTT_TLS_CA_FILE: ca.caFile }), 'mqtt', /alert certificate required/);
    });
  });

  describe('a TLS peer that corrupts the handshake flight, then resets the connection', () => {
    let peer: CorruptingTlsPeer;
    beforeAll(async () => {
      peer = await startCorruptingTlsPeer(server);
    });
    afterAll(() => peer.close());

    const redis = (tls: Record<string, string>) => ({ SOURCES: 'redis', REDIS_URL: `rediss://127.0.0.1:${peer.port}`, ...tls });
    const mqtt = (tls: Record<string, string>) => ({ SOURCES: 'mqtt', MQTT_URL: `mqtts://127.0.0.1:${peer.port}`, ...tls });
    // Each connection meets two errors on its socket (TLS, then the reset, or the refused certificate, then TLS): neither may end the process.
    it.each([
      ['redis', 'trusted', () => redis({ REDIS_TLS_CA_FILE: ca.caFile }), /bad record mac|EPROTO|ECONNRESET/],
      ['redis', 'refused', () => redis({}), /unable to verify the first certificate|bad record mac|ECONNRESET/],
      ['mqtt', 'trusted', () => mqtt({ MQTT_TLS_CA_FILE: ca.caFile }), /bad record mac|EPROTO|ECONNRESET/],
      ['mqtt', 'refused', () => mqtt({}), /unable to verify the first certificate|bad record mac|ECONNRESET/],
    ])('%s, server certificate %s: collector_up 0 naming the error, and the process goes on through reconnections', async (source, _trust, env, reason) => {
      const running = await start(env());
      await expectDownFor(running, source, reason);
      const results = await nextResults(running, source, 3);
      expect(results.map((result) => result.ok)).toEqual([false, false, false]);
    });
  });

  describe('start errors of the built service', () => {
    it.each([
      [{ SOURCES: 'redis', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: '<ca>' }, 'REDIS_TLS_CA_FILE', 'used only with a rediss:// REDIS_URL'],
      [{ SOURCES: 'mqtt', MQTT_URL: 'mqtts://127.0.0.1:8883', MQTT_TLS_CERT_FILE: '<cert>', MQTT_TLS_KEY_FILE: '<ca key>' }, 'MQTT_TLS_KEY_FILE', 'the private key of the MQTT_TLS_CERT_FILE certificate'],
      [{ SOURCES: 'mqtt', MQTT_URL: 'mqtts://127.0.0.1:8883', MQTT_TLS_KEY_FILE: '<key>' }, 'MQTT_TLS_CERT_FILE', 'since MQTT_TLS_KEY_FILE is set'],
      [{ SOURCES: 'redis', REDIS_URL: 'rediss://127.0.0.1:6380', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_TLS_CA_FILE', 'ENOENT'],
    ])('exits 2 naming the variable for %j', async (env, variable, reason) => {
      const files: Record<string, string> = { '<ca>': ca.caFile, '<cert>': client.certFile, '<key>': client.keyFile, '<ca key>': server.keyFile };
      const resolved = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, files[value] ?? value]));
      const spawned = spawnService(resolved);
      expect(await spawned.exited).toBe(2);
      expect(spawned.stderr()).toMatch(new RegExp(`^configuration error: ${variable}=.* is invalid: expected .*${reason}.*\\n$`));
    });
  });

  describe('PostgreSQL with ssl=on and clientcert=verify-full, through the URL parameters', () => {
    let cluster: PasswordCluster;
    let base: string;
    beforeAll(async () => {
      cluster = await startPasswordCluster(PASSWORD, { caFile: ca.caFile, certFile: server.certFile, keyFile: server.keyFile });
      base = `postgres://postgres:${PASSWORD}@127.0.0.1:${cluster.port}/postgres?sslmode=verify-full`;
    }, 90_000);
    afterAll(() => cluster?.remove());

    it('sslrootcert, sslcert and sslkey bring the source up with real values', async () => {
      const running = await start({ SOURCES: 'database', DATABASE_URL: `${base}&sslrootcert=${ca.caFile}&sslcert=${client.certFile}&sslkey=${client.keyFile}` });
      await waitUntilUp(running, 'database', 1);
      expect(await metricValue(running, 'database_connections_max')).toBe(100);
      expect(await metricValue(running, 'database_connections_total')).toBeGreaterThanOrEqual(1);
    });

    it('without sslrootcert the server certificate is refused: collector_up 0 naming the reason', async () => {
      await expectDownFor(await start({ SOURCES: 'database', DATABASE_URL: `${base}&sslcert=${client.certFile}&sslkey=${client.keyFile}` }), 'database', /self-signed certificate in certificate chain/);
    });

    it('without a client certificate the server refuses the connection (certificate required): collector_up 0', async () => {
      await expectDownFor(await start({ SOURCES: 'database', DATABASE_URL: `${base}&sslrootcert=${ca.caFile}` }), 'database', /connection requires a valid client certificate/);
    });
  });
});

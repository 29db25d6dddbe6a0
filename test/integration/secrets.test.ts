import type { Container } from 'inversify';
import { defer } from 'rxjs';
import { TYPES } from '../../src/tokens';
import type { MetricSource } from '../../src/source';
import { get, sampleValue } from '../support/http';
import { scrape } from '../support/metrics';
import { sparePort } from '../support/ports';
import { startPasswordCluster, type PasswordCluster } from '../support/postgres-cluster';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { eventually, startService } from '../support/service';
import { nextMatching, openStream } from '../support/websocket';

/**
 * Every password below contains MARKER, and characters that a URL percent-encodes, so it has a
 * written (encoded) and a decoded form; whichever form leaks, it carries MARKER.
 */
const MARKER = 'Zq7';
const PASSWORD = `${MARKER}sekret:@/+ x`;
const WRONG = `${MARKER}wrong:@/+ x`;
const enc = encodeURIComponent;

const TICK = { COLLECTION_INTERVAL_SECONDS: '1' };

/** The two places a URL carries a password, as it.each rows: the place (for %s), and a URL builder. */
const passwordPlaces = <Url>(inUserinfo: Url, inQuery: Url): [string, Url][] => [
  ['in the userinfo', inUserinfo],
  ['in ?password=', inQuery],
];

interface Outcome {
  /** The source's error in /health. */
  readonly error: string;
  readonly up: number | undefined;
}

/**
 * Starts the service with `env`, waits until `source`'s state in /health matches `expected`, and
 * fails the test if MARKER shows in /metrics, /health, any /stream message or the log.
 */
async function outcomeWithoutSecret(
  env: Record<string, string>,
  source: string,
  expected: RegExp | 'up',
  beforeStart?: (container: Container) => void,
): Promise<Outcome> {
  const service = await startService({ ...TICK, SOURCES: source, ...env }, beforeStart);
  try {
    const stream = await openStream(service.port, `sources=${source}`);
    const health = await eventually(async () => {
      const body = (await get(service.port, '/health')).body;
      const state = (JSON.parse(body) as { sources: Record<string, { up: boolean; error?: string }> }).sources[source]!;
      return (expected === 'up' ? state.up : expected.test(state.error ?? '')) ? { body, error: state.error ?? '' } : undefined;
    }, `${source} to report ${String(expected)}`);
    // At least one streamed result of this source after the state above, and every message before it.
    const streamed = await nextMatching(stream, (message) => message.source === source && (expected === 'up' ? message.up === true : message.up === false));
    stream.socket.close();
    const metrics = await scrape(service.port);
    const outputs = { '/metrics': metrics.body, '/health': health.body, '/stream': JSON.stringify(streamed), 'the log': service.logLines.join('') };
    expect(Object.entries(outputs).filter(([, text]) => text.includes(MARKER))).toEqual([]);
    return { error: health.error, up: sampleValue(metrics.samples, 'collector_up', { source }) };
  } finally {
    await service.stop();
  }
}

describe('case 2: PostgreSQL that checks passwords (scram-sha-256 cluster of the test\'s own)', () => {
  let cluster: PasswordCluster | undefined;
  let closedPort: number;

  beforeAll(async () => {
    cluster = await startPasswordCluster(PASSWORD);
    closedPort = await sparePort();
  }, 120_000);

  afterAll(() => cluster?.remove());

  const inUserinfo = (password: string, port: number, database = 'postgres') => `postgres://postgres:${enc(password)}@127.0.0.1:${port}/${database}`;
  const inQuery = (password: string, port: number, database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}?password=${enc(password)}`;
  const places = passwordPlaces(inUserinfo, inQuery);

  it.each(places)('case 2: the right password %s collects, and shows nowhere', async (_where, url) => {
    const { up } = await outcomeWithoutSecret({ DATABASE_URL: url(PASSWORD, cluster!.port) }, 'database', 'up');
    expect(up).toBe(1);
  });

  it.each([
    ['in the userinfo', inUserinfo, 'postgres:***@127.0.0.1'],
    ['in ?password=', inQuery, '?password=***'],
  ])('case 1/2: a wrong password %s is an authentication failure that names the server, without the password', async (_where, url, shown) => {
    const { error, up } = await outcomeWithoutSecret({ DATABASE_URL: url(WRONG, cluster!.port) }, 'database', /password authentication failed for user "postgres"/);
    expect(up).toBe(0);
    expect(error).toContain(shown);
  });

  it.each(places)('case 1/2: a refused connection, password %s, leaves no secret', async (_where, url) => {
    const { error } = await outcomeWithoutSecret({ DATABASE_URL: url(PASSWORD, closedPort) }, 'database', /ECONNREFUSED/);
    expect(error).toContain(`127.0.0.1:${closedPort}`);
  });

  it.each(places)('case 1/2: a missing database, password %s, leaves no secret', async (_where, url) => {
    await outcomeWithoutSecret({ DATABASE_URL: url(PASSWORD, cluster!.port, 'iotflow_missing') }, 'database', /database "iotflow_missing" does not exist/);
  });

  it('case 1: the iotflow source, sharing the pool, leaves no secret either', async () => {
    await outcomeWithoutSecret({ DATABASE_URL: inQuery(WRONG, cluster!.port) }, 'iotflow', /password authentication failed/);
  });
});

describe('case 2: Redis with --requirepass (a redis-server of the test\'s own)', () => {
  let port: number;
  let closedPort: number;

  beforeAll(async () => {
    port = await sparePort();
    await startRedisServer(port, '--requirepass', PASSWORD);
    closedPort = await sparePort();
  });

  afterAll(killAllRedisServers);

  const inUserinfo = (password: string, at: number) => `redis://:${enc(password)}@127.0.0.1:${at}/0`;
  const inQuery = (password: string, at: number) => `redis://127.0.0.1:${at}/0?password=${enc(password)}`;
  const places = passwordPlaces(inUserinfo, inQuery);

  it.each(places)('case 2: the right password %s collects, and shows nowhere', async (_where, url) => {
    const { up } = await outcomeWithoutSecret({ REDIS_URL: url(PASSWORD, port) }, 'redis', 'up');
    expect(up).toBe(1);
  });

  it.each([
    ['in the userinfo', inUserinfo, 'redis://:***@127.0.0.1'],
    ['in ?password=', inQuery, '/0?password=***'],
  ])('case 1/2: a wrong password %s is WRONGPASS, naming the server without the password', async (_where, url, shown) => {
    const { error, up } = await outcomeWithoutSecret({ REDIS_URL: url(WRONG, port) }, 'redis', /WRONGPASS/);
    expect(up).toBe(0);
    expect(error).toContain(shown);
  });

  it.each(places)('case 1/2: a refused connection, password %s, leaves no secret', async (_where, url) => {
    await outcomeWithoutSecret({ REDIS_URL: url(PASSWORD, closedPort) }, 'redis', /ECONNREFUSED/);
  });
});

describe('case 2: MQTT with a password in the URL', () => {
  it('case 2: a refused connection leaves no secret (userinfo, and a query value)', async () => {
    const closedPort = await sparePort();
    await outcomeWithoutSecret({ MQTT_URL: `mqtt://user:${enc(PASSWORD)}@127.0.0.1:${closedPort}?token=${enc(WRONG)}` }, 'mqtt', /ECONNREFUSED/);
  });
});

describe('case 1: the engine scrubs the query values of every configured URL', () => {
  it('case 1: a driver echoing a URL with ?password= reaches no sink with it', async () => {
    const urls = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:1/x?password=${enc(PASSWORD)}`,
      REDIS_URL: `redis://127.0.0.1:1/0?password=${enc(WRONG)}`,
      MQTT_URL: `mqtt://127.0.0.1:1?token=${MARKER}token`,
    };
    // As a driver would echo them: written as configured, and decoded.
    const echoing: MetricSource = {
      name: 'echoing',
      metrics: [],
      collect: () => defer(() => Promise.reject(new Error(Object.values(urls).map((url) => `${url} ${decodeURIComponent(url)}`).join(' ')))),
    };
    const { error } = await outcomeWithoutSecret({ SOURCES: 'app', ...urls }, 'echoing', /127\.0\.0\.1:1/, (container) =>
      container.bind(TYPES.MetricSource).toConstantValue(echoing),
    );
    expect(error).toContain('127.0.0.1:1/x?password=***');
  });
});

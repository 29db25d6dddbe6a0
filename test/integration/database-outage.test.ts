import net from 'node:net';
import { get, sampleValue } from '../support/http';
import { metricValue, readSamples, waitForMetric, waitUntilUp } from '../support/metrics';
import { databaseUrl, POSTGRES_HOST, POSTGRES_PORT } from '../support/postgres';
import { startService, type RunningService } from '../support/service';
import { expectNoPassword, serviceOnTestDatabase, stopAndDrop } from '../support/database-service';

describe('database source without a server', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({
      SOURCES: 'database,iotflow,app',
      DATABASE_URL: databaseUrl('postgres', { port: 1 }),
      COLLECTION_INTERVAL_SECONDS: '1',
      COLLECTION_TIMEOUT_SECONDS: '1',
    });
  });

  afterAll(() => service?.stop());

  it('keeps serving /metrics, says the source is down and counts the failures, without the password', async () => {
    await waitForMetric(service.port, 'collector_errors_total', { source: 'database' }, (value) => (value ?? 0) >= 2, 'two failed database collections');
    const samples = await readSamples(service.port);
    expect(sampleValue(samples, 'collector_up', { source: 'database' })).toBe(0);
    expect(sampleValue(samples, 'collector_up', { source: 'iotflow' })).toBe(0);
    expect(sampleValue(samples, 'collector_up', { source: 'app' })).toBe(1);
    expect(sampleValue(samples, 'database_connections_total')).toBeUndefined();
    // Request-time instruments stay, whatever the source does.
    expect(sampleValue(samples, 'database_queries_total', { operation: 'select' })).toBe(0);
    const health = JSON.parse((await get(service.port, '/health')).body);
    expect(health.sources.database.error).toMatch(/^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres: .*ECONNREFUSED/);
    await expectNoPassword(service);
  });
});

/** A real TCP hop to PostgreSQL that the test can take down and bring back on the same port. */
class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = net.createServer((downstream) => {
      const upstream = net.connect(POSTGRES_PORT, POSTGRES_HOST);
      for (const socket of [downstream, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => (socket === downstream ? upstream : downstream).destroy());
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, POSTGRES_HOST, resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection, as a crashed or unreachable server would. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

describe('database source through a connection that goes away and comes back', () => {
  let db: string;
  let service: RunningService;
  const proxy = new TcpProxy();

  beforeAll(async () => {
    await proxy.open();
    ({ db, service } = await serviceOnTestDatabase({ SOURCES: 'database' }, (client) => client.query('CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)'), (name) =>
      databaseUrl(name, { port: proxy.port }),
    ));
  });

  afterAll(async () => {
    await stopAndDrop(service, db);
    await proxy.close();
  });

  it('goes down with the connection and recovers when it is back, never showing the password', async () => {
    await waitUntilUp(service.port, 'database', 1);
    expect(await metricValue(service.port, 'database_table_rows', { table: 't' })).toBe(2);
    const queriesBefore = (await metricValue(service.port, 'database_queries_total', { operation: 'select' }))!;

    await proxy.close();
    await waitUntilUp(service.port, 'database', 0);
    const down = await readSamples(service.port);
    expect(sampleValue(down, 'database_table_rows', { table: 't' })).toBeUndefined();
    expect(sampleValue(down, 'collector_errors_total', { source: 'database' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(down, 'database_queries_total', { operation: 'select' })).toBeGreaterThanOrEqual(queriesBefore);
    await expectNoPassword(service);

    await proxy.open();
    await waitUntilUp(service.port, 'database', 1);
    expect(await metricValue(service.port, 'database_table_rows', { table: 't' })).toBe(2);
    expect(service.logLines.some((line) => line.includes('source database recovered'))).toBe(true);
    await expectNoPassword(service);
  });
});

import { sparePort } from '../support/ports';
import { get } from '../support/http';
import { metricValue, waitForMetric } from '../support/metrics';
import { eventually, startService, type RunningService } from '../support/service';

// With the election's store unreachable no replica can hold it, and every replica used to stand
// by: the shared sources vanished from /metrics and /health said ok while the database was down.
describe('a cluster election whose database is unreachable', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({
      SOURCES: 'app,database',
      CLUSTER_ELECTION: 'true',
      COLLECTION_INTERVAL_SECONDS: '1',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await sparePort()}/postgres`,
    });
  });

  afterAll(() => service.stop());

  it('collects the shared sources here after two intervals, so their outage shows', async () => {
    await eventually(() => (service.logLines.some((line) => /cluster election: .* collecting the shared sources here/.test(line)) ? true : undefined), 'the replica to collect the shared sources itself', 100, 100);
    // A collection after that: down, not standing by.
    await waitForMetric(service, 'collector_errors_total', { source: 'database' }, (value) => (value ?? 0) > 0, 'a failed database collection');
    expect(await metricValue(service, 'collector_up', { source: 'database' })).toBe(0);
    expect(await metricValue(service, 'cluster_leader')).toBe(1);
    const health = JSON.parse((await get(service.port, '/health')).body) as { status: string; sources: Record<string, { up: boolean; standby?: boolean }> };
    expect(health.status).toBe('degraded');
    expect(health.sources['database']).toMatchObject({ up: false });
    expect(health.sources['database']?.standby).toBeUndefined();
  });
});

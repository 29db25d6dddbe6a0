import { register } from 'prom-client';
import { defer } from 'rxjs';
import { TYPES } from '../../src/tokens';
import type { MetricSource } from '../../src/source';
import { startService } from '../support/service';
import { nextMatching, openStream } from '../support/websocket';

describe('a failing source on the stream', () => {
  it('is streamed as up:false with its error, without the password of a configured URL', async () => {
    // A driver echoing its connection string: the engine scrubs the password before any sink sees it.
    const failing: MetricSource = {
      name: 'failing',
      metrics: [],
      collect: () => defer(() => Promise.reject(new Error('connect ECONNREFUSED redis://:hunter2@127.0.0.1:1'))),
    };
    const service = await startService({ SOURCES: 'app', REDIS_URL: 'redis://:hunter2@127.0.0.1:1', COLLECTION_INTERVAL_SECONDS: '1' }, (container) => {
      container.bind(TYPES.MetricSource).toConstantValue(failing);
    });
    try {
      const client = await openStream(service.port, 'sources=failing');
      const failure = (await nextMatching(client, (message) => message.up === false)).at(-1)!;
      expect(failure).toMatchObject({ source: 'failing', up: false, error: expect.stringContaining('ECONNREFUSED') });
      expect(Object.keys(failure)).not.toContain('metrics');
      expect(JSON.stringify(failure)).not.toContain('hunter2');
      client.socket.close();
    } finally {
      await service.stop();
    }
  });
});

test('the stream metrics live in the injected registry, not the global one', () => {
  expect(register.getSingleMetric('stream_clients')).toBeUndefined();
});

import { createContainer } from '../../container';
import { TYPES } from '../../src/tokens';
import { loadConfig } from '../../streams/config';
import { createLogger } from '../../src/logger';

// Its own file: jest gives each test file a fresh module registry, so nothing loaded elsewhere counts.
it('loads the client library of no source that is not enabled', () => {
  createContainer(loadConfig({ SOURCES: 'system,app' }), createLogger('silent')).getAll(TYPES.MetricSource);
  const loaded = Object.keys(require.cache);
  expect(loaded.some((file) => file.includes('/node_modules/inversify/'))).toBe(true);
  for (const library of ['pg', 'ioredis', 'mqtt']) {
    expect(loaded.filter((file) => file.includes(`/node_modules/${library}/`))).toEqual([]);
  }
});

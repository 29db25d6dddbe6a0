import { ContainerModule } from 'inversify';
import { AccessGuard } from '../src/http/access-control';
import { StreamMetrics } from '../src/stream/stream-metrics';
import { StreamPublisher } from '../src/stream/stream-publisher';
import { TYPES } from './identifiers';

/**
 * The live stream (a collection sink publishing through the HTTP server) and the access guard
 * that /metrics and /stream share.
 */
export const streamModule = new ContainerModule(({ bind }) => {
  bind(TYPES.AccessGuard).to(AccessGuard).inSingletonScope();
  bind(TYPES.StreamTransport).toService(TYPES.HttpServer);
  bind(TYPES.StreamMetrics).to(StreamMetrics).inSingletonScope();
  bind(TYPES.StreamPublisher).to(StreamPublisher).inSingletonScope();
  bind(TYPES.CollectionSink).toService(TYPES.StreamPublisher);
});

import { ContainerModule } from 'inversify';
import { AccessGuard } from '../src/http/access-control';
import { LiveMetrics } from '../src/live/live-metrics';
import { LivePublisher } from '../src/live/publisher';
import { TYPES } from '../src/tokens';

/**
 * The live stream (a collection sink publishing through the HTTP server) and the access guard
 * that /metrics and /stream share.
 */
export const liveModule = new ContainerModule(({ bind }) => {
  bind(TYPES.AccessGuard).to(AccessGuard).inSingletonScope();
  bind(TYPES.LiveTransport).toService(TYPES.HttpServer);
  bind(TYPES.LiveMetrics).to(LiveMetrics).inSingletonScope();
  bind(TYPES.LivePublisher).to(LivePublisher).inSingletonScope();
  bind(TYPES.CollectionSink).toService(TYPES.LivePublisher);
});

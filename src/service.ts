import type { Container } from 'inversify';
import { TYPES } from './tokens';
import { guarded, guardedWebSocket } from './http/access-control';
import { healthRoute, metricsRoute } from './http/service-routes';
import { livePageRoutes } from './page/live-page';
import { streamRoute, streamUpgradeRequiredRoute } from './live/stream-route';

/** The running exporter: collection engine plus HTTP server, started and stopped together. */
export class MetricsService {
  constructor(private readonly container: Container) {}

  /** Starts collecting and listening; resolves with the bound port. */
  async start(): Promise<number> {
    const get = this.container.get.bind(this.container);
    const routes = get(TYPES.RouteTable);
    const guard = get(TYPES.AccessGuard);
    routes.add(guarded(metricsRoute(get(TYPES.Registry), get(TYPES.Logger), get(TYPES.SourceNames)), guard));
    routes.add(healthRoute(get(TYPES.HealthState), get(TYPES.HttpEngine))); // Open to probes: the guard is for the data.
    routes.add(guarded(streamUpgradeRequiredRoute(), guard));
    for (const route of livePageRoutes()) routes.add(guarded(route, guard, 'page'));
    const server = get(TYPES.HttpServer);
    server.addWebSocketRoute(guardedWebSocket(streamRoute(get(TYPES.LivePublisher), get(TYPES.LiveMetrics), get(TYPES.Config)), guard));
    get(TYPES.CollectionEngine).start();
    return server.listen();
  }

  async stop(): Promise<void> {
    this.container.get(TYPES.HttpServer).close();
    await this.container.get(TYPES.CollectionEngine).stop();
  }
}

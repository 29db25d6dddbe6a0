import type { Container } from 'inversify';
import { TYPES } from '../container/identifiers';
import { healthRoute, metricsRoute } from './http/service-routes';

/** The running exporter: collection engine plus HTTP server, started and stopped together. */
export class MetricsService {
  constructor(private readonly container: Container) {}

  /** Starts collecting and listening; resolves with the bound port. */
  async start(): Promise<number> {
    const get = this.container.get.bind(this.container);
    const routes = get(TYPES.RouteTable);
    routes.add(metricsRoute(get(TYPES.Registry), get(TYPES.Logger)));
    routes.add(healthRoute(get(TYPES.HealthState)));
    get(TYPES.CollectionEngine).start();
    return get(TYPES.HttpServer).listen();
  }

  async stop(): Promise<void> {
    this.container.get(TYPES.HttpServer).close();
    await this.container.get(TYPES.CollectionEngine).stop();
  }
}

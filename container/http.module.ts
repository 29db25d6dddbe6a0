import { ContainerModule } from 'inversify';
import { RouteTable } from '../src/http/route-table';
import { UwsServer } from '../src/http/uws-server';
import { HttpRequestMetrics } from '../src/metrics/http-request-metrics';
import { TYPES } from '../src/tokens';

/** The HTTP server, its route table and the request metrics it records. */
export const httpModule = new ContainerModule(({ bind }) => {
  bind(TYPES.HttpRequestMetrics).to(HttpRequestMetrics).inSingletonScope();
  bind(TYPES.RouteTable).to(RouteTable).inSingletonScope();
  bind(TYPES.HttpServer).to(UwsServer).inSingletonScope();
});
